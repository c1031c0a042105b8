"""CIFAR10 through torchvision (downloaded into ``~/.kerasish/datasets`` on first use), as
``keras.datasets.cifar10`` gives it."""

from __future__ import annotations

import numpy as np

from kerasish import config
from kerasish.datasets.torchvision_loader import load

__all__ = ["load_data"]


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load CIFAR10 as ``((x_train, y_train), (x_test, y_test))``, Keras's arrays.

    Images are uint8 in [0, 255]: (N, 3, 32, 32) when
    :func:`kerasish.config.image_data_format` is "channels_first" (kerasish's default),
    (N, 32, 32, 3) for "channels_last", as ``keras.datasets.cifar10.load_data()`` reads its
    backend's setting. Labels are uint8 classes 0-9 shaped (N, 1); N is 50000 and 10000.

    Raises:
        RuntimeError: offline with no cached copy, saying where the files go.
    """
    (x_train, y_train), (x_test, y_test) = load("CIFAR10")
    return _keras_layout(x_train, y_train), _keras_layout(x_test, y_test)


def _keras_layout(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """torchvision's (N, 32, 32, 3) images in the configured layout; labels as (N, 1)."""
    if config.image_data_format() == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return x, y.reshape(len(y), 1)
