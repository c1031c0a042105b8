"""Load a torchvision data set into Keras's NumPy arrays, downloading into a cache on first use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load", "cache_dir"]


def cache_dir() -> Path:
    """``$KERASISH_HOME/datasets`` (default ``~/.kerasish/datasets``)."""
    return Path(os.environ.get("KERASISH_HOME", Path.home() / ".kerasish")) / "datasets"


def load(name: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))`` for a torchvision data set class name.

    The arrays are the files' own values, as Keras's loaders give them: images uint8 in
    [0, 255] in torchvision's layout (``(N, H, W)`` for one channel, ``(N, H, W, C)``
    otherwise), labels uint8 ``(N,)``. The files go in ``cache_dir() / name``.

    Raises:
        RuntimeError: when the files are not cached and cannot be downloaded (offline).
    """
    import torchvision

    cls = getattr(torchvision.datasets, name)
    root = cache_dir() / name
    try:
        train = cls(root=str(root), train=True, download=True)
        test = cls(root=str(root), train=False, download=True)
    except Exception as e:  # noqa: BLE001 - urllib/HTTP errors vary by platform
        raise RuntimeError(
            f"Expected {name} in the cache {root} or a network connection to "
            f"download it. Received: {type(e).__name__}: {e}. Copy the files "
            f"there by hand on an offline machine."
        ) from e
    return _arrays(train), _arrays(test)


def _arrays(ds: Any) -> tuple[np.ndarray, np.ndarray]:
    """A torchvision data set's ``data`` and ``targets`` as uint8 arrays (images, labels).

    Example:
        >>> import torch
        >>> class Stored:  # what torchvision's MNIST holds: uint8 images, int64 labels
        ...     data = torch.zeros(2, 28, 28, dtype=torch.uint8)
        ...     targets = torch.tensor([7, 2])
        >>> x, y = _arrays(Stored())
        >>> x.shape, x.dtype, y.tolist(), y.dtype
        ((2, 28, 28), dtype('uint8'), [7, 2], dtype('uint8'))
    """
    x = np.ascontiguousarray(np.asarray(ds.data), dtype=np.uint8)
    y = np.asarray(ds.targets).astype(np.uint8)
    return x, y
