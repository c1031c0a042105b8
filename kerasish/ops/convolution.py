"""``keras.ops.nn``' convolution and pooling with Keras's kernel layout and padding rules.

Kernels are KERAS-shaped: ``conv``'s ``(*kernel_size, in_channels / groups, out_channels)``,
``depthwise_conv``'s ``(*kernel_size, in_channels, multiplier)``. ``data_format=None`` is
:func:`kerasish.config.image_data_format` (``"channels_first"`` unless set; Keras's own
default is ``"channels_last"``). ``padding="same"`` pads as Keras (TensorFlow) does, the odd
pixel after, for any stride; ``average_pool`` with ``"same"`` averages the real pixels only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kerasish import config
from kerasish.ops.core import convert_to_tensor, tensors_like

__all__ = ["average_pool", "conv", "depthwise_conv", "max_pool"]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _tuple(value: int | Sequence[int], n: int, name: str) -> tuple[int, ...]:
    out = (int(value),) * n if isinstance(value, int) else tuple(int(v) for v in value)
    if len(out) != n:
        raise ValueError(f"Expected `{name}` to be an int or {n} ints. Received: {name}={value}")
    return out


def _layout(inputs: Tensor, data_format: str | None) -> tuple[Tensor, bool]:
    """The input as channels-first, and whether to move the channels back at the end."""
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(
            "Expected `data_format` to be 'channels_first' or 'channels_last'. "
            f"Received: data_format={data_format!r}"
        )
    last = data_format == "channels_last"
    return (inputs.movedim(-1, 1) if last else inputs), last


def _same_pads(size: Sequence[int], kernel: Sequence[int], strides: Sequence[int],
               dilation: Sequence[int]) -> list[int]:  # fmt: skip
    """``F.pad``'s list (last axis first) for Keras's ``"same"``: the odd pixel goes after."""
    pads: list[int] = []
    for n, k, s, d in reversed(list(zip(size, kernel, strides, dilation))):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return pads


def _check_padding(padding: str) -> str:
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(
            f"Expected `padding` to be 'valid' or 'same'. Received: padding={padding!r}"
        )
    return padding


def _conv(inputs: Any, weight: Tensor, groups: int | None, strides: Any, padding: str,
          data_format: str | None, dilation_rate: Any) -> Tensor:  # fmt: skip
    """A torch conv of Keras-layout inputs with a torch-layout ``weight`` (groups inferred)."""
    x, last = _layout(inputs, data_format)
    n = x.ndim - 2
    groups = groups or x.shape[1] // weight.shape[1]
    strides, dilation = _tuple(strides, n, "strides"), _tuple(dilation_rate, n, "dilation_rate")
    if _check_padding(padding) == "same":
        x = F.pad(x, _same_pads(x.shape[2:], weight.shape[2:], strides, dilation))
    out = _CONV[n](x, weight.to(x.dtype), stride=strides, dilation=dilation, groups=groups)
    return out.movedim(1, -1) if last else out


def conv(
    inputs: Any,
    kernel: Any,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> Tensor:
    """An N-D convolution (N = 1, 2, 3) with a Keras-layout kernel.

    Args:
        inputs: ``(batch, *spatial, channels)`` (``"channels_last"``) or
            ``(batch, channels, *spatial)``.
        kernel: ``(*kernel_size, channels / groups, filters)``; ``groups`` is inferred.
        strides: an int or one per spatial axis.
        padding: ``"valid"`` or ``"same"``.
        data_format: see the module docstring.
        dilation_rate: an int or one per spatial axis.

    Returns:
        The output in the same layout.

    Raises:
        ValueError: for a bad padding, data format or argument length.

    Example:
        >>> conv(torch.ones(1, 5, 5, 2), torch.ones(3, 3, 2, 4), padding="same",
        ...      data_format="channels_last").shape
        torch.Size([1, 5, 5, 4])
    """
    inputs, kernel = tensors_like(inputs, kernel)
    n = kernel.ndim - 2
    weight = kernel.permute(n + 1, n, *range(n))  # (out, in / groups, *k)
    x_channels = inputs.shape[
        -1 if (data_format or config.image_data_format()) == "channels_last" else 1
    ]
    groups = x_channels // kernel.shape[-2]
    return _conv(inputs, weight, groups, strides, padding, data_format, dilation_rate)


def depthwise_conv(
    inputs: Any,
    kernel: Any,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> Tensor:
    """A depthwise convolution: each input channel with its own ``multiplier`` filters.

    Args:
        inputs: as :func:`conv`.
        kernel: ``(*kernel_size, channels, multiplier)``.
        strides: an int or one per spatial axis.
        padding: ``"valid"`` or ``"same"``.
        data_format: see the module docstring.
        dilation_rate: an int or one per spatial axis.

    Returns:
        ``channels * multiplier`` output channels, channel ``c``'s filters together.

    Example:
        >>> depthwise_conv(torch.ones(1, 3, 8), torch.ones(3, 3, 2),
        ...                data_format="channels_first").shape
        torch.Size([1, 6, 6])
    """
    inputs, kernel = tensors_like(inputs, kernel)
    n = kernel.ndim - 2
    channels = kernel.shape[-2]
    flat = kernel.reshape(*kernel.shape[:n], 1, channels * kernel.shape[-1])
    weight = flat.permute(n + 1, n, *range(n))
    return _conv(inputs, weight, channels, strides, padding, data_format, dilation_rate)


def _pool_args(inputs: Any, pool_size: Any, strides: Any, data_format: str | None) -> tuple:
    x, last = _layout(convert_to_tensor(inputs), data_format)
    n = x.ndim - 2
    size = _tuple(pool_size, n, "pool_size")
    return x, last, n, size, size if strides is None else _tuple(strides, n, "strides")


def max_pool(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """N-D max pooling (``strides`` default to ``pool_size``).

    Args:
        inputs: as :func:`conv`.
        pool_size: an int or one per spatial axis.
        strides: an int, one per axis, or None.
        padding: ``"valid"`` or ``"same"``.
        data_format: see the module docstring.

    Returns:
        The pooled tensor, same layout.

    Example:
        >>> max_pool(torch.arange(16.0).reshape(1, 1, 4, 4), 2, data_format="channels_first")
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    x, last, n, size, strides = _pool_args(inputs, pool_size, strides, data_format)
    if _check_padding(padding) == "same":
        x = F.pad(x, _same_pads(x.shape[2:], size, strides, (1,) * n), value=-math.inf)
    out = _MAX[n](x, size, strides)
    return out.movedim(1, -1) if last else out


def average_pool(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> Tensor:
    """N-D average pooling; with ``"same"``, the padding is not counted (Keras's rule).

    Args:
        inputs: as :func:`conv`.
        pool_size: an int or one per spatial axis.
        strides: an int, one per axis, or None (``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: see the module docstring.

    Returns:
        The pooled tensor, same layout.

    Example:
        >>> average_pool(torch.ones(1, 3, 1), 2, padding="same", data_format="channels_last")
        tensor([[[1.],
                 [1.]]])
    """
    x, last, n, size, strides = _pool_args(inputs, pool_size, strides, data_format)
    if _check_padding(padding) == "same":
        pads = _same_pads(x.shape[2:], size, strides, (1,) * n)
        ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
        out = _AVG[n](F.pad(x, pads), size, strides) / _AVG[n](F.pad(ones, pads), size, strides)
    else:
        out = _AVG[n](x, size, strides)
    return out.movedim(1, -1) if last else out
