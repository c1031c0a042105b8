"""``keras.ops``' NumPy-like reductions, scans and sorts: ``sum``, ``mean``, ``argmax``, ...

``axis`` is an int, a tuple/list of ints, or ``None`` for all axes (NumPy's); index results
are torch's ``int64`` (Keras gives ``int32``); ``std`` and ``var`` are the population ones
(``ddof=0``), as NumPy's and Keras's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, standardize_dtype

__all__ = [
    "all", "any", "argmax", "argmin", "argsort", "count_nonzero", "cumprod", "cumsum", "max",
    "mean", "median", "min", "prod", "sort", "std", "sum", "unique", "var",
]  # fmt: skip

Axis = int | tuple[int, ...] | list[int] | None


def _dims(x: Tensor, axis: Axis) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _float(x: Tensor) -> Tensor:
    return x if x.is_floating_point() or x.is_complex() else x.to(torch.get_default_dtype())


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """The sum over ``axis`` (all axes when ``None``).

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes with size 1.

    Returns:
        The sum.

    Example:
        >>> sum(torch.tensor([[1, 2], [3, 4]]), axis=0)
        tensor([4, 6])
    """
    x = convert_to_tensor(x)
    return torch.sum(x, dim=_dims(x, axis), keepdim=keepdims) if x.ndim else x.clone()


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The mean over ``axis`` (integers are averaged as floats).

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The mean.

    Example:
        >>> mean(torch.tensor([1, 2]))
        tensor(1.5000)
    """
    x = _float(convert_to_tensor(x))
    return torch.mean(x, dim=_dims(x, axis), keepdim=keepdims) if x.ndim else x.clone()


def _extreme(fn: Any, x: Any, axis: Axis, keepdims: bool, initial: Any) -> Tensor:
    x = convert_to_tensor(x)
    out = fn(x, dim=_dims(x, axis), keepdim=keepdims) if x.ndim else x.clone()
    if initial is not None:
        bound = torch.as_tensor(initial, dtype=out.dtype, device=out.device)
        out = torch.maximum(out, bound) if fn is torch.amax else torch.minimum(out, bound)
    return out


