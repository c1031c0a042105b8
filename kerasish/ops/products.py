"""``keras.ops``' NumPy-like products: ``matmul``, ``dot``, ``einsum``, ``tensordot``, ``outer``."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import tensors_like

__all__ = ["dot", "einsum", "inner", "matmul", "outer", "tensordot", "vdot"]


def _same(x1: Any, x2: Any) -> tuple[Tensor, Tensor]:
    """Both as tensors of their promoted dtype (torch's products need one dtype)."""
    a, b = tensors_like(x1, x2)
    dtype = torch.promote_types(a.dtype, b.dtype)
    return a.to(dtype), b.to(dtype)


def matmul(x1: Any, x2: Any) -> Tensor:
    """The matrix product, batched over leading axes (NumPy's ``matmul``).

    Args:
        x1: a tensor.
        x2: a tensor.

    Returns:
        The product.

    Example:
        >>> matmul(torch.ones(2, 3), torch.ones(3, 4)).shape
        torch.Size([2, 4])
    """
    return torch.matmul(*_same(x1, x2))


def dot(x1: Any, x2: Any) -> Tensor:
    """NumPy's ``dot``: a sum over the last axis of ``x1`` and the second-last of ``x2``.

    Scalars multiply; two vectors give their inner product; ``x2`` 1-D contracts its only axis.

    Args:
        x1: a tensor.
        x2: a tensor.

    Returns:
        The product, of shape ``x1.shape[:-1] + x2.shape[:-2] + x2.shape[-1:]``.

    Example:
        >>> dot(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
        tensor(11.)
    """
    a, b = _same(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return torch.tensordot(a, b, dims=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """Einstein summation (``torch.einsum``).

    Args:
        subscripts: the equation, e.g. ``"ij,jk->ik"``.
        *operands: the tensors.

    Returns:
        The result.

    Example:
        >>> einsum("i,i->", torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
        tensor(11.)
    """
    tensors = tensors_like(*operands)
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    return torch.einsum(subscripts, *(t.to(dtype) for t in tensors))


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Tensor:
    """The sum over ``axes`` of the product (NumPy's ``tensordot``).

    Args:
        x1: a tensor.
        x2: a tensor.
        axes: an int N (the last N of ``x1`` with the first N of ``x2``) or two lists.

    Returns:
        The contraction.

    Example:
        >>> tensordot(torch.ones(2, 3), torch.ones(3, 4), axes=1).shape
        torch.Size([2, 4])
    """
    a, b = _same(x1, x2)
    dims = axes
    if not isinstance(axes, int):
        dims = tuple([d] if isinstance(d, int) else list(d) for d in axes)
    return torch.tensordot(a, b, dims=dims)


def outer(x1: Any, x2: Any) -> Tensor:
    """The outer product of the flattened inputs.

    Args:
        x1: a tensor.
        x2: a tensor.

    Returns:
        A ``(x1.size, x2.size)`` matrix.

    Example:
        >>> outer(torch.tensor([1, 2]), torch.tensor([3, 4]))
        tensor([[3, 4],
                [6, 8]])
    """
    a, b = _same(x1, x2)
    return torch.outer(a.reshape(-1), b.reshape(-1))


def inner(x1: Any, x2: Any) -> Tensor:
    """The sum over the last axes of both (NumPy's ``inner``).

    Args:
        x1: a tensor.
        x2: a tensor.

    Returns:
        The product.

    Example:
        >>> inner(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
        tensor(11.)
    """
    return torch.inner(*_same(x1, x2))


def vdot(x1: Any, x2: Any) -> Tensor:
    """The dot product of the flattened inputs (the first conjugated).

    Args:
        x1: a tensor.
        x2: a tensor.

    Returns:
        A scalar.

    Example:
        >>> vdot(torch.tensor([[1.0, 2.0]]), torch.tensor([3.0, 4.0]))
        tensor(11.)
    """
    a, b = _same(x1, x2)
    return torch.vdot(a.reshape(-1), b.reshape(-1))
