"""Crossentropy losses (binary, categorical, sparse; PyTorch's cross_entropy and nll_loss).

``from_logits=None`` decides, once, at the first call, whether y_pred holds probabilities.
``check_sparse_targets`` checks integer labels against class scores, on the host.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kerasish.losses.base import (
    EPSILON,
    MEAN_REDUCTIONS,
    ElementwiseLoss,
    align,
    as_float,
    class_labels,
    is_probability_target,
    reduce_elementwise,
    weighted_reduce,
)

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "CrossEntropy",
    "NegativeLogLikelihood",
    "check_sparse_targets",
]


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
    """log of probabilities over the class dimension 1, renormalised first as Keras does (rows
    that do not sum to 1 are divided by their sum), then clipped to [eps, 1 - eps]."""
    y_pred = y_pred / y_pred.sum(dim=1, keepdim=True)
    return torch.log(y_pred.clamp(EPSILON, 1.0 - EPSILON))


class _Crossentropy(ElementwiseLoss):
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
        y_true = align(as_float(y_true, y_pred), y_pred, self.name)
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
    ``-sum(y_true * log(clamp(p, eps, 1 - eps)))`` over the class dimension 1, ``p`` being y_pred
    divided by its sum over that dimension (Keras renormalises rows that do not sum to 1).
    Reduction "none" returns Keras's per-element losses, of shape (N,) or (N, ...).

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
    _keep_shape = True

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
        return as_float(y_true, y_pred), y_pred

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
        f"Received: y.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
    )


def _categorical_ce(
    y_true: Tensor, y_pred: Tensor, from_logits: bool | None, smoothing: float, reduction: str
) -> Tensor:
    if from_logits:
        return F.cross_entropy(y_pred, y_true, reduction=reduction, label_smoothing=smoothing)
    if smoothing:
        y_true = y_true * (1.0 - smoothing) + smoothing / y_pred.shape[1]
    return reduce_elementwise(-(y_true * _log_probabilities(y_pred)).sum(dim=1), reduction)


class SparseCategoricalCrossentropy(_Crossentropy):
    """Crossentropy for integer class labels (N,) or (N, ...) against scores (N, C) or (N, C, ...).

    Unweighted with ``from_logits=True`` it equals ``F.cross_entropy(y_pred, y_true)`` exactly;
    with ``from_logits=False`` it is ``F.nll_loss(log(clamp(p, eps, 1 - eps)), y_true)``, ``p``
    being y_pred divided by its sum over the classes (as Keras renormalises), so a softmax
    model's loss is ``-log p[y]`` (no second softmax). Labels of shape (N, 1) are squeezed;
    integer labels of any dtype are cast to int64. Reduction "none" returns Keras's per-element
    losses, of the labels' shape (N,) or (N, ...).

    Args:
        from_logits: True for logits, False for probabilities (Keras's default), None to decide
            at the first call (probabilities when values are in [0, 1] and rows sum to 1).
        ignore_class: a label value that contributes no loss (torch's ``ignore_index``); the mean
            is over the other labels, as in Keras and torch (Keras's mask: reduction "none"
            gives 0 there, the other values unscaled).
        name: the loss's name.
        reduction: see ``Loss``.

    Example:
        >>> scce = SparseCategoricalCrossentropy(from_logits=True)
        >>> scce(torch.tensor([1]), torch.tensor([[0.0, 0.0]]))
        tensor(0.6931)
    """

    default_name = "sparse_categorical_crossentropy"
    _keep_shape = True

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
        return class_labels(y_true, y_pred), y_pred

    def _log_probs(self, y_pred: Tensor) -> Tensor:
        return _log_probabilities(y_pred)

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        if self.from_logits:
            return F.cross_entropy(
                y_pred, y_true, ignore_index=self._ignore_index, reduction=reduction
            )
        log_probs = self._log_probs(y_pred)
        return F.nll_loss(log_probs, y_true, ignore_index=self._ignore_index, reduction=reduction)

    def __call__(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """Return the loss; with ``ignore_class``, Keras's mask weighs the other labels.

        The unweighted mean of int64 labels (N, ...) goes straight to ``F.cross_entropy`` (or
        ``F.nll_loss``) once ``from_logits`` is known: the per-batch path of a training loop.
        """
        if self.from_logits is not None and _plain_labels(self, y_true, y_pred, sample_weight):
            index = -100 if self.ignore_class is None else self.ignore_class
            if self.from_logits:
                return F.cross_entropy(y_pred, y_true, ignore_index=index)
            return F.nll_loss(self._log_probs(y_pred), y_true, ignore_index=index)
        if self.ignore_class is None or is_probability_target(y_true, y_pred):
            return super().__call__(y_true, y_pred, sample_weight)
        y_true, y_pred = self._prepare(y_true, y_pred)
        if sample_weight is None and self.reduction in MEAN_REDUCTIONS:
            return self._elementwise(y_true, y_pred, "mean")
        values = self._elementwise(y_true, y_pred, "none")
        weights = _mask_weights(y_true != self.ignore_class, values, sample_weight, self.reduction)
        return weighted_reduce(values, weights, self.reduction, keep_shape=True)

    def check_targets(self, y_true: Tensor, y_pred: Tensor) -> None:
        """Raise ValueError unless y_true holds integer labels fitting y_pred's classes."""
        check_sparse_targets(self.name, y_true, y_pred, self.ignore_class)

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

    def __call__(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """Return the loss; unweighted int64 labels with logits go straight to torch."""
        if self.from_logits is True and _plain_labels(self, y_true, y_pred, sample_weight):
            index = -100 if self.ignore_class is None else self.ignore_class
            smoothing = self.label_smoothing
            return F.cross_entropy(y_pred, y_true, ignore_index=index, label_smoothing=smoothing)
        return super().__call__(y_true, y_pred, sample_weight)

    def _prepare(self, y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
        if is_probability_target(y_true, y_pred):
            self._resolve_from_logits(y_pred)
            return y_true, y_pred
        return super()._prepare(y_true, y_pred)

    def _elementwise(self, y_true: Tensor, y_pred: Tensor, reduction: str) -> Tensor:
        if is_probability_target(y_true, y_pred):
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
        if not is_probability_target(y_true, y_pred):
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


def _plain_labels(loss: Any, y_true: Any, y_pred: Any, sample_weight: Any) -> bool:
    """True for an unweighted mean over int64 labels of shape (N, ...) for scores (N, C, ...)."""
    return (
        sample_weight is None
        and loss.reduction in MEAN_REDUCTIONS
        and getattr(y_true, "dtype", None) == torch.long
        and y_true.ndim + 1 == y_pred.ndim
    )


def _mask_weights(mask: Tensor, values: Tensor, sample_weight: Any, reduction: Any) -> Tensor:
    """Keras's ``apply_mask``: for the means, kept labels weigh total / kept (0 if none is)."""
    w = mask.to(values.dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        kept = w.sum()
        w = w * torch.where(kept > 0, w.numel() / kept, torch.zeros_like(kept))
    if sample_weight is None:
        return w
    sw = torch.as_tensor(sample_weight, dtype=w.dtype, device=w.device)
    while sw.ndim > 1 and sw.shape[-1] == 1:
        sw = sw.squeeze(-1)
    return w * sw.reshape(*sw.shape, *([1] * (w.ndim - sw.ndim)))


def check_sparse_targets(
    name: str, y_true: Tensor, y_pred: Tensor, ignore_class: int | None = None
) -> None:
    """Host-side checks of integer labels against class scores (N, C, ...)."""
    if y_true.is_floating_point() or y_true.dtype == torch.bool or y_true.is_complex():
        raise ValueError(
            f"Expected integer class labels for {name}. Received: y.dtype={y_true.dtype}, "
            f"y.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
        )
    if y_pred.ndim < 2:
        raise ValueError(
            f"Expected y_pred of shape (N, C) or (N, C, ...) (one score per class) for {name}. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}, y.shape={tuple(y_true.shape)}"
        )
    labels = class_labels(y_true, y_pred)
    expected = (y_pred.shape[0], *y_pred.shape[2:])
    if tuple(labels.shape) != expected:
        raise ValueError(
            f"Expected y of shape {expected} (or with a dimension of size 1 after the batch one) "
            f"for {name}. Received: y.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
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
