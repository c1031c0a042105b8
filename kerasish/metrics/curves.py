"""Metrics over confusion counts at many thresholds: AUC and the constrained operating points
(SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision).

``threshold_counts`` counts, in one pass and without host syncs, the weighted true/false
positives/negatives above every threshold of a sorted list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish.losses import align
from kerasish.metrics.base import Metric, safe_divide
from kerasish.metrics.confusion import (
    broadcast_weight,
    check_class_id,
    check_from_logits,
    probabilities,
    slice_class,
)

__all__ = [
    "AUC",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "PrecisionAtRecall",
    "RecallAtPrecision",
    "threshold_counts",
]

_STATES = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def threshold_counts(
    scores: Tensor, positive: Tensor, weight: Tensor | None, thresholds: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Weighted (TP, FP, TN, FN) of ``scores > t`` for each sorted threshold t, shape (T,).

    Args:
        scores: flat scores (M,).
        positive: flat booleans (M,), the actual positives.
        weight: flat weights (M,), or None for 1 each.
        thresholds: sorted thresholds (T,) on the scores' device.

    Returns:
        The four counts, each of shape (T,).

    Example:
        >>> tp, fp, tn, fn = threshold_counts(
        ...     torch.tensor([0.2, 0.7]), torch.tensor([False, True]), None, torch.tensor([0.5]))
        >>> tp, fp, tn, fn
        (tensor([1.]), tensor([0.]), tensor([1.]), tensor([0.]))
    """
    weight = torch.ones_like(scores, dtype=torch.float32) if weight is None else weight.float()
    # bucket b = number of thresholds strictly below the score: it is > thresholds[:b].
    bucket = torch.bucketize(scores, thresholds)
    pos_weight, neg_weight = weight * positive, weight * ~positive
    pos = _above(bucket, pos_weight, thresholds.numel())
    neg = _above(bucket, neg_weight, thresholds.numel())
    return pos, neg, neg_weight.sum() - neg, pos_weight.sum() - pos


def _above(bucket: Tensor, weight: Tensor, num_thresholds: int) -> Tensor:
    """Sum of weights of scores above each threshold, shape (T,)."""
    hist = torch.zeros(num_thresholds + 1, device=weight.device, dtype=torch.float32)
    hist.scatter_add_(0, bucket, weight)
    return hist.flip(0).cumsum(0).flip(0)[1:]


class _CurveCounts(Metric):
    """TP/FP/TN/FN at ``self.thresholds`` (sorted), with Keras's clipping of y_pred to [0, 1]."""

    class_id: int | None = None

    def _add_counts(self) -> None:
        for state in _STATES:
            self.add_state(state, torch.zeros(len(self.thresholds)))

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch's confusion counts at every threshold (no host sync)."""
        self._follow(y_pred)
        y_true = align(y_true, y_pred, "this metric")
        weight = broadcast_weight(sample_weight, y_pred)
        scores, y_true, weight = slice_class(self.class_id, y_pred, y_true, weight)
        scores = probabilities(self, scores).reshape(-1).float().clamp(0.0, 1.0)
        weight = None if weight is None else weight.reshape(-1)
        counts = threshold_counts(scores, y_true.reshape(-1).bool(), weight, self.thresholds)
        for state, count in zip(_STATES, counts, strict=True):
            getattr(self, state).add_(count)

    def _rates(self) -> dict[str, Tensor]:
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        return {
            "recall": safe_divide(tp, tp + fn),
            "specificity": safe_divide(tn, tn + fp),
            "precision": safe_divide(tp, tp + fp),
        }


