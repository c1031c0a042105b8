"""Metrics: the Metric interface (update_state/result/reset_state), Keras's metrics, and ``get()``.

State lives in tensors on the model's device and ``update_state`` never waits for the device
(no ``.item()``, ``.cpu()``, ``tolist()`` or Python truth value of a tensor); counts known on
the host, such as batch sizes, stay Python numbers. A metric moves its state to the device of
the first batch it sees, or with ``to(device)``.

Class scores follow PyTorch's layout: the class dimension is 1 ((N, C) or (N, C, H, W)); for 2-D
outputs this is Keras's last axis. Each metric's ``name`` is its log key: ``get("acc")`` logs
"acc", ``get("mae")`` logs "mae", as Keras names metrics after the string given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish import losses as losses_lib
from kerasish.losses import _per_sample, _snake_case

__all__ = [
    "Metric",
    "Mean",
    "MeanMetricWrapper",
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
    "Precision",
    "Recall",
    "AUC",
    "TorchMetricsAdapter",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "get",
]


def _safe_divide(num: Tensor, den: Tensor | float) -> Tensor:
    """num / den, 0 where den is 0 (Keras's divide_no_nan), without a host sync."""
    if isinstance(den, Tensor):
        return torch.where(den > 0, num / den, torch.zeros_like(num))
    return num / den if den else torch.zeros_like(num)


def _loss_from_logits(loss: Any) -> bool | None:
    """The compiled loss's ``from_logits`` (None when unknown or not yet decided)."""
    value = getattr(loss, "from_logits", None)
    return value if isinstance(value, bool) else None


# --------------------------------------------------------------------------- base classes


class Metric:
    """Base of every metric: ``update_state``, ``result``, ``reset_state``, ``to``.

    Subclasses create their state with ``add_state`` in ``__init__``, accumulate into it in place
    in ``update_state`` (on the device, without host syncs) and compute ``result()`` from it.

    Args:
        name: the log key; defaults to the class's Keras name.

    Example:
        >>> class Count(Metric):
        ...     def __init__(self, name=None):
        ...         super().__init__(name)
        ...         self.n = self.add_state("n", 0.0)
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.n.add_(y_true.shape[0])
        ...     def result(self):
        ...         return self.n.clone()
        >>> m = Count(); m.update_state(torch.zeros(3), torch.zeros(3)); m.result()
        tensor(3.)
    """

    default_name = "metric"

    def __init__(self, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Expected name to be a string. Received: name={name!r}")
        self.name = name or self.default_name
        self._device = torch.device("cpu")
        self._initial: dict[str, float | Tensor] = {}
        self._loss: Any = None  # the compiled loss, set by get(), read by logits-aware metrics

    def add_state(self, name: str, initial: float | Tensor) -> Tensor:
        """Create a float32 state tensor on the metric's device, reset to ``initial``.

        Args:
            name: the attribute name under which the state is stored.
            initial: a number, or a tensor (for vector states).

        Returns:
            The state tensor (also set as ``self.<name>``).
        """
        value = torch.as_tensor(initial, dtype=torch.float32, device=self._device).clone()
        self._initial[name] = initial if isinstance(initial, int | float) else value.clone()
        setattr(self, name, value)
        return value

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch into the state."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self) -> Tensor:
        """Return the metric's value from the state (a 0-dim tensor for scalar metrics)."""
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self) -> None:
        """Reset every state made by ``add_state`` to its initial value, in place."""
        for name, initial in self._initial.items():
            state = getattr(self, name)
            if isinstance(initial, Tensor):
                state.copy_(initial)
            else:
                state.fill_(initial)

    def to(self, device: torch.device | str) -> Metric:
        """Move every state tensor (and nested metric) to ``device``; returns self."""
        device = torch.device(device)
        for key, value in vars(self).items():
            if isinstance(value, Tensor):
                setattr(self, key, value.to(device))
            elif isinstance(value, Metric):
                value.to(device)
        self._initial = {
            k: v.to(device) if isinstance(v, Tensor) else v for k, v in self._initial.items()
        }
        self._device = device
        return self

    def _follow(self, tensor: Tensor) -> None:
        """Move the state to ``tensor``'s device when it lives elsewhere (host-side check)."""
        if tensor.device != self._device:
            self.to(tensor.device)

    def __call__(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> Tensor:
        """Update the state with a batch and return the result."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def _weight_tensor(sample_weight: Any, like: Tensor) -> Tensor:
    return torch.as_tensor(sample_weight, dtype=torch.float32, device=like.device)


def _fit_weight(w: Tensor, values: Tensor) -> tuple[Tensor, Tensor]:
    """Keras's reduce_to_samplewise_values: values reduced to w's rank, w broadcast to them."""
    while w.ndim > values.ndim and w.shape[-1] == 1:
        w = w.squeeze(-1)
    if w.ndim > values.ndim:
        raise ValueError(
            "Expected sample_weight with no more dimensions than the values. "
            f"Received: sample_weight.shape={tuple(w.shape)}, values.shape={tuple(values.shape)}"
        )
    if values.ndim > w.ndim >= 1:
        values = values.mean(dim=tuple(range(w.ndim, values.ndim)))
    weighted = values * w
    return weighted, torch.broadcast_to(w, weighted.shape)


class Mean(Metric):
    """The (weighted) mean of the values given, across batches.

    ``update_state(values, sample_weight)`` takes values of any shape (averaged per sample over
    non-batch dimensions, as Keras does) and weights given as a number (e.g. the batch size,
    for a per-batch mean) or a tensor. A scalar value with a number weight costs one in-place
    kernel and a host addition: this is how the trainer tracks the loss.

    Args:
        name: the log key.

    Example:
        >>> m = Mean(name="loss")
        >>> m.update_state(torch.tensor(2.0), sample_weight=3)
        >>> m.update_state(torch.tensor(4.0), sample_weight=1)
        >>> m.result()
        tensor(2.5000)
    """

    default_name = "mean"

    def __init__(self, name: str | None = None):
        super().__init__(name)
        self.total = self.add_state("total", 0.0)
        self.count: float | Tensor = 0.0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        """Accumulate ``values`` with ``sample_weight`` (None, a number, or a tensor)."""
        if isinstance(values, Tensor):
            self._follow(values)
        else:
            values = torch.as_tensor(values, dtype=torch.float32, device=self._device)
        if sample_weight is None:
            self._add_unweighted(values)
        elif isinstance(sample_weight, int | float) and not isinstance(sample_weight, bool):
            self._add_number_weighted(values, sample_weight)
        else:
            weighted, w = _fit_weight(_weight_tensor(sample_weight, values), values)
            self.total.add_(_per_sample(weighted).sum())
            self.count = self.count + _per_sample(w).sum()

    def _add_unweighted(self, values: Tensor) -> None:
        if values.ndim == 0:
            self.total.add_(values)
            self.count += 1
        else:
            self.total.add_(_per_sample(values).sum())
            self.count += values.shape[0]

    def _add_number_weighted(self, values: Tensor, weight: float) -> None:
        if values.ndim == 0:
            self.total.add_(values, alpha=weight)
            self.count += weight
        else:
            self.total.add_(_per_sample(values).sum(), alpha=weight)
            self.count += weight * values.shape[0]

    def result(self) -> Tensor:
        """Return total / count (0 before any update)."""
        return _safe_divide(self.total, self.count)

    def reset_state(self) -> None:
        """Reset the total and the count."""
        super().reset_state()
        self.count = 0.0


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    ``fn`` returns per-sample values (N,) or (N, ...); a scalar (a batch mean) counts for each
    of the batch's samples, so the result is the mean over samples.

    Args:
        fn: the per-sample function, taking (y_true, y_pred).
        name: the log key; defaults to ``fn.__name__``.
        **kwargs: extra keyword arguments passed to ``fn``.

    Example:
        >>> m = MeanMetricWrapper(lambda y, p: (y - p).abs(), name="abs_error")
        >>> m.update_state(torch.zeros(2), torch.tensor([1.0, 3.0])); m.result()
        tensor(2.)
    """

    def __init__(self, fn: Callable[..., Tensor], name: str | None = None, **kwargs: Any):
        if not callable(fn):
            raise TypeError(f"Expected a callable fn(y_true, y_pred). Received: fn={fn!r}")
        super().__init__(name or _callable_name(fn))
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:  # type: ignore[override]
        """Accumulate ``fn``'s values for one batch."""
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if not isinstance(values, Tensor):
            values = torch.as_tensor(values, dtype=torch.float32, device=self._device)
        if values.ndim == 0 and getattr(y_pred, "ndim", 0) > 0:
            values = values.expand(y_pred.shape[0])
        super().update_state(values, sample_weight)


def _callable_name(fn: Any) -> str:
    """A function's ``__name__`` ("metric" for a lambda), else the class name in snake case."""
    name = getattr(fn, "__name__", None)
    if isinstance(name, str):
        return "metric" if name == "<lambda>" else name
    return _snake_case(type(fn).__name__)


# --------------------------------------------------------------------------- per-sample functions


def _align(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """y_true in y_pred's shape when they differ only by size-1 dims ((N,) vs (N, 1))."""
    return losses_lib._align(y_true, y_pred, "this metric")


def _labels(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Integer class labels (N, ...) for class scores (N, C, ...); (N, 1) labels squeezed."""
    return losses_lib._class_labels(y_true, y_pred)


def accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample fraction of values of y_pred exactly equal to y_true (Keras's Accuracy)."""
    y_true = _align(y_true, y_pred)
    return _per_sample((y_true == y_pred).float())


def binary_accuracy(y_true: Tensor, y_pred: Tensor, threshold: float = 0.5) -> Tensor:
    """Per-sample fraction of ``(y_pred > threshold)`` equal to the 0/1 targets."""
    y_true = _align(y_true, y_pred)
    predicted = y_pred > threshold
    if y_true.dtype != torch.bool:
        predicted = predicted.to(y_true.dtype)
    return _per_sample((predicted == y_true).float())


def categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample 1.0 where argmax over classes (dimension 1) of y_pred and y_true agree."""
    return _per_sample((y_true.argmax(dim=1) == y_pred.argmax(dim=1)).float())


def sparse_categorical_accuracy(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample 1.0 where argmax over classes (dimension 1) of y_pred equals the label."""
    return _per_sample((y_pred.argmax(dim=1) == _labels(y_true, y_pred)).float())


def sparse_top_k_categorical_accuracy(y_true: Tensor, y_pred: Tensor, k: int = 5) -> Tensor:
    """Per-sample 1.0 where the label is among the k highest scores of y_pred."""
    labels = _labels(y_true, y_pred)
    top = y_pred.topk(min(k, y_pred.shape[1]), dim=1).indices
    return _per_sample((top == labels.unsqueeze(1)).any(dim=1).float())


def top_k_categorical_accuracy(y_true: Tensor, y_pred: Tensor, k: int = 5) -> Tensor:
    """Per-sample 1.0 where argmax of the one-hot y_true is among the k highest scores."""
    return sparse_top_k_categorical_accuracy(y_true.argmax(dim=1), y_pred, k=k)


def mean_squared_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample mean of squared errors."""
    return _per_sample((y_pred - _align(y_true, y_pred)).square())


def mean_absolute_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample mean of absolute errors."""
    return _per_sample((y_pred - _align(y_true, y_pred)).abs())


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
            from_logits = _loss_from_logits(self._loss)
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
            self._follow(y_pred)
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
        metric._loss = self._loss
        return metric.to(self._device)

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch, choosing the kind of accuracy at the first one."""
        if self.resolved is None:
            self.resolved = self._resolve(y_true, y_pred)
        self.resolved.update_state(y_true, y_pred, sample_weight)

    def result(self) -> Tensor:
        """Return the accuracy so far (0 before any update)."""
        if self.resolved is None:
            return torch.zeros((), device=self._device)
        return self.resolved.result()

    def reset_state(self) -> None:
        """Reset the accuracy's state (the choice of accuracy is kept)."""
        if self.resolved is not None:
            self.resolved.reset_state()


# --------------------------------------------------------------------------- thresholded metrics


def _flat_weight(sample_weight: Any, like: Tensor) -> Tensor | None:
    """Weights broadcast to ``like``'s shape then flattened to (M, 1); None for no weights."""
    if sample_weight is None:
        return None
    w = _weight_tensor(sample_weight, like)
    while w.ndim > like.ndim and w.shape[-1] == 1:
        w = w.squeeze(-1)
    w = w.reshape(*w.shape, *([1] * (like.ndim - w.ndim)))
    return torch.broadcast_to(w, like.shape).reshape(-1, 1)


def _scores(metric: Any, y_pred: Tensor) -> Tensor:
    """y_pred as probabilities (sigmoid when the metric, or else its loss, says logits)."""
    from_logits = metric.from_logits
    if from_logits is None:
        from_logits = _loss_from_logits(metric._loss)
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
        y_true = _align(y_true, y_pred)
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
        return self._value(_safe_divide(tp, tp + self.false_positives))


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
        return self._value(_safe_divide(tp, tp + self.false_negatives))


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
        y_true = _align(y_true, y_pred)
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
        recall = _safe_divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _safe_divide(fp, fp + tn), recall
        else:
            x, y = recall, _safe_divide(tp, tp + fp)
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
    slope = _safe_divide(dtp, dp.clamp(min=0))
    intercept = tp[1:] - slope * p[1:]
    both = (p[:-1] > 0) & (p[1:] > 0)
    ratio = torch.where(both, _safe_divide(p[:-1], p[1:].clamp(min=0)), torch.ones_like(p[1:]))
    increment = _safe_divide(
        slope * (dtp + intercept * torch.log(ratio)), (tp[1:] + fn[1:]).clamp(min=0)
    )
    return increment.sum()


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
        if not _is_torchmetrics(metric):
            raise TypeError(f"Expected a torchmetrics.Metric instance. Received: metric={metric!r}")
        super().__init__(name or _snake_case(type(metric).__name__))
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


def _is_torchmetrics(obj: Any) -> bool:
    return any(c.__module__.startswith("torchmetrics") for c in type(obj).__mro__)


# --------------------------------------------------------------------------- registry

_LOSS_AWARE = (AutoAccuracy, BinaryAccuracy, Precision, Recall, AUC)
_NAMES: dict[str, tuple[Callable[..., Metric], dict[str, Any]]] = {
    "accuracy": (AutoAccuracy, {}),
    "acc": (AutoAccuracy, {}),
    "binary_accuracy": (BinaryAccuracy, {"threshold": None}),
    "categorical_accuracy": (CategoricalAccuracy, {}),
    "sparse_categorical_accuracy": (SparseCategoricalAccuracy, {}),
    "top_k_categorical_accuracy": (TopKCategoricalAccuracy, {}),
    "sparse_top_k_categorical_accuracy": (SparseTopKCategoricalAccuracy, {}),
    "mse": (MeanSquaredError, {}),
    "mean_squared_error": (MeanSquaredError, {}),
    "mae": (MeanAbsoluteError, {}),
    "mean_absolute_error": (MeanAbsoluteError, {}),
    "rmse": (RootMeanSquaredError, {}),
    "root_mean_squared_error": (RootMeanSquaredError, {}),
    "precision": (Precision, {"from_logits": None}),
    "recall": (Recall, {"from_logits": None}),
    "auc": (AUC, {"from_logits": None}),
}


def get(identifier: Any, loss: Any = None) -> Metric:
    """Return the Metric for a name, a Metric or class, a torchmetrics metric, or a callable.

    Args:
        identifier: a name ("accuracy", "acc", "mae", "auc", ...; the name is the log key), a
            ``Metric`` (returned as is) or subclass, a ``torchmetrics.Metric`` (adapted), a loss
            object or torch loss module (its per-sample mean is tracked) or a callable ``fn(y_true, y_pred)`` (named after it).
        loss: the compiled loss; "accuracy", "binary_accuracy", "precision", "recall" and "auc"
            read its ``from_logits`` at their first update (threshold 0 or a sigmoid on logits).

    Returns:
        A ``Metric``.

    Raises:
        ValueError: for an unknown name or an object that is none of the above.

    Example:
        >>> get("acc").name
        'acc'
    """
    metric = _lookup(identifier)
    if isinstance(metric, _LOSS_AWARE) and metric._loss is None:
        metric._loss = loss
    return metric


def _lookup(identifier: Any) -> Metric:
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str) and identifier in _NAMES:
        factory, kwargs = _NAMES[identifier]
        return factory(name=identifier, **kwargs)
    if _is_torchmetrics(identifier):
        return TorchMetricsAdapter(identifier)
    if isinstance(identifier, losses_lib.Loss | torch.nn.modules.loss._Loss):
        loss = losses_lib.get(identifier)
        return MeanMetricWrapper(loss.call, name=loss.name)
    if callable(identifier) and not isinstance(identifier, type):
        return MeanMetricWrapper(identifier)
    raise ValueError(
        f"Could not interpret metric identifier. Expected one of {sorted(_NAMES)}, a kerasish "
        "Metric, a torchmetrics metric, or a callable fn(y_true, y_pred). "
        f"Received: identifier={identifier!r}"
    )
