"""Confusion counts at fixed thresholds: Precision, Recall and True/False Positives/Negatives.

Shared with ``curves``: ``check_from_logits``, ``probabilities``, ``slice_class`` and
``broadcast_weight`` (how y_pred, the class to keep and sample weights are read).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish.losses import align
from kerasish.metrics.base import Metric, loss_from_logits, safe_divide, weight_tensor

__all__ = [
    "Precision",
    "Recall",
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "NEG_INF",
    "broadcast_weight",
    "check_from_logits",
    "probabilities",
    "slice_class",
]

NEG_INF = -1e10  # Keras's threshold when only top_k decides what is predicted positive


# --------------------------------------------------------------------------- shared helpers


def broadcast_weight(sample_weight: Any, like: Tensor) -> Tensor | None:
    """Weights broadcast to ``like``'s shape ((N,) weights per sample); None for no weights."""
    if sample_weight is None:
        return None
    w = weight_tensor(sample_weight, like)
    while w.ndim > like.ndim and w.shape[-1] == 1:
        w = w.squeeze(-1)
    w = w.reshape(*w.shape, *([1] * (like.ndim - w.ndim)))
    return torch.broadcast_to(w, like.shape)


def probabilities(metric: Any, y_pred: Tensor) -> Tensor:
    """y_pred as probabilities (sigmoid when the metric, or else its loss, says logits)."""
    from_logits = metric.from_logits
    if from_logits is None:
        from_logits = loss_from_logits(metric.compiled_loss)
    return torch.sigmoid(y_pred) if from_logits else y_pred


def check_from_logits(from_logits: Any) -> None:
    if from_logits is not None and not isinstance(from_logits, bool):
        raise TypeError(
            "Expected from_logits to be True, False or None (from the compiled loss). "
            f"Received: from_logits={from_logits!r}"
        )


def check_class_id(class_id: Any) -> int | None:
    if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, int)):
        raise TypeError(f"Expected class_id to be None or an int. Received: class_id={class_id!r}")
    return class_id


def slice_class(class_id: int | None, *tensors: Tensor | None) -> tuple[Tensor | None, ...]:
    """Keep class ``class_id`` (dimension 1) of each tensor, as Keras's ``class_id`` does."""
    if class_id is None:
        return tensors
    first = tensors[0]
    if first is not None and first.ndim < 2:
        raise ValueError(
            "Expected y_pred of shape (num_samples, num_classes) when class_id is given. "
            f"Received: y_pred.shape={tuple(first.shape)}"
        )
    return tuple(None if t is None else t[:, class_id] for t in tensors)


def _filter_top_k(scores: Tensor, k: int) -> Tensor:
    """Scores outside the k highest of each row (dimension 1; 0 for 1-D) become NEG_INF."""
    dim = 1 if scores.ndim >= 2 else 0
    top = scores.topk(min(k, scores.shape[dim]), dim=dim).indices
    keep = torch.zeros_like(scores, dtype=torch.bool).scatter_(dim, top, True)
    return torch.where(keep, scores, torch.full_like(scores, NEG_INF))


def _threshold_list(thresholds: Any, default: float) -> list[float]:
    if thresholds is None:
        return [default]
    values = [thresholds] if isinstance(thresholds, int | float) else list(thresholds)
    bad = [t for t in values if isinstance(t, bool) or not isinstance(t, int | float)]
    if not values or bad or any(not 0 <= t <= 1 for t in values):
        raise ValueError(
            "Expected thresholds to be a number or a list of numbers in [0, 1]. "
            f"Received: thresholds={thresholds!r}"
        )
    return [float(t) for t in values]


def _weighted_count(mask: Tensor, weight: Tensor | None) -> Tensor:
    if weight is None:
        return mask.sum(dim=0, dtype=torch.float32)
    return (mask * weight).sum(dim=0, dtype=torch.float32)


# --------------------------------------------------------------------------- thresholded counts

_PREDICTED_POSITIVE = ("true_positives", "false_positives")
_ACTUAL_POSITIVE = ("true_positives", "false_negatives")


