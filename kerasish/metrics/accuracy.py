"""Per-sample metric functions and the Keras metrics over them: accuracies, MSE, MAE, RMSE."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kerasish.losses import align, class_labels, per_sample
from kerasish.metrics.base import MeanMetricWrapper, Metric, loss_from_logits

__all__ = [
    "Accuracy",
    "AutoAccuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "RootMeanSquaredError",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "mean_squared_error",
    "mean_absolute_error",
]


# --------------------------------------------------------------------------- per-sample functions


def accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Element-wise 1.0 where y_pred exactly equals y_true (Keras's Accuracy), y_pred's shape.

    The values keep y_pred's shape, as Keras's, so that element-wise or (1, d) sample weights
    weigh each value; a metric averages them per sample.
    """
    y_true = align(y_true, y_pred, "this metric")
    return (y_true == y_pred).float()


def binary_accuracy(y_true: Tensor, y_pred: Tensor, threshold: float = 0.5) -> Tensor:
    """Element-wise 1.0 where ``(y_pred > threshold)`` equals the 0/1 target, y_pred's shape."""
    y_true = align(y_true, y_pred, "this metric")
    predicted = y_pred > threshold
    if y_true.dtype != torch.bool:
        predicted = predicted.to(y_true.dtype)
    return (predicted == y_true).float()


def categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample 1.0 where argmax over classes (dimension 1) of y_pred and y_true agree."""
    return per_sample((y_true.argmax(dim=1) == y_pred.argmax(dim=1)).float())


def sparse_categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample 1.0 where argmax over classes (dimension 1) of y_pred equals the label."""
    return per_sample((y_pred.argmax(dim=1) == class_labels(y_true, y_pred)).float())


def sparse_top_k_categorical_accuracy(y_true: Tensor, y_pred: Tensor, k: int = 5) -> Tensor:
    """Per-sample 1.0 where the label is among the k highest scores of y_pred."""
    labels = class_labels(y_true, y_pred)
    top = y_pred.topk(min(k, y_pred.shape[1]), dim=1).indices
    return per_sample((top == labels.unsqueeze(1)).any(dim=1).float())


def top_k_categorical_accuracy(y_true: Tensor, y_pred: Tensor, k: int = 5) -> Tensor:
    """Per-sample 1.0 where argmax of the one-hot y_true is among the k highest scores."""
    return sparse_top_k_categorical_accuracy(y_true.argmax(dim=1), y_pred, k=k)


def mean_squared_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample mean of squared errors."""
    return per_sample((y_pred - align(y_true, y_pred, "this metric")).square())


def mean_absolute_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample mean of absolute errors."""
    return per_sample((y_pred - align(y_true, y_pred, "this metric")).abs())


# --------------------------------------------------------------------------- Keras metrics


