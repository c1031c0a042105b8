"""Metrics: the Metric interface (update_state/result/reset_state), Keras's metrics, and ``get()``.

State lives in tensors on the model's device and ``update_state`` never waits for the device
(no ``.item()``, ``.cpu()``, ``tolist()`` or Python truth value of a tensor); counts known on
the host, such as batch sizes, stay Python numbers. A metric moves its state to the device of
the first batch it sees, or with ``to(device)``.

Class scores follow PyTorch's layout: the class dimension is 1 ((N, C) or (N, C, H, W)); for 2-D
outputs this is Keras's last axis. Each metric's ``name`` is its log key: ``get("acc")`` logs
"acc", ``get("mae")`` logs "mae", as Keras names metrics after the string given.

The package: ``base`` (Metric, Mean, MeanMetricWrapper), ``accuracy`` (the per-sample functions
and the accuracy and error metrics over them), ``confusion`` (Precision, Recall, the four
confusion counts), ``curves`` (AUC and the metrics at a sensitivity, specificity, precision or
recall), ``fscore`` (F1Score, FBetaScore), ``iou`` (IoU, MeanIoU), ``regression`` (R2Score and
the per-sample means MAPE, cosine similarity, log-cosh, Poisson, KL divergence), ``adapter``
(torchmetrics) and ``registry`` (``get`` and ``describe``). Import from here.
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
from kerasish.metrics.confusion import (
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from kerasish.metrics.curves import (
    AUC,
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from kerasish.metrics.fscore import F1Score, FBetaScore
from kerasish.metrics.iou import IoU, MeanIoU
from kerasish.metrics.registry import describe, get, public_config
from kerasish.metrics.regression import (
    CosineSimilarity,
    KLDivergence,
    LogCoshError,
    MeanAbsolutePercentageError,
    Poisson,
    R2Score,
    cosine_similarity,
    kl_divergence,
    log_cosh,
    mean_absolute_percentage_error,
    poisson,
)

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
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "F1Score",
    "FBetaScore",
    "R2Score",
    "IoU",
    "MeanIoU",
    "MeanAbsolutePercentageError",
    "CosineSimilarity",
    "LogCoshError",
    "Poisson",
    "KLDivergence",
    "TorchMetricsAdapter",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "mean_absolute_percentage_error",
    "cosine_similarity",
    "log_cosh",
    "poisson",
    "kl_divergence",
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
