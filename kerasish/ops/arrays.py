"""``keras.ops``' NumPy-like reshaping, joining, indexing and padding: ``reshape``, ``take``, ``pad``, ..."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, tensors_like

__all__ = [
    "broadcast_to",
    "concatenate",
    "expand_dims",
    "flip",
    "moveaxis",
    "ndim",
    "pad",
    "ravel",
    "repeat",
    "reshape",
    "roll",
    "size",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "take",
    "take_along_axis",
    "tile",
    "transpose",
]


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)


def reshape(x: Any, newshape: Sequence[int]) -> Tensor:
    """``x`` with shape ``newshape`` (one entry may be -1).

    Args:
        x: a tensor.
        newshape: the new shape.

    Returns:
        The reshaped tensor (a view when possible).

    Example:
        >>> reshape(torch.arange(6), (2, -1)).shape
        torch.Size([2, 3])
    """
    return convert_to_tensor(x).reshape(_shape(newshape))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """``x`` with its axes permuted (reversed when ``axes`` is None, as NumPy).

    Args:
        x: a tensor.
        axes: the new order of the axes.

    Returns:
        The permuted view.

    Example:
        >>> transpose(torch.zeros(2, 3, 4)).shape
        torch.Size([4, 3, 2])
    """
    x = convert_to_tensor(x)
    return x.permute(*(reversed(range(x.ndim)) if axes is None else axes))


def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    """``x`` with axes ``source`` moved to ``destination``.

    Args:
        x: a tensor.
        source: an axis or axes.
        destination: where they go.

    Returns:
        The view.

    Example:
        >>> moveaxis(torch.zeros(2, 3, 4), 0, -1).shape
        torch.Size([3, 4, 2])
    """
    return torch.movedim(convert_to_tensor(x), source, destination)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """``x`` with two axes exchanged.

    Args:
        x: a tensor.
        axis1: one axis.
        axis2: the other.

    Returns:
        The view.

    Example:
        >>> swapaxes(torch.zeros(2, 3), 0, 1).shape
        torch.Size([3, 2])
    """
    return torch.swapaxes(convert_to_tensor(x), axis1, axis2)


def expand_dims(x: Any, axis: int | Sequence[int]) -> Tensor:
    """``x`` with new axes of size 1 at ``axis`` (an int or several, as NumPy).

    Args:
        x: a tensor.
        axis: the position(s) in the result.

    Returns:
        The view.

    Example:
        >>> expand_dims(torch.zeros(2, 3), (0, -1)).shape
        torch.Size([1, 2, 3, 1])
    """
    x = convert_to_tensor(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = x.ndim + len(axes)
    for a in sorted(a % n for a in axes):
        x = x.unsqueeze(a)
    return x


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` without its size-1 axes (only ``axis`` when given).

    Args:
        x: a tensor.
        axis: the axis or axes to drop (each must have size 1).

    Returns:
        The view.

    Raises:
        ValueError: if an axis given does not have size 1.

    Example:
        >>> squeeze(torch.zeros(1, 2, 1)).shape
        torch.Size([2])
    """
    x = convert_to_tensor(x)
    if axis is None:
        return x.squeeze()
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if any(x.shape[a] != 1 for a in axes):
        raise ValueError(
            f"Expected the squeezed axes to have size 1. Received: axis={axis}, "
            f"x.shape={tuple(x.shape)}"
        )
    return x.squeeze(axes)


