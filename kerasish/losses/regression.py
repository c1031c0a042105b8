"""Regression and margin losses: MSE, MAE, MAPE, MSLE, Huber, LogCosh, Poisson, KL, cosine, hinges."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kerasish.losses.base import EPSILON, ElementwiseLoss, reduce_elementwise

__all__ = [
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "Poisson",
    "KLDivergence",
    "CosineSimilarity",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
]


# --------------------------------------------------------------------------- regression


class MeanSquaredError(ElementwiseLoss):
    """Mean of squares of errors; unweighted, equals ``F.mse_loss(y_pred, y_true)`` exactly.

    Example:
        >>> MeanSquaredError()(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 1.0]))
        tensor(0.5000)
    """

    default_name = "mean_squared_error"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return F.mse_loss(y_pred, y_true, reduction=reduction)


class MeanAbsoluteError(ElementwiseLoss):
    """Mean of absolute errors; unweighted, equals ``F.l1_loss(y_pred, y_true)`` exactly.

    Example:
        >>> MeanAbsoluteError()(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 1.0]))
        tensor(1.)
    """

    default_name = "mean_absolute_error"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return F.l1_loss(y_pred, y_true, reduction=reduction)


class MeanAbsolutePercentageError(ElementwiseLoss):
    """``100 * |(y_true - y_pred) / max(|y_true|, eps)|``, averaged (Keras's formula).

    Example:
        >>> MeanAbsolutePercentageError()(torch.tensor([2.0]), torch.tensor([1.0]))
        tensor(50.)
    """

    default_name = "mean_absolute_percentage_error"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        diff = ((y_true - y_pred) / y_true.abs().clamp(min=EPSILON)).abs()
        return reduce_elementwise(100.0 * diff, reduction)


class MeanSquaredLogarithmicError(ElementwiseLoss):
    """``(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2``, averaged (Keras's formula).

    Example:
        >>> MeanSquaredLogarithmicError()(torch.tensor([0.0]), torch.tensor([0.0]))
        tensor(0.)
    """

    default_name = "mean_squared_logarithmic_error"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        first = torch.log(y_pred.clamp(min=EPSILON) + 1.0)
        second = torch.log(y_true.clamp(min=EPSILON) + 1.0)
        return reduce_elementwise((first - second).square(), reduction)


class Huber(ElementwiseLoss):
    """Huber loss; unweighted, equals ``F.huber_loss(y_pred, y_true, delta=delta)`` exactly.

    Args:
        delta: where the loss turns from quadratic to linear.
        name: the loss's name.
        reduction: see ``Loss``.

    Example:
        >>> Huber(delta=1.0)(torch.tensor([0.0]), torch.tensor([3.0]))
        tensor(2.5000)
    """

    default_name = "huber_loss"

    def __init__(
        self,
        delta: float = 1.0,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ):
        super().__init__(name=name, reduction=reduction)
        if not isinstance(delta, int | float) or delta <= 0:
            raise ValueError(f"Expected delta to be a number > 0. Received: delta={delta!r}")
        self.delta = float(delta)

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return F.huber_loss(y_pred, y_true, reduction=reduction, delta=self.delta)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "delta": self.delta}


class LogCosh(ElementwiseLoss):
    """``log(cosh(y_pred - y_true))``, averaged, computed stably as Keras does.

    Example:
        >>> LogCosh()(torch.tensor([0.0]), torch.tensor([0.0]))
        tensor(0.)
    """

    default_name = "log_cosh"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        x = y_pred - y_true
        return reduce_elementwise(x + F.softplus(-2.0 * x) - math.log(2.0), reduction)


class Poisson(ElementwiseLoss):
    """``y_pred - y_true * log(y_pred + eps)``, averaged (Keras's formula; y_pred is a rate).

    Example:
        >>> round(Poisson()(torch.tensor([1.0]), torch.tensor([1.0])).item(), 4)
        1.0
    """

    default_name = "poisson"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return reduce_elementwise(y_pred - y_true * torch.log(y_pred + EPSILON), reduction)


class KLDivergence(ElementwiseLoss):
    """Kullback-Leibler divergence of probability vectors along the last axis (Keras's formula).

    Both inputs are probabilities clipped to [eps, 1]; for torch's log-probability input use
    ``get("kl_div")``.

    Example:
        >>> p = torch.tensor([[0.5, 0.5]])
        >>> KLDivergence()(p, p)
        tensor(0.)
    """

    default_name = "kl_divergence"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        y_true = y_true.clamp(EPSILON, 1.0)
        y_pred = y_pred.clamp(EPSILON, 1.0)
        return reduce_elementwise((y_true * torch.log(y_true / y_pred)).sum(dim=-1), reduction)


class CosineSimilarity(ElementwiseLoss):
    """The negative cosine similarity along ``axis`` (as in Keras: -1 is best, 1 is worst).

    Args:
        axis: the axis along which the similarity is computed.
        name: the loss's name.
        reduction: see ``Loss``.

    Example:
        >>> CosineSimilarity()(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0]]))
        tensor(-1.)
    """

    default_name = "cosine_similarity"

    def __init__(
        self, axis: int = -1, name: str | None = None, reduction: str | None = "sum_over_batch_size"
    ):
        super().__init__(name=name, reduction=reduction)
        self.axis = axis

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        y_true = _l2_normalize(y_true, self.axis)
        y_pred = _l2_normalize(y_pred, self.axis)
        return reduce_elementwise(-(y_true * y_pred).sum(dim=self.axis), reduction)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    return x * torch.rsqrt(x.square().sum(dim=axis, keepdim=True).clamp(min=1e-12))


def _hinge_labels(y_true: Tensor) -> Tensor:
    """Map {0, 1} labels to {-1, 1} on the device, without a host sync (Keras's rule)."""
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


class Hinge(ElementwiseLoss):
    """``max(1 - y_true * y_pred, 0)``, averaged; labels in {-1, 1} or {0, 1} (mapped to ±1).

    Example:
        >>> Hinge()(torch.tensor([1.0]), torch.tensor([0.5]))
        tensor(0.5000)
    """

    default_name = "hinge"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return reduce_elementwise((1.0 - _hinge_labels(y_true) * y_pred).clamp(min=0.0), reduction)


class SquaredHinge(ElementwiseLoss):
    """``max(1 - y_true * y_pred, 0) ** 2``, averaged; labels in {-1, 1} or {0, 1}.

    Example:
        >>> SquaredHinge()(torch.tensor([1.0]), torch.tensor([0.5]))
        tensor(0.2500)
    """

    default_name = "squared_hinge"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        margin = (1.0 - _hinge_labels(y_true) * y_pred).clamp(min=0.0)
        return reduce_elementwise(margin.square(), reduction)


class CategoricalHinge(ElementwiseLoss):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` along the last axis.

    Example:
        >>> CategoricalHinge()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 2.0]]))
        tensor(0.)
    """

    default_name = "categorical_hinge"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        pos = (y_true * y_pred).sum(dim=-1)
        neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
        return reduce_elementwise((neg - pos + 1.0).clamp(min=0.0), reduction)
