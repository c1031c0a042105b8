"""Load a torchvision data set into NumPy arrays, downloading into a cache on first use."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["load", "cache_dir"]


def cache_dir() -> Path:
    """``$KERASISH_HOME/datasets`` (default ``~/.kerasish/datasets``)."""
    return Path(os.environ.get("KERASISH_HOME", Path.home() / ".kerasish")) / "datasets"


def load(name: str) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``((x_train, y_train), (x_test, y_test))`` for a torchvision data set class name.

    Images are float32 in [0, 1], channels first (N, C, H, W); labels int64.

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


def _arrays(ds) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(ds.data)
    x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
    return (x.astype(np.float32) / 255.0), np.asarray(ds.targets, dtype=np.int64)
