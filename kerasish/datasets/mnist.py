"""MNIST through torchvision (downloaded into ``~/.kerasish/datasets`` on first use), as
``keras.datasets.mnist`` gives it."""

from __future__ import annotations

import numpy as np

from kerasish.datasets.torchvision_loader import load

__all__ = ["load_data"]


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST as ``((x_train, y_train), (x_test, y_test))``, Keras's arrays.

    Images are uint8 in [0, 255] shaped (60000, 28, 28) and (10000, 28, 28); labels are uint8
    digits 0-9 shaped (60000,) and (10000,), as ``keras.datasets.mnist.load_data()``. A
    channels-first model takes ``x[:, None]`` (N, 1, 28, 28); scale with
    ``K.layers.Rescaling(1 / 255)`` in the model or ``x / 255`` before.

    Raises:
        RuntimeError: offline with no cached copy, saying where the files go.
    """
    return load("MNIST")
