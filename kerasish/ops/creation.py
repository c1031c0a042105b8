"""``keras.ops``' NumPy-like array creation and matrix parts: ``zeros``, ``arange``, ``eye``, ``triu``, ...

Creation ops use torch's default dtype and device unless given (``dtype`` takes a
``torch.dtype`` or a Keras name).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, standardize_dtype, tensors_like

__all__ = [
    "array",
    "copy",
    "empty",
    "empty_like",
    "tri",
    "arange",
    "diag",
    "diagonal",
    "eye",
    "full",
    "full_like",
    "identity",
    "linspace",
    "meshgrid",
    "ones",
    "ones_like",
    "trace",
    "tril",
    "triu",
    "zeros",
    "zeros_like",
]


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)


def _fdtype(dtype: Any) -> torch.dtype:
    return standardize_dtype(dtype) or torch.get_default_dtype()


def zeros(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of zeros.

    Args:
        shape: the shape.
        dtype: the dtype (default: torch's default float).

    Returns:
        The tensor.

    Example:
        >>> zeros((2,))
        tensor([0., 0.])
    """
    return torch.zeros(_shape(shape), dtype=_fdtype(dtype))


def ones(shape: Any, dtype: Any = None) -> Tensor:
    """A tensor of ones.

    Args:
        shape: the shape.
        dtype: the dtype.

    Returns:
        The tensor.

    Example:
        >>> ones((2,), dtype="int32")
        tensor([1, 1], dtype=torch.int32)
    """
    return torch.ones(_shape(shape), dtype=_fdtype(dtype))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype inferred unless given).

    Args:
        shape: the shape.
        fill_value: the value (a number, or a tensor broadcast to ``shape``).
        dtype: the dtype.

    Returns:
        The tensor.

    Example:
        >>> full((2,), 7)
        tensor([7, 7])
    """
    value = convert_to_tensor(fill_value, dtype=dtype)
    return value.broadcast_to(_shape(shape)).clone()


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros of ``x``'s shape (and dtype and device unless given).

    Args:
        x: a tensor.
        dtype: the dtype.

    Returns:
        The tensor.

    Example:
        >>> zeros_like(torch.ones(2, dtype=torch.int64))
        tensor([0, 0])
    """
    return torch.zeros_like(convert_to_tensor(x), dtype=standardize_dtype(dtype))


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones of ``x``'s shape.

    Args:
        x: a tensor.
        dtype: the dtype.

    Returns:
        The tensor.

    Example:
        >>> ones_like(torch.zeros(2))
        tensor([1., 1.])
    """
    return torch.ones_like(convert_to_tensor(x), dtype=standardize_dtype(dtype))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """``fill_value`` in ``x``'s shape (and dtype unless given).

    Args:
        x: a tensor.
        fill_value: the value.
        dtype: the dtype.

    Returns:
        The tensor.

    Example:
        >>> full_like(torch.zeros(2), 3)
        tensor([3., 3.])
    """
    x = convert_to_tensor(x)
    dtype = standardize_dtype(dtype) or x.dtype
    value = convert_to_tensor(fill_value, dtype=dtype, device=x.device)
    return value.broadcast_to(x.shape).clone()


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)`` (``[0, start)`` with one argument).

    Args:
        start: the first value (or the end, alone).
        stop: the end (excluded).
        step: the spacing.
        dtype: the dtype (inferred from the arguments by default).

    Returns:
        The 1-D tensor.

    Example:
        >>> arange(1, 7, 2)
        tensor([1, 3, 5])
    """
    start, stop = (0, start) if stop is None else (start, stop)
    return torch.arange(start, stop, step, dtype=standardize_dtype(dtype))


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless ``endpoint=False``).

    Args:
        start: the first value (a number or a tensor, then one sequence per entry).
        stop: the last value.
        num: how many values.
        endpoint: include ``stop``.
        retstep: also return the spacing.
        dtype: the dtype.
        axis: where the new axis goes, for tensor ``start``/``stop``.

    Returns:
        The values, or ``(values, step)``.

    Example:
        >>> linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    start, stop = (convert_to_tensor(v, dtype=torch.float64) for v in (start, stop))
    div = (num - 1) if endpoint else num
    step = (stop - start) / max(div, 1)
    t = torch.arange(num, dtype=torch.float64).reshape(-1, *([1] * start.ndim))
    out = start + t * step
    if endpoint and num > 1:
        out[-1] = stop
    out = torch.movedim(out, 0, axis).to(_fdtype(dtype))
    return (out, step) if retstep else out


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    """An ``N x M`` matrix with ones on the ``k``-th diagonal.

    Args:
        N: the rows.
        M: the columns (default ``N``).
        k: the diagonal (positive: above the main one).
        dtype: the dtype.

    Returns:
        The matrix.

    Example:
        >>> eye(2, 3, k=1)
        tensor([[0., 1., 0.],
                [0., 0., 1.]])
    """
    M = N if M is None else M  # noqa: N806
    rows, cols = torch.arange(N)[:, None], torch.arange(M)[None, :]
    return (cols - rows == k).to(_fdtype(dtype))


