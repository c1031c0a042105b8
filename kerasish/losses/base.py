"""The Loss base class, Keras's sample weighting and reductions, and the shape helpers.

The helpers are public because the other loss files and ``kerasish.metrics`` share them:
``per_sample`` (mean over non-batch dimensions), ``align`` ((N,) vs (N, 1) targets),
``class_labels``, ``as_float``, ``weighted_reduce`` and ``snake_case``.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "EPSILON",
    "REDUCTIONS",
    "MEAN_REDUCTIONS",
    "Loss",
    "ElementwiseLoss",
    "per_sample",
    "align",
    "as_float",
    "class_labels",
    "is_probability_target",
    "weighted_reduce",
    "reduce_elementwise",
    "snake_case",
]


EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None)
MEAN_REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight")


# --------------------------------------------------------------------------- shape helpers


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def per_sample(values: Tensor) -> Tensor:
    """Mean over every non-batch dimension: (N, ...) -> (N,); 0-D and 1-D values are kept.

    Example:
        >>> per_sample(torch.ones(4, 3, 2)).shape
        torch.Size([4])
    """
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


def align(y_true: Tensor, y_pred: Tensor, name: str) -> Tensor:
    """Return y_true in y_pred's shape ((N,) vs (N, 1) is reshaped); raise if they'd broadcast.

    Args:
        y_true: the targets.
        y_pred: the predictions, whose shape wins.
        name: what is being computed, for the error message ("this metric", a loss name).

    Raises:
        ValueError: when the shapes differ by more than dimensions of size 1.

    Example:
        >>> align(torch.zeros(3), torch.zeros(3, 1), "mse").shape
        torch.Size([3, 1])
    """
    if y_true.shape == y_pred.shape:
        return y_true
    if _alignable(y_true, y_pred):
        return y_true.reshape(y_pred.shape)
    raise ValueError(
        f"Expected y and y_pred of the same shape for {name} (or shapes that differ only by a "
        "dimension of size 1, such as (N,) and (N, 1)); other shapes would broadcast silently. "
        f"Received: y.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
    )


def as_float(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Cast integer or boolean targets to y_pred's dtype; floating targets are left as they are."""
    if y_true.is_floating_point():
        return y_true
    return y_true.to(y_pred.dtype)


def class_labels(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Class indices as int64, with a (N, 1, ...) label tensor squeezed to (N, ...).

    Example:
        >>> class_labels(torch.tensor([[1.0], [0.0]]), torch.zeros(2, 3))
        tensor([1, 0])
    """
    if y_true.ndim == y_pred.ndim and y_true.ndim >= 2 and y_true.shape[1] == 1:
        y_true = y_true.squeeze(1)
    return y_true if y_true.dtype == torch.long else y_true.long()


def is_probability_target(y_true: Tensor, y_pred: Tensor) -> bool:
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
        f"size. Received: sample_weight.shape={tuple(w.shape)}, batch size N={values.shape[0]}"
    )


def weighted_reduce(values: Tensor, sample_weight: Any, reduction: str | None) -> Tensor:
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


def snake_case(name: str) -> str:
    """A CamelCase class name in snake case, as Keras names objects.

    Example:
        >>> snake_case("BinaryF1Score")
        'binary_f1_score'
    """
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
        if sample_weight is None and self.reduction in MEAN_REDUCTIONS:
            fast = self._batch_mean(y_true, y_pred)
            if fast is not None:
                return fast
        values = per_sample(self._call_prepared(y_true, y_pred))
        return weighted_reduce(values, sample_weight, self.reduction)

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


class ElementwiseLoss(Loss):
    """A loss defined by ``_elementwise(y_true, y_pred, reduction)`` with reduction "mean"/"none".

    "none" returns values of shape (N, ...) (the class or feature axis already reduced where the
    loss reduces it); "mean" returns their mean, through the torch functional where one exists.
    """

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        raise NotImplementedError

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        return align(as_float(y_true, y_pred), y_pred, self.name), y_pred

    def _batch_mean(self, y_true: Tensor, y_pred: Tensor) -> Tensor | None:
        return self._elementwise(y_true, y_pred, "mean")

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Return the per-sample losses, shape (N,)."""
        return self._call_prepared(*self._prepare(y_true, y_pred))

    def _call_prepared(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return per_sample(self._elementwise(y_true, y_pred, "none"))

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Raise ValueError when the shapes would broadcast instead of matching."""
        align(y_true, y_pred, self.name)


def reduce_elementwise(values: Tensor, reduction: str) -> Tensor:
    return values.mean() if reduction == "mean" else values
