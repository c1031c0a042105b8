"""``keras.ops``' searching and comparing: ``searchsorted``, ``digitize``, ``isin``, ``isclose``, ..."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, tensors_like

__all__ = [
    "allclose", "cross", "diff", "digitize", "isclose", "isin", "nonzero", "searchsorted",
    "select", "unravel_index",
]  # fmt: skip


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> Tensor:
    """Where ``values`` would be inserted into 1-D ``sorted_sequence`` to keep it sorted.

    Args:
        sorted_sequence: a sorted 1-D tensor.
        values: the values.
        side: ``"left"`` (first suitable index) or ``"right"`` (last).

    Returns:
        ``int64`` indices of ``values``' shape.

    Raises:
        ValueError: for another ``side``.

    Example:
        >>> searchsorted(torch.tensor([1, 3, 5]), torch.tensor([3, 6]))
        tensor([1, 3])
    """
    if side not in ("left", "right"):
        raise ValueError(f"Expected `side` to be 'left' or 'right'. Received: side={side!r}")
    seq, values = tensors_like(sorted_sequence, values)
    return torch.searchsorted(seq, values.to(seq.dtype), side=side)


def digitize(x: Any, bins: Any) -> Tensor:
    """The bin of each entry: ``i`` with ``bins[i-1] <= x < bins[i]`` (NumPy's ``digitize``).

    Args:
        x: a tensor.
        bins: increasing 1-D bin edges.

    Returns:
        ``int64`` bin indices.

    Example:
        >>> digitize(torch.tensor([0.5, 1.0, 2.5]), torch.tensor([1.0, 2.0]))
        tensor([0, 1, 2])
    """
    x, bins = tensors_like(x, bins)
    return torch.bucketize(x, bins.to(x.dtype), right=True)


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each entry of ``x1`` is in ``x2``.

    Args:
        x1: a tensor.
        x2: the values looked for.
        assume_unique: both hold unique values (a speed hint).
        invert: return "not in" instead.

    Returns:
        A boolean tensor of ``x1``'s shape.

    Example:
        >>> isin(torch.tensor([1, 2, 3]), torch.tensor([2, 5]))
        tensor([False,  True, False])
    """
    x1, x2 = tensors_like(x1, x2)
    return torch.isin(x1, x2, assume_unique=assume_unique, invert=invert)


def isclose(
    x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> Tensor:
    """Whether ``|x1 - x2| <= atol + rtol * |x2|``, element-wise.

    Args:
        x1: a tensor.
        x2: a tensor.
        rtol: the relative tolerance.
        atol: the absolute tolerance.
        equal_nan: count NaN equal to NaN.

    Returns:
        A boolean tensor.

    Example:
        >>> isclose(torch.tensor([1.0, 1.1]), 1.0)
        tensor([ True, False])
    """
    a, b = tensors_like(x1, x2)
    dtype = torch.promote_types(a.dtype, b.dtype)
    a, b = torch.broadcast_tensors(a.to(dtype), b.to(dtype))
    return torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(
    x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> Tensor:
    """Whether :func:`isclose` holds everywhere.

    Args:
        x1: a tensor.
        x2: a tensor.
        rtol: the relative tolerance.
        atol: the absolute tolerance.
        equal_nan: count NaN equal to NaN.

    Returns:
        A boolean scalar tensor.

    Example:
        >>> allclose(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-9]))
        tensor(True)
    """
    return isclose(x1, x2, rtol, atol, equal_nan).all()


def nonzero(x: Any) -> tuple[Tensor, ...]:
    """The indices of the nonzero entries, one tensor per axis (NumPy's ``nonzero``).

    Args:
        x: a tensor.

    Returns:
        A tuple of ``int64`` index tensors.

    Example:
        >>> nonzero(torch.tensor([0, 3, 0, 4]))
        (tensor([1, 3]),)
    """
    return torch.nonzero(convert_to_tensor(x), as_tuple=True)


def unravel_index(indices: Any, shape: Sequence[int]) -> tuple[Tensor, ...]:
    """Flat indices as one index per axis of ``shape`` (C order).

    Args:
        indices: flat indices.
        shape: the array's shape.

    Returns:
        A tuple of index tensors.

    Example:
        >>> unravel_index(torch.tensor([5]), (2, 3))
        (tensor([1]), tensor([2]))
    """
    return tuple(torch.unravel_index(convert_to_tensor(indices).long(), tuple(shape)))


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Tensor:
    """From the first true condition's choice, element-wise, else ``default`` (``np.select``).

    Args:
        condlist: boolean tensors.
        choicelist: one tensor per condition.
        default: where no condition holds.

    Returns:
        The selected tensor.

    Example:
        >>> x = torch.tensor([-2, 0, 3])
        >>> select([x < 0, x > 0], [x * 10, x * 100], default=-1)
        tensor([-20,  -1, 300])
    """
    conds = tensors_like(*condlist)
    choices = tensors_like(*choicelist, *conds[:1])[: len(choicelist)]
    out = convert_to_tensor(default, device=choices[0].device)
    for cond, choice in reversed(list(zip(conds, choices))):
        out = torch.where(cond.bool(), choice, out)
    return out


def diff(a: Any, n: int = 1, axis: int = -1) -> Tensor:
    """The ``n``-th discrete difference along ``axis``.

    Args:
        a: a tensor.
        n: how many times to difference.
        axis: the axis.

    Returns:
        The differences (``n`` shorter along ``axis``).

    Example:
        >>> diff(torch.tensor([1, 4, 9, 16]))
        tensor([3, 5, 7])
    """
    return torch.diff(convert_to_tensor(a), n=n, dim=axis)


def cross(
    x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None
) -> Tensor:
    """The cross product of 3-vectors (NumPy's ``cross``; 2-vectors unsupported).

    Args:
        x1: vectors along ``axisa``.
        x2: vectors along ``axisb``.
        axisa: the vector axis of ``x1``.
        axisb: the vector axis of ``x2``.
        axisc: the vector axis of the result.
        axis: sets all three when given.

    Returns:
        The cross products.

    Example:
        >>> cross(torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0]))
        tensor([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = tensors_like(x1, x2)
    dtype = torch.promote_types(a.dtype, b.dtype)
    a, b = a.to(dtype).movedim(axisa, -1), b.to(dtype).movedim(axisb, -1)
    a, b = torch.broadcast_tensors(a, b)
    return torch.linalg.cross(a, b, dim=-1).movedim(-1, axisc)