def identity(n: int, dtype: Any = None) -> Tensor:
    """The ``n x n`` identity matrix.

    Args:
        n: the size.
        dtype: the dtype.

    Returns:
        The matrix.

    Example:
        >>> identity(2)
        tensor([[1., 0.],
                [0., 1.]])
    """
    return torch.eye(n, dtype=_fdtype(dtype))


def triu(x: Any, k: int = 0) -> Tensor:
    """``x`` with the entries below the ``k``-th diagonal zeroed (last two axes).

    Args:
        x: a tensor of rank >= 2.
        k: the diagonal.

    Returns:
        The tensor.

    Example:
        >>> triu(torch.ones(2, 2))
        tensor([[1., 1.],
                [0., 1.]])
    """
    return torch.triu(convert_to_tensor(x), diagonal=k)


def tril(x: Any, k: int = 0) -> Tensor:
    """``x`` with the entries above the ``k``-th diagonal zeroed (last two axes).

    Args:
        x: a tensor of rank >= 2.
        k: the diagonal.

    Returns:
        The tensor.

    Example:
        >>> tril(torch.ones(2, 2))
        tensor([[1., 0.],
                [1., 1.]])
    """
    return torch.tril(convert_to_tensor(x), diagonal=k)


def diag(x: Any, k: int = 0) -> Tensor:
    """The ``k``-th diagonal of a matrix, or a matrix with a vector on it (NumPy's ``diag``).

    Args:
        x: a 1-D or 2-D tensor.
        k: the diagonal.

    Returns:
        A vector (from a matrix) or a matrix (from a vector).

    Example:
        >>> diag(torch.tensor([[1, 2], [3, 4]]))
        tensor([1, 4])
    """
    return torch.diag(convert_to_tensor(x), diagonal=k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The diagonal over two axes, moved to the last axis (NumPy's ``diagonal``).

    Args:
        x: a tensor.
        offset: the diagonal.
        axis1: the first axis.
        axis2: the second axis.

    Returns:
        The diagonal view.

    Example:
        >>> diagonal(torch.arange(4).reshape(2, 2))
        tensor([0, 3])
    """
    return torch.diagonal(convert_to_tensor(x), offset=offset, dim1=axis1, dim2=axis2)


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of a diagonal (NumPy's ``trace``).

    Args:
        x: a tensor.
        offset: the diagonal.
        axis1: the first axis.
        axis2: the second axis.

    Returns:
        The sum(s).

    Example:
        >>> trace(torch.arange(4).reshape(2, 2))
        tensor(3)
    """
    return diagonal(x, offset, axis1, axis2).sum(-1)


def meshgrid(*x: Any, indexing: str = "xy") -> list[Tensor]:
    """Coordinate grids from 1-D tensors (``"xy"``, NumPy's default, or ``"ij"``).

    Args:
        *x: 1-D tensors.
        indexing: ``"xy"`` or ``"ij"``.

    Returns:
        A list of grids.

    Example:
        >>> [g.shape for g in meshgrid(torch.arange(2), torch.arange(3))]
        [torch.Size([3, 2]), torch.Size([3, 2])]
    """
    return list(torch.meshgrid(*tensors_like(*x), indexing=indexing))


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:  # noqa: N803
    """An ``N x M`` matrix with ones at and below the ``k``-th diagonal.

    Args:
        N: the rows.
        M: the columns (default ``N``).
        k: the diagonal.
        dtype: the dtype.

    Returns:
        The matrix.

    Example:
        >>> tri(2, 3)
        tensor([[1., 0., 0.],
                [1., 1., 0.]])
    """
    M = N if M is None else M  # noqa: N806
    return torch.tril(torch.ones(N, M, dtype=_fdtype(dtype)), diagonal=k)


def array(x: Any, dtype: Any = None) -> Tensor:
    """A tensor from ``x`` (Keras's ``array``, :func:`~kerasish.ops.core.convert_to_tensor`).

    Args:
        x: a tensor, array or Python value.
        dtype: the dtype.

    Returns:
        The tensor.

    Example:
        >>> array([1, 2], dtype="float32")
        tensor([1., 2.])
    """
    return convert_to_tensor(x, dtype=dtype)


def copy(x: Any) -> Tensor:
    """A copy of ``x`` (new memory).

    Args:
        x: a tensor.

    Returns:
        The copy.

    Example:
        >>> t = torch.zeros(2)
        >>> copy(t).data_ptr() != t.data_ptr()
        True
    """
    return convert_to_tensor(x).clone()


def empty(shape: Any, dtype: Any = None) -> Tensor:
    """An uninitialized tensor.

    Args:
        shape: the shape.
        dtype: the dtype.

    Returns:
        The tensor (its values are arbitrary).

    Example:
        >>> empty((2, 3)).shape
        torch.Size([2, 3])
    """
    return torch.empty(_shape(shape), dtype=_fdtype(dtype))


def empty_like(x: Any, dtype: Any = None) -> Tensor:
    """An uninitialized tensor of ``x``'s shape (and dtype unless given).

    Args:
        x: a tensor.
        dtype: the dtype.

    Returns:
        The tensor.

    Example:
        >>> empty_like(torch.zeros(2, dtype=torch.int32)).dtype
        torch.int32
    """
    return torch.empty_like(convert_to_tensor(x), dtype=standardize_dtype(dtype))
