"""Losses: Keras-named losses, torch loss adapters and ``get()``, all called as loss(y_true, y_pred).

One argument order holds for the whole library: ``loss(y_true, y_pred, sample_weight=None)``
returns a scalar tensor. Without ``sample_weight`` the common losses compute exactly what the
matching ``torch.nn.functional`` call computes with ``reduction="mean"`` (bit for bit), so a
kerasish training run equals a hand-written PyTorch loop. With ``sample_weight`` Keras's
weighting applies: per-sample losses (the mean over every non-batch dimension) times per-sample
weights (N,) or (N, 1); or, for per-timestep weights such as (N, T), the losses averaged over the
dimensions after T times the weights; then the ``reduction`` (``"sum_over_batch_size"`` divides
the weighted sum by the number of weighted values, as Keras does).

Class scores follow PyTorch's layout: the class dimension is 1, as in ``F.cross_entropy``
((N, C) or (N, C, H, W)); for 2-D inputs this is Keras's last axis.

The crossentropy losses take ``from_logits`` as Keras documents it, plus ``from_logits=None``
("auto"): decided once, at the first call, from the values (probabilities when they lie in
[0, 1] and, for categorical losses, each row sums to 1), then cached in ``loss.from_logits``.
Losses made from strings by ``get()`` use "auto", so a Keras-style model ending in softmax and a
PyTorch-style model returning logits both train correctly with
``"sparse_categorical_crossentropy"``; ``compile`` may also set ``loss.from_logits`` from the
model's last layer before the first call. Probabilities are never passed through a second softmax;
as in Keras, rows of probabilities that do not sum to 1 are divided by their sum first.

The package: ``base`` (the Loss class, weighting, reductions, shape helpers), ``regression``,
``crossentropy``, ``adapters`` (torch functionals and modules, plain callables) and
``registry`` (``get``/``serialize``/``deserialize``/``check_targets``). Import from here.
"""

from __future__ import annotations

import torch  # noqa: F401 - the docstrings' examples run in this namespace
from torch import nn  # noqa: F401

from kerasish.losses.adapters import Functional, LossFunctionWrapper, TorchLoss
from kerasish.losses.base import (
    EPSILON,
    MEAN_REDUCTIONS,
    REDUCTIONS,
    ElementwiseLoss,
    Loss,
    align,
    as_float,
    class_labels,
    is_probability_target,
    per_sample,
    snake_case,
    weighted_reduce,
)
from kerasish.losses.crossentropy import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CrossEntropy,
    NegativeLogLikelihood,
    SparseCategoricalCrossentropy,
    check_sparse_targets,
)
from kerasish.losses.registry import check_targets, deserialize, get, serialize
from kerasish.losses.regression import (
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SquaredHinge,
)

__all__ = [
    "Loss",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "CrossEntropy",
    "NegativeLogLikelihood",
    "Huber",
    "KLDivergence",
    "CosineSimilarity",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "LogCosh",
    "Poisson",
    "TorchLoss",
    "LossFunctionWrapper",
    "get",
    "serialize",
    "deserialize",
    "check_targets",
    "EPSILON",
]
# Helpers shared with kerasish.metrics and the loss files (public, outside Keras's API above).
_HELPERS = (
    per_sample,
    align,
    as_float,
    class_labels,
    is_probability_target,
    weighted_reduce,
    snake_case,
    check_sparse_targets,
    Functional,
    ElementwiseLoss,
)
_CONSTANTS = (REDUCTIONS, MEAN_REDUCTIONS)

# Everything public says it lives here, whichever file defines it, so that what a saved
# file names ("kerasish.losses:Huber") and what safe mode accepts do not depend on the layout.
for _obj in (*(globals()[_name] for _name in __all__ if _name != "EPSILON"), *_HELPERS):
    _obj.__module__ = __name__
del _obj
