"""Losses: Keras-named losses, torch loss adapters and ``get()``, all called as loss(y_true, y_pred).

One argument order holds for the whole library: ``loss(y_true, y_pred, sample_weight=None)``
returns a scalar tensor. Without ``sample_weight`` the common losses compute exactly what the
matching ``torch.nn.functional`` call computes with ``reduction="mean"`` (bit for bit), so a
kerasish training run equals a hand-written PyTorch loop. With ``sample_weight`` Keras's
weighting applies: per-sample losses (the mean over every non-batch dimension) times the weights,
then the ``reduction`` (``"sum_over_batch_size"`` divides the weighted sum by the batch size).

Class scores follow PyTorch's layout: the class dimension is 1, as in ``F.cross_entropy``
((N, C) or (N, C, H, W)); for 2-D inputs this is Keras's last axis.

The crossentropy losses take ``from_logits`` as Keras documents it, plus ``from_logits=None``
("auto"): decided once, at the first call, from the values (probabilities when they lie in
[0, 1] and, for categorical losses, each row sums to 1), then cached in ``loss.from_logits``.
Losses made from strings by ``get()`` use "auto", so a Keras-style model ending in softmax and a
PyTorch-style model returning logits both train correctly with
``"sparse_categorical_crossentropy"``; ``compile`` may also set ``loss.from_logits`` from the
model's last layer before the first call. Probabilities are never passed through a second softmax.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

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

EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None)
_MEAN_REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight")


# --------------------------------------------------------------------------- shape helpers


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def _per_sample(values: Tensor) -> Tensor:
    """Mean over every non-batch dimension: (N, ...) -> (N,)."""
    if values.ndim <= 1:
        return values
    return values.mean(dim=tuple(range(1, values.ndim)))


def _alignable(y_true: Tensor, y_pred: Tensor) -> bool:
    """True when the shapes differ only by dimensions of size 1 after the batch dimension."""
    if y_true.ndim == 0 or y_pred.ndim == 0 or y_true.shape[0] != y_pred.shape[0]:
        return False
    rest_true = [s for s in y_true.shape[1:] if s != 1]
    rest_pred = [s for s in y_pred.shape[1:] if s != 1]
    return rest_true == rest_pred


def _align(y_true: Tensor, y_pred: Tensor, name: str) -> Tensor:
    """Return y_true in y_pred's shape ((N,) vs (N, 1) is reshaped); raise if they'd broadcast."""
    if y_true.shape == y_pred.shape:
        return y_true
    if _alignable(y_true, y_pred):
        return y_true.reshape(y_pred.shape)
    raise ValueError(
        f"Expected y and y_pred of the same shape for {name} (or shapes that differ only by a "
        "dimension of size 1, such as (N,) and (N, 1)); other shapes would broadcast silently. "
        f"Received: y.shape={_shape(y_true)}, y_pred.shape={_shape(y_pred)}"
    )


def _as_float(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Cast integer or boolean targets to y_pred's dtype; floating targets are left as they are."""
    if y_true.is_floating_point():
        return y_true
    return y_true.to(y_pred.dtype)


def _class_labels(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Class indices as int64, with a (N, 1, ...) label tensor squeezed to (N, ...)."""
    if y_true.ndim == y_pred.ndim and y_true.ndim >= 2 and y_true.shape[1] == 1:
        y_true = y_true.squeeze(1)
    return y_true if y_true.dtype == torch.long else y_true.long()


def _is_probability_target(y_true: Tensor, y_pred: Tensor) -> bool:
    return y_true.is_floating_point() and y_true.shape == y_pred.shape


# --------------------------------------------------------------------------- weighting


def _weights(sample_weight: Any, values: Tensor) -> Tensor | float:
    """Sample weights as a number or a tensor broadcastable to the per-sample values (N,)."""
    if isinstance(sample_weight, int | float) and not isinstance(sample_weight, bool):
        return sample_weight
    w = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
    if w.ndim == 0 or w.shape == values.shape:
        return w
    if w.ndim >= 1 and w.shape[0] == values.shape[0] and w.numel() == values.shape[0]:
        return w.reshape(values.shape)
    raise ValueError(
        "Expected sample_weight to be a number or of shape (N,) or (N, 1), N being the batch "
        f"size. Received: sample_weight.shape={_shape(w)}, batch size N={values.shape[0]}"
    )


def _reduce(values: Tensor, sample_weight: Any, reduction: str | None) -> Tensor:
    """Apply Keras's sample weighting and reduction to per-sample values (N,)."""
    weights = None if sample_weight is None else _weights(sample_weight, values)
    if weights is not None:
        values = values * weights
    if reduction in ("none", None):
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and weights is not None:
        total_weight = torch.broadcast_to(torch.as_tensor(weights).to(values), values.shape)
        return values.sum() / total_weight.sum()
    return values.mean()


def _check_reduction(reduction: str | None) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Expected reduction to be one of {list(REDUCTIONS)}. Received: reduction={reduction!r}"
        )


