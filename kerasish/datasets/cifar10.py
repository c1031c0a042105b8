"""CIFAR10 through torchvision: downloaded into ``~/.kerasish/datasets`` on first use."""

from __future__ import annotations

import numpy as np

from kerasish.datasets.torchvision_loader import load

__all__ = ["load_data"]


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR10 as ``((x_train, y_train), (x_test, y_test))``, float32 (N, C, H, W) in [0, 1].

    Raises:
        RuntimeError: offline with no cached copy, saying where the files go.
    """
    return load("CIFAR10")
