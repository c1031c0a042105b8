"""``keras.ops.nn``' normalization ops: ``moments``, ``batch_normalization``, ``normalize``,
``layer_normalization`` and ``rms_normalization`` (Keras's epsilon default 1e-7 where Keras has it).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor

__all__ = [
    "batch_normalization", "layer_normalization", "moments", "normalize", "rms_normalization",
]  # fmt: skip

_EPSILON = 1e-7  # Keras's backend.epsilon()


def moments(
    x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False
) -> tuple[Tensor, Tensor]:
    """The mean and (population) variance over ``axes``; float16 inputs computed in float32.

    Args:
        x: a tensor.
        axes: the axis or axes.
        keepdims: keep the reduced axes.
        synchronized: ignored (kept for Keras; no cross-device reduction here).

    Returns:
        ``(mean, variance)``.

    Example:
        >>> moments(torch.tensor([1.0, 3.0]), axes=0)
        (tensor(2.), tensor(1.))
    """
    x = convert_to_tensor(x)
    low = x.dtype in (torch.float16, torch.bfloat16)
    work = x.float() if low or not x.is_floating_point() else x
    dims = axes if isinstance(axes, int) else tuple(axes)
    var, mean = torch.var_mean(work, dim=dims, correction=0, keepdim=keepdims)
    return (mean.to(x.dtype), var.to(x.dtype)) if low else (mean, var)


def batch_normalization(
    x: Any,
    mean: Any,
    variance: Any,
    axis: int,
    offset: Any = None,
    scale: Any = None,
    epsilon: float = 1e-3,
) -> Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the vectors along ``axis``.

    Args:
        x: a tensor.
        mean: a vector of ``x.shape[axis]`` entries.
        variance: likewise.
        axis: the feature axis.
        offset: optional beta.
        scale: optional gamma.
        epsilon: added to the variance (Keras's default 1e-3).

    Returns:
        The normalized tensor.

    Example:
        >>> batch_normalization(torch.tensor([[2.0]]), torch.tensor([1.0]),
        ...                     torch.tensor([1.0]), axis=-1, epsilon=0.0)
        tensor([[1.]])
    """
    x = convert_to_tensor(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def vec(v: Any) -> Tensor:
        return convert_to_tensor(v, dtype=x.dtype, device=x.device).reshape(shape)

    out = (x - vec(mean)) * torch.rsqrt(vec(variance) + epsilon)
    out = out * vec(scale) if scale is not None else out
    return out + vec(offset) if offset is not None else out


def normalize(x: Any, axis: int = -1, order: int = 2, epsilon: float | None = None) -> Tensor:
    """``x / max(norm(x), epsilon)`` along ``axis`` (epsilon default 1e-7, Keras's).

    Args:
        x: a tensor.
        axis: the axis.
        order: the norm's order.
        epsilon: the lower bound of the norm.

    Returns:
        The normalized tensor.

    Example:
        >>> normalize(torch.tensor([3.0, 4.0]))
        tensor([0.6000, 0.8000])
    """
    x = convert_to_tensor(x)
    norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
    return x / norm.clamp_min(_EPSILON if epsilon is None else epsilon)


def _axes(x: Tensor, axis: Any) -> tuple[int, ...]:
    return tuple(sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)))


def _vector(v: Any, x: Tensor, axes: tuple[int, ...]) -> Tensor | None:
    """A per-feature vector shaped to broadcast over ``x`` along ``axes``."""
    if v is None:
        return None
    v = convert_to_tensor(v, dtype=x.dtype, device=x.device)
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]
    return v.reshape(shape)


def layer_normalization(
    x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1, epsilon: float | None = None
) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis``, computed in float32+.

    Args:
        x: a tensor.
        gamma: optional scale, the shape of the normalized axes.
        beta: optional offset.
        axis: the axis or axes normalized.
        epsilon: added to the variance (default 1e-7, Keras's).

    Returns:
        The normalized tensor, in ``x``'s dtype.

    Example:
        >>> layer_normalization(torch.tensor([[1.0, 3.0]]))
        tensor([[-1.,  1.]])
    """
    x = convert_to_tensor(x)
    work = x if x.dtype == torch.float64 else x.float()
    axes = _axes(work, axis)
    var, mean = torch.var_mean(work, dim=axes, correction=0, keepdim=True)
    out = (work - mean) * torch.rsqrt(var + (_EPSILON if epsilon is None else epsilon))
    g, b = _vector(gamma, work, axes), _vector(beta, work, axes)
    out = out * g if g is not None else out
    out = out + b if b is not None else out
    return out.to(x.dtype)


def rms_normalization(
    x: Any, scale: Any = None, axis: Any = -1, epsilon: float | None = None
) -> Tensor:
    """``x / sqrt(mean(x**2) + epsilon) * scale`` over ``axis``, computed in float32+.

    Args:
        x: a tensor.
        scale: optional scale, the shape of the normalized axes.
        axis: the axis or axes normalized.
        epsilon: added to the mean square (default 1e-7, Keras's).

    Returns:
        The normalized tensor, in ``x``'s dtype.

    Example:
        >>> rms_normalization(torch.tensor([[3.0, 4.0]]), epsilon=0.0)
        tensor([[0.8485, 1.1314]])
    """
    x = convert_to_tensor(x)
    work = x if x.dtype == torch.float64 else x.float()
    axes = _axes(work, axis)
    eps = _EPSILON if epsilon is None else epsilon
    out = work * torch.rsqrt(work.square().mean(dim=axes, keepdim=True) + eps)
    s = _vector(scale, work, axes)
    return (out * s if s is not None else out).to(x.dtype)