def _snake_case(name: str) -> str:
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


# --------------------------------------------------------------------------- base class


class Loss:
    """Base of every kerasish loss: ``loss(y_true, y_pred, sample_weight=None) -> scalar``.

    Subclass it and override ``call(y_true, y_pred)`` to return per-sample losses of shape
    (N, ...); dimensions after the batch one are averaged, then Keras's weighting and reduction
    apply.

    Args:
        name: the loss's name; defaults to the snake-case Keras name of the class.
        reduction: "sum_over_batch_size" (default; "mean" is an alias), "sum",
            "mean_with_sample_weight" (weighted sum divided by the sum of weights) or "none"
            (per-sample losses).

    Example:
        >>> class Cube(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return (y_pred - y_true).abs().pow(3)
        >>> Cube()(torch.zeros(4, 2), torch.ones(4, 2))
        tensor(1.)
    """

    default_name = "loss"

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size"):
        _check_reduction(reduction)
        self.name = name or self.default_name
        self.reduction = reduction

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Return the per-sample losses (N,) (or (N, ...), averaged by the caller)."""
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        """Cheap host-side alignment of the targets (shape, dtype); identity by default."""
        return y_true, y_pred

    def _batch_mean(self, y_true: Tensor, y_pred: Tensor) -> Tensor | None:
        """The unweighted mean loss through the torch functional, or None when there is none."""
        return None

    def __call__(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """Return the loss: a scalar tensor, or per-sample losses when reduction is "none".

        Args:
            y_true: the targets.
            y_pred: the model's outputs.
            sample_weight: None, a number, or per-sample weights of shape (N,) or (N, 1).

        Returns:
            A scalar tensor (a tensor of shape (N,) for reduction "none").
        """
        y_true, y_pred = self._prepare(y_true, y_pred)
        if sample_weight is None and self.reduction in _MEAN_REDUCTIONS:
            fast = self._batch_mean(y_true, y_pred)
            if fast is not None:
                return fast
        values = _per_sample(self._call_prepared(y_true, y_pred))
        return _reduce(values, sample_weight, self.reduction)

    def _call_prepared(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Per-sample losses of inputs already through ``_prepare``; ``call`` by default."""
        return self.call(y_true, y_pred)

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Raise ValueError when y_true cannot be a target for y_pred; host-only, no-op here."""

    def to(self, device: torch.device | str) -> Loss:
        """Move any tensors the loss holds to ``device``; returns self."""
        return self

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, for ``serialize``."""
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Build the loss from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _ElementwiseLoss(Loss):
    """A loss defined by ``_elementwise(y_true, y_pred, reduction)`` with reduction "mean"/"none".

    "none" returns values of shape (N, ...) (the class or feature axis already reduced where the
    loss reduces it); "mean" returns their mean, through the torch functional where one exists.
    """

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        raise NotImplementedError

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        return _align(_as_float(y_true, y_pred), y_pred, self.name), y_pred

    def _batch_mean(self, y_true: Tensor, y_pred: Tensor) -> Tensor | None:
        return self._elementwise(y_true, y_pred, "mean")

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Return the per-sample losses, shape (N,)."""
        return self._call_prepared(*self._prepare(y_true, y_pred))

    def _call_prepared(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return _per_sample(self._elementwise(y_true, y_pred, "none"))

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Raise ValueError when the shapes would broadcast instead of matching."""
        _align(y_true, y_pred, self.name)


def _finish(values: Tensor, reduction: str) -> Tensor:
    return values.mean() if reduction == "mean" else values


# --------------------------------------------------------------------------- regression


