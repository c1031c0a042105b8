"""The 8x8 handwritten digits scikit-learn ships (1797 images, 10 classes), no download."""

from __future__ import annotations

import numpy as np

__all__ = ["load_data"]


def load_data(
    test_split: float = 0.2, seed: int = 113
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load the digits as ``((x_train, y_train), (x_test, y_test))``.

    Images are float32 in [0, 1], shaped (N, 1, 8, 8) (channels first); labels are int64.
    The split is a fixed shuffle (``seed``), so it is the same on every call.

    Raises:
        ImportError: when scikit-learn (the ``examples`` extra) is missing.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()
        >>> x_train.shape
        (1437, 1, 8, 8)
    """
    if not 0 < test_split < 1:
        raise ValueError(f"Expected test_split in (0, 1). Received: test_split={test_split!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            "kerasish.datasets.digits needs scikit-learn: pip install 'kerasish[examples]'"
        ) from e
    bunch = load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
