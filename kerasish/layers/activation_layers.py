"""Activation layers with arguments: ReLU, LeakyReLU, PReLU (learned slopes), ELU, Softmax.

``PReLU`` learns one slope per input element (Keras's default), or shares slopes along
``shared_axes``; its weight is created at the first call, as the other lazy layers' are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from kerasish.layers.base import Layer
from kerasish.layers.checks import check, is_int

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]


def _number(name: str, value: Any, *, none: bool = False, low: float | None = 0.0) -> Any:
    if none and value is None:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (low is None or value >= low)
    expected = "a non-negative number" if low == 0.0 else "a number"
    check(ok, expected + (" or None" if none else ""), name, value)
    return float(value)


class ReLU(Layer):
    """Keras's ReLU: ``x`` in ``[threshold, max_value)``, ``max_value`` above, a slope below.

    ``f(x) = max_value`` for ``x >= max_value``; ``x`` for ``threshold <= x < max_value``;
    ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: the ceiling (non-negative), or None for none.
        negative_slope: the slope below the threshold (non-negative).
        threshold: where the activation starts.

    Example:
        >>> ReLU(max_value=6.0)(torch.tensor([-1.0, 3.0, 9.0]))
        tensor([0., 3., 6.])
    """

    def __init__(
        self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0
    ) -> None:
        super().__init__()
        self.max_value = _number("max_value", max_value, none=True)
        self.negative_slope = _number("negative_slope", negative_slope)
        self.threshold = _number("threshold", threshold, low=None)

    def forward(self, x: Tensor) -> Tensor:
        if self.negative_slope == 0.0 and self.threshold == 0.0:
            out = F.relu(x)
        else:
            below = self.negative_slope * (x - self.threshold)
            out = torch.where(x >= self.threshold, x, below)
        return out if self.max_value is None else out.clamp(max=self.max_value)

    def get_config(self) -> dict[str, Any]:
        return {
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` below (Keras's default slope 0.3).

    Args:
        negative_slope: the slope below zero (non-negative).

    Example:
        >>> LeakyReLU(0.5)(torch.tensor([-2.0, 2.0]))
        tensor([-1.,  2.])
    """

    def __init__(self, negative_slope: float = 0.3) -> None:
        super().__init__()
        self.negative_slope = _number("negative_slope", negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


class ELU(Layer):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` below.

    Args:
        alpha: the scale of the negative part.

    Example:
        >>> ELU()(torch.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = _number("alpha", alpha, low=None)

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Softmax(Layer):
    """Softmax along ``axis``; ``layer(x, mask)`` gives masked-out positions zero probability.

    Args:
        axis: the axis (an int, or a tuple of ints for a softmax over several axes).

    Example:
        >>> Softmax()(torch.zeros(1, 4))
        tensor([[0.2500, 0.2500, 0.2500, 0.2500]])
    """

    def __init__(self, axis: int | Sequence[int] = -1) -> None:
        super().__init__()
        axes = (axis,) if is_int(axis) else axis
        ok = isinstance(axes, (tuple, list)) and len(axes) > 0 and all(is_int(a) for a in axes)
        check(ok, "an integer or a tuple of integers", "axis", axis, TypeError)
        self.axis = axis if is_int(axis) else tuple(axis)

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        if mask is not None:  # as Keras: a large negative number where the mask is False
            x = x.masked_fill(~mask.bool(), torch.finfo(x.dtype).min)
        if is_int(self.axis):
            return torch.softmax(x, dim=self.axis)
        return torch.exp(x - torch.logsumexp(x, dim=self.axis, keepdim=True))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


def _initializer(name: str, value: Any) -> Callable[[Tensor], Any]:
    fills = {"zeros": 0.0, "ones": 1.0}
    if isinstance(value, str) and value in fills:
        return lambda t: t.fill_(fills[value])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return lambda t: t.fill_(float(value))
    check(callable(value), "'zeros', 'ones', a number or a callable", name, value, TypeError)
    return value


class _LazyAlpha(LazyModuleMixin, nn.Module):
    """PReLU's slopes, shaped from the first input (or from a loaded state dict)."""

    def __init__(self, shared_axes: tuple[int, ...], init: Callable[[Tensor], Any]) -> None:
        super().__init__()
        self.alpha = UninitializedParameter()
        self.shared_axes = shared_axes
        self.init = init

    def initialize_parameters(self, x: Tensor) -> None:
        if self.has_uninitialized_params():
            shape = [1 if i in self.shared_axes else s for i, s in enumerate(x.shape) if i > 0]
            with torch.no_grad():
                self.alpha.materialize(tuple(shape))
                self.init(self.alpha)

    def forward(self, x: Tensor) -> Tensor:
        return self.alpha


class PReLU(Layer):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` below, with learned ``alpha``.

    ``alpha`` has the shape of one sample (Keras's default: one slope per element) with
    size 1 along ``shared_axes``; ``shared_axes=[1, 2]`` on channels-last images learns one
    slope per channel.

    Args:
        alpha_initializer: ``"zeros"`` (Keras's default), ``"ones"``, a number, or a
            callable that fills the tensor in place.
        shared_axes: axes (counted with the batch axis, from 1) that share one slope.

    Example:
        >>> layer = PReLU(shared_axes=[1, 2])
        >>> layer(torch.randn(2, 5, 5, 3)).shape
        torch.Size([2, 5, 5, 3])
        >>> tuple(layer.slopes.alpha.shape)
        (1, 1, 3)
    """

    def __init__(
        self, alpha_initializer: Any = "zeros", shared_axes: Sequence[int] | None = None
    ) -> None:
        super().__init__()
        axes = () if shared_axes is None else shared_axes
        axes = (axes,) if is_int(axes) else axes
        ok = isinstance(axes, (tuple, list)) and all(is_int(a) and a > 0 for a in axes)
        check(ok, "a list of positive axes or None", "shared_axes", shared_axes)
        self.shared_axes = None if shared_axes is None else tuple(axes)
        self.alpha_initializer = alpha_initializer
        self.slopes = _LazyAlpha(tuple(axes), _initializer("alpha_initializer", alpha_initializer))

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            self._prepare_build(x)
        alpha = self.slopes(x)
        return torch.where(x >= 0, x, alpha * x)

    def get_config(self) -> dict[str, Any]:
        return {"alpha_initializer": self.alpha_initializer, "shared_axes": self.shared_axes}