class AUC(_CurveCounts):
    """Area under the ROC or precision-recall curve, approximated on fixed thresholds (binary).

    As Keras: ``num_thresholds`` evenly spaced thresholds in [0, 1], or the given
    ``thresholds``, with one below 0 and one above 1 added (by 1e-7); confusion counts kept on
    the device; the area summed by the trapezoid rule ("interpolation"; for "PR", Davis &
    Goadrich's interpolation), "minoring" or "majoring". All values are flattened (Keras's
    ``multi_label=False``).

    Args:
        num_thresholds: how many thresholds (> 1); ignored when ``thresholds`` is given.
        curve: "ROC" or "PR".
        summation_method: "interpolation", "minoring" or "majoring".
        name: the log key.
        thresholds: thresholds in [0, 1] to use instead (``num_thresholds`` becomes their
            number plus 2).
        from_logits: True to apply a sigmoid to y_pred first; None to follow the compiled loss.

    Raises:
        ValueError: for bad ``num_thresholds``, ``curve``, ``summation_method`` or thresholds.

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
        thresholds: Sequence[float] | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(name)
        _check_auc_args(num_thresholds, curve, summation_method, thresholds)
        check_from_logits(from_logits)
        self.curve, self.summation_method, self.from_logits = (
            curve.upper(),
            summation_method,
            from_logits,
        )
        self.init_thresholds = None if thresholds is None else sorted(float(t) for t in thresholds)
        if self.init_thresholds is not None:
            inner = self.init_thresholds
            num_thresholds = len(inner) + 2
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = num_thresholds
        self.thresholds = torch.tensor([-1e-7, *inner, 1.0 + 1e-7], dtype=torch.float32)
        self._add_counts()

    def result(self) -> Tensor:
        """Return the area under the curve."""
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _interpolate_pr_auc(
                self.true_positives, self.false_positives, self.false_negatives
            )
        rates = self._rates()
        if self.curve == "ROC":
            fp, tn = self.false_positives, self.true_negatives
            x, y = safe_divide(fp, fp + tn), rates["recall"]
        else:
            x, y = rates["recall"], rates["precision"]
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        return ((x[:-1] - x[1:]) * heights).sum()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "name": self.name,
            "thresholds": self.init_thresholds,
            "from_logits": self.from_logits,
        }


def _check_auc_args(
    num_thresholds: Any, curve: Any, summation_method: Any, thresholds: Any
) -> None:
    if thresholds is not None:
        values = list(thresholds) if isinstance(thresholds, Sequence) else [thresholds]
        if any(
            isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= 1 for t in values
        ):
            raise ValueError(
                f"Expected thresholds to be a list of numbers in [0, 1]. Received: thresholds={thresholds!r}"
            )
    elif (
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


# --------------------------------------------------------------------------- operating points


class _AtConstraint(_CurveCounts):
    """The best ``_dependent`` rate where the ``_constrained`` rate is >= ``value``."""

    _argument = ""  # Keras's name of the constraint argument
    _constrained = ""
    _dependent = ""

    def __init__(
        self,
        value: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(
                f"Expected {self._argument} to be in the range [0, 1]. "
                f"Received: {self._argument}={value!r}"
            )
        if (
            isinstance(num_thresholds, bool)
            or not isinstance(num_thresholds, int)
            or num_thresholds < 1
        ):
            raise ValueError(
                f"Expected num_thresholds to be an integer > 0. Received: num_thresholds={num_thresholds!r}"
            )
        check_from_logits(from_logits)
        setattr(self, self._argument, value)
        self.value, self.num_thresholds = float(value), num_thresholds
        self.class_id, self.from_logits = check_class_id(class_id), from_logits
        inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        values = [0.5] if num_thresholds == 1 else [0.0, *inner, 1.0]
        self.thresholds = torch.tensor(values, dtype=torch.float32)
        self._add_counts()

    def result(self) -> Tensor:
        """Return the best rate meeting the constraint (0 when no threshold meets it)."""
        rates = self._rates()
        feasible = rates[self._constrained] >= self.value
        dependent = rates[self._dependent]
        return torch.where(feasible, dependent, torch.zeros_like(dependent)).amax()

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {
            self._argument: getattr(self, self._argument),
            "num_thresholds": self.num_thresholds,
            "class_id": self.class_id,
            "name": self.name,
            "from_logits": self.from_logits,
        }


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) where the specificity is at least ``specificity``.

    Sensitivity is TP / (TP + FN) and specificity TN / (TN + FP), both at each of
    ``num_thresholds`` evenly spaced thresholds in [0, 1] (as Keras; binary, values flattened).

    Args:
        specificity: the least specificity, in [0, 1].
        num_thresholds: how many thresholds (> 0; 1 means the single threshold 0.5).
        class_id: compute it for this class only (y_pred of shape (N, C)).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition).

    Raises:
        ValueError: for a ``specificity`` outside [0, 1] or ``num_thresholds`` below 1.

    Example:
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0.1, 0.4, 0.35, 0.8]))
        >>> m.result()
        tensor(1.)
    """

    default_name = "sensitivity_at_specificity"
    _argument, _constrained, _dependent = "specificity", "specificity", "recall"

    def __init__(
        self,
        specificity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(specificity, num_thresholds, class_id, name, from_logits)


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity where the sensitivity (recall) is at least ``sensitivity``.

    Args:
        sensitivity: the least sensitivity, in [0, 1].
        num_thresholds: how many thresholds (> 0; 1 means the single threshold 0.5).
        class_id: compute it for this class only (y_pred of shape (N, C)).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition).

    Raises:
        ValueError: for a ``sensitivity`` outside [0, 1] or ``num_thresholds`` below 1.

    Example:
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0.1, 0.4, 0.35, 0.8]))
        >>> m.result()
        tensor(1.)
    """

    default_name = "specificity_at_sensitivity"
    _argument, _constrained, _dependent = "sensitivity", "recall", "specificity"

    def __init__(
        self,
        sensitivity: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(sensitivity, num_thresholds, class_id, name, from_logits)


class PrecisionAtRecall(_AtConstraint):
    """The best precision where the recall is at least ``recall``.

    Args:
        recall: the least recall, in [0, 1].
        num_thresholds: how many thresholds (> 0; 1 means the single threshold 0.5).
        class_id: compute it for this class only (y_pred of shape (N, C)).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition).

    Raises:
        ValueError: for a ``recall`` outside [0, 1] or ``num_thresholds`` below 1.

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0.1, 0.4, 0.35, 0.8]))
        >>> m.result()
        tensor(1.)
    """

    default_name = "precision_at_recall"
    _argument, _constrained, _dependent = "recall", "recall", "precision"

    def __init__(
        self,
        recall: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(recall, num_thresholds, class_id, name, from_logits)


class RecallAtPrecision(_AtConstraint):
    """The best recall where the precision is at least ``precision`` (0 if it is never met).

    Args:
        precision: the least precision, in [0, 1].
        num_thresholds: how many thresholds (> 0; 1 means the single threshold 0.5).
        class_id: compute it for this class only (y_pred of shape (N, C)).
        name: the log key.
        from_logits: True to apply a sigmoid to y_pred first (a kerasish addition).

    Raises:
        ValueError: for a ``precision`` outside [0, 1] or ``num_thresholds`` below 1.

    Example:
        >>> m = RecallAtPrecision(1.0)
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0.1, 0.4, 0.35, 0.8]))
        >>> m.result()
        tensor(0.5000)
    """

    default_name = "recall_at_precision"
    _argument, _constrained, _dependent = "precision", "precision", "recall"

    def __init__(
        self,
        precision: float,
        num_thresholds: int = 200,
        class_id: int | None = None,
        name: str | None = None,
        from_logits: bool | None = False,
    ):
        super().__init__(precision, num_thresholds, class_id, name, from_logits)
