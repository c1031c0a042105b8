"""The Metric interface (update_state/result/reset_state, state_dict), Mean, MeanMetricWrapper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from kerasish.losses import per_sample, snake_case

__all__ = [
    "Metric",
    "Mean",
    "MeanMetricWrapper",
    "safe_divide",
    "loss_from_logits",
    "weight_tensor",
]


def safe_divide(num: Tensor, den: Tensor | float) -> Tensor:
    """num / den, 0 where den is 0 (Keras's divide_no_nan), without a host sync."""
    if isinstance(den, Tensor):
        return torch.where(den != 0, num / den, torch.zeros_like(num))
    return num / den if den else torch.zeros_like(num)


def loss_from_logits(loss: Any) -> bool | None:
    """The compiled loss's ``from_logits`` (None when unknown or not yet decided)."""
    value = getattr(loss, "from_logits", None)
    return value if isinstance(value, bool) else None


# --------------------------------------------------------------------------- base classes

_BUILT_IN: dict[str, type] = {}  # kerasish's metric classes by name (filled by subclassing)


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

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("kerasish."):  # built-ins only: what a backup may name
            _BUILT_IN.setdefault(cls.__name__, cls)

    default_name = "metric"

    def __init__(self, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Expected name to be a string. Received: name={name!r}")
        self.name = name or self.default_name
        self._device = torch.device("cpu")
        self._initial: dict[str, float | Tensor] = {}
        self._loss: Any = None

    @property
    def compiled_loss(self) -> Any:
        """The compiled loss (set by ``get(..., loss=)``), whose ``from_logits`` some follow."""
        return self._loss

    @compiled_loss.setter
    def compiled_loss(self, loss: Any) -> None:
        self._loss = loss

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

    @property
    def device(self) -> torch.device:
        """The device the state lives on (read-only; move it with ``to``)."""
        return self._device

    @property
    def state_names(self) -> tuple[str, ...]:
        """The attributes holding the running state, summed across processes under DDP."""
        return tuple(self._initial)

    @property
    def submetrics(self) -> tuple[Metric, ...]:
        """The metrics this one delegates to (for example ``AutoAccuracy.resolved``)."""
        return tuple(v for v in vars(self).values() if isinstance(v, Metric))

    def state_dict(self) -> dict[str, Any]:
        """The running state on the CPU: tensors and numbers, nested metrics included.

        Example:
            >>> m = Mean(); m.update_state(torch.tensor(2.0)); m.state_dict()["count"]
            1.0
        """
        out: dict[str, Any] = {}
        for key, value in vars(self).items():
            if isinstance(value, Metric):
                out[key] = {"__metric__": type(value).__name__, "state": value.state_dict()}
            elif isinstance(value, _STATE_TYPES) and key != "_device":
                out[key] = value.detach().cpu().clone() if isinstance(value, Tensor) else value
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back a running state from ``state_dict()``, each tensor on its current device.

        A nested metric not made yet (``AutoAccuracy`` before its first update) is made, of
        the class the state names, with this metric's name and compiled loss.
        """
        for key, value in state.items():
            if isinstance(value, dict) and "__metric__" in value:
                self._load_nested(key, value)
            elif isinstance(value, Tensor):
                current = getattr(self, key, None)
                device = current.device if isinstance(current, Tensor) else self._device
                setattr(self, key, value.to(device))
            else:
                setattr(self, key, value)

    def _load_nested(self, key: str, saved: dict[str, Any]) -> None:
        inner = getattr(self, key, None)
        if inner is None:  # e.g. AutoAccuracy resolves its kind at the first update
            inner = _metric_class(saved["__metric__"])(name=self.name)
            inner.compiled_loss = self._loss
            inner.to(self._device)
            setattr(self, key, inner)
        inner.load_state_dict(saved["state"])

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


_STATE_TYPES = (Tensor, bool, int, float, type(None))


def _metric_class(name: str) -> type[Metric]:
    """The built-in metric class ``name`` (as ``state_dict`` records a nested metric); a
    name from a backup is looked up among kerasish's own metric classes, nothing else."""
    cls = _BUILT_IN.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(
            f"Expected the name of a kerasish metric class. Received: __metric__={name!r}"
        )
    return cls


def weight_tensor(sample_weight: Any, like: Tensor) -> Tensor:
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
        if (  # the loss tracker's path, once per batch: a scalar weighted by the batch size
            type(sample_weight) is int
            and type(values) is Tensor
            and values.ndim == 0
            and values.device == self._device
        ):
            self.total.add_(values, alpha=sample_weight)
            self.count += sample_weight
            return
        if isinstance(values, Tensor):
            values = values.detach()  # a state never holds an autograd graph (a loss passed in)
            self._follow(values)
        else:
            values = torch.as_tensor(values, dtype=torch.float32, device=self._device)
        if sample_weight is None:
            self._add_unweighted(values)
        elif isinstance(sample_weight, int | float) and not isinstance(sample_weight, bool):
            self._add_number_weighted(values, sample_weight)
        else:
            weighted, w = _fit_weight(weight_tensor(sample_weight, values), values)
            self.total.add_(per_sample(weighted).sum())
            self.count = self.count + per_sample(w).sum()

    def _add_unweighted(self, values: Tensor) -> None:
        if values.ndim == 0:
            self.total.add_(values)
            self.count += 1
        else:
            self.total.add_(per_sample(values).sum())
            self.count += values.shape[0]

    def _add_number_weighted(self, values: Tensor, weight: float) -> None:
        if values.ndim == 0:
            self.total.add_(values, alpha=weight)
            self.count += weight
        else:
            self.total.add_(per_sample(values).sum(), alpha=weight)
            self.count += weight * values.shape[0]

    @property
    def state_names(self) -> tuple[str, ...]:
        """``total`` and ``count`` (a number, or a tensor with tensor weights)."""
        return (*super().state_names, "count")

    def result(self) -> Tensor:
        """Return total / count (0 before any update)."""
        return safe_divide(self.total, self.count)

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

    @property
    def fn(self) -> Callable[..., Tensor]:
        """The per-sample function ``fn(y_true, y_pred, **fn_kwargs)`` (read-only)."""
        return self._fn

    @property
    def fn_kwargs(self) -> dict[str, Any]:
        """A copy of the extra keyword arguments passed to ``fn`` (read-only)."""
        return dict(self._fn_kwargs)

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
    return snake_case(type(fn).__name__)
