"""Adapters to the Loss interface: torch functionals, torch loss modules, plain callables."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from kerasish.losses.base import (
    MEAN_REDUCTIONS,
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
from kerasish.losses.crossentropy import check_sparse_targets

__all__ = ["Functional", "TorchLoss", "LossFunctionWrapper"]


# --------------------------------------------------------------------------- torch functionals


class Functional(ElementwiseLoss):
    """A torch functional called as ``fn(y_pred, y_true, reduction=...)`` under a PyTorch name.

    Made by ``get()`` for PyTorch's functional names without a Keras class ("smooth_l1_loss",
    "kl_div"); ``identifier`` is that name, which ``serialize`` returns.
    """

    def __init__(
        self,
        fn: Callable[..., Tensor],
        name: str,
        mean_reduction: str = "mean",
        reduction: str | None = "sum_over_batch_size",
        **kwargs: Any,
    ):
        super().__init__(name=name, reduction=reduction)
        self.identifier = name
        self.fn, self.mean_reduction, self.fn_kwargs = fn, mean_reduction, kwargs

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        torch_reduction = self.mean_reduction if reduction == "mean" else reduction
        return self.fn(y_pred, y_true, reduction=torch_reduction, **self.fn_kwargs)

    def _call_prepared(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Loss values (N, ...); summed per sample, (N,), for torch's "batchmean"."""
        values = self._elementwise(y_true, y_pred, "none")
        if self.mean_reduction == "batchmean" and values.ndim > 1:
            return values.sum(dim=tuple(range(1, values.ndim)))
        return values


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
        super().__init__(name=name or snake_case(type(module).__name__), reduction=reduction)
        self.module = module
        self._unreduced = copy.copy(module)  # shares parameters and buffers with module
        self._unreduced.reduction = "none"
        self.from_logits: bool | None = _LOGITS_MODULES.get(type(module))

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        if isinstance(self.module, _LABEL_MODULES):
            if is_probability_target(y_true, y_pred):
                return y_true, y_pred
            return class_labels(y_true, y_pred), y_pred
        if isinstance(self.module, _ELEMENTWISE_MODULES):
            return align(as_float(y_true, y_pred), y_pred, self.name), y_pred
        return y_true, y_pred

    def __call__(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """Return the module's loss, or Keras's weighted loss when ``sample_weight`` is given."""
        y_true, y_pred = self._prepare(y_true, y_pred)
        if sample_weight is None:
            return self.module(y_pred, y_true)
        reduction = "sum" if getattr(self.module, "reduction", None) == "sum" else self.reduction
        return weighted_reduce(self.per_sample(y_true, y_pred), sample_weight, reduction)

    def per_sample(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        values = self._unreduced(y_pred, y_true)
        summed = getattr(self.module, "reduction", None) in ("sum", "batchmean")
        if summed and values.ndim > 1:
            return values.sum(dim=tuple(range(1, values.ndim)))
        return per_sample(values)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Return the per-sample losses (N,) from the unreduced copy of the module."""
        return self.per_sample(*self._prepare(y_true, y_pred))

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Check labels for CrossEntropyLoss/NLLLoss and matching shapes for elementwise losses."""
        if isinstance(self.module, _LABEL_MODULES):
            if not is_probability_target(y_true, y_pred):
                check_sparse_targets(self.name, y_true, y_pred, None)
        elif isinstance(self.module, _ELEMENTWISE_MODULES):
            align(y_true, y_pred, self.name)

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
        if sample_weight is None and self.reduction in MEAN_REDUCTIONS:
            return values.mean()
        return weighted_reduce(values, sample_weight, self.reduction)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        """Return ``fn``'s per-sample losses, averaged over non-batch dimensions."""
        return per_sample(self._values(y_true, y_pred))

    def get_config(self) -> dict[str, Any]:
        return {"fn": self.fn, **super().get_config(), **self.fn_kwargs}
