"""``keras.ops.math``: ``erf``, ``erfinv``, ``logsumexp``, ``top_k``, ``in_top_k``, segment sums."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, tensors_like

__all__ = [
    "erf", "erfinv", "in_top_k", "logaddexp", "logsumexp", "segment_max", "segment_sum", "top_k",
]  # fmt: skip


def _float(x: Any) -> Tensor:
    x = convert_to_tensor(x)
    return x if x.is_floating_point() else x.to(torch.get_default_dtype())


def erf(x: Any) -> Tensor:
    """The Gauss error function.

    Args:
        x: a tensor.

    Returns:
        ``erf(x)``.

    Example:
        >>> erf(torch.tensor([0.0]))
        tensor([0.])
    """
    return torch.erf(_float(x))


def erfinv(x: Any) -> Tensor:
    """The inverse of :func:`erf`.

    Args:
        x: a tensor in ``(-1, 1)``.

    Returns:
        ``erfinv(x)``.

    Example:
        >>> erfinv(torch.tensor([0.0]))
        tensor([0.])
    """
    return torch.erfinv(_float(x))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis`` (all axes when None), computed stably.

    Args:
        x: a tensor.
        axis: the axis or axes.
        keepdims: keep the reduced axes.

    Returns:
        The result.

    Example:
        >>> logsumexp(torch.tensor([0.0, 0.0]))
        tensor(0.6931)
    """
    x = _float(x)
    dims = tuple(range(x.ndim)) if axis is None else axis
    return torch.logsumexp(x, dim=dims, keepdim=keepdims)


def logaddexp(x1: Any, x2: Any) -> Tensor:
    """``log(exp(x1) + exp(x2))``, computed stably.

    Args:
        x1: a tensor.
        x2: a tensor.

    Returns:
        The result.

    Example:
        >>> logaddexp(torch.tensor([0.0]), torch.tensor([0.0]))
        tensor([0.6931])
    """
    a, b = tensors_like(x1, x2)
    return torch.logaddexp(_float(a), _float(b))


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:  # noqa: A002
    """The ``k`` largest entries along the last axis and their indices.

    Args:
        x: a tensor.
        k: how many.
        sorted: in descending order.

    Returns:
        ``(values, indices)``.

    Example:
        >>> top_k(torch.tensor([1, 4, 2, 3]), 2)
        (tensor([4, 3]), tensor([1, 3]))
    """
    out = torch.topk(convert_to_tensor(x), k, dim=-1, largest=True, sorted=sorted)
    return out.values, out.indices


def in_top_k(targets: Any, predictions: Any, k: int) -> Tensor:
    """Whether each target is among the ``k`` largest predictions of its row.

    Args:
        targets: ``(batch,)`` class indices.
        predictions: ``(batch, classes)`` scores.
        k: how many of the largest count.

    Returns:
        A ``(batch,)`` boolean tensor.

    Example:
        >>> in_top_k(torch.tensor([1, 0]), torch.tensor([[0.1, 0.9], [0.2, 0.8]]), 1)
        tensor([ True, False])
    """
    targets, predictions = tensors_like(targets, predictions)
    target_score = predictions.gather(1, targets.long()[:, None])
    # As Keras's torch backend: a target is in when fewer than k scores beat it.
    return (predictions > target_score).sum(dim=1) < k


def _segments(data: Any, segment_ids: Any, num_segments: int | None) -> tuple[Tensor, Tensor, int]:
    data, ids = tensors_like(data, segment_ids)
    ids = ids.long()
    n = int(ids.max().item()) + 1 if num_segments is None else int(num_segments)
    return data, ids.reshape(-1, *([1] * (data.ndim - 1))).expand_as(data), n


def segment_sum(
    data: Any,
    segment_ids: Any,
    num_segments: int | None = None,
    sorted: bool = False,  # noqa: A002
) -> Tensor:
    """The sums of ``data``'s rows that share a segment id.

    Args:
        data: ``(n, ...)``.
        segment_ids: ``(n,)`` ids in ``[0, num_segments)``.
        num_segments: how many segments (default: the largest id + 1, a host sync).
        sorted: whether the ids are sorted (ignored; kept for Keras).

    Returns:
        ``(num_segments, ...)``.

    Example:
        >>> segment_sum(torch.tensor([1, 2, 3]), torch.tensor([0, 0, 1]))
        tensor([3, 3])
    """
    data, ids, n = _segments(data, segment_ids, num_segments)
    out = torch.zeros((n, *data.shape[1:]), dtype=data.dtype, device=data.device)
    return out.scatter_add_(0, ids, data)


def segment_max(
    data: Any,
    segment_ids: Any,
    num_segments: int | None = None,
    sorted: bool = False,  # noqa: A002
) -> Tensor:
    """The maxima of ``data``'s rows that share a segment id (empty segments: -inf, or the int minimum).

    Args:
        data: ``(n, ...)``.
        segment_ids: ``(n,)`` ids.
        num_segments: how many segments.
        sorted: ignored; kept for Keras.

    Returns:
        ``(num_segments, ...)``.

    Example:
        >>> segment_max(torch.tensor([1, 5, 3]), torch.tensor([0, 0, 1]))
        tensor([5, 3])
    """
    data, ids, n = _segments(data, segment_ids, num_segments)
    out = torch.empty((n, *data.shape[1:]), dtype=data.dtype, device=data.device)
    low = -torch.inf if data.is_floating_point() else torch.iinfo(data.dtype).min
    out.fill_(low)
    return out.scatter_reduce_(0, ids, data, reduce="amax", include_self=True)
