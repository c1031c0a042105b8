"""Metrics: the Metric interface (update_state/result/reset_state), Keras's metrics, and ``get()``.

State lives in tensors on the model's device and ``update_state`` never waits for the device
(no ``.item()``, ``.cpu()``, ``tolist()`` or Python truth value of a tensor); counts known on
the host, such as batch sizes, stay Python numbers. A metric moves its state to the device of
the first batch it sees, or with ``to(device)``.

Class scores follow PyTorch's layout: the class dimension is 1 ((N, C) or (N, C, H, W)); for 2-D
outputs this is Keras's last axis. Each metric's ``name`` is its log key: ``get("acc")`` logs
"acc", ``get("mae")`` logs "mae", as Keras names metrics after the string given.

The package: ``base`` (Metric, Mean, MeanMetricWrapper), ``accuracy`` (the per-sample functions
and the accuracy and error metrics over them), ``confusion`` (Precision, Recall, AUC),
``adapter`` (torchmetrics) and ``registry`` (``get`` and ``describe``). Import from here.
"""

from __future__ import annotations

import torch  # noqa: F401 - the docstrings' examples run in this namespace

from kerasish.metrics.accuracy import (
    Accuracy,
    AutoAccuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    MeanAbsoluteError,
    MeanSquaredError,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from kerasish.metrics.adapter import TorchMetricsAdapter
from kerasish.metrics.base import Mean, MeanMetricWrapper, Metric
from kerasish.metrics.confusion import AUC, Precision, Recall
from kerasish.metrics.registry import describe, get, public_config

__all__ = [
    "Metric",
    "Mean",
    "MeanMetricWrapper",
    "Accuracy",
    "AutoAccuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "RootMeanSquaredError",
    "Precision",
    "Recall",
    "AUC",
    "TorchMetricsAdapter",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "get",
    "describe",
    "public_config",
]

# Everything public says it lives here, whichever file defines it, so that what a saved
# file names ("kerasish.metrics:binary_accuracy") and what safe mode accepts do not depend on
# the layout.
for _obj in (*(globals()[_name] for _name in __all__), mean_squared_error, mean_absolute_error):
    _obj.__module__ = __name__
del _obj
