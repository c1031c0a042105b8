"""kerasish: the Keras workflow (compile, fit, callbacks, TensorBoard) for native PyTorch models.

Example:
    >>> import kerasish as K
    >>> from torch import nn
    >>> model = K.Sequential([nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
    ...               metrics=["accuracy"])
"""

from kerasish import callbacks, datasets, devices, layers, losses, metrics, optimizers, utils
from kerasish.models import Model, Sequential

__version__ = "0.1.0"

__all__ = [
    "Model",
    "Sequential",
    "callbacks",
    "datasets",
    "devices",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "utils",
    "__version__",
]