class _ThresholdCounts(Metric):
    """The confusion counts named in ``_counts`` at fixed thresholds (state shape (T,))."""

    _counts: tuple[str, ...] = ("true_positives", "false_positives", "false_negatives")

    def __init__(
        self,
        thresholds: float | Sequence[float] | None,
        name: str | None,
        from_logits: Any = False,
        top_k: int | None = None,
        class_id: int | None = None,
    ):
        super().__init__(name)
        check_from_logits(from_logits)
        if top_k is not None and (
            isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1
        ):
            raise ValueError(f"Expected top_k to be None or an int >= 1. Received: top_k={top_k!r}")
        self.top_k, self.class_id = top_k, check_class_id(class_id)
        self.init_thresholds = thresholds
        values = _threshold_list(thresholds, 0.5 if top_k is None else NEG_INF)
        self.thresholds = torch.tensor(values, dtype=torch.float32)
        self.from_logits = from_logits
        for state in self._counts:
            self.add_state(state, torch.zeros(len(values)))

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch's counts at each threshold (no host sync)."""
        self._follow(y_pred)
        y_true = align(y_true, y_pred, "this metric")
        scores = probabilities(self, y_pred)
        if self.top_k is not None:
            scores = _filter_top_k(scores, self.top_k)
        weight = broadcast_weight(sample_weight, y_pred)
        scores, y_true, weight = slice_class(self.class_id, scores, y_true, weight)
        predicted = scores.reshape(-1, 1) > self.thresholds
        actual = y_true.reshape(-1, 1).bool()
        weight = None if weight is None else weight.reshape(-1, 1)
        for state in self._counts:
            said = predicted if state in _PREDICTED_POSITIVE else ~predicted
            mask = said & (actual if state in _ACTUAL_POSITIVE else ~actual)
            getattr(self, state).add_(_weighted_count(mask, weight))

    def _value(self, value: Tensor) -> Tensor:
        return value[0] if value.numel() == 1 else value

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (Keras's, plus kerasish's ``from_logits``)."""
        return {
            "thresholds": self.init_thresholds,
            "name": self.name,
            "from_logits": self.from_logits,
        }


class _PrecisionRecall(_ThresholdCounts):
    def __init__(
        self,
        thresholds: float | Sequence[float] | None = None,
        top_k: int | None = None,
        class_id: int | None = None,
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(thresholds, name, from_logits, top_k=top_k, class_id=class_id)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """Precision, TP / (TP + FP), of ``y_pred > threshold`` against 0/1 targets.

    Args:
        thresholds: a threshold in [0, 1] or a list of them (a list of several gives a vector);
            defaults to 0.5, or, with ``top_k``, to counting the top-k scores as positive.
        top_k: count only the k highest scores of each row (class dimension 1) as positive.
        class_id: compute the precision of this class only (y_pred of shape (N, C)).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition); None to follow
            the compiled loss (as with ``get("precision")``).

    Raises:
        ValueError: for thresholds outside [0, 1] or a ``top_k`` below 1.

    Example:
        >>> m = Precision()
        >>> m.update_state(torch.tensor([1, 0, 1]), torch.tensor([0.9, 0.8, 0.2])); m.result()
        tensor(0.5000)
        >>> m = Precision(top_k=3)
        >>> m.update_state(torch.tensor([0, 1, 1, 0, 0]), torch.tensor([0.2, 0.1, 0.5, 0, 0.2]))
        >>> m.result()
        tensor(0.3333)
    """

    default_name = "precision"
    _counts = ("true_positives", "false_positives")

    def result(self) -> Tensor:
        """Return TP / (TP + FP) (0 where nothing was predicted positive)."""
        tp = self.true_positives
        return self._value(safe_divide(tp, tp + self.false_positives))


class Recall(_PrecisionRecall):
    """Recall, TP / (TP + FN), of ``y_pred > threshold`` against 0/1 targets.

    Args:
        thresholds: a threshold in [0, 1] or a list of them (a list of several gives a vector);
            defaults to 0.5, or, with ``top_k``, to counting the top-k scores as positive.
        top_k: count only the k highest scores of each row (class dimension 1) as positive.
        class_id: compute the recall of this class only (y_pred of shape (N, C)).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition); None to follow
            the compiled loss (as with ``get("recall")``).

    Raises:
        ValueError: for thresholds outside [0, 1] or a ``top_k`` below 1.

    Example:
        >>> m = Recall()
        >>> m.update_state(torch.tensor([1, 0, 1]), torch.tensor([0.9, 0.8, 0.2])); m.result()
        tensor(0.5000)
    """

    default_name = "recall"
    _counts = ("true_positives", "false_negatives")

    def result(self) -> Tensor:
        """Return TP / (TP + FN) (0 where there were no positives)."""
        tp = self.true_positives
        return self._value(safe_divide(tp, tp + self.false_negatives))


class _Count(_ThresholdCounts):
    def __init__(
        self,
        thresholds: float | Sequence[float] | None = None,
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(thresholds, name, from_logits)

    def result(self) -> Tensor:
        """Return the (weighted) count, a vector for several thresholds."""
        return self._value(getattr(self, self._counts[0]).clone())


class TruePositives(_Count):
    """The (weighted) number of true positives, ``y_pred > threshold`` where y_true is 1.

    Args:
        thresholds: a threshold in [0, 1] (default 0.5) or a list of them (a vector result).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition).

    Example:
        >>> m = TruePositives()
        >>> m.update_state(torch.tensor([0, 1, 1, 1]), torch.tensor([1.0, 0.0, 1.0, 1.0]))
        >>> m.result()
        tensor(2.)
    """

    default_name = "true_positives"
    _counts = ("true_positives",)


class FalsePositives(_Count):
    """The (weighted) number of false positives, ``y_pred > threshold`` where y_true is 0.

    Args:
        thresholds: a threshold in [0, 1] (default 0.5) or a list of them (a vector result).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition).

    Example:
        >>> m = FalsePositives()
        >>> m.update_state(torch.tensor([0, 1, 0, 0]), torch.tensor([0.0, 0.0, 1.0, 1.0]))
        >>> m.result()
        tensor(2.)
    """

    default_name = "false_positives"
    _counts = ("false_positives",)


class TrueNegatives(_Count):
    """The (weighted) number of true negatives, ``y_pred <= threshold`` where y_true is 0.

    Args:
        thresholds: a threshold in [0, 1] (default 0.5) or a list of them (a vector result).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition).

    Example:
        >>> m = TrueNegatives()
        >>> m.update_state(torch.tensor([0, 1, 0, 0]), torch.tensor([0.0, 0.0, 1.0, 0.0]))
        >>> m.result()
        tensor(2.)
    """

    default_name = "true_negatives"
    _counts = ("true_negatives",)


class FalseNegatives(_Count):
    """The (weighted) number of false negatives, ``y_pred <= threshold`` where y_true is 1.

    Args:
        thresholds: a threshold in [0, 1] (default 0.5) or a list of them (a vector result).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition).

    Example:
        >>> m = FalseNegatives()
        >>> m.update_state(torch.tensor([0, 1, 1, 1]), torch.tensor([0.0, 1.0, 0.0, 0.0]))
        >>> m.result()
        tensor(2.)
    """

    default_name = "false_negatives"
    _counts = ("false_negatives",)