class Accuracy(MeanMetricWrapper):
    """How often y_pred equals y_true exactly (Keras's ``Accuracy``, not ``"accuracy"``).

    Example:
        >>> m = Accuracy(); m.update_state(torch.tensor([1, 2]), torch.tensor([1, 3])); m.result()
        tensor(0.5000)
    """

    def __init__(self, name: str | None = "accuracy"):
        super().__init__(accuracy, name=name)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 targets.

    Args:
        name: the log key.
        threshold: the decision threshold; None picks it from the compiled loss at the first
            update: 0.0 when the loss takes logits (``loss.from_logits`` is True), else 0.5.

    Example:
        >>> m = BinaryAccuracy()
        >>> m.update_state(torch.tensor([1.0, 0.0]), torch.tensor([0.9, 0.7])); m.result()
        tensor(0.5000)
    """

    def __init__(self, name: str | None = "binary_accuracy", threshold: float | None = 0.5):
        super().__init__(binary_accuracy, name=name)
        if threshold is not None and not isinstance(threshold, int | float):
            raise TypeError(f"Expected threshold to be a number. Received: threshold={threshold!r}")
        self.threshold = threshold

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch (resolving an automatic threshold first)."""
        threshold = self.threshold
        if threshold is None:
            from_logits = loss_from_logits(self.compiled_loss)
            threshold = 0.0 if from_logits else 0.5
            if from_logits is not None:
                self.threshold = threshold
        self._fn_kwargs["threshold"] = threshold
        super().update_state(y_true, y_pred, sample_weight)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of y_pred matches the argmax of the one-hot y_true.

    Example:
        >>> m = CategoricalAccuracy()
        >>> m.update_state(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.2, 0.8]])); m.result()
        tensor(1.)
    """

    def __init__(self, name: str | None = "categorical_accuracy"):
        super().__init__(categorical_accuracy, name=name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of y_pred (N, C, ...) matches the integer label (N, ...).

    Example:
        >>> m = SparseCategoricalAccuracy()
        >>> m.update_state(torch.tensor([1, 0]), torch.tensor([[0.2, 0.8], [0.3, 0.7]]))
        >>> m.result()
        tensor(0.5000)
    """

    def __init__(self, name: str | None = "sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name=name)

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch; unweighted 2-D scores take a path of three kernels."""
        if sample_weight is None and y_pred.ndim == 2 and y_true.ndim == 1:
            if y_pred.device != self._device:
                self.to(y_pred.device)
            self.total.add_((y_pred.argmax(dim=1) == y_true).sum())
            self.count += y_true.shape[0]
            return
        super().update_state(y_true, y_pred, sample_weight)


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"Expected k to be a positive integer. Received: k={k!r}")
    return k


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target's class is among the k highest scores.

    Args:
        k: how many top scores count.
        name: the log key.

    Example:
        >>> m = TopKCategoricalAccuracy(k=2)
        >>> m.update_state(torch.tensor([[0.0, 0.0, 1.0]]), torch.tensor([[0.5, 0.1, 0.4]]))
        >>> m.result()
        tensor(1.)
    """

    def __init__(self, k: int = 5, name: str | None = "top_k_categorical_accuracy"):
        super().__init__(top_k_categorical_accuracy, name=name, k=_check_k(k))
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k highest scores.

    Args:
        k: how many top scores count.
        name: the log key.

    Example:
        >>> m = SparseTopKCategoricalAccuracy(k=2)
        >>> m.update_state(torch.tensor([2]), torch.tensor([[0.5, 0.1, 0.4]])); m.result()
        tensor(1.)
    """

    def __init__(self, k: int = 5, name: str | None = "sparse_top_k_categorical_accuracy"):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, k=_check_k(k))
        self.k = k


class MeanSquaredError(MeanMetricWrapper):
    """The mean of squared errors over all samples seen.

    Example:
        >>> m = MeanSquaredError(); m.update_state(torch.zeros(2), torch.tensor([1.0, 3.0]))
        >>> m.result()
        tensor(5.)
    """

    def __init__(self, name: str | None = "mean_squared_error"):
        super().__init__(mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of absolute errors over all samples seen.

    Example:
        >>> m = MeanAbsoluteError(); m.update_state(torch.zeros(2), torch.tensor([1.0, 3.0]))
        >>> m.result()
        tensor(2.)
    """

    def __init__(self, name: str | None = "mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name)


class RootMeanSquaredError(MeanMetricWrapper):
    """The square root of the mean of squared errors over all samples seen.

    Example:
        >>> m = RootMeanSquaredError(); m.update_state(torch.zeros(2), torch.tensor([1.0, 3.0]))
        >>> m.result()
        tensor(2.2361)
    """

    def __init__(self, name: str | None = "root_mean_squared_error"):
        super().__init__(mean_squared_error, name=name)

    def result(self) -> Tensor:
        """Return sqrt(total / count)."""
        return super().result().sqrt()


class AutoAccuracy(Metric):
    """The metric behind the string "accuracy": binary, categorical or sparse, picked by shapes.

    At the first update, from shapes only (no host sync), as Keras does: y_pred of shape (N,)
    or with one score in the class dimension (N, 1, ...) -> binary accuracy (threshold 0.0 when
    the compiled loss takes logits, else 0.5); y_true of y_pred's shape -> categorical accuracy;
    otherwise sparse categorical accuracy. The choice is kept across ``reset_state``.

    Args:
        name: the log key ("accuracy", or "acc" when given that string).

    Example:
        >>> m = AutoAccuracy()
        >>> m.update_state(torch.tensor([1, 0]), torch.tensor([[0.2, 0.8], [0.9, 0.1]]))
        >>> m.result(), type(m.resolved).__name__
        (tensor(1.), 'SparseCategoricalAccuracy')
    """

    default_name = "accuracy"

    def __init__(self, name: str | None = "accuracy"):
        super().__init__(name)
        self.resolved: Metric | None = None

    def _resolve(self, y_true: Tensor, y_pred: Tensor) -> Metric:
        if y_pred.ndim <= 1 or y_pred.shape[1] == 1:
            metric: Metric = BinaryAccuracy(name=self.name, threshold=None)
        elif y_true.shape == y_pred.shape:
            metric = CategoricalAccuracy(name=self.name)
        else:
            metric = SparseCategoricalAccuracy(name=self.name)
        metric.compiled_loss = self.compiled_loss
        return metric.to(self._device)

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch, choosing the kind of accuracy at the first one.

        Once chosen, ``update_state`` is the chosen metric's own (one call less per batch).
        """
        if self.resolved is None:
            self.resolved = self._resolve(y_true, y_pred)
        self.update_state = self.resolved.update_state  # type: ignore[method-assign]
        self.resolved.update_state(y_true, y_pred, sample_weight)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back a running state, the chosen accuracy included."""
        super().load_state_dict(state)
        if self.resolved is not None:
            self.update_state = self.resolved.update_state  # type: ignore[method-assign]

    def result(self) -> Tensor:
        """Return the accuracy so far (0 before any update)."""
        if self.resolved is None:
            return torch.zeros((), device=self._device)
        return self.resolved.result()

    def reset_state(self) -> None:
        """Reset the accuracy's state (the choice of accuracy is kept)."""
        if self.resolved is not None:
            self.resolved.reset_state()
