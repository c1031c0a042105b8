"""Transposed convolutions: Conv1DTranspose, Conv2DTranspose, Conv3DTranspose, Keras's sizes.

``padding="valid"`` gives ``L * strides + max(kernel - strides, 0)`` per axis (the kernel
dilated) and ``"same"`` gives ``L * strides``: torch's output cropped as TensorFlow's
gradient of a 'same' convolution crops it (the odd element at the end), or zero-padded at
the end when the stride exceeds the kernel. With ``output_padding`` the size is Keras's
``(L - 1) * strides + k - 2 * pad + output_padding`` (``pad = k // 2`` for "same").
"""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from kerasish.layers.activations import ActivationLike, get_activation
from kerasish.layers.base import Layer
from kerasish.layers.checks import (
    IntOrTuple,
    check,
    check_bool,
    check_int_tuple,
    check_padding,
    check_positive_int,
    is_int,
)
from kerasish.layers.layout import (
    check_layout,
    resolve_data_format,
    to_channels_first,
    to_channels_last,
)

__all__ = ["Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"]


class _ConvTranspose(Layer):
    """Shared body of the transposed convolutions over ``torch.nn.LazyConvTranspose{1,2,3}d``."""

    _rank = 2
    _lazy_conv: type[nn.Module] = nn.LazyConvTranspose2d

    def __init__(
        self,
        filters: int,
        kernel_size: IntOrTuple,
        *,
        strides: IntOrTuple = 1,
        padding: str = "valid",
        output_padding: IntOrTuple | None = None,
        dilation_rate: IntOrTuple = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        data_format: str | None = None,
    ) -> None:
        super().__init__()
        self._check_layout = data_format is None  # only a defaulted format is second-guessed
        self.data_format = resolve_data_format(data_format)
        self._channels_last = self.data_format == "channels_last"
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_int_tuple("kernel_size", kernel_size, self._rank)
        self.strides = check_int_tuple("strides", strides, self._rank)
        self.padding = check_padding(padding)
        self.dilation_rate = check_int_tuple("dilation_rate", dilation_rate, self._rank)
        self.use_bias = check_bool("use_bias", use_bias)
        self.output_padding = self._check_output_padding(output_padding)
        self.conv = self._lazy_conv(
            filters,
            self.kernel_size,
            stride=self.strides,
            dilation=self.dilation_rate,
            bias=use_bias,
            **self._torch_padding(),
        )
        self._crop = self._fit_pads() if self.output_padding is None else [0] * (2 * self._rank)
        self._activation_id = activation
        self.activation = get_activation(activation)

    def _check_output_padding(self, value: IntOrTuple | None) -> tuple[int, ...] | None:
        if value is None:
            return None
        values = (value,) * self._rank if is_int(value) else value
        ok = isinstance(values, tuple | list) and len(values) == self._rank
        ok = ok and all(
            is_int(v) and 0 <= v < max(s, d)
            for v, s, d in zip(values, self.strides, self.dilation_rate)
        )
        expected = f"None, or {self._rank} non-negative integers each below its stride"
        check(ok, expected, "output_padding", value)
        return tuple(values)

    def _torch_padding(self) -> dict[str, tuple[int, ...]]:
        """With ``output_padding``, Keras's length ``(L - 1) * stride + k' - 2 * pad +
        output_padding`` (``pad = k' // 2`` for 'same', 0 for 'valid') is torch's own."""
        if self.output_padding is None:
            return {}
        dilated = [d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation_rate)]
        pads = tuple(k // 2 if self.padding == "same" else 0 for k in dilated)
        return {"padding": pads, "output_padding": self.output_padding}

    def _fit_pads(self) -> list[int]:
        """``F.pad`` amounts (negative: crop; last axis first) from torch's to Keras's length.

        Keras: ``L * stride + max(k' - stride, 0)`` for 'valid', ``L * stride`` for 'same',
        with the dilated kernel ``k' = d * (k - 1) + 1``; torch gives ``(L - 1) * stride + k'``.
        """
        pads: list[int] = []
        for k, s, d in zip(*map(reversed, (self.kernel_size, self.strides, self.dilation_rate))):
            extra = d * (k - 1) + 1 - s  # torch's length minus L * stride
            if extra < 0:
                pads += [0, -extra]
            elif self.padding == "same":
                pads += [-(extra // 2), -(extra - extra // 2)]
            else:
                pads += [0, 0]
        return pads

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            if self._check_layout and not self._channels_last:
                check_layout(type(self).__name__, x, self._rank)
            self._prepare_build(x)
        if self._channels_last:
            x = to_channels_first(x)
        y = self.conv(x)
        if any(self._crop):
            y = F.pad(y, self._crop)
        return self.activation(to_channels_last(y) if self._channels_last else y)

    @property
    def kernel(self) -> Any:
        """Keras's kernel, a ``Weight`` view in Keras's layout (None before the first call)."""
        return self.get_weight("kernel")

    @property
    def bias(self) -> Any:
        """Keras's bias, a ``Weight`` view (None without one)."""
        return self.get_weight("bias")

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "output_padding": self.output_padding,
            "dilation_rate": self.dilation_rate,
            "activation": self._activation_id,
            "use_bias": self.use_bias,
            "data_format": self.data_format,
        }


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution ("deconvolution") on ``(N, C, L)`` or ``(N, steps, C)``.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: ints or 1-tuples.
        padding: ``"valid"`` or ``"same"`` (output length ``L * strides``).
        activation: activation name, callable or module; ``None`` for none.
        use_bias: whether to add a bias.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> Conv1DTranspose(4, 3, strides=2, padding="same")(torch.randn(2, 3, 5)).shape
        torch.Size([2, 4, 10])
    """

    _rank = 1
    _lazy_conv = nn.LazyConvTranspose1d


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution ("deconvolution"), as in decoders and GAN generators.

    The parameter count is Keras's: ``kh * kw * C * filters + filters``.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: ints or 2-tuples.
        padding: ``"valid"`` or ``"same"`` (output ``H * stride`` by ``W * stride``).
        output_padding: None, or the extra rows/columns at the end (each below its stride):
            the output is then ``(H - 1) * stride + k - 2 * pad + output_padding`` with
            ``pad = k // 2`` for "same" and 0 for "valid", as Keras.
        activation: activation name, callable or module; ``None`` for none.
        use_bias: whether to add a bias.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> Conv2DTranspose(8, 4, strides=2, padding="same")(torch.randn(2, 3, 7, 7)).shape
        torch.Size([2, 8, 14, 14])
    """

    _lazy_conv = nn.LazyConvTranspose2d


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution on ``(N, C, D, H, W)`` or ``(N, D, H, W, C)`` volumes.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: ints or 3-tuples.
        padding: ``"valid"`` or ``"same"`` (each axis times its stride).
        activation: activation name, callable or module; ``None`` for none.
        use_bias: whether to add a bias.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> Conv3DTranspose(2, 3, strides=2, padding="same")(torch.randn(1, 3, 2, 3, 4)).shape
        torch.Size([1, 2, 4, 6, 8])
    """

    _rank = 3
    _lazy_conv = nn.LazyConvTranspose3d