class MeanSquaredError(_ElementwiseLoss):
    """Mean of squares of errors; unweighted, equals ``F.mse_loss(y_pred, y_true)`` exactly.

    Example:
        >>> MeanSquaredError()(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 1.0]))
        tensor(0.5000)
    """

    default_name = "mean_squared_error"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return F.mse_loss(y_pred, y_true, reduction=reduction)


class MeanAbsoluteError(_ElementwiseLoss):
    """Mean of absolute errors; unweighted, equals ``F.l1_loss(y_pred, y_true)`` exactly.

    Example:
        >>> MeanAbsoluteError()(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 1.0]))
        tensor(1.)
    """

    default_name = "mean_absolute_error"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return F.l1_loss(y_pred, y_true, reduction=reduction)


class MeanAbsolutePercentageError(_ElementwiseLoss):
    """``100 * |(y_true - y_pred) / max(|y_true|, eps)|``, averaged (Keras's formula).

    Example:
        >>> MeanAbsolutePercentageError()(torch.tensor([2.0]), torch.tensor([1.0]))
        tensor(50.)
    """

    default_name = "mean_absolute_percentage_error"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        diff = ((y_true - y_pred) / y_true.abs().clamp(min=EPSILON)).abs()
        return _finish(100.0 * diff, reduction)


class MeanSquaredLogarithmicError(_ElementwiseLoss):
    """``(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2``, averaged (Keras's formula).

    Example:
        >>> MeanSquaredLogarithmicError()(torch.tensor([0.0]), torch.tensor([0.0]))
        tensor(0.)
    """

    default_name = "mean_squared_logarithmic_error"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        first = torch.log(y_pred.clamp(min=EPSILON) + 1.0)
        second = torch.log(y_true.clamp(min=EPSILON) + 1.0)
        return _finish((first - second).square(), reduction)


class Huber(_ElementwiseLoss):
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


class LogCosh(_ElementwiseLoss):
    """``log(cosh(y_pred - y_true))``, averaged, computed stably as Keras does.

    Example:
        >>> LogCosh()(torch.tensor([0.0]), torch.tensor([0.0]))
        tensor(0.)
    """

    default_name = "log_cosh"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        x = y_pred - y_true
        return _finish(x + F.softplus(-2.0 * x) - math.log(2.0), reduction)


class Poisson(_ElementwiseLoss):
    """``y_pred - y_true * log(y_pred + eps)``, averaged (Keras's formula; y_pred is a rate).

    Example:
        >>> round(Poisson()(torch.tensor([1.0]), torch.tensor([1.0])).item(), 4)
        1.0
    """

    default_name = "poisson"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return _finish(y_pred - y_true * torch.log(y_pred + EPSILON), reduction)


class KLDivergence(_ElementwiseLoss):
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
        return _finish((y_true * torch.log(y_true / y_pred)).sum(dim=-1), reduction)


class CosineSimilarity(_ElementwiseLoss):
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
        return _finish(-(y_true * y_pred).sum(dim=self.axis), reduction)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    return x * torch.rsqrt(x.square().sum(dim=axis, keepdim=True).clamp(min=1e-12))


def _hinge_labels(y_true: Tensor) -> Tensor:
    """Map {0, 1} labels to {-1, 1} on the device, without a host sync (Keras's rule)."""
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


class Hinge(_ElementwiseLoss):
    """``max(1 - y_true * y_pred, 0)``, averaged; labels in {-1, 1} or {0, 1} (mapped to ±1).

    Example:
        >>> Hinge()(torch.tensor([1.0]), torch.tensor([0.5]))
        tensor(0.5000)
    """

    default_name = "hinge"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return _finish((1.0 - _hinge_labels(y_true) * y_pred).clamp(min=0.0), reduction)


class SquaredHinge(_ElementwiseLoss):
    """``max(1 - y_true * y_pred, 0) ** 2``, averaged; labels in {-1, 1} or {0, 1}.

    Example:
        >>> SquaredHinge()(torch.tensor([1.0]), torch.tensor([0.5]))
        tensor(0.2500)
    """

    default_name = "squared_hinge"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        margin = (1.0 - _hinge_labels(y_true) * y_pred).clamp(min=0.0)
        return _finish(margin.square(), reduction)


