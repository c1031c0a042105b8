"""TorchMetricsAdapter: a torchmetrics metric behind the kerasish Metric interface."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kerasish.losses import snake_case
from kerasish.metrics.base import Metric

__all__ = ["TorchMetricsAdapter", "is_torchmetrics"]


# --------------------------------------------------------------------------- torchmetrics


class TorchMetricsAdapter(Metric):
    """Use a ``torchmetrics.Metric`` as a kerasish metric (``update(preds, target)`` order).

    ``torchmetrics`` is optional; nothing imports it here. Sample weights are not supported by
    torchmetrics' ``update`` and raise ValueError.

    Args:
        metric: a torchmetrics metric instance, e.g. ``MulticlassAccuracy(num_classes=10)``.
        name: the log key; defaults to the metric class in snake case.

    Example:
        >>> from torchmetrics.classification import BinaryF1Score
        >>> m = TorchMetricsAdapter(BinaryF1Score())
        >>> m.update_state(torch.tensor([1, 0]), torch.tensor([0.9, 0.2])); m.result()
        tensor(1.)
    """

    def __init__(self, metric: Any, name: str | None = None):
        if not is_torchmetrics(metric):
            raise TypeError(f"Expected a torchmetrics.Metric instance. Received: metric={metric!r}")
        super().__init__(name or snake_case(type(metric).__name__))
        self.metric = metric

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Call ``metric.update(y_pred, y_true)``."""
        if sample_weight is not None:
            raise ValueError(
                f"Expected sample_weight=None for the torchmetrics metric {self.name} "
                f"(torchmetrics takes no sample weights). Received: sample_weight={sample_weight!r}"
            )
        if y_pred.device != self._device:
            self.to(y_pred.device)
        self.metric.update(y_pred, y_true)

    def result(self) -> Tensor:
        """Return ``metric.compute()``."""
        return self.metric.compute()

    def reset_state(self) -> None:
        """Call ``metric.reset()``."""
        self.metric.reset()

    def to(self, device: torch.device | str) -> TorchMetricsAdapter:
        """Move the torchmetrics metric to ``device``; returns self."""
        self.metric.to(device)
        self._device = torch.device(device)
        return self


def is_torchmetrics(obj: Any) -> bool:
    return any(c.__module__.startswith("torchmetrics") for c in type(obj).__mro__)
