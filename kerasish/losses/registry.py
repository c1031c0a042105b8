"""The loss registry: ``get``, ``serialize``, ``deserialize`` and ``check_targets``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kerasish.losses.adapters import Functional, LossFunctionWrapper, TorchLoss
from kerasish.losses.base import Loss
from kerasish.losses.crossentropy import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CrossEntropy,
    NegativeLogLikelihood,
    SparseCategoricalCrossentropy,
)
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

__all__ = ["get", "serialize", "deserialize", "check_targets"]


# --------------------------------------------------------------------------- registry

_AUTO = {"from_logits": None}
_NAMES: dict[str, tuple[Callable[..., Loss], dict[str, Any]]] = {
    "mse": (MeanSquaredError, {}),
    "mean_squared_error": (MeanSquaredError, {}),
    "mae": (MeanAbsoluteError, {}),
    "mean_absolute_error": (MeanAbsoluteError, {}),
    "mape": (MeanAbsolutePercentageError, {}),
    "mean_absolute_percentage_error": (MeanAbsolutePercentageError, {}),
    "msle": (MeanSquaredLogarithmicError, {}),
    "mean_squared_logarithmic_error": (MeanSquaredLogarithmicError, {}),
    "binary_crossentropy": (BinaryCrossentropy, _AUTO),
    "bce": (BinaryCrossentropy, _AUTO),
    "categorical_crossentropy": (CategoricalCrossentropy, _AUTO),
    "sparse_categorical_crossentropy": (SparseCategoricalCrossentropy, _AUTO),
    "huber": (Huber, {}),
    "huber_loss": (Huber, {}),
    "kl_divergence": (KLDivergence, {}),
    "kld": (KLDivergence, {}),
    "kullback_leibler_divergence": (KLDivergence, {}),
    "cosine_similarity": (CosineSimilarity, {}),
    "hinge": (Hinge, {}),
    "squared_hinge": (SquaredHinge, {}),
    "categorical_hinge": (CategoricalHinge, {}),
    "log_cosh": (LogCosh, {}),
    "logcosh": (LogCosh, {}),
    "poisson": (Poisson, {}),
    # PyTorch's functional names, with PyTorch's input conventions.
    "cross_entropy": (CrossEntropy, {}),
    "nll_loss": (NegativeLogLikelihood, {}),
    "bce_with_logits": (BinaryCrossentropy, {"from_logits": True}),
    "binary_cross_entropy_with_logits": (BinaryCrossentropy, {"from_logits": True}),
    "binary_cross_entropy": (BinaryCrossentropy, {"from_logits": False}),
    "mse_loss": (MeanSquaredError, {}),
    "l1_loss": (MeanAbsoluteError, {}),
    "smooth_l1_loss": (Functional, {"fn": F.smooth_l1_loss}),
    "kl_div": (Functional, {"fn": F.kl_div, "mean_reduction": "batchmean"}),
}
_CLASSES: dict[str, type[Loss]] = {
    cls.__name__: cls
    for cls in (
        MeanSquaredError,
        MeanAbsoluteError,
        MeanAbsolutePercentageError,
        MeanSquaredLogarithmicError,
        BinaryCrossentropy,
        CategoricalCrossentropy,
        SparseCategoricalCrossentropy,
        CrossEntropy,
        NegativeLogLikelihood,
        Huber,
        KLDivergence,
        CosineSimilarity,
        Hinge,
        SquaredHinge,
        CategoricalHinge,
        LogCosh,
        Poisson,
    )
}


def _is_torch_loss_class(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, nn.modules.loss._Loss)


def get(identifier: Any) -> Loss:
    """Return the Loss for a name, a Loss, a torch loss module or class, or a callable.

    Strings are Keras's names and aliases ("mse", "sparse_categorical_crossentropy", ...) and
    PyTorch's functional names ("cross_entropy", "nll_loss", "bce_with_logits", "mse_loss",
    "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div", ...), each with its own input
    convention: Keras's crossentropy names decide ``from_logits`` at the first call (or take it
    from compile); "cross_entropy" and "bce_with_logits" take logits, "binary_cross_entropy"
    probabilities, "nll_loss" and "kl_div" log-probabilities.

    Args:
        identifier: a string, a ``Loss`` (returned as is), a ``Loss`` subclass, a torch loss
            module or class (adapted by ``TorchLoss``), a dict from ``serialize``, or a callable
            ``fn(y_true, y_pred)``.

    Returns:
        A ``Loss``.

    Raises:
        ValueError: for an unknown name or an object that is none of the above.

    Example:
        >>> get("mse")(torch.zeros(2), torch.ones(2))
        tensor(1.)
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, nn.modules.loss._Loss):
        return TorchLoss(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if _is_torch_loss_class(identifier):
        return TorchLoss(identifier())
    if isinstance(identifier, str) and identifier in _NAMES:
        factory, kwargs = _NAMES[identifier]
        return factory(name=identifier, **kwargs)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier) and not isinstance(identifier, str | type):
        return LossFunctionWrapper(identifier)
    raise ValueError(
        "Could not interpret loss identifier. Expected one of "
        f"{sorted(_NAMES)}, a kerasish Loss, a torch loss module, or a callable "
        f"fn(y_true, y_pred). Received: identifier={identifier!r}"
    )


