"""Metrics over confusion counts at thresholds: Precision, Recall and AUC (binary)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish.losses import align
from kerasish.metrics.base import Metric, loss_from_logits, safe_divide, weight_tensor

__all__ = ["Precision", "Recall", "AUC"]


# --------------------------------------------------------------------------- thresholded metrics


def _flat_weight(sample_weight: Any, like: Tensor) -> Tensor | None:
    """Weights broadcast to ``like``'s shape then flattened to (M, 1); None for no weights."""
    if sample_weight is None:
        return None
    w = weight_tensor(sample_weight, like)
    while w.ndim > like.ndim and w.shape[-1] == 1:
        w = w.squeeze(-1)
    w = w.reshape(*w.shape, *([1] * (like.ndim - w.ndim)))
    return torch.broadcast_to(w, like.shape).reshape(-1, 1)


def _scores(metric: Any, y_pred: Tensor) -> Tensor:
    """y_pred as probabilities (sigmoid when the metric, or else its loss, says logits)."""
    from_logits = metric.from_logits
    if from_logits is None:
        from_logits = loss_from_logits(metric.compiled_loss)
    return torch.sigmoid(y_pred) if from_logits else y_pred


def _check_from_logits(from_logits: Any) -> None:
    if from_logits is not None and not isinstance(from_logits, bool):
        raise TypeError(
            "Expected from_logits to be True, False or None (from the compiled loss). "
            f"Received: from_logits={from_logits!r}"
        )


class _ThresholdCounts(Metric):
    """True/false positives and negatives at fixed thresholds (shape (T,))."""

    def __init__(
        self, thresholds: float | Sequence[float] | None, name: str | None, from_logits: Any
    ):
        super().__init__(name)
        _check_from_logits(from_logits)
        self._scalar = thresholds is None or isinstance(thresholds, int | float)
        values = [0.5 if thresholds is None else thresholds] if self._scalar else list(thresholds)
        if not values or any(not isinstance(t, int | float) or not 0 <= t <= 1 for t in values):
            raise ValueError(
                "Expected thresholds to be a number or a list of numbers in [0, 1]. "
                f"Received: thresholds={thresholds!r}"
            )
        self.thresholds = torch.tensor(values, dtype=torch.float32)
        self.from_logits = from_logits
        zeros = torch.zeros(len(values))
        self.true_positives = self.add_state("true_positives", zeros)
        self.false_positives = self.add_state("false_positives", zeros)
        self.false_negatives = self.add_state("false_negatives", zeros)

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch's counts at each threshold."""
        self._follow(y_pred)
        y_true = align(y_true, y_pred, "this metric")
        predicted = _scores(self, y_pred).reshape(-1, 1) > self.thresholds
        actual = y_true.reshape(-1, 1).bool()
        weight = _flat_weight(sample_weight, y_pred)
        self.true_positives.add_(_weighted_count(predicted & actual, weight))
        self.false_positives.add_(_weighted_count(predicted & ~actual, weight))
        self.false_negatives.add_(_weighted_count(~predicted & actual, weight))

    def _value(self, value: Tensor) -> Tensor:
        return value[0] if self._scalar else value


def _weighted_count(mask: Tensor, weight: Tensor | None) -> Tensor:
    if weight is None:
        return mask.sum(dim=0, dtype=torch.float32)
    return (mask * weight).sum(dim=0, dtype=torch.float32)


