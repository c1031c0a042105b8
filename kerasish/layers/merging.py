"""Merging layers: Keras's Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

Each layer takes a list (or tuple) of tensors, as Keras's do, so it follows a layer that
returns several tensors in a ``Sequential`` (``LSTM(return_state=True)``) or combines
branches in a hand-written ``forward``. Shapes broadcast as torch broadcasts. The lowercase
functions (``add([a, b])``, ...) build the layer and apply it at once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_bool, is_int

__all__ = [
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
    "add",
    "subtract",
    "multiply",
    "average",
    "maximum",
    "minimum",
    "concatenate",
    "dot",
]


def _tensors(layer: str, inputs: Any, exactly: int | None = None) -> list[Tensor]:
    ok = isinstance(inputs, (list, tuple)) and all(isinstance(t, Tensor) for t in inputs)
    count = "exactly 2" if exactly else "at least 2"
    expected = f"a list of {count} tensors for {layer}"
    received = inputs if not ok else f"a list of {len(inputs)} tensors"
    ok = ok and (len(inputs) == exactly if exactly else len(inputs) >= 2)
    check(ok, expected, "inputs", received)
    return list(inputs)


class _Merge(Layer):
    """Shared body of the element-wise merging layers: a reduction over the inputs."""

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        return self._merge(_tensors(type(self).__name__, inputs))

    def _merge(self, tensors: list[Tensor]) -> Tensor:
        raise NotImplementedError


class Add(_Merge):
    """Element-wise sum of a list of tensors.

    Example:
        >>> Add()([torch.ones(2, 3), torch.full((2, 3), 2.0)])[0]
        tensor([3., 3., 3.])
    """

    def _merge(self, tensors: list[Tensor]) -> Tensor:
        return functools.reduce(torch.add, tensors)


class Subtract(Layer):
    """``inputs[0] - inputs[1]`` for a list of exactly two tensors.

    Example:
        >>> Subtract()([torch.ones(2), torch.full((2,), 3.0)])
        tensor([-2., -2.])
    """

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        a, b = _tensors("Subtract", inputs, exactly=2)
        return a - b


class Multiply(_Merge):
    """Element-wise product of a list of tensors.

    Example:
        >>> Multiply()([torch.full((2,), 2.0), torch.full((2,), 3.0)])
        tensor([6., 6.])
    """

    def _merge(self, tensors: list[Tensor]) -> Tensor:
        return functools.reduce(torch.mul, tensors)


class Average(_Merge):
    """Element-wise mean of a list of tensors.

    Example:
        >>> Average()([torch.zeros(2), torch.full((2,), 4.0)])
        tensor([2., 2.])
    """

    def _merge(self, tensors: list[Tensor]) -> Tensor:
        return functools.reduce(torch.add, tensors) / len(tensors)


class Maximum(_Merge):
    """Element-wise maximum of a list of tensors.

    Example:
        >>> Maximum()([torch.tensor([1.0, 5.0]), torch.tensor([3.0, 2.0])])
        tensor([3., 5.])
    """

    def _merge(self, tensors: list[Tensor]) -> Tensor:
        return functools.reduce(torch.maximum, tensors)


class Minimum(_Merge):
    """Element-wise minimum of a list of tensors.

    Example:
        >>> Minimum()([torch.tensor([1.0, 5.0]), torch.tensor([3.0, 2.0])])
        tensor([1., 2.])
    """

    def _merge(self, tensors: list[Tensor]) -> Tensor:
        return functools.reduce(torch.minimum, tensors)


class Concatenate(Layer):
    """Concatenates a list of tensors along ``axis`` (the last by default, as Keras).

    Args:
        axis: the axis to join along (counted with the batch axis; negative from the end).

    Example:
        >>> Concatenate()([torch.ones(2, 3), torch.zeros(2, 4)]).shape
        torch.Size([2, 7])
    """

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        check(is_int(axis), "an integer", "axis", axis, TypeError)
        self.axis = axis

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        return torch.cat(_tensors("Concatenate", inputs), dim=self.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


def _check_axes(axes: Any) -> int | tuple[int, int]:
    pair = isinstance(axes, (tuple, list)) and len(axes) == 2 and all(is_int(a) for a in axes)
    check(is_int(axes) or pair, "an integer or a pair of integers", "axes", axes, TypeError)
    return axes if is_int(axes) else tuple(axes)


class Dot(Layer):
    """Dot product of two tensors along ``axes``, batch by batch (Keras's batched dot).

    For inputs ``(N, d)`` and ``(N, d)`` the output is ``(N, 1)``; for ``(N, a, d)`` and
    ``(N, b, d)`` with ``axes=2`` it is ``(N, a, b)``.

    Args:
        axes: the axis of each input to contract (an int for both, or a pair); counted
            with the batch axis, which may not be contracted.
        normalize: L2-normalize both inputs along ``axes`` first (the cosine similarity).

    Example:
        >>> Dot(axes=1)([torch.ones(2, 3), torch.full((2, 3), 2.0)])
        tensor([[6.],
                [6.]])
    """

    def __init__(self, axes: int | Sequence[int], normalize: bool = False) -> None:
        super().__init__()
        self.axes = _check_axes(axes)
        self.normalize = check_bool("normalize", normalize)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        a, b = _tensors("Dot", inputs, exactly=2)
        ax_a, ax_b = (self.axes, self.axes) if is_int(self.axes) else self.axes
        ax_a, ax_b = ax_a % a.ndim, ax_b % b.ndim
        check(ax_a > 0 and ax_b > 0, "axes other than the batch axis", "axes", self.axes)
        if self.normalize:
            a, b = F.normalize(a, dim=ax_a), F.normalize(b, dim=ax_b)
        return _batched_dot(a, b, ax_a, ax_b)

    def get_config(self) -> dict[str, Any]:
        return {"axes": self.axes, "normalize": self.normalize}


def _batched_dot(a: Tensor, b: Tensor, ax_a: int, ax_b: int) -> Tensor:
    """Contract ``a``'s axis ``ax_a`` with ``b``'s ``ax_b`` per sample; (N, 1) for 2-D inputs."""
    a = a.movedim(ax_a, -1)  # (N, ...a, d)
    b = b.movedim(ax_b, 1)  # (N, d, ...b)
    rest_a, rest_b = a.shape[1:-1], b.shape[2:]
    out = torch.bmm(a.reshape(a.shape[0], -1, a.shape[-1]), b.reshape(b.shape[0], b.shape[1], -1))
    out = out.reshape(a.shape[0], *rest_a, *rest_b)
    return out.unsqueeze(1) if out.ndim == 1 else out


def _functional(cls: type[Layer]) -> Any:
    def merge(inputs: Sequence[Tensor], **kwargs: Any) -> Tensor:
        return cls(**kwargs)(inputs)

    merge.__name__ = merge.__qualname__ = cls.__name__.lower()
    merge.__doc__ = f"``{cls.__name__}(**kwargs)(inputs)``: the layer applied at once."
    return merge


add = _functional(Add)
subtract = _functional(Subtract)
multiply = _functional(Multiply)
average = _functional(Average)
maximum = _functional(Maximum)
minimum = _functional(Minimum)
concatenate = _functional(Concatenate)
dot = _functional(Dot)
