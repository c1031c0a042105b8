"""Convolution layers: Conv1D and Conv2D over lazy torch convolutions, Keras padding and layouts."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from kerasish.layers.activations import ActivationLike, get_activation
from kerasish.layers.base import Layer
from kerasish.layers.checks import (
    IntOrTuple,
    check_bool,
    check_int_tuple,
    check_padding,
    check_positive_int,
    same_padding,
)
from kerasish.layers.layout import (
    check_layout,
    resolve_data_format,
    to_channels_first,
    to_channels_last,
)

__all__ = [
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
]


class _Conv(Layer):
    """Shared body of Conv1D/Conv2D over a ``torch.nn.LazyConv{1,2}d``."""

    _rank = 2
    _lazy_conv: type[nn.Module] = nn.LazyConv2d

    def __init__(
        self,
        filters: int,
        kernel_size: IntOrTuple,
        *,
        strides: IntOrTuple = 1,
        padding: str = "valid",
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
        self.conv = self._make_conv(filters, self._native_padding())
        self._activation_id = activation
        self.activation = get_activation(activation)

    def _make_conv(self, filters: int, padding: tuple[int, ...]) -> nn.Module:
        return self._lazy_conv(
            filters,
            self.kernel_size,
            stride=self.strides,
            padding=padding,
            dilation=self.dilation_rate,
            bias=self.use_bias,
        )

    def _native_padding(self) -> tuple[int, ...]:
        """Symmetric padding torch's conv can apply itself; sets ``_pad_explicitly`` otherwise.

        'same' with stride 1 and an even total pad is symmetric; other 'same' cases need
        the asymmetric Keras padding (extra on the right), applied in ``forward``.
        """
        totals = [(k - 1) * d for k, d in zip(self.kernel_size, self.dilation_rate)]
        same = self.padding == "same"
        self._pad_explicitly = same and (max(self.strides) > 1 or any(t % 2 for t in totals))
        if same and not self._pad_explicitly:
            return tuple(t // 2 for t in totals)
        return (0,) * self._rank

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            if self._check_layout and not self._channels_last:
                check_layout(type(self).__name__, x, self._rank)
            self._prepare_build(x)
        if self._channels_last:
            x = to_channels_first(x)
        if self._pad_explicitly:
            pads = same_padding(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)
            if any(pads):
                x = F.pad(x, pads)
        y = self.conv(x)
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
            "dilation_rate": self.dilation_rate,
            "activation": self._activation_id,
            "use_bias": self.use_bias,
            "data_format": self.data_format,
        }


class Conv1D(_Conv):
    """1-D convolution on ``(N, C, L)`` (or channels-last) input; ``C`` is inferred at first call.

    Args:
        filters: number of output channels (positive).
        kernel_size: window length, an int or a 1-tuple.
        strides: step, an int or a 1-tuple.
        padding: ``"valid"`` (none) or ``"same"`` (output length ``ceil(L / strides)``,
            padded as Keras with the odd element on the right).
        dilation_rate: dilation, an int or a 1-tuple.
        activation: activation name, callable or module; ``None`` for none.
        use_bias: whether to add a bias.
        data_format: ``"channels_first"`` for ``(N, C, L)`` input, ``"channels_last"`` for
            Keras's ``(N, steps, features)``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> Conv1D(8, 3, strides=2, padding="same")(torch.randn(2, 4, 11)).shape
        torch.Size([2, 8, 6])
    """

    _rank = 1
    _lazy_conv = nn.LazyConv1d


class Conv2D(_Conv):
    """2-D convolution on ``(N, C, H, W)`` (or channels-last) input; ``C`` inferred at first call.

    Args:
        filters: number of output channels (positive).
        kernel_size: window size, an int or a ``(height, width)`` tuple.
        strides: step, an int or a 2-tuple.
        padding: ``"valid"`` (none) or ``"same"`` (output ``ceil(H / stride)`` by
            ``ceil(W / stride)``, padded as Keras with the odd row/column at the bottom/right).
        dilation_rate: dilation, an int or a 2-tuple.
        activation: activation name, callable or module; ``None`` for none. Note that
            ``"softmax"`` acts on the last axis (width); pass ``nn.Softmax(dim=1)`` for channels.
        use_bias: whether to add a bias.
        data_format: ``"channels_first"`` for ``(N, C, H, W)`` input, ``"channels_last"`` for
            Keras's ``(N, H, W, C)`` (the output has the same layout); ``None`` means
            :func:`kerasish.config.image_data_format`.

    Raises:
        ValueError: at the first call of a layer left to a channels-first default, when the
            batch looks channels-last (last axis 1, 3 or 4, the others larger than 4).

    Example:
        >>> Conv2D(16, 3, strides=2, padding="same")(torch.randn(2, 3, 9, 8)).shape
        torch.Size([2, 16, 5, 4])
    """

    _rank = 2
    _lazy_conv = nn.LazyConv2d


class Conv3D(_Conv):
    """3-D convolution on ``(N, C, D, H, W)`` (or channels-last ``(N, D, H, W, C)``) input.

    Args:
        filters, kernel_size, strides, padding, dilation_rate, activation, use_bias: as for
            ``Conv2D``, with 3-tuples.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> Conv3D(4, 3, padding="same")(torch.randn(1, 2, 5, 6, 7)).shape
        torch.Size([1, 4, 5, 6, 7])
    """

    _rank = 3
    _lazy_conv = nn.LazyConv3d


class _LazyDepthwiseMixin(LazyModuleMixin):
    """A grouped convolution with one group per input channel, sized by the first input."""

    def __init__(self, multiplier: int, kernel: tuple[int, ...], **kwargs: Any) -> None:
        super().__init__(0, 0, kernel, **kwargs)
        self.multiplier = multiplier
        self.weight = UninitializedParameter()
        if self.bias is not None:
            self.bias = UninitializedParameter()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, x: Tensor) -> None:
        if self.has_uninitialized_params():
            channels = x.shape[1]
            with torch.no_grad():
                self.weight.materialize((channels * self.multiplier, 1, *self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((channels * self.multiplier,))
                self._set_sizes()
                self.reset_parameters()
        self._set_sizes()  # also after a lazy state-dict load

    def _set_sizes(self) -> None:
        self.out_channels = self.weight.shape[0]
        self.in_channels = self.groups = self.out_channels // self.multiplier


class _LazyDepthwise1d(_LazyDepthwiseMixin, nn.Conv1d):
    cls_to_become = nn.Conv1d


class _LazyDepthwise2d(_LazyDepthwiseMixin, nn.Conv2d):
    cls_to_become = nn.Conv2d


class _Depthwise(_Conv):
    """Shared body of the depthwise convolutions: ``depth_multiplier`` filters per channel."""

    _lazy_depthwise: type[nn.Module] = _LazyDepthwise2d

    def __init__(
        self,
        kernel_size: IntOrTuple,
        *,
        strides: IntOrTuple = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        dilation_rate: IntOrTuple = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        data_format: str | None = None,
    ) -> None:
        self.depth_multiplier = check_positive_int("depth_multiplier", depth_multiplier)
        super().__init__(
            1,
            kernel_size,
            strides=strides,
            padding=padding,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            data_format=data_format,
        )

    def _make_conv(self, filters: int, padding: tuple[int, ...]) -> nn.Module:
        return self._lazy_depthwise(
            self.depth_multiplier,
            self.kernel_size,
            stride=self.strides,
            padding=padding,
            dilation=self.dilation_rate,
            bias=self.use_bias,
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["filters"]
        return {**config, "depth_multiplier": self.depth_multiplier}


class DepthwiseConv1D(_Depthwise):
    """Depthwise 1-D convolution: each input channel convolved with its own filters.

    Args:
        kernel_size, strides, padding, dilation_rate, activation, use_bias, data_format: as
            for ``Conv1D``.
        depth_multiplier: output channels per input channel.

    Example:
        >>> DepthwiseConv1D(3, depth_multiplier=2)(torch.randn(2, 4, 9)).shape
        torch.Size([2, 8, 7])
    """

    _rank = 1
    _lazy_depthwise = _LazyDepthwise1d


class DepthwiseConv2D(_Depthwise):
    """Depthwise 2-D convolution: each input channel convolved with its own filters.

    Wraps ``nn.Conv2d(C, C * depth_multiplier, groups=C)`` with ``C`` taken from the first
    input; the parameter count is Keras's (``k*k*C*depth_multiplier`` plus the bias).

    Args:
        kernel_size, strides, padding, dilation_rate, activation, use_bias, data_format: as
            for ``Conv2D``.
        depth_multiplier: output channels per input channel.

    Example:
        >>> DepthwiseConv2D(3, padding="same")(torch.randn(2, 4, 8, 8)).shape
        torch.Size([2, 4, 8, 8])
    """

    _rank = 2
    _lazy_depthwise = _LazyDepthwise2d


class _Separable(_Depthwise):
    """Shared body of the separable convolutions: depthwise, then a pointwise ``filters`` conv."""

    def __init__(
        self,
        filters: int,
        kernel_size: IntOrTuple,
        *,
        strides: IntOrTuple = 1,
        padding: str = "valid",
        depth_multiplier: int = 1,
        dilation_rate: IntOrTuple = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
        data_format: str | None = None,
    ) -> None:
        self._filters_arg = check_positive_int("filters", filters)
        super().__init__(
            kernel_size,
            strides=strides,
            padding=padding,
            depth_multiplier=depth_multiplier,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            data_format=data_format,
        )
        self.filters = self._filters_arg

    def _make_conv(self, filters: int, padding: tuple[int, ...]) -> nn.Module:
        depthwise = self._lazy_depthwise(
            self.depth_multiplier,
            self.kernel_size,
            stride=self.strides,
            padding=padding,
            dilation=self.dilation_rate,
            bias=False,
        )
        pointwise_cls = nn.LazyConv1d if self._rank == 1 else nn.LazyConv2d
        return nn.Sequential(depthwise, pointwise_cls(self._filters_arg, 1, bias=self.use_bias))

    def get_config(self) -> dict[str, Any]:
        return {"filters": self.filters, **super().get_config()}


class SeparableConv1D(_Separable):
    """Depthwise-separable 1-D convolution: a depthwise conv, then a pointwise (1) conv.

    Args:
        filters: output channels of the pointwise convolution.
        kernel_size, strides, padding, dilation_rate, activation, use_bias, data_format: as
            for ``Conv1D`` (the bias belongs to the pointwise convolution).
        depth_multiplier: depthwise channels per input channel.

    Example:
        >>> SeparableConv1D(8, 3)(torch.randn(2, 4, 9)).shape
        torch.Size([2, 8, 7])
    """

    _rank = 1
    _lazy_depthwise = _LazyDepthwise1d


class SeparableConv2D(_Separable):
    """Depthwise-separable 2-D convolution: a depthwise conv, then a pointwise (1x1) conv.

    The parameters are Keras's: ``k*k*C*depth_multiplier`` depthwise, then
    ``C*depth_multiplier*filters`` pointwise and ``filters`` biases.

    Args:
        filters: output channels of the pointwise convolution.
        kernel_size, strides, padding, dilation_rate, activation, use_bias, data_format: as
            for ``Conv2D`` (the bias belongs to the pointwise convolution).
        depth_multiplier: depthwise channels per input channel.

    Example:
        >>> SeparableConv2D(8, 3, padding="same")(torch.randn(2, 4, 9, 9)).shape
        torch.Size([2, 8, 9, 9])
    """

    _rank = 2
    _lazy_depthwise = _LazyDepthwise2d