class CategoricalHinge(_ElementwiseLoss):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` along the last axis.

    Example:
        >>> CategoricalHinge()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 2.0]]))
        tensor(0.)
    """

    default_name = "categorical_hinge"

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        pos = (y_true * y_pred).sum(dim=-1)
        neg = ((1.0 - y_true) * y_pred).amax(dim=-1)
        return _finish((neg - pos + 1.0).clamp(min=0.0), reduction)


# --------------------------------------------------------------------------- crossentropy


def _check_from_logits(from_logits: Any) -> None:
    if from_logits is not None and not isinstance(from_logits, bool):
        raise TypeError(
            "Expected from_logits to be True, False or None (decided at the first call). "
            f"Received: from_logits={from_logits!r}"
        )


def _check_label_smoothing(label_smoothing: Any) -> float:
    if not isinstance(label_smoothing, int | float) or not 0 <= label_smoothing <= 1:
        raise ValueError(
            f"Expected label_smoothing to be a number in [0, 1]. "
            f"Received: label_smoothing={label_smoothing!r}"
        )
    return float(label_smoothing)


def _looks_like_probabilities(y_pred: Tensor, class_dim: int | None) -> bool:
    """One host sync: are all values in [0, 1] (and, with class_dim, do rows sum to 1)?"""
    with torch.no_grad():
        p = y_pred.detach()
        ok = ((p >= 0) & (p <= 1)).all()
        if class_dim is not None and p.ndim > class_dim:
            tol = max(1e-3, 4 * torch.finfo(p.dtype).eps) if p.is_floating_point() else 1e-3
            ok = ok & ((p.float().sum(dim=class_dim) - 1.0).abs() <= tol).all()
        return bool(ok.item())


def _log_probabilities(y_pred: Tensor) -> Tensor:
    return torch.log(y_pred.clamp(EPSILON, 1.0 - EPSILON))


class _Crossentropy(_ElementwiseLoss):
    """Shared ``from_logits`` handling; ``_class_dim`` is None for binary losses."""

    _class_dim: int | None = 1

    def __init__(
        self,
        from_logits: bool | None = False,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ):
        super().__init__(name=name, reduction=reduction)
        _check_from_logits(from_logits)
        self.from_logits = from_logits

    def _resolve_from_logits(self, y_pred: Tensor) -> None:
        if self.from_logits is None:
            self.from_logits = not _looks_like_probabilities(y_pred, self._class_dim)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "from_logits": self.from_logits}


class BinaryCrossentropy(_Crossentropy):
    """Binary crossentropy for 0/1 targets, on logits or on probabilities.

    Unweighted, it equals ``F.binary_cross_entropy_with_logits(y_pred, y_true)`` exactly with
    ``from_logits=True``, and ``F.binary_cross_entropy(clamp(y_pred, eps, 1 - eps), y_true)`` with
    ``from_logits=False``. Targets of shape (N,) are reshaped to an output of shape (N, 1).

    Args:
        from_logits: True when y_pred are logits, False when probabilities (Keras's default),
            None to decide at the first call (probabilities when all values are in [0, 1]);
            the decision is kept in ``self.from_logits``.
        label_smoothing: targets become ``y * (1 - label_smoothing) + 0.5 * label_smoothing``.
        name: the loss's name.
        reduction: see ``Loss``.

    Example:
        >>> bce = BinaryCrossentropy(from_logits=True)
        >>> bce(torch.tensor([1.0, 0.0]), torch.tensor([2.0, -1.0]))
        tensor(0.2201)
    """

    default_name = "binary_crossentropy"
    _class_dim = None

    def __init__(
        self,
        from_logits: bool | None = False,
        label_smoothing: float = 0.0,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ):
        super().__init__(from_logits=from_logits, name=name, reduction=reduction)
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        self._resolve_from_logits(y_pred)
        y_true = _align(_as_float(y_true, y_pred), y_pred, self.name)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        return y_true, y_pred

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction=reduction)
        probs = y_pred.clamp(EPSILON, 1.0 - EPSILON)
        return F.binary_cross_entropy(probs, y_true, reduction=reduction)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(_Crossentropy):
    """Crossentropy for one-hot or probability targets of y_pred's shape (N, C) or (N, C, ...).

    Unweighted with ``from_logits=True`` it equals ``F.cross_entropy(y_pred, y_true)`` exactly
    (torch accepts probability targets); with ``from_logits=False`` it is
    ``-sum(y_true * log(clamp(y_pred, eps, 1 - eps)))`` over the class dimension 1.

    Args:
        from_logits: True for logits, False for probabilities (Keras's default), None to decide
            at the first call (probabilities when values are in [0, 1] and rows sum to 1).
        label_smoothing: targets become ``y * (1 - label_smoothing) + label_smoothing / C``.
        name: the loss's name.
        reduction: see ``Loss``.

    Example:
        >>> cce = CategoricalCrossentropy()
        >>> cce(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))
        tensor(0.6931)
    """

    default_name = "categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool | None = False,
        label_smoothing: float = 0.0,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ):
        super().__init__(from_logits=from_logits, name=name, reduction=reduction)
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        self._resolve_from_logits(y_pred)
        if y_true.shape != y_pred.shape:
            _raise_categorical_shape(self.name, y_true, y_pred)
        return _as_float(y_true, y_pred), y_pred

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return _categorical_ce(y_true, y_pred, self.from_logits, self.label_smoothing, reduction)

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Raise ValueError unless y_true has y_pred's shape."""
        if y_true.shape != y_pred.shape:
            _raise_categorical_shape(self.name, y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def _raise_categorical_shape(name: str, y_true: Tensor, y_pred: Tensor) -> None:
    raise ValueError(
        f"Expected y of the same shape as y_pred (one-hot or probabilities) for {name}; use "
        "sparse_categorical_crossentropy for integer class labels. "
        f"Received: y.shape={_shape(y_true)}, y_pred.shape={_shape(y_pred)}"
    )


def _categorical_ce(
    y_true: Tensor, y_pred: Tensor, from_logits: bool | None, smoothing: float, reduction: str
) -> Tensor:
    if from_logits:
        return F.cross_entropy(y_pred, y_true, reduction=reduction, label_smoothing=smoothing)
    if smoothing:
        y_true = y_true * (1.0 - smoothing) + smoothing / y_pred.shape[1]
    return _finish(-(y_true * _log_probabilities(y_pred)).sum(dim=1), reduction)


class SparseCategoricalCrossentropy(_Crossentropy):
    """Crossentropy for integer class labels (N,) or (N, ...) against scores (N, C) or (N, C, ...).

    Unweighted with ``from_logits=True`` it equals ``F.cross_entropy(y_pred, y_true)`` exactly;
    with ``from_logits=False`` it is ``F.nll_loss(log(clamp(y_pred, eps, 1 - eps)), y_true)``, so
    a softmax model's loss is ``-log p[y]`` (no second softmax). Labels of shape (N, 1) are
    squeezed; integer labels of any dtype are cast to int64.

    Args:
        from_logits: True for logits, False for probabilities (Keras's default), None to decide
            at the first call (probabilities when values are in [0, 1] and rows sum to 1).
        ignore_class: a label value that contributes no loss (torch's ``ignore_index``); the mean
            is over the other labels, as in Keras and torch.
        name: the loss's name.
        reduction: see ``Loss``.

    Example:
        >>> scce = SparseCategoricalCrossentropy(from_logits=True)
        >>> scce(torch.tensor([1]), torch.tensor([[0.0, 0.0]]))
        tensor(0.6931)
    """

    default_name = "sparse_categorical_crossentropy"

    def __init__(
        self,
        from_logits: bool | None = False,
        ignore_class: int | None = None,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ):
        super().__init__(from_logits=from_logits, name=name, reduction=reduction)
        if ignore_class is not None and not isinstance(ignore_class, int):
            raise TypeError(
                f"Expected ignore_class to be None or an int. Received: ignore_class={ignore_class!r}"
            )
        self.ignore_class = ignore_class

    @property
    def _ignore_index(self) -> int:
        return -100 if self.ignore_class is None else self.ignore_class

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        self._resolve_from_logits(y_pred)
        return _class_labels(y_true, y_pred), y_pred

    def _log_probs(self, y_pred: Tensor) -> Tensor:
        return _log_probabilities(y_pred)

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        if self.from_logits:
            return F.cross_entropy(
                y_pred, y_true, ignore_index=self._ignore_index, reduction=reduction
            )
        log_probs = self._log_probs(y_pred)
        return F.nll_loss(log_probs, y_true, ignore_index=self._ignore_index, reduction=reduction)

    def _call_prepared(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Per-sample losses (N,); ignored labels rescale the rest as Keras does."""
        values = self._elementwise(y_true, y_pred, "none")
        if self.ignore_class is not None:
            valid = (y_true != self.ignore_class).sum()
            values = values * (values.numel() / valid)
        return _per_sample(values)

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Raise ValueError unless y_true holds integer labels fitting y_pred's classes."""
        _check_sparse_targets(self.name, y_true, y_pred, self.ignore_class)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "ignore_class": self.ignore_class}


class CrossEntropy(SparseCategoricalCrossentropy):
    """PyTorch's ``cross_entropy`` under Keras's argument order: logits, labels or probabilities.

    Targets are integer class labels, or float probabilities of y_pred's shape (as torch
    accepts). Unweighted, it equals ``F.cross_entropy(y_pred, y_true)`` exactly.

    Args:
        from_logits: True (default) since ``F.cross_entropy`` takes logits; compile may set it.
        ignore_class: a label value that contributes no loss (class-label targets only).
        label_smoothing: as in ``F.cross_entropy`` (with logits, or with probability targets).
        name: the loss's name.
        reduction: see ``Loss``.

    Example:
        >>> CrossEntropy()(torch.tensor([0]), torch.tensor([[0.0, 0.0]]))
        tensor(0.6931)
    """

    default_name = "cross_entropy"

    def __init__(
        self,
        from_logits: bool | None = True,
        ignore_class: int | None = None,
        label_smoothing: float = 0.0,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ):
        super().__init__(from_logits, ignore_class, name=name, reduction=reduction)
        self.label_smoothing = _check_label_smoothing(label_smoothing)

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        if _is_probability_target(y_true, y_pred):
            self._resolve_from_logits(y_pred)
            return y_true, y_pred
        return super()._prepare(y_true, y_pred)

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        if _is_probability_target(y_true, y_pred):
            smooth = self.label_smoothing
            return _categorical_ce(y_true, y_pred, self.from_logits, smooth, reduction)
        if self.from_logits and self.label_smoothing:
            return F.cross_entropy(
                y_pred,
                y_true,
                ignore_index=self._ignore_index,
                reduction=reduction,
                label_smoothing=self.label_smoothing,
            )
        return super()._elementwise(y_true, y_pred, reduction)

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Raise ValueError unless y_true holds labels, or probabilities of y_pred's shape."""
        if not _is_probability_target(y_true, y_pred):
            super().check_targets(y_true, y_pred)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


class NegativeLogLikelihood(SparseCategoricalCrossentropy):
    """PyTorch's ``nll_loss``: y_pred are log-probabilities (N, C) or (N, C, ...), y_true labels.

    Unweighted, it equals ``F.nll_loss(y_pred, y_true)`` exactly.

    Example:
        >>> NegativeLogLikelihood()(torch.tensor([0]), torch.tensor([[-1.0, -2.0]]))
        tensor(1.)
    """

    default_name = "nll_loss"

    def __init__(
        self,
        ignore_class: int | None = None,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ):
        super().__init__(False, ignore_class, name=name, reduction=reduction)

    def _log_probs(self, y_pred: Tensor) -> Tensor:
        return y_pred

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        return F.nll_loss(y_pred, y_true, ignore_index=self._ignore_index, reduction=reduction)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("from_logits")
        return config


def _check_sparse_targets(
    name: str, y_true: Tensor, y_pred: Tensor, ignore_class: int | None = None
) -> None:
    """Host-side checks of integer labels against class scores (N, C, ...)."""
    if y_true.is_floating_point() or y_true.dtype == torch.bool or y_true.is_complex():
        raise ValueError(
            f"Expected integer class labels for {name}. Received: y.dtype={y_true.dtype}, "
            f"y.shape={_shape(y_true)}, y_pred.shape={_shape(y_pred)}"
        )
    if y_pred.ndim < 2:
        raise ValueError(
            f"Expected y_pred of shape (N, C) or (N, C, ...) (one score per class) for {name}. "
            f"Received: y_pred.shape={_shape(y_pred)}, y.shape={_shape(y_true)}"
        )
    labels = _class_labels(y_true, y_pred)
    expected = (y_pred.shape[0], *y_pred.shape[2:])
    if _shape(labels) != expected:
        raise ValueError(
            f"Expected y of shape {expected} (or with a dimension of size 1 after the batch one) "
            f"for {name}. Received: y.shape={_shape(y_true)}, y_pred.shape={_shape(y_pred)}"
        )
    _check_label_range(name, labels, y_pred.shape[1], ignore_class)


def _check_label_range(name: str, labels: Tensor, num_classes: int, ignore: int | None) -> None:
    """Check labels lie in [0, C) when they are on the CPU (no device sync is made)."""
    if labels.device.type != "cpu" or labels.numel() == 0:
        return
    if ignore is not None:
        labels = labels[labels != ignore]
        if labels.numel() == 0:
            return
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"Expected class labels in [0, {num_classes}) for {name} (y_pred has {num_classes} "
            f"classes in dimension 1). Received: labels in [{low}, {high}]"
        )


# --------------------------------------------------------------------------- torch functionals


class _Functional(_ElementwiseLoss):
    """A torch functional called as ``fn(y_pred, y_true, reduction=...)`` under a PyTorch name."""

    def __init__(
        self,
        fn: Callable[..., Tensor],
        name: str,
        mean_reduction: str = "mean",
        reduction: str | None = "sum_over_batch_size",
        **kwargs: Any,
    ):
        super().__init__(name=name, reduction=reduction)
        self.fn, self.mean_reduction, self.fn_kwargs = fn, mean_reduction, kwargs

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        torch_reduction = self.mean_reduction if reduction == "mean" else reduction
        return self.fn(y_pred, y_true, reduction=torch_reduction, **self.fn_kwargs)

    def _call_prepared(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Per-sample losses (N,): summed per sample for torch's "batchmean"."""
        values = self._elementwise(y_true, y_pred, "none")
        if self.mean_reduction == "batchmean" and values.ndim > 1:
            return values.sum(dim=tuple(range(1, values.ndim)))
        return _per_sample(values)


# --------------------------------------------------------------------------- adapters

_LOGITS_MODULES: dict[type, bool] = {
    nn.CrossEntropyLoss: True,
    nn.BCEWithLogitsLoss: True,
    nn.BCELoss: False,
    nn.NLLLoss: False,
}
_LABEL_MODULES = (nn.CrossEntropyLoss, nn.NLLLoss)
_ELEMENTWISE_MODULES = (
    nn.MSELoss,
    nn.L1Loss,
    nn.SmoothL1Loss,
    nn.HuberLoss,
    nn.BCELoss,
    nn.BCEWithLogitsLoss,
    nn.SoftMarginLoss,
    nn.PoissonNLLLoss,
    nn.KLDivLoss,
)


class TorchLoss(Loss):
    """Adapt a torch loss module (``input, target`` order) to kerasish's ``(y_true, y_pred)``.

    Without ``sample_weight`` the module is called as it is (bit for bit what a PyTorch loop
    computes, with the module's own reduction). With ``sample_weight`` a copy with
    ``reduction="none"`` gives per-sample losses and Keras's weighting applies; note that a
    module's class ``weight`` or ``ignore_index`` then count per sample (the mean is over the
    batch size, not torch's sum of class weights). Targets are made to fit as kerasish losses
    do: (N,) vs (N, 1) reshaped for elementwise losses, (N, 1) labels squeezed and cast to int64
    for ``CrossEntropyLoss`` and ``NLLLoss``.

    Args:
        module: a torch loss, e.g. ``nn.CrossEntropyLoss()`` or ``nn.MSELoss()``.
        name: the loss's name; defaults to the module class in snake case.
        reduction: the reduction used with sample weights ("sum" when the module sums).

    Example:
        >>> loss = TorchLoss(nn.MSELoss())
        >>> loss(torch.zeros(2), torch.ones(2))
        tensor(1.)
    """

    def __init__(
        self,
        module: nn.Module,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
    ):
        if not isinstance(module, nn.Module):
            raise TypeError(f"Expected a torch.nn.Module loss. Received: module={module!r}")
        super().__init__(name=name or _snake_case(type(module).__name__), reduction=reduction)
        self.module = module
        self._unreduced = copy.copy(module)  # shares parameters and buffers with module
        self._unreduced.reduction = "none"
        self.from_logits: bool | None = _LOGITS_MODULES.get(type(module))

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        if isinstance(self.module, _LABEL_MODULES):
            if _is_probability_target(y_true, y_pred):
                return y_true, y_pred
            return _class_labels(y_true, y_pred), y_pred
        if isinstance(self.module, _ELEMENTWISE_MODULES):
            return _align(_as_float(y_true, y_pred), y_pred, self.name), y_pred
        return y_true, y_pred

    def __call__(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """Return the module's loss, or Keras's weighted loss when ``sample_weight`` is given."""
        y_true, y_pred = self._prepare(y_true, y_pred)
        if sample_weight is None:
            return self.module(y_pred, y_true)
        reduction = "sum" if getattr(self.module, "reduction", None) == "sum" else self.reduction
        return _reduce(self._per_sample(y_true, y_pred), sample_weight, reduction)

    def _per_sample(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        values = self._unreduced(y_pred, y_true)
        summed = getattr(self.module, "reduction", None) in ("sum", "batchmean")
        if summed and values.ndim > 1:
            return values.sum(dim=tuple(range(1, values.ndim)))
        return _per_sample(values)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Return the per-sample losses (N,) from the unreduced copy of the module."""
        return self._per_sample(*self._prepare(y_true, y_pred))

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Check labels for CrossEntropyLoss/NLLLoss and matching shapes for elementwise losses."""
        if isinstance(self.module, _LABEL_MODULES):
            if not _is_probability_target(y_true, y_pred):
                _check_sparse_targets(self.name, y_true, y_pred, None)
        elif isinstance(self.module, _ELEMENTWISE_MODULES):
            _align(y_true, y_pred, self.name)

    def to(self, device: torch.device | str) -> TorchLoss:
        """Move the module's buffers (e.g. class weights) to ``device``; returns self."""
        self.module.to(device)
        return self

    def get_config(self) -> dict[str, Any]:
        return {"module": self.module, "name": self.name, "reduction": self.reduction}


class LossFunctionWrapper(Loss):
    """Wrap a plain callable ``fn(y_true, y_pred, **kwargs)`` as a Loss.

    ``fn`` may return per-sample losses (N,) or (N, ...), which get Keras's weighting and
    reduction, or a scalar, which is returned as it is (sample weights then raise ValueError).

    Args:
        fn: the loss function, taking (y_true, y_pred).
        name: the loss's name; defaults to ``fn.__name__``.
        reduction: see ``Loss``.
        **kwargs: extra keyword arguments passed to ``fn``.

    Example:
        >>> loss = LossFunctionWrapper(lambda y, p: (y - p).abs(), name="abs")
        >>> loss(torch.zeros(2), torch.ones(2), sample_weight=torch.tensor([1.0, 0.0]))
        tensor(0.5000)
    """

    def __init__(
        self,
        fn: Callable[..., Tensor],
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        **kwargs: Any,
    ):
        if not callable(fn):
            raise TypeError(f"Expected a callable fn(y_true, y_pred). Received: fn={fn!r}")
        super().__init__(name=name or getattr(fn, "__name__", None) or "loss", reduction=reduction)
        self.fn, self.fn_kwargs = fn, kwargs

    def _values(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        values = self.fn(y_true, y_pred, **self.fn_kwargs)
        if not isinstance(values, Tensor):
            raise TypeError(
                f"Expected the loss function {self.name} to return a tensor. "
                f"Received: {type(values).__name__}"
            )
        return values

    def __call__(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """Return the loss; see the class docstring for scalar-returning functions."""
        values = self._values(y_true, y_pred)
        if values.ndim == 0:
            if sample_weight is not None:
                raise ValueError(
                    f"Expected the loss function {self.name} to return per-sample losses of shape "
                    "(N,) when sample_weight is given. Received: a scalar"
                )
            return values
        if sample_weight is None and self.reduction in _MEAN_REDUCTIONS:
            return values.mean()
        return _reduce(_per_sample(values), sample_weight, self.reduction)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Return ``fn``'s per-sample losses, averaged over non-batch dimensions."""
        return _per_sample(self._values(y_true, y_pred))

    def get_config(self) -> dict[str, Any]:
        return {"fn": self.fn, **super().get_config(), **self.fn_kwargs}


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
    "smooth_l1_loss": (_Functional, {"fn": F.smooth_l1_loss}),
    "kl_div": (_Functional, {"fn": F.kl_div, "mean_reduction": "batchmean"}),
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


def _from_name(name: str) -> Loss:
    factory, kwargs = _NAMES[name]
    loss = factory(name=name, **kwargs)
    loss._identifier = name  # type: ignore[attr-defined]
    return loss


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
        return _from_name(identifier)
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
    if isinstance(loss, _Functional):
        return loss._identifier  # type: ignore[attr-defined]
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
