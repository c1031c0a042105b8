"""``keras.ops.nn``: activations, ``one_hot``, cross-entropies, ``moments``, normalization, conv.

Argument names and defaults are ``keras.ops``' (``gelu`` defaults to ``approximate=True``
here, as ``keras.ops.gelu``; ``keras.activations.gelu`` to False). The cross-entropies are
per sample (no reduction) with Keras's clipping of probabilities to ``[1e-7, 1 - 1e-7]``.
Convolution and pooling live in :mod:`kerasish.ops.convolution`, the normalizations in
:mod:`kerasish.ops.normalization`; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kerasish.ops.convolution import average_pool, conv, depthwise_conv, max_pool
from kerasish.ops.core import convert_to_tensor, standardize_dtype, tensors_like
from kerasish.ops.normalization import (
    batch_normalization,
    layer_normalization,
    moments,
    normalize,
    rms_normalization,
)

_EPSILON = 1e-7  # Keras's backend.epsilon()

_ACTIVATIONS: list[tuple[str, Callable[[Tensor], Tensor], str, str, str]] = [
    ("relu", F.relu, "``max(x, 0)``.", "[-1.0, 2.0]", "tensor([0., 2.])"),
    ("relu6", F.relu6, "``min(max(x, 0), 6)``.", "[-1.0, 7.0]", "tensor([0., 6.])"),
    ("sigmoid", torch.sigmoid, "``1 / (1 + exp(-x))``.", "[0.0]", "tensor([0.5000])"),
    ("softplus", F.softplus, "``log(1 + exp(x))``.", "[0.0]", "tensor([0.6931])"),
    ("softsign", F.softsign, "``x / (1 + |x|)``.", "[1.0]", "tensor([0.5000])"),
    ("silu", F.silu, "``x * sigmoid(x)``.", "[1.0]", "tensor([0.7311])"),
    ("swish", F.silu, "``x * sigmoid(x)``.", "[1.0]", "tensor([0.7311])"),
    ("log_sigmoid", F.logsigmoid, "``log(sigmoid(x))``.", "[0.0]", "tensor([-0.6931])"),
    ("hard_sigmoid", F.hardsigmoid, "``relu6(x + 3) / 6``.", "[0.0]", "tensor([0.5000])"),
    ("hard_silu", F.hardswish, "``x * relu6(x + 3) / 6``.", "[1.0]", "tensor([0.6667])"),
    ("hard_swish", F.hardswish, "``x * relu6(x + 3) / 6``.", "[1.0]", "tensor([0.6667])"),
    ("selu", F.selu, "The scaled ELU.", "[1.0]", "tensor([1.0507])"),
    ("mish", F.mish, "``x * tanh(softplus(x))``.", "[1.0]", "tensor([0.8651])"),
    ("tanh_shrink", F.tanhshrink, "``x - tanh(x)``.", "[0.0]", "tensor([0.])"),
    ("hard_tanh", F.hardtanh, "``clip(x, -1, 1)``.", "[2.0]", "tensor([1.])"),
]  # fmt: skip


def _make(name: str, fn: Callable[[Tensor], Tensor], doc: str, ex: str, out: str) -> Callable:
    def op(x: Any) -> Tensor:
        return fn(convert_to_tensor(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (
        f"{doc}\n\n    Args:\n        x: a tensor.\n\n    Returns:\n        The activation.\n\n"
        f"    Example:\n        >>> {name}(torch.tensor({ex}))\n        {out}\n"
    )
    return op


for _row in _ACTIVATIONS:
    globals()[_row[0]] = _make(*_row)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Tensor:
    """``x`` above 0, ``negative_slope * x`` below.

    Args:
        x: a tensor.
        negative_slope: the slope (Keras's default 0.2).

    Returns:
        The activation.

    Example:
        >>> leaky_relu(torch.tensor([-1.0]))
        tensor([-0.2000])
    """
    return F.leaky_relu(convert_to_tensor(x), negative_slope)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """``x`` above 0, ``alpha * (exp(x) - 1)`` below.

    Args:
        x: a tensor.
        alpha: the scale.

    Returns:
        The activation.

    Example:
        >>> elu(torch.tensor([0.0]))
        tensor([0.])
    """
    return F.elu(convert_to_tensor(x), alpha)


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """The continuously differentiable ELU.

    Args:
        x: a tensor.
        alpha: the scale.

    Returns:
        The activation.

    Example:
        >>> celu(torch.tensor([1.0]))
        tensor([1.])
    """
    return F.celu(convert_to_tensor(x), alpha)


def gelu(x: Any, approximate: bool = True) -> Tensor:
    """GELU; the tanh approximation by default (``keras.ops.gelu``'s default).

    Args:
        x: a tensor.
        approximate: use the tanh form.

    Returns:
        The activation.

    Example:
        >>> gelu(torch.tensor([1.0]), approximate=False)
        tensor([0.8413])
    """
    return F.gelu(convert_to_tensor(x), approximate="tanh" if approximate else "none")


def glu(x: Any, axis: int = -1) -> Tensor:
    """``a * sigmoid(b)`` for the two halves of ``x`` along ``axis``.

    Args:
        x: a tensor.
        axis: the axis split.

    Returns:
        The activation.

    Example:
        >>> glu(torch.tensor([2.0, 0.0]))
        tensor([1.])
    """
    return F.glu(convert_to_tensor(x), dim=axis)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``.

    Args:
        x: a tensor.
        axis: the axis.

    Returns:
        The probabilities.

    Example:
        >>> softmax(torch.tensor([0.0, 0.0]))
        tensor([0.5000, 0.5000])
    """
    return torch.softmax(convert_to_tensor(x), dim=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``log(softmax(x))`` along ``axis``.

    Args:
        x: a tensor.
        axis: the axis.

    Returns:
        The log-probabilities.

    Example:
        >>> log_softmax(torch.tensor([0.0, 0.0]))
        tensor([-0.6931, -0.6931])
    """
    return torch.log_softmax(convert_to_tensor(x), dim=axis)


def one_hot(
    x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False
) -> Tensor:
    """One-hot vectors of integer labels; labels outside ``[0, num_classes)`` give zeros.

    Args:
        x: integer labels.
        num_classes: the number of classes.
        axis: where the class axis goes.
        dtype: the dtype (default: torch's default float).
        sparse: unsupported (must be False).

    Returns:
        The one-hot tensor.

    Raises:
        ValueError: for ``sparse=True``.

    Example:
        >>> one_hot(torch.tensor([0, 2, -1]), 3)
        tensor([[1., 0., 0.],
                [0., 0., 1.],
                [0., 0., 0.]])
    """
    if sparse:
        raise ValueError(
            "Expected sparse=False (kerasish has no sparse tensors). Received: sparse=True"
        )
    x = convert_to_tensor(x).long()
    valid = (x >= 0) & (x < num_classes)
    out = F.one_hot(torch.where(valid, x, 0), num_classes) * valid[..., None]
    out = out.to(standardize_dtype(dtype) or torch.get_default_dtype())
    return out.movedim(-1, axis)


def multi_hot(inputs: Any, num_classes: int, axis: int = -1, dtype: Any = None) -> Tensor:
    """Multi-hot vectors: 1 for every label in each row of ``inputs``.

    Args:
        inputs: ``(batch, labels)`` integer labels (or 1-D for one sample).
        num_classes: the number of classes.
        axis: where the class axis goes.
        dtype: the dtype.

    Returns:
        ``(batch, num_classes)``.

    Example:
        >>> multi_hot(torch.tensor([[0, 2]]), 3)
        tensor([[1., 0., 1.]])
    """
    x = convert_to_tensor(inputs)
    hot = one_hot(x, num_classes, dtype=dtype).amax(dim=-2)
    return hot.movedim(-1, axis)


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Tensor:
    """Element-wise binary cross-entropy (no reduction), as ``keras.ops.binary_crossentropy``.

    Args:
        target: the labels in ``[0, 1]``.
        output: probabilities (clipped to ``[1e-7, 1 - 1e-7]``), or logits.
        from_logits: whether ``output`` is logits.

    Returns:
        A tensor of ``output``'s shape.

    Raises:
        ValueError: if the shapes differ.

    Example:
        >>> binary_crossentropy(torch.tensor([1.0]), torch.tensor([0.5]))
        tensor([0.6931])
    """
    target, output = tensors_like(target, output)
    if target.shape != output.shape:
        raise ValueError(
            "Expected `target` and `output` of the same shape. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    target = target.to(output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = output.clamp(_EPSILON, 1.0 - _EPSILON)
    return F.binary_cross_entropy(output, target, reduction="none")


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0.

    Args:
        x: a tensor.
        threshold: the cut.

    Returns:
        The activation.

    Example:
        >>> hard_shrink(torch.tensor([0.2, 1.0]))
        tensor([0., 1.])
    """
    return F.hardshrink(convert_to_tensor(x), threshold)


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """``x`` moved ``threshold`` toward 0, and 0 within ``threshold``.

    Args:
        x: a tensor.
        threshold: the cut.

    Returns:
        The activation.

    Example:
        >>> soft_shrink(torch.tensor([0.2, 1.0]))
        tensor([0.0000, 0.5000])
    """
    return F.softshrink(convert_to_tensor(x), threshold)


def squareplus(x: Any, b: float = 4) -> Tensor:
    """``(x + sqrt(x**2 + b)) / 2``.

    Args:
        x: a tensor.
        b: the smoothness.

    Returns:
        The activation.

    Example:
        >>> squareplus(torch.tensor([0.0]))
        tensor([1.])
    """
    x = convert_to_tensor(x)
    return (x + torch.sqrt(x * x + b)) / 2


def sparse_plus(x: Any) -> Tensor:
    """0 below -1, ``(x + 1)**2 / 4`` on ``(-1, 1)``, ``x`` from 1 (Keras's ``sparse_plus``).

    Args:
        x: a tensor.

    Returns:
        The activation.

    Example:
        >>> sparse_plus(torch.tensor([-2.0, 0.0, 2.0]))
        tensor([0.0000, 0.2500, 2.0000])
    """
    x = convert_to_tensor(x)
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, (x + 1) ** 2 / 4, x))


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``.

    Args:
        x: a tensor.
        threshold: the cut.
        default_value: the value at or below it.

    Returns:
        The tensor.

    Example:
        >>> threshold(torch.tensor([0.5, 2.0]), 1.0, -1.0)
        tensor([-1.,  2.])
    """
    return F.threshold(convert_to_tensor(x), threshold, default_value)


def psnr(x1: Any, x2: Any, max_val: float) -> Tensor:
    """The peak signal-to-noise ratio, ``20 log10(max_val) - 10 log10(mse)``, over all entries.

    Args:
        x1: a tensor.
        x2: a tensor of the same shape.
        max_val: the largest possible value.

    Returns:
        A scalar, in dB.

    Raises:
        ValueError: if the shapes differ.

    Example:
        >>> psnr(torch.zeros(4), torch.full((4,), 0.1), 1.0)
        tensor(20.)
    """
    a, b = tensors_like(x1, x2)
    if a.shape != b.shape:
        raise ValueError(f"Expected x1 and x2 of the same shape. Received: {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")  # fmt: skip
    mse = ((a - b) ** 2).mean()
    return 20 * torch.log10(torch.as_tensor(max_val, dtype=mse.dtype)) - 10 * torch.log10(mse)


def _attention_mask(logits: Tensor, mask: Any, is_causal: bool) -> Tensor:
    if mask is not None:
        m = convert_to_tensor(mask, device=logits.device).bool()
        logits = logits.masked_fill(~m, torch.finfo(logits.dtype).min)
    if is_causal:
        t, s = logits.shape[-2:]
        causal = torch.ones(t, s, dtype=torch.bool, device=logits.device).tril()
        logits = logits.masked_fill(~causal, torch.finfo(logits.dtype).min)
    return logits


def dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    bias: Any = None,
    mask: Any = None,
    scale: float | None = None,
    is_causal: bool = False,
    flash_attention: bool | None = None,
    attn_logits_soft_cap: float | None = None,
) -> Tensor:
    """Scaled dot-product attention in Keras's layout ``(batch, seq, heads, dim)``.

    ``softmax(q k^T * scale + bias)`` with ``mask`` (True attends) and the causal mask, then
    times ``v``. Grouped heads work: ``key``/``value`` may have fewer heads, dividing those of
    ``query``. 3-D inputs ``(batch, seq, dim)`` are one head.

    Args:
        query: ``(B, T, N, H)``.
        key: ``(B, S, K, H)``.
        value: ``(B, S, K, H)``.
        bias: added to the logits, broadcast to ``(B, N, T, S)``.
        mask: boolean, broadcast to ``(B, N, T, S)``.
        scale: the logit scale (default ``1 / sqrt(H)``).
        is_causal: attend only to earlier positions.
        flash_attention: ignored (torch picks its kernel).
        attn_logits_soft_cap: cap the logits with ``cap * tanh(logits / cap)``.

    Returns:
        ``(B, T, N, H)``.

    Example:
        >>> q = torch.randn(2, 5, 4, 8)
        >>> dot_product_attention(q, q, q, is_causal=True).shape
        torch.Size([2, 5, 4, 8])
    """
    q, k, v = tensors_like(query, key, value)
    single = q.ndim == 3
    q, k, v = (t[:, :, None] if single else t for t in (q, k, v))
    k = k.repeat_interleave(q.shape[2] // k.shape[2], dim=2)
    v = v.repeat_interleave(q.shape[2] // v.shape[2], dim=2)
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    logits = torch.einsum("btnh,bsnh->bnts", q, k) * scale
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * torch.tanh(logits / attn_logits_soft_cap)
    if bias is not None:
        logits = logits + convert_to_tensor(bias, dtype=logits.dtype, device=logits.device)
    probs = torch.softmax(_attention_mask(logits, mask, is_causal).float(), dim=-1)
    out = torch.einsum("bnts,bsnh->btnh", probs.to(v.dtype), v)
    return out[:, :, 0] if single else out


def _log_probs(output: Tensor, from_logits: bool, axis: int) -> Tensor:
    if from_logits:
        return torch.log_softmax(output, dim=axis)
    output = output / output.sum(dim=axis, keepdim=True)
    return torch.log(output.clamp(_EPSILON, 1.0 - _EPSILON))


def categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Per-sample categorical cross-entropy of one-hot ``target``.

    Probabilities are renormalized along ``axis`` and clipped as Keras does.

    Args:
        target: one-hot (or soft) labels.
        output: probabilities, or logits.
        from_logits: whether ``output`` is logits.
        axis: the class axis.

    Returns:
        ``output``'s shape without ``axis``.

    Raises:
        ValueError: if the shapes differ.

    Example:
        >>> categorical_crossentropy(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.5, 0.5]]))
        tensor([0.6931])
    """
    target, output = tensors_like(target, output)
    if target.shape != output.shape:
        raise ValueError(
            "Expected `target` and `output` of the same shape. Received: "
            f"target.shape={tuple(target.shape)}, output.shape={tuple(output.shape)}"
        )
    return -(target.to(output.dtype) * _log_probs(output, from_logits, axis)).sum(dim=axis)


def sparse_categorical_crossentropy(
    target: Any, output: Any, from_logits: bool = False, axis: int = -1
) -> Tensor:
    """Per-sample categorical cross-entropy of integer ``target``.

    Args:
        target: class indices, ``output``'s shape without ``axis`` (a trailing 1 is dropped).
        output: probabilities, or logits.
        from_logits: whether ``output`` is logits.
        axis: the class axis.

    Returns:
        ``target``'s shape.

    Example:
        >>> sparse_categorical_crossentropy(torch.tensor([1]), torch.tensor([[0.5, 0.5]]))
        tensor([0.6931])
    """
    target, output = tensors_like(target, output)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    log_probs = _log_probs(output, from_logits, axis)
    labels = one_hot(target, output.shape[axis], axis=axis, dtype=output.dtype)
    return -(labels * log_probs).sum(dim=axis)


__all__ = [
    *(row[0] for row in _ACTIVATIONS),
    "average_pool", "batch_normalization", "binary_crossentropy", "categorical_crossentropy",
    "celu", "conv", "depthwise_conv", "elu", "gelu", "glu", "leaky_relu", "log_softmax",
    "max_pool", "moments", "multi_hot", "normalize", "one_hot", "softmax", "layer_normalization",
    "rms_normalization", "dot_product_attention", "hard_shrink", "soft_shrink", "squareplus",
    "sparse_plus", "threshold", "psnr",
    "sparse_categorical_crossentropy",
]  # fmt: skip
