"""kerasish: the Keras workflow (compile, fit, callbacks, TensorBoard) for native PyTorch models.

Example:
    >>> import kerasish as K
    >>> from torch import nn
    >>> model = K.Sequential([nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
    ...               metrics=["accuracy"])
"""

from kerasish import (
    activations,
    applications,
    callbacks,
    config,
    constraints,
    data,
    datasets,
    devices,
    distribute,
    initializers,
    layers,
    losses,
    metrics,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    saving,
    utils,
)
from kerasish.models import Input, KerasTensor, Model, Sequential

# The one source of the version: pyproject.toml reads this literal (without importing kerasish).
__version__ = "0.1.0"

__all__ = [
    "Input",
    "KerasTensor",
    "Model",
    "Sequential",
    "activations",
    "constraints",
    "data",
    "initializers",
    "ops",
    "random",
    "regularizers",
    "saving",
    "applications",
    "callbacks",
    "config",
    "datasets",
    "devices",
    "distribute",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "utils",
    "__version__",
]