def serialize(loss: Loss) -> dict[str, Any] | str:
    """Return a JSON-friendly description of a built-in loss, for ``deserialize``.

    Args:
        loss: a Loss made from a name or a built-in class.

    Returns:
        The name it was made from (for PyTorch functional names), or
        ``{"class_name": ..., "config": ...}``.

    Raises:
        TypeError: for a TorchLoss, a LossFunctionWrapper or a user subclass, which have no
            portable description.

    Example:
        >>> serialize(MeanSquaredError())
        {'class_name': 'MeanSquaredError', 'config': {'name': 'mean_squared_error', 'reduction': 'sum_over_batch_size'}}
    """
    if isinstance(loss, Functional):
        return loss.identifier
    if _CLASSES.get(type(loss).__name__) is not type(loss):
        raise TypeError(
            "Expected a built-in kerasish Loss to serialize (torch modules, callables and "
            f"user subclasses have no portable description). Received: loss={loss!r}"
        )
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict[str, Any] | str) -> Loss:
    """Rebuild a loss from ``serialize``'s output.

    Args:
        config: a loss name, or ``{"class_name": ..., "config": ...}``.

    Returns:
        The Loss.

    Raises:
        ValueError: when the class name is not a built-in loss.

    Example:
        >>> deserialize(serialize(Huber(delta=2.0))).delta
        2.0
    """
    if isinstance(config, str):
        return get(config)
    cls = _CLASSES.get(config.get("class_name", "")) if isinstance(config, dict) else None
    if cls is None:
        raise ValueError(
            f"Could not interpret serialized loss identifier. Expected a class name among "
            f"{sorted(_CLASSES)}. Received: config={config!r}"
        )
    return cls.from_config(config.get("config", {}))


def check_targets(loss: Loss, y_true: Any, y_pred: Any) -> None:
    """Check, on the host and once, that y_true can be a target of ``loss`` for y_pred.

    Meant for the first batch, before training: it catches float labels for sparse
    crossentropy, labels outside [0, C) (for tensors on the CPU), one-hot targets of another
    shape than y_pred, and shapes such as (N, 3) vs (N, 1) that would broadcast silently.

    Args:
        loss: the compiled loss.
        y_true: the targets of one batch (a tensor or array).
        y_pred: the model's outputs for that batch.

    Raises:
        ValueError: naming both shapes, when they do not fit.

    Example:
        >>> check_targets(get("mse"), torch.zeros(4, 3), torch.zeros(4, 1))
        Traceback (most recent call last):
        ValueError: Expected y and y_pred of the same shape for mse ...
    """
    if not isinstance(y_true, Tensor) or not isinstance(y_pred, Tensor):
        if isinstance(y_true, dict | list | tuple) or isinstance(y_pred, dict | list | tuple):
            return
        y_true, y_pred = torch.as_tensor(y_true), torch.as_tensor(y_pred)
    if isinstance(loss, Loss):
        loss.check_targets(y_true, y_pred)
