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


def _bad_weight(w: Tensor, values: Tensor) -> ValueError:
    return ValueError(
        "Expected sample_weight to be a number, per-sample weights of shape (N,) or (N, 1), or "
        "per-timestep weights of the loss values' leading shape such as (N, T), N being the batch "
        f"size. Received: sample_weight.shape={tuple(w.shape)}, "
        f"loss values' shape={tuple(values.shape)}"
    )


def _fit_weights(sample_weight: Any, values: Tensor) -> tuple[Tensor, Tensor | float]:
    """Loss values reduced to the weights' rank (Keras's rule), and the weights to multiply.

    A number or (N,)/(N, 1) weights weigh per-sample losses (the mean over non-batch
    dimensions); weights of shape (N, T, ...) weigh the values averaged over the dimensions
    after their own (per-timestep weights, as Keras's losses take them).
    """
    if isinstance(sample_weight, int | float) and not isinstance(sample_weight, bool):
        return per_sample(values), sample_weight
    w = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
    while w.ndim > 1 and w.shape[-1] == 1:
        w = w.squeeze(-1)
    if w.ndim > 2 and w.ndim == values.ndim + 1 and w.shape[1] == 1:
        w = w.squeeze(1)  # (N, 1, H, W), as class labels may come, for values (N, H, W)
    if w.ndim == 0:
        return per_sample(values), w
    if values.ndim == 0 or w.shape[0] != values.shape[0] or w.ndim > values.ndim:
        raise _bad_weight(w, values)
    if w.ndim == 1:
        return per_sample(values), w
    if values.ndim > w.ndim:
        values = values.mean(dim=tuple(range(w.ndim, values.ndim)))
    if any(a not in (1, b) for a, b in zip(w.shape, values.shape, strict=True)):
        raise _bad_weight(w, values)
    return values, w


def weighted_reduce(
    values: Tensor, sample_weight: Any, reduction: str | None, keep_shape: bool = False
) -> Tensor:
    """Apply Keras's sample weighting and reduction to loss values (N,) or (N, ...).

    Args:
        values: the loss values; without weights they are averaged per sample first, unless
            ``keep_shape`` (losses whose unreduced output keeps Keras's per-element shape).
        sample_weight: None, a number, per-sample weights (N,) or (N, 1), or per-timestep
            weights (N, T, ...) matching the values' leading dimensions.
        reduction: see ``Loss``; the means divide by the number of weighted values.
        keep_shape: keep (N, ...) values unreduced for reduction "none" and sum them all for
            "sum".

    Returns:
        A scalar tensor, or the weighted values for reduction "none".

    Example:
        >>> w = torch.tensor([[3.0, 6.0, 5.0], [0.0, 4.0, 2.0]])
        >>> weighted_reduce(torch.ones(2, 3, 1), w, "sum_over_batch_size")
        tensor(3.3333)
    """
    weights = None
    if sample_weight is None:
        if not keep_shape:
            values = per_sample(values)
    else:
        values, weights = _fit_weights(sample_weight, values)
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

    Subclass it and override ``call(y_true, y_pred)`` to return losses of shape (N, ...);
    dimensions after the batch one are averaged (after the weights' own, for per-timestep
    weights such as (N, T)), then Keras's weighting and reduction apply.

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
    # True where reduction "none" returns Keras's per-element shape (N, ...), not (N,).
    _keep_shape = False

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
            sample_weight: None, a number, per-sample weights of shape (N,) or (N, 1), or
                per-timestep weights such as (N, T) for values of shape (N, T, ...).

        Returns:
            A scalar tensor (the per-sample or weighted values for reduction "none").
        """
        y_true, y_pred = self._prepare(y_true, y_pred)
        if sample_weight is None and self.reduction in MEAN_REDUCTIONS:
            fast = self._batch_mean(y_true, y_pred)
            if fast is not None:
                return fast
        values = self._call_prepared(y_true, y_pred)
        return weighted_reduce(values, sample_weight, self.reduction, self._keep_shape)

    def _call_prepared(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Loss values (N, ...) of inputs already through ``_prepare``; ``call`` by default."""
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
        return per_sample(self._call_prepared(*self._prepare(y_true, y_pred)))

    def _call_prepared(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return self._elementwise(y_true, y_pred, "none")

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Raise ValueError when the shapes would broadcast instead of matching."""
        align(y_true, y_pred, self.name)


def reduce_elementwise(values: Tensor, reduction: str) -> Tensor:
    return values.mean() if reduction == "mean" else values