class Precision(_ThresholdCounts):
    """Precision, TP / (TP + FP), of ``y_pred > threshold`` against 0/1 targets.

    Args:
        thresholds: a threshold in [0, 1] (result is a scalar) or a list (result is a vector).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition); None to follow
            the compiled loss (as with ``get("precision")``).

    Example:
        >>> m = Precision()
        >>> m.update_state(torch.tensor([1, 0, 1]), torch.tensor([0.9, 0.8, 0.2])); m.result()
        tensor(0.5000)
    """

    default_name = "precision"

    def __init__(
        self,
        thresholds: float | Sequence[float] | None = None,
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(thresholds, name, from_logits)

    def result(self) -> Tensor:
        """Return TP / (TP + FP) (0 where nothing was predicted positive)."""
        tp = self.true_positives
        return self._value(safe_divide(tp, tp + self.false_positives))


class Recall(_ThresholdCounts):
    """Recall, TP / (TP + FN), of ``y_pred > threshold`` against 0/1 targets.

    Args:
        thresholds: a threshold in [0, 1] (result is a scalar) or a list (result is a vector).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition); None to follow
            the compiled loss (as with ``get("recall")``).

    Example:
        >>> m = Recall()
        >>> m.update_state(torch.tensor([1, 0, 1]), torch.tensor([0.9, 0.8, 0.2])); m.result()
        tensor(0.5000)
    """

    default_name = "recall"

    def __init__(
        self,
        thresholds: float | Sequence[float] | None = None,
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(thresholds, name, from_logits)

    def result(self) -> Tensor:
        """Return TP / (TP + FN) (0 where there were no positives)."""
        tp = self.true_positives
        return self._value(safe_divide(tp, tp + self.false_negatives))


class AUC(Metric):
    """Area under the ROC or precision-recall curve, approximated on fixed thresholds (binary).

    As Keras: ``num_thresholds`` evenly spaced thresholds in [0, 1] (the ends nudged by 1e-7),
    confusion counts kept on the device, the area summed by the trapezoid rule ("interpolation";
    for "PR", Davis & Goadrich's interpolation), "minoring" or "majoring". All values are
    flattened (Keras's ``multi_label=False``).

    Args:
        num_thresholds: how many thresholds (> 1).
        curve: "ROC" or "PR".
        summation_method: "interpolation", "minoring" or "majoring".
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first; None to follow the compiled loss.

    Example:
        >>> m = AUC()
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0.1, 0.4, 0.35, 0.8]))
        >>> round(m.result().item(), 2)
        0.75
    """

    default_name = "auc"

    def __init__(
        self,
        num_thresholds: int = 200,
        curve: str = "ROC",
        summation_method: str = "interpolation",
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(name)
        _check_auc_args(num_thresholds, curve, summation_method)
        _check_from_logits(from_logits)
        self.num_thresholds, self.curve = num_thresholds, curve.upper()
        self.summation_method, self.from_logits = summation_method, from_logits
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = torch.tensor([-1e-7, *inner, 1.0 + 1e-7], dtype=torch.float32)
        for state in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            self.add_state(state, torch.zeros(num_thresholds))

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch's confusion counts at every threshold (no host sync)."""
        self._follow(y_pred)
        y_true = align(y_true, y_pred, "this metric")
        scores = _scores(self, y_pred).reshape(-1).float().clamp(0.0, 1.0)
        positive = y_true.reshape(-1).bool()
        weight = _flat_weight(sample_weight, y_pred)
        weight = torch.ones_like(scores) if weight is None else weight.reshape(-1)
        # bucket b = number of thresholds strictly below the score: it is > thresholds[:b].
        bucket = torch.bucketize(scores, self.thresholds)
        pos_weight, neg_weight = weight * positive, weight * ~positive
        pos, neg = self._above(bucket, pos_weight), self._above(bucket, neg_weight)
        self.true_positives.add_(pos)
        self.false_negatives.add_(pos_weight.sum() - pos)
        self.false_positives.add_(neg)
        self.true_negatives.add_(neg_weight.sum() - neg)

    def _above(self, bucket: Tensor, weight: Tensor) -> Tensor:
        """Sum of weights of scores above each threshold, shape (T,)."""
        hist = torch.zeros(self.num_thresholds + 1, device=weight.device, dtype=torch.float32)
        hist.scatter_add_(0, bucket, weight.float())
        return hist.flip(0).cumsum(0).flip(0)[1:]

    def result(self) -> Tensor:
        """Return the area under the curve."""
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _interpolate_pr_auc(tp, fp, fn)
        recall = safe_divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = safe_divide(fp, fp + tn), recall
        else:
            x, y = recall, safe_divide(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return ((x[:-1] - x[1:]) * heights).sum()


def _check_auc_args(num_thresholds: Any, curve: Any, summation_method: Any) -> None:
    if (
        isinstance(num_thresholds, bool)
        or not isinstance(num_thresholds, int)
        or num_thresholds < 2
    ):
        raise ValueError(
            f"Expected num_thresholds to be an integer > 1. Received: num_thresholds={num_thresholds!r}"
        )
    if not isinstance(curve, str) or curve.upper() not in ("ROC", "PR"):
        raise ValueError(f'Expected curve to be "ROC" or "PR". Received: curve={curve!r}')
    if summation_method not in ("interpolation", "minoring", "majoring"):
        raise ValueError(
            'Expected summation_method to be "interpolation", "minoring" or "majoring". '
            f"Received: summation_method={summation_method!r}"
        )


def _interpolate_pr_auc(tp: Tensor, fp: Tensor, fn: Tensor) -> Tensor:
    """Keras's interpolated precision-recall AUC (Davis & Goadrich 2006)."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = safe_divide(dtp, dp.clamp(min=0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = torch.where(both, safe_divide(p[:-1], p[1:].clamp(min=0)), torch.ones_like(p[1:]))
    increment = safe_divide(
        slope * (dtp + intercept * torch.log(ratio)), (tp[1:] + fn[1:]).clamp(min=0)
    )
    return increment.sum()