def ravel(x: Any) -> Tensor:
    """``x`` flattened to 1-D.

    Args:
        x: a tensor.

    Returns:
        The 1-D tensor.

    Example:
        >>> ravel(torch.zeros(2, 3)).shape
        torch.Size([6])
    """
    return convert_to_tensor(x).reshape(-1)


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along an existing ``axis`` (None flattens them first).

    Args:
        xs: the tensors.
        axis: the axis.

    Returns:
        The joined tensor.

    Example:
        >>> concatenate([torch.zeros(2, 3), torch.ones(1, 3)]).shape
        torch.Size([3, 3])
    """
    xs = tensors_like(*xs)
    if axis is None:
        return torch.cat([x.reshape(-1) for x in xs])
    return torch.cat(xs, dim=axis)


def stack(x: Sequence[Any], axis: int = 0) -> Tensor:
    """The tensors joined along a new ``axis``.

    Args:
        x: the tensors (same shape).
        axis: the new axis.

    Returns:
        The stacked tensor.

    Example:
        >>> stack([torch.zeros(3), torch.ones(3)], axis=1).shape
        torch.Size([3, 2])
    """
    return torch.stack(tensors_like(*x), dim=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis``: into N equal parts (an int) or at the indices given.

    Args:
        x: a tensor.
        indices_or_sections: the number of equal parts, or the cut points.
        axis: the axis.

    Returns:
        A list of views.

    Raises:
        ValueError: if N parts do not divide the axis evenly.

    Example:
        >>> [p.tolist() for p in split(torch.arange(5), [2, 3])]
        [[0, 1], [2], [3, 4]]
    """
    x = convert_to_tensor(x)
    if isinstance(indices_or_sections, int) and x.shape[axis] % indices_or_sections:
        raise ValueError(
            f"Expected {indices_or_sections} sections to divide axis {axis} of size "
            f"{x.shape[axis]} evenly. Received: indices_or_sections={indices_or_sections}"
        )
    sections = indices_or_sections
    sections = sections if isinstance(sections, int) else [int(i) for i in sections]
    return list(torch.tensor_split(x, sections, dim=axis))


