"""F-scores over one-hot or multi-label targets: FBetaScore and F1Score (Keras's formulas)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kerasish.losses import EPSILON, align
from kerasish.metrics.base import Metric, weight_tensor

__all__ = ["FBetaScore", "F1Score"]

_AVERAGES = (None, "micro", "macro", "weighted")
_STATES = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")


def _check_fbeta_args(average: Any, beta: Any, threshold: Any) -> None:
    if average not in _AVERAGES:
        raise ValueError(
            f"Expected average to be one of {list(_AVERAGES)}. Received: average={average!r}"
        )
    if isinstance(beta, bool) or not isinstance(beta, int | float) or beta <= 0:
        raise ValueError(f"Expected beta to be a number > 0. Received: beta={beta!r}")
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 < threshold <= 1
    ):
        raise ValueError(
            f"Expected threshold to be None or a number with 0 < threshold <= 1. "
            f"Received: threshold={threshold!r}"
        )


class FBetaScore(Metric):
    """The F-beta score of 0/1 (one-hot or multi-label) targets, per class or averaged.

    As Keras: predictions are ``y_pred > threshold``, or with ``threshold=None`` the highest
    score of each row (ties included, zero rows excluded); per class, precision P and recall R
    give ``(1 + beta**2) * P * R / (beta**2 * P + R)`` (with Keras's epsilons). Inputs are 2-D,
    (N, C); the state is made at the first update.

    Args:
        average: None (one score per class), "micro" (over all counts), "macro" (the mean of
            the class scores) or "weighted" (weighted by each class's share of the targets).
        beta: the weight of recall against precision (> 0).
        threshold: the decision threshold in (0, 1], or None for the row's maximum.
        name: the log key.

    Raises:
        ValueError: for bad arguments, or inputs that are not 2-D.

    Example:
        >>> m = FBetaScore(beta=2.0, threshold=0.5)
        >>> m.update_state(torch.tensor([[1, 0], [0, 1]]), torch.tensor([[0.9, 0.8], [0.2, 0.6]]))
        >>> m.result()
        tensor([1.0000, 0.8333])
    """

    default_name = "fbeta_score"

    def __init__(
        self,
        average: str | None = None,
        beta: float = 1.0,
        threshold: float | None = None,
        name: str | None = None,
    ):
        super().__init__(name)
        _check_fbeta_args(average, beta, threshold)
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self._built = False

    def _build(self, num_classes: int) -> None:
        shape = () if self.average == "micro" else (num_classes,)
        for state in _STATES:
            self.add_state(state, torch.zeros(shape))
        self._built = True

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch's counts (the state is made at the first batch)."""
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError(
                f"Expected 2-D y and y_pred of shape (batch_size, output_dim) for {self.name}. "
                f"Received: y.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
            )
        self._follow(y_pred)
        if not self._built:
            self._build(y_pred.shape[1])
        y_true = align(y_true, y_pred, "this metric").float()
        predicted = self._predicted(y_pred.float())
        weight = None if sample_weight is None else weight_tensor(sample_weight, y_pred)
        if weight is not None:
            weight = weight.reshape(-1, 1) if weight.ndim >= 1 else weight
        dim = None if self.average == "micro" else 0
        values = (predicted * y_true, predicted * (1 - y_true), (1 - predicted) * y_true, y_true)
        for state, value in zip(_STATES, values, strict=True):
            value = value if weight is None else value * weight
            getattr(self, state).add_(value.sum() if dim is None else value.sum(dim=0))

    def _predicted(self, y_pred: Tensor) -> Tensor:
        if self.threshold is None:
            top = y_pred.amax(dim=-1, keepdim=True)
            return ((y_pred >= top) & (y_pred.abs() > 1e-9)).float()
        return (y_pred > self.threshold).float()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back a running state (made first, of the saved shape, if not made yet)."""
        saved = state.get("true_positives")
        if not self._built and isinstance(saved, Tensor):
            self._build(saved.shape[0] if saved.ndim else 1)
        super().load_state_dict(state)

    def result(self) -> Tensor:
        """Return the score (per class for ``average=None``); 0 before any update."""
        if not self._built:
            return torch.zeros((), device=self._device)
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        beta2 = self.beta**2
        score = precision * recall / (beta2 * precision + recall + EPSILON) * (1 + beta2)
        if self.average == "weighted":
            weights = self.intermediate_weights
            return (score * weights / (weights.sum() + EPSILON)).sum()
        if self.average is not None:
            return score.mean()
        return score

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {
            "average": self.average,
            "beta": self.beta,
            "threshold": self.threshold,
            "name": self.name,
        }


class F1Score(FBetaScore):
    """The F1 score (the F-beta score with beta = 1), per class or averaged.

    Args:
        average: None (one score per class), "micro", "macro" or "weighted"; see FBetaScore.
        threshold: the decision threshold in (0, 1], or None for the row's maximum.
        name: the log key.

    Example:
        >>> m = F1Score(average="macro", threshold=0.5)
        >>> m.update_state(torch.tensor([[1, 0], [0, 1]]), torch.tensor([[0.9, 0.8], [0.2, 0.6]]))
        >>> round(m.result().item(), 4)
        0.8333
    """

    default_name = "f1_score"

    def __init__(
        self, average: str | None = None, threshold: float | None = None, name: str | None = None
    ):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (no ``beta``)."""
        config = super().get_config()
        config.pop("beta")
        return config
