"""The metric registry: ``get`` (names, objects, callables) and ``describe`` (the way back)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from kerasish import losses as losses_lib
from kerasish.metrics.accuracy import (
    AutoAccuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    MeanAbsoluteError,
    MeanSquaredError,
    RootMeanSquaredError,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from kerasish.metrics.adapter import TorchMetricsAdapter, is_torchmetrics
from kerasish.metrics.base import MeanMetricWrapper, Metric
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
from kerasish.metrics.regression import (
    CosineSimilarity,
    KLDivergence,
    LogCoshError,
    MeanAbsolutePercentageError,
    Poisson,
    R2Score,
)

__all__ = ["get", "describe", "public_config"]


# --------------------------------------------------------------------------- registry

_LOGITS = {"from_logits": None}  # follow the compiled loss's from_logits
_LOSS_AWARE = (
    AutoAccuracy,
    BinaryAccuracy,
    Precision,
    Recall,
    AUC,
    TruePositives,
    FalsePositives,
    TrueNegatives,
    FalseNegatives,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    PrecisionAtRecall,
    RecallAtPrecision,
)
_NAMES: dict[str, tuple[Callable[..., Metric], dict[str, Any]]] = {
    "accuracy": (AutoAccuracy, {}),
    "acc": (AutoAccuracy, {}),
    "binary_accuracy": (BinaryAccuracy, {"threshold": None}),
    "categorical_accuracy": (CategoricalAccuracy, {}),
    "sparse_categorical_accuracy": (SparseCategoricalAccuracy, {}),
    "top_k_categorical_accuracy": (TopKCategoricalAccuracy, {}),
    "sparse_top_k_categorical_accuracy": (SparseTopKCategoricalAccuracy, {}),
    "mse": (MeanSquaredError, {}),
    "mean_squared_error": (MeanSquaredError, {}),
    "mae": (MeanAbsoluteError, {}),
    "mean_absolute_error": (MeanAbsoluteError, {}),
    "rmse": (RootMeanSquaredError, {}),
    "root_mean_squared_error": (RootMeanSquaredError, {}),
    "precision": (Precision, _LOGITS),
    "recall": (Recall, _LOGITS),
    "auc": (AUC, _LOGITS),
    "true_positives": (TruePositives, _LOGITS),
    "false_positives": (FalsePositives, _LOGITS),
    "true_negatives": (TrueNegatives, _LOGITS),
    "false_negatives": (FalseNegatives, _LOGITS),
    # Keras's snake-case class names and aliases (metrics.get).
    "mape": (MeanAbsolutePercentageError, {}),
    "mean_absolute_percentage_error": (MeanAbsolutePercentageError, {}),
    "cosine_similarity": (CosineSimilarity, {}),
    "log_cosh_error": (LogCoshError, {}),
    "poisson": (Poisson, {}),
    "kl_divergence": (KLDivergence, {}),
    "r2_score": (R2Score, {}),
    "f1_score": (F1Score, {}),
    "f_beta_score": (FBetaScore, {}),
    "fbeta_score": (FBetaScore, {}),
}


def get(identifier: Any, loss: Any = None) -> Metric:
    """Return the Metric for a name, a Metric or class, a torchmetrics metric, or a callable.

    Args:
        identifier: a name ("accuracy", "acc", "mae", "auc", ...; the name is the log key), a
            ``Metric`` (returned as is) or subclass, a ``torchmetrics.Metric`` (adapted), a loss
            object or torch loss module (its per-sample mean is tracked) or a callable ``fn(y_true, y_pred)`` (named after it).
        loss: the compiled loss; "accuracy", "binary_accuracy", "precision", "recall" and "auc"
            read its ``from_logits`` at their first update (threshold 0 or a sigmoid on logits).

    Returns:
        A ``Metric``.

    Raises:
        ValueError: for an unknown name or an object that is none of the above.

    Example:
        >>> get("acc").name
        'acc'
    """
    metric = _lookup(identifier)
    if isinstance(metric, _LOSS_AWARE) and metric.compiled_loss is None:
        metric.compiled_loss = loss
    return metric


def _lookup(identifier: Any) -> Metric:
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str) and identifier in _NAMES:
        factory, kwargs = _NAMES[identifier]
        return factory(name=identifier, **kwargs)
    if is_torchmetrics(identifier):
        return TorchMetricsAdapter(identifier)
    if isinstance(identifier, losses_lib.Loss | torch.nn.modules.loss._Loss):
        loss = losses_lib.get(identifier)
        return MeanMetricWrapper(loss.call, name=loss.name)
    if callable(identifier) and not isinstance(identifier, type):
        return MeanMetricWrapper(identifier)
    raise ValueError(
        f"Could not interpret metric identifier. Expected one of {sorted(_NAMES)}, a kerasish "
        "Metric, a torchmetrics metric, or a callable fn(y_true, y_pred). "
        f"Received: identifier={identifier!r}"
    )


# --------------------------------------------------------------------------- description


def describe(metric: Metric) -> str | tuple[str, Any, dict[str, Any]]:
    """How to rebuild ``metric``: its registry name, or a class or function with its arguments.

    The name is the metric's own, less the ``"<output_key>_"`` prefix of a metric compiled for
    a named output. This is what ``compile.json`` records (the saving code encodes it).

    Args:
        metric: a resolved ``Metric`` (as in ``model.metrics``).

    Returns:
        The registry name when ``get(name)`` rebuilds the metric; else ``("class", cls,
        config)`` (rebuilt by ``cls.from_config(config)`` or ``cls(**config)``) or
        ``("mean_of", fn, config)`` (rebuilt by ``MeanMetricWrapper(fn, **config)``).

    Raises:
        TypeError: when the metric has no portable description (a metric class defined
            elsewhere without ``get_config()``, or a torchmetrics adapter).

    Example:
        >>> describe(get("acc"))
        'acc'
        >>> describe(TopKCategoricalAccuracy(k=3))[2]
        {'k': 3, 'name': 'top_k_categorical_accuracy'}
    """
    name = _base_name(metric)
    factory, kwargs = _NAMES.get(name, (None, {}))
    if type(metric) is factory and public_config(metric) == public_config(
        factory(name=name, **kwargs)
    ):
        return name
    if callable(getattr(metric, "get_config", None)):
        return ("class", type(metric), metric.get_config())
    if type(metric) is MeanMetricWrapper:
        return ("mean_of", metric.fn, {"name": name, **metric.fn_kwargs})
    builtin = type(metric).__module__.startswith("kerasish.metrics")
    if not builtin or isinstance(metric, TorchMetricsAdapter):
        raise TypeError(
            "Expected a metric with a get_config() method, a registered metric name or a "
            f"MeanMetricWrapper. Received: metric={type(metric).__name__} with no get_config()"
        )
    names = _init_arg_names(type(metric))
    args = {k: _plain(getattr(metric, k)) for k in names if hasattr(metric, k)}
    args["name"] = name
    return ("class", type(metric), args)


def _base_name(metric: Metric) -> str:
    key = getattr(metric, "output_key", None)
    return metric.name[len(f"{key}_") :] if key is not None else metric.name


def _init_arg_names(cls: type) -> list[str]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    plain = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in params if p.kind in plain]


def _plain(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    return value


def public_config(metric: Metric) -> dict[str, Any]:
    """A metric's public settings: its simple attributes but its name, output key and state.

    Two metrics of one class with equal public configs compute the same thing.

    Example:
        >>> public_config(TopKCategoricalAccuracy(k=3))
        {'k': 3}
    """
    simple = bool | int | float | str | Tensor
    skip = {"name", "output_key", *metric.state_names}
    return {
        k: _plain(v)
        for k, v in vars(metric).items()
        if not k.startswith("_") and k not in skip and isinstance(v, simple)
    }