def tile(x: Any, repeats: Sequence[int] | int) -> Tensor:
    """``x`` repeated ``repeats`` times along each axis (NumPy's ``tile``).

    Args:
        x: a tensor.
        repeats: the repetitions per axis.

    Returns:
        The tiled tensor.

    Example:
        >>> tile(torch.tensor([1, 2]), 2)
        tensor([1, 2, 1, 2])
    """
    return torch.tile(convert_to_tensor(x), _shape(repeats))


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Each entry repeated ``repeats`` times along ``axis`` (flattened when None).

    Args:
        x: a tensor.
        repeats: an int or one count per entry.
        axis: the axis, or None.

    Returns:
        The tensor.

    Example:
        >>> repeat(torch.tensor([1, 2]), 2)
        tensor([1, 1, 2, 2])
    """
    x = convert_to_tensor(x)
    if not isinstance(repeats, int):
        repeats = convert_to_tensor(repeats, device=x.device)
    return torch.repeat_interleave(x, repeats, dim=axis)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` (a view).

    Args:
        x: a tensor.
        shape: the target shape.

    Returns:
        The broadcast view.

    Example:
        >>> broadcast_to(torch.tensor([1, 2]), (2, 2))
        tensor([[1, 2],
                [1, 2]])
    """
    return torch.broadcast_to(convert_to_tensor(x), _shape(shape))


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` reversed along ``axis`` (all axes when None).

    Args:
        x: a tensor.
        axis: the axis or axes.

    Returns:
        The flipped tensor.

    Example:
        >>> flip(torch.tensor([1, 2, 3]))
        tensor([3, 2, 1])
    """
    x = convert_to_tensor(x)
    dims = range(x.ndim) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    return torch.flip(x, dims=tuple(dims))


def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """``x`` shifted circularly by ``shift`` along ``axis`` (flattened when None).

    Args:
        x: a tensor.
        shift: the shift(s).
        axis: the axis or axes, or None.

    Returns:
        The rolled tensor.

    Example:
        >>> roll(torch.tensor([1, 2, 3]), 1)
        tensor([3, 1, 2])
    """
    return torch.roll(convert_to_tensor(x), shifts=shift, dims=axis)


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """Entries of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None).

    Negative indices count from the end. The result's shape is
    ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``, as NumPy's.

    Args:
        x: a tensor.
        indices: integer indices.
        axis: the axis, or None.

    Returns:
        The gathered tensor.

    Example:
        >>> take(torch.tensor([[1, 2], [3, 4]]), torch.tensor([1, -1]), axis=1)
        tensor([[2, 2],
                [4, 4]])
    """
    x, indices = tensors_like(x, indices)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis %= x.ndim
    n = x.shape[axis]
    idx = indices.long()
    idx = torch.where(idx < 0, idx + n, idx)
    out = torch.index_select(x, axis, idx.reshape(-1))
    return out.reshape(*x.shape[:axis], *idx.shape, *x.shape[axis + 1 :])


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """Entries of ``x`` picked by ``indices`` along ``axis`` (NumPy's ``take_along_axis``).

    Args:
        x: a tensor.
        indices: integer indices, broadcast against ``x`` off ``axis``.
        axis: the axis, or None (flattened).

    Returns:
        The gathered tensor.

    Example:
        >>> take_along_axis(torch.tensor([[10, 30, 20]]), torch.tensor([[1]]), axis=1)
        tensor([[30]])
    """
    x, indices = tensors_like(x, indices)
    return torch.take_along_dim(x, indices.long(), dim=axis)


def ndim(x: Any) -> int:
    """The number of axes of ``x``.

    Args:
        x: a tensor, array or number.

    Returns:
        The rank.

    Example:
        >>> ndim(torch.zeros(2, 3))
        2
    """
    return convert_to_tensor(x).ndim


def size(x: Any) -> int:
    """The number of entries of ``x``.

    Args:
        x: a tensor, array or number.

    Returns:
        The count.

    Example:
        >>> size(torch.zeros(2, 3))
        6
    """
    return convert_to_tensor(x).numel()


def _pad_index(n: int, before: int, after: int, mode: str) -> Tensor:
    """The source index of each padded position along one axis."""
    i = torch.arange(-before, n + after)
    if mode == "edge":
        return i.clamp(0, n - 1)
    if mode == "wrap":
        return i % n
    period = 2 * n - 2 if mode == "reflect" else 2 * n  # reflect skips the edge; symmetric not
    j = i % max(period, 1)
    if mode == "reflect":
        return torch.where(j < n, j, period - j)
    return torch.where(j < n, j, period - 1 - j)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Tensor:
    """``x`` padded as NumPy's ``pad``: ``pad_width`` is ``((before, after), ...)`` per axis.

    Args:
        x: a tensor.
        pad_width: one ``(before, after)`` per axis, one pair for all, or one int.
        mode: ``"constant"``, ``"edge"``, ``"reflect"``, ``"symmetric"`` or ``"wrap"``.
        constant_values: the fill value of ``"constant"`` (default 0).

    Returns:
        The padded tensor.

    Raises:
        ValueError: for another mode, or ``constant_values`` with another mode.

    Example:
        >>> pad(torch.tensor([1, 2, 3]), (1, 2), mode="reflect")
        tensor([2, 1, 2, 3, 2, 1])
    """
    x = convert_to_tensor(x)
    widths = torch.as_tensor(pad_width, dtype=torch.int64).broadcast_to((x.ndim, 2)).tolist()
    if mode not in ("constant", "edge", "reflect", "symmetric", "wrap"):
        raise ValueError(
            "Expected `mode` to be one of 'constant', 'edge', 'reflect', 'symmetric', 'wrap'. "
            f"Received: mode={mode!r}"
        )
    if mode != "constant" and constant_values is not None:
        raise ValueError(f"Expected constant_values=None with mode={mode!r}. Received: "
                         f"constant_values={constant_values!r}")  # fmt: skip
    if mode == "constant":
        flat = [w for before_after in reversed(widths) for w in before_after]
        return torch.nn.functional.pad(x, flat, value=constant_values or 0)
    for axis, (before, after) in enumerate(widths):
        idx = _pad_index(x.shape[axis], before, after, mode).to(x.device)
        x = torch.index_select(x, axis, idx)
    return x
