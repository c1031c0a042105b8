"""``keras.ops``' NumPy-like stacking, splitting and turning: ``hstack``, ``unstack``, ``rot90``, ..."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, tensors_like

__all__ = [
    "append", "array_split", "dsplit", "dstack", "fliplr", "flipud", "hsplit", "hstack",
    "rot90", "unstack", "vsplit", "vstack",
]  # fmt: skip


def hstack(xs: Sequence[Any]) -> Tensor:
    """The tensors joined column-wise (along axis 1; axis 0 for 1-D), as ``np.hstack``.

    Args:
        xs: the tensors.

    Returns:
        The joined tensor.

    Example:
        >>> hstack([torch.tensor([1, 2]), torch.tensor([3])])
        tensor([1, 2, 3])
    """
    return torch.hstack(tensors_like(*xs))


def vstack(xs: Sequence[Any]) -> Tensor:
    """The tensors joined row-wise (1-D ones as rows), as ``np.vstack``.

    Args:
        xs: the tensors.

    Returns:
        The joined tensor.

    Example:
        >>> vstack([torch.tensor([1, 2]), torch.tensor([3, 4])])
        tensor([[1, 2],
                [3, 4]])
    """
    return torch.vstack(tensors_like(*xs))


def dstack(xs: Sequence[Any]) -> Tensor:
    """The tensors joined along a third axis, as ``np.dstack``.

    Args:
        xs: the tensors.

    Returns:
        The joined tensor.

    Example:
        >>> dstack([torch.tensor([1, 2]), torch.tensor([3, 4])]).shape
        torch.Size([1, 2, 2])
    """
    return torch.dstack(tensors_like(*xs))


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[Tensor]:
    """The slices of ``x`` along ``axis``.

    Args:
        x: a tensor.
        num: the expected number of slices (checked when given).
        axis: the axis.

    Returns:
        A list of views.

    Raises:
        ValueError: if ``num`` differs from the axis's size.

    Example:
        >>> [t.tolist() for t in unstack(torch.tensor([[1, 2], [3, 4]]))]
        [[1, 2], [3, 4]]
    """
    x = convert_to_tensor(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"Expected num={x.shape[axis]} (axis {axis}). Received: num={num}")
    return list(torch.unbind(x, dim=axis))


def append(x1: Any, x2: Any, axis: int | None = None) -> Tensor:
    """``x2`` joined after ``x1`` along ``axis`` (both flattened when None).

    Args:
        x1: a tensor.
        x2: a tensor.
        axis: the axis, or None.

    Returns:
        The joined tensor.

    Example:
        >>> append(torch.tensor([[1, 2]]), torch.tensor([[3, 4]]))
        tensor([1, 2, 3, 4])
    """
    a, b = tensors_like(x1, x2)
    if axis is None:
        return torch.cat([a.reshape(-1), b.reshape(-1)])
    return torch.cat([a, b], dim=axis)


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """``x`` cut into N nearly equal parts (the first ones longer) or at indices.

    Args:
        x: a tensor.
        indices_or_sections: the number of parts, or the cut points.
        axis: the axis.

    Returns:
        A list of views.

    Example:
        >>> [t.tolist() for t in array_split(torch.arange(5), 2)]
        [[0, 1, 2], [3, 4]]
    """
    sections = indices_or_sections
    sections = sections if isinstance(sections, int) else [int(i) for i in sections]
    return list(torch.tensor_split(convert_to_tensor(x), sections, dim=axis))


def _split(x: Any, sections: Any, axis: int) -> list[Tensor]:
    x = convert_to_tensor(x)
    if isinstance(sections, int) and x.shape[axis] % sections:
        raise ValueError(
            f"Expected {sections} sections to divide axis {axis} of size {x.shape[axis]} "
            f"evenly. Received: indices_or_sections={sections}"
        )
    return array_split(x, sections, axis)


def hsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``x`` cut along axis 1 (axis 0 for 1-D) into equal parts or at indices.

    Args:
        x: a tensor.
        indices_or_sections: the number of equal parts, or the cut points.

    Returns:
        A list of views.

    Raises:
        ValueError: if the parts cannot be equal.

    Example:
        >>> [t.shape for t in hsplit(torch.zeros(2, 4), 2)]
        [torch.Size([2, 2]), torch.Size([2, 2])]
    """
    return _split(x, indices_or_sections, 0 if convert_to_tensor(x).ndim == 1 else 1)


def vsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``x`` cut along axis 0 into equal parts or at indices.

    Args:
        x: a tensor of rank >= 2.
        indices_or_sections: the number of equal parts, or the cut points.

    Returns:
        A list of views.

    Raises:
        ValueError: if the parts cannot be equal.

    Example:
        >>> [t.shape for t in vsplit(torch.zeros(4, 2), 2)]
        [torch.Size([2, 2]), torch.Size([2, 2])]
    """
    return _split(x, indices_or_sections, 0)


def dsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``x`` cut along axis 2 into equal parts or at indices.

    Args:
        x: a tensor of rank >= 3.
        indices_or_sections: the number of equal parts, or the cut points.

    Returns:
        A list of views.

    Raises:
        ValueError: if the parts cannot be equal.

    Example:
        >>> [t.shape for t in dsplit(torch.zeros(1, 1, 4), 2)]
        [torch.Size([1, 1, 2]), torch.Size([1, 1, 2])]
    """
    return _split(x, indices_or_sections, 2)


def rot90(array: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Tensor:
    """``array`` turned by 90 degrees ``k`` times in the plane of ``axes`` (``np.rot90``).

    Args:
        array: a tensor of rank >= 2.
        k: the number of turns (counter-clockwise).
        axes: the plane.

    Returns:
        The turned tensor.

    Example:
        >>> rot90(torch.tensor([[1, 2], [3, 4]]))
        tensor([[2, 4],
                [1, 3]])
    """
    return torch.rot90(convert_to_tensor(array), k, list(axes))


def fliplr(x: Any) -> Tensor:
    """``x`` reversed along axis 1.

    Args:
        x: a tensor of rank >= 2.

    Returns:
        The flipped tensor.

    Example:
        >>> fliplr(torch.tensor([[1, 2]]))
        tensor([[2, 1]])
    """
    return torch.fliplr(convert_to_tensor(x))


def flipud(x: Any) -> Tensor:
    """``x`` reversed along axis 0.

    Args:
        x: a tensor.

    Returns:
        The flipped tensor.

    Example:
        >>> flipud(torch.tensor([[1], [2]]))
        tensor([[2],
                [1]])
    """
    return torch.flipud(convert_to_tensor(x))