def max(x: Any, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """The maximum over ``axis``; ``initial`` is a floor on the result.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.
        initial: a value the result may not go below.

    Returns:
        The maximum.

    Example:
        >>> max(torch.tensor([[1, 5], [3, 2]]), axis=1)
        tensor([5, 3])
    """
    return _extreme(torch.amax, x, axis, keepdims, initial)


def min(x: Any, axis: Axis = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """The minimum over ``axis``; ``initial`` is a ceiling on the result.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.
        initial: a value the result may not go above.

    Returns:
        The minimum.

    Example:
        >>> min(torch.tensor([[1, 5], [3, 2]]), axis=1)
        tensor([1, 2])
    """
    return _extreme(torch.amin, x, axis, keepdims, initial)


def prod(x: Any, axis: Axis = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """The product over ``axis``.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.
        dtype: the dtype of the result.

    Returns:
        The product.

    Example:
        >>> prod(torch.tensor([[1, 2], [3, 4]]))
        tensor(24)
    """
    out = convert_to_tensor(x, dtype=dtype)
    for d in sorted((d % out.ndim for d in _dims(out, axis)), reverse=True):
        out = torch.prod(out, dim=d, keepdim=keepdims)
    return out


def var(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The population variance (``ddof=0``) over ``axis``.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The variance.

    Example:
        >>> var(torch.tensor([1.0, 3.0]))
        tensor(1.)
    """
    x = _float(convert_to_tensor(x))
    return torch.var(x, dim=_dims(x, axis), correction=0, keepdim=keepdims)


def std(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The population standard deviation (``ddof=0``) over ``axis``.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The standard deviation.

    Example:
        >>> std(torch.tensor([1.0, 3.0]))
        tensor(1.)
    """
    x = _float(convert_to_tensor(x))
    return torch.std(x, dim=_dims(x, axis), correction=0, keepdim=keepdims)


def median(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The median over ``axis`` (the mean of the middle two for an even count, as NumPy).

    Args:
        x: a tensor.
        axis: one axis or None.
        keepdims: keep the reduced axis.

    Returns:
        The median.

    Example:
        >>> median(torch.tensor([1.0, 4.0, 2.0, 3.0]))
        tensor(2.5000)
    """
    x = _float(convert_to_tensor(x))
    if axis is None:
        out = torch.quantile(x.flatten(), 0.5)
        return out.reshape([1] * x.ndim) if keepdims else out
    return torch.quantile(x, 0.5, dim=axis, keepdim=keepdims)


def _arg(fn: Any, x: Any, axis: int | None, keepdims: bool) -> Tensor:
    x = convert_to_tensor(x)
    if axis is None:
        out = fn(x.flatten())
        return out.reshape([1] * x.ndim) if keepdims else out
    return fn(x, dim=axis, keepdim=keepdims)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the maximum along ``axis`` (of the flattened ``x`` when ``None``).

    Args:
        x: a tensor.
        axis: the axis, or None.
        keepdims: keep the reduced axis.

    Returns:
        The ``int64`` indices.

    Example:
        >>> argmax(torch.tensor([[1, 5], [3, 2]]), axis=1)
        tensor([1, 0])
    """
    return _arg(torch.argmax, x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """The index of the minimum along ``axis`` (of the flattened ``x`` when ``None``).

    Args:
        x: a tensor.
        axis: the axis, or None.
        keepdims: keep the reduced axis.

    Returns:
        The ``int64`` indices.

    Example:
        >>> argmin(torch.tensor([[1, 5], [3, 2]]))
        tensor(0)
    """
    return _arg(torch.argmin, x, axis, keepdims)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """The cumulative sum along ``axis`` (of the flattened ``x`` when ``None``).

    Args:
        x: a tensor.
        axis: the axis, or None.
        dtype: the dtype of the result.

    Returns:
        The running sums.

    Example:
        >>> cumsum(torch.tensor([1, 2, 3]))
        tensor([1, 3, 6])
    """
    x = convert_to_tensor(x)
    x = x.flatten() if axis is None else x
    return torch.cumsum(x, dim=0 if axis is None else axis, dtype=standardize_dtype(dtype))


def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """The cumulative product along ``axis`` (of the flattened ``x`` when ``None``).

    Args:
        x: a tensor.
        axis: the axis, or None.
        dtype: the dtype of the result.

    Returns:
        The running products.

    Example:
        >>> cumprod(torch.tensor([1, 2, 3]))
        tensor([1, 2, 6])
    """
    x = convert_to_tensor(x)
    x = x.flatten() if axis is None else x
    return torch.cumprod(x, dim=0 if axis is None else axis, dtype=standardize_dtype(dtype))


def _logical(fn: Any, x: Any, axis: Axis, keepdims: bool) -> Tensor:
    x = convert_to_tensor(x).bool()
    out = x
    for d in sorted((d % max(x.ndim, 1) for d in _dims(x, axis)), reverse=True):
        out = fn(out, dim=d, keepdim=keepdims)
    return out


def all(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every entry along ``axis`` is true (nonzero).

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        A boolean tensor.

    Example:
        >>> all(torch.tensor([[True, False], [True, True]]), axis=1)
        tensor([False,  True])
    """
    return _logical(torch.all, x, axis, keepdims)


def any(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether some entry along ``axis`` is true (nonzero).

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        A boolean tensor.

    Example:
        >>> any(torch.tensor([0, 0, 3]))
        tensor(True)
    """
    return _logical(torch.any, x, axis, keepdims)


def count_nonzero(x: Any, axis: Axis = None) -> Tensor:
    """The number of nonzero entries along ``axis``.

    Args:
        x: a tensor.
        axis: the axis or axes.

    Returns:
        The ``int64`` counts.

    Example:
        >>> count_nonzero(torch.tensor([0, 1, 2]))
        tensor(2)
    """
    x = convert_to_tensor(x)
    return torch.count_nonzero(x, dim=_dims(x, axis))


def sort(x: Any, axis: int = -1) -> Tensor:
    """``x`` sorted in ascending order along ``axis`` (stable).

    Args:
        x: a tensor.
        axis: the axis.

    Returns:
        The sorted tensor.

    Example:
        >>> sort(torch.tensor([3, 1, 2]))
        tensor([1, 2, 3])
    """
    return torch.sort(convert_to_tensor(x), dim=axis, stable=True).values


def argsort(x: Any, axis: int = -1) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (stable).

    Args:
        x: a tensor.
        axis: the axis.

    Returns:
        The ``int64`` indices.

    Example:
        >>> argsort(torch.tensor([3, 1, 2]))
        tensor([1, 2, 0])
    """
    return torch.sort(convert_to_tensor(x), dim=axis, stable=True).indices


def unique(
    x: Any,
    sorted: bool = True,  # noqa: A002
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: int | None = None,
) -> Any:
    """The unique values of ``x`` (of the flattened ``x`` unless ``axis``), sorted.

    Args:
        x: a tensor.
        sorted: sort the values (torch always does for CPU and CUDA).
        return_inverse: also return where each entry's value is in the result.
        return_counts: also return how often each value occurs.
        axis: unique slices along this axis instead.

    Returns:
        The values, or a tuple with the inverse indices and/or the counts.

    Example:
        >>> unique(torch.tensor([3, 1, 3, 2]))
        tensor([1, 2, 3])
    """
    return torch.unique(
        convert_to_tensor(x),
        sorted=sorted,
        return_inverse=return_inverse,
        return_counts=return_counts,
        dim=axis,
    )
