"""``keras.ops``' statistics: quantiles, weighted averages, NaN-ignoring reductions, counts.

``axis`` is an int, a tuple of ints, or ``None`` (all axes), as NumPy's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, tensors_like

__all__ = [
    "amax", "amin", "average", "bincount", "nanmax", "nanmean", "nanmin", "nanprod", "nanstd",
    "nansum", "nanvar", "percentile", "ptp", "quantile",
]  # fmt: skip


def _float(x: Any) -> Tensor:
    x = convert_to_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def _dims(x: Tensor, axis: Any) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def amax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The maximum over ``axis`` (NumPy's ``amax``).

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The maximum.

    Example:
        >>> amax(torch.tensor([[1, 5], [3, 2]]), axis=0)
        tensor([3, 5])
    """
    x = convert_to_tensor(x)
    return torch.amax(x, dim=_dims(x, axis), keepdim=keepdims)


def amin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The minimum over ``axis`` (NumPy's ``amin``).

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The minimum.

    Example:
        >>> amin(torch.tensor([[1, 5], [3, 2]]), axis=0)
        tensor([1, 2])
    """
    x = convert_to_tensor(x)
    return torch.amin(x, dim=_dims(x, axis), keepdim=keepdims)


def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The range, ``max - min``, over ``axis``.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The range.

    Example:
        >>> ptp(torch.tensor([4, 1, 7]))
        tensor(6)
    """
    return amax(x, axis, keepdims) - amin(x, axis, keepdims)


def quantile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> Tensor:
    """The ``q``-th quantiles (``q`` in ``[0, 1]``) over ``axis``, as ``np.quantile``.

    Args:
        x: a tensor.
        q: a number or a 1-D tensor of quantiles (then the first axis of the result).
        axis: one axis, or None (flattened).
        method: ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``.
        keepdims: keep the reduced axis.

    Returns:
        The quantiles.

    Example:
        >>> quantile(torch.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)
        tensor(2.5000)
    """
    x = _float(x)
    q = convert_to_tensor(q, dtype=x.dtype, device=x.device)
    if axis is None:
        out = torch.quantile(x.reshape(-1), q, interpolation=method)
        return out.reshape(*q.shape, *([1] * x.ndim)) if keepdims else out
    return torch.quantile(x, q, dim=axis, keepdim=keepdims, interpolation=method)


def percentile(
    x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> Tensor:
    """The ``q``-th percentiles (``q`` in ``[0, 100]``), as ``np.percentile``.

    Args:
        x: a tensor.
        q: a number or a 1-D tensor of percentiles.
        axis: one axis, or None.
        method: as :func:`quantile`.
        keepdims: keep the reduced axis.

    Returns:
        The percentiles.

    Example:
        >>> percentile(torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), 25)
        tensor(2.)
    """
    return quantile(x, convert_to_tensor(q, dtype=torch.float64) / 100, axis, method, keepdims)


def average(x: Any, axis: int | None = None, weights: Any = None) -> Tensor:
    """The (weighted) mean over ``axis``; 1-D ``weights`` run along ``axis``.

    Args:
        x: a tensor.
        axis: one axis, or None (all).
        weights: optional weights, ``x``'s shape or 1-D along ``axis``.

    Returns:
        The average.

    Example:
        >>> average(torch.tensor([1.0, 3.0]), weights=torch.tensor([3.0, 1.0]))
        tensor(1.5000)
    """
    x = _float(x)
    if weights is None:
        return x.mean() if axis is None else x.mean(dim=axis)
    w = convert_to_tensor(weights, dtype=x.dtype, device=x.device)
    if w.ndim == 1 and x.ndim > 1 and axis is not None:
        shape = [1] * x.ndim
        shape[axis] = -1
        w = w.reshape(shape)
    w = w.broadcast_to(x.shape)
    dims = _dims(x, axis)
    return (x * w).sum(dim=dims) / w.sum(dim=dims)


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """How often each non-negative int occurs in 1-D ``x`` (weighted sums with ``weights``).

    Args:
        x: non-negative integers, 1-D.
        weights: optional weights, ``x``'s shape.
        minlength: the least length of the result.
        sparse: must be False (no sparse tensors).

    Returns:
        ``max(x) + 1`` (or ``minlength``) counts.

    Raises:
        ValueError: for ``sparse=True``.

    Example:
        >>> bincount(torch.tensor([0, 1, 1, 3]))
        tensor([1, 2, 0, 1])
    """
    if sparse:
        raise ValueError("Expected sparse=False (no sparse tensors). Received: sparse=True")
    x, w = tensors_like(x, weights) if weights is not None else (convert_to_tensor(x), None)
    return torch.bincount(x.long(), weights=w, minlength=minlength)


def _nan(name: str, fn: Callable[..., Tensor], fill: Callable[[Tensor], Any], doc: str,
         out: str) -> Callable[..., Tensor]:  # fmt: skip
    """A NaN-ignoring reduction: NaN replaced by ``fill`` before ``fn``."""

    def op(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        x = convert_to_tensor(x)
        if x.is_floating_point():
            x = torch.where(torch.isnan(x), fill(x), x)
        return fn(x, _dims(x, axis), keepdims)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (
        f"{doc}\n\n    Args:\n        x: a tensor.\n        axis: the axis or axes.\n"
        "        keepdims: keep the reduced axes.\n\n    Returns:\n        The result.\n\n"
        f"    Example:\n        >>> {name}(torch.tensor([1.0, float('nan'), 3.0]))\n        {out}\n"
    )
    return op


def _nan_moment(x: Tensor, dims: tuple[int, ...], keepdims: bool, std: bool) -> Tensor:
    count = (~torch.isnan(x)).sum(dim=dims, keepdim=True)
    mean = torch.nansum(x, dim=dims, keepdim=True) / count
    sq = torch.where(torch.isnan(x), 0.0, (x - mean) ** 2)
    out = sq.sum(dim=dims, keepdim=True) / count
    out = out.sqrt() if std else out
    return out if keepdims else out.squeeze(dims)


def _prod(x: Tensor, dims: tuple[int, ...], keepdims: bool) -> Tensor:
    for d in sorted((d % max(x.ndim, 1) for d in dims), reverse=True):
        x = torch.prod(x, dim=d, keepdim=keepdims)
    return x


# fmt: off
nansum = _nan("nansum", lambda x, d, k: torch.sum(x, dim=d, keepdim=k), lambda x: 0,
              "The sum, NaN counted as 0.", "tensor(4.)")
nanprod = _nan("nanprod", _prod, lambda x: 1, "The product, NaN counted as 1.", "tensor(3.)")
nanmax = _nan("nanmax", lambda x, d, k: torch.amax(x, dim=d, keepdim=k), lambda x: -torch.inf,
              "The maximum, ignoring NaN.", "tensor(3.)")
nanmin = _nan("nanmin", lambda x, d, k: torch.amin(x, dim=d, keepdim=k), lambda x: torch.inf,
              "The minimum, ignoring NaN.", "tensor(1.)")
# fmt: on


def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The mean of the entries that are not NaN.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The mean.

    Example:
        >>> nanmean(torch.tensor([1.0, float("nan"), 3.0]))
        tensor(2.)
    """
    x = _float(x)
    return torch.nanmean(x, dim=_dims(x, axis), keepdim=keepdims)


def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The population variance of the entries that are not NaN.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The variance.

    Example:
        >>> nanvar(torch.tensor([1.0, float("nan"), 3.0]))
        tensor(1.)
    """
    x = _float(x)
    return _nan_moment(x, _dims(x, axis), keepdims, std=False)


def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The population standard deviation of the entries that are not NaN.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The standard deviation.

    Example:
        >>> nanstd(torch.tensor([1.0, float("nan"), 3.0]))
        tensor(1.)
    """
    x = _float(x)
    return _nan_moment(x, _dims(x, axis), keepdims, std=True)
