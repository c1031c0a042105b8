"""Convolution layers: Conv1D and Conv2D over lazy torch convolutions, with Keras padding."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

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

__all__ = ["Conv1D", "Conv2D"]


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
    ) -> None:
        super().__init__()
        self.filters = check_positive_int("filters", filters)
        self.kernel_size = check_int_tuple("kernel_size", kernel_size, self._rank)
        self.strides = check_int_tuple("strides", strides, self._rank)
        self.padding = check_padding(padding)
        self.dilation_rate = check_int_tuple("dilation_rate", dilation_rate, self._rank)
        self.use_bias = check_bool("use_bias", use_bias)
        self.conv = self._lazy_conv(
            filters,
            self.kernel_size,
            stride=self.strides,
            padding=self._native_padding(),
            dilation=self.dilation_rate,
            bias=use_bias,
        )
        self._activation_id = activation
        self.activation = get_activation(activation)

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
            self._prepare_build(x)
        if self._pad_explicitly:
            pads = same_padding(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)
            if any(pads):
                x = F.pad(x, pads)
        return self.activation(self.conv(x))

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "activation": self._activation_id,
            "use_bias": self.use_bias,
        }


class Conv1D(_Conv):
    """1-D convolution on channels-first ``(N, C, L)`` input; ``C`` is inferred at first call.

    Args:
        filters: number of output channels (positive).
        kernel_size: window length, an int or a 1-tuple.
        strides: step, an int or a 1-tuple.
        padding: ``"valid"`` (none) or ``"same"`` (output length ``ceil(L / strides)``,
            padded as Keras with the odd element on the right).
        dilation_rate: dilation, an int or a 1-tuple.
        activation: activation name, callable or module; ``None`` for none.
        use_bias: whether to add a bias.

    Example:
        >>> Conv1D(8, 3, strides=2, padding="same")(torch.randn(2, 4, 11)).shape
        torch.Size([2, 8, 6])
    """

    _rank = 1
    _lazy_conv = nn.LazyConv1d


class Conv2D(_Conv):
    """2-D convolution on channels-first ``(N, C, H, W)`` input; ``C`` is inferred at first call.

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

    Example:
        >>> Conv2D(16, 3, strides=2, padding="same")(torch.randn(2, 3, 9, 8)).shape
        torch.Size([2, 16, 5, 4])
    """

    _rank = 2
    _lazy_conv = nn.LazyConv2d
