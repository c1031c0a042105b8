"""Intersection-over-union metrics from a running confusion matrix: IoU and MeanIoU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish.metrics.base import Metric, safe_divide, weight_tensor

__all__ = ["IoU", "MeanIoU"]


def _check_num_classes(num_classes: Any) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f"Expected num_classes to be an int >= 1. Received: num_classes={num_classes!r}"
        )
    return num_classes


class IoU(Metric):
    """The mean intersection-over-union of the classes ``target_class_ids`` (Keras's IoU).

    A (num_classes, num_classes) confusion matrix (rows: labels, columns: predictions) is
    accumulated on the device; per class, IoU = TP / (TP + FP + FN), and the result is the mean
    over the target classes that occurred (a class with an empty denominator is left out).
    Labels and predictions outside [0, num_classes), and labels equal to ``ignore_class``, are
    not counted.

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes whose IoU is averaged.
        name: the log key.
        ignore_class: a label value that is not counted.
        sparse_y_true: False when y_true holds scores or one-hot vectors (argmax over ``axis``).
        sparse_y_pred: False when y_pred holds class scores (argmax over ``axis``); True when
            it holds class indices.
        axis: the class dimension for the argmax; 1 by default, PyTorch's layout ((N, C) or
            (N, C, H, W); Keras's default is its last axis).

    Raises:
        ValueError: for bad ``num_classes`` or target classes outside [0, num_classes).

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1])); m.result()
        tensor(0.3333)
    """

    default_name = "io_u"  # Keras's auto name

    def __init__(
        self,
        num_classes: int,
        target_class_ids: Sequence[int],
        name: str | None = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = 1,
    ):
        super().__init__(name)
        self.num_classes = _check_num_classes(num_classes)
        ids = [target_class_ids] if isinstance(target_class_ids, int) else list(target_class_ids)
        if not ids or any(not isinstance(i, int) or not 0 <= i < num_classes for i in ids):
            raise ValueError(
                f"Expected target_class_ids to be class indices in [0, {num_classes}). "
                f"Received: target_class_ids={target_class_ids!r}"
            )
        self.target_class_ids = ids
        self.ignore_class = ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis
        self.total_cm = self.add_state("total_cm", torch.zeros(num_classes, num_classes))

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch into the confusion matrix (no host sync)."""
        self._follow(y_pred)
        if not self.sparse_y_true:
            y_true = y_true.argmax(dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = y_pred.argmax(dim=self.axis)
        labels, predicted = y_true.reshape(-1).long(), y_pred.reshape(-1).long()
        weight = torch.ones(labels.shape, device=labels.device)
        if sample_weight is not None:
            w = weight_tensor(sample_weight, labels)
            weight = torch.broadcast_to(w.reshape(-1) if w.ndim > 1 else w, labels.shape)
        n = self.num_classes
        valid = (labels >= 0) & (labels < n) & (predicted >= 0) & (predicted < n)
        if self.ignore_class is not None:
            valid = valid & (labels != self.ignore_class)
        index = torch.where(valid, labels * n + predicted, torch.zeros_like(labels))
        weight = torch.where(valid, weight, torch.zeros_like(weight))
        self.total_cm.view(-1).scatter_add_(0, index, weight)

    def result(self) -> Tensor:
        """Return the mean IoU over the target classes present (0 before any update)."""
        cm = self.total_cm
        tp = cm.diagonal()
        denominator = cm.sum(dim=0) + cm.sum(dim=1) - tp
        ids = torch.tensor(self.target_class_ids, device=cm.device)
        tp, denominator = tp[ids], denominator[ids]
        present = (denominator > 1e-9).sum()
        return safe_divide(safe_divide(tp, denominator).sum(), present.float())

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {
            "num_classes": self.num_classes,
            "target_class_ids": list(self.target_class_ids),
            "name": self.name,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class MeanIoU(IoU):
    """The mean intersection-over-union over all classes (Keras's MeanIoU).

    Args:
        num_classes: the number of classes.
        name: the log key.
        ignore_class: a label value that is not counted.
        sparse_y_true: False when y_true holds scores or one-hot vectors (argmax over ``axis``).
        sparse_y_pred: False when y_pred holds class scores (argmax over ``axis``).
        axis: the class dimension for the argmax (1, PyTorch's layout).

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 0, 1])); m.result()
        tensor(0.3333)
    """

    default_name = "mean_io_u"  # Keras's auto name

    def __init__(
        self,
        num_classes: int,
        name: str | None = None,
        ignore_class: int | None = None,
        sparse_y_true: bool = True,
        sparse_y_pred: bool = True,
        axis: int = 1,
    ):
        num_classes = _check_num_classes(num_classes)
        super().__init__(
            num_classes,
            list(range(num_classes)),
            name=name,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        config = super().get_config()
        config.pop("target_class_ids")
        return config
