"""Normalization layers: BatchNormalization (any rank), LayerNormalization, Group- and UnitNormalization."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm, _LazyNormBase
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from kerasish import config
from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_fraction, check_positive_float, is_int

__all__ = ["BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization"]


class _AnyRankBatchNorm(_BatchNorm):
    """Batch norm over axis 1 of any input of rank >= 2 (what the lazy one becomes)."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(
                "Expected input of rank >= 2 (N, C, ...). "
                f"Received: input.shape={tuple(input.shape)}"
            )


class _LazyBatchNorm(_LazyNormBase, _AnyRankBatchNorm):
    """Lazy batch norm for any rank: the channel count comes from the first input."""

    cls_to_become = _AnyRankBatchNorm


class BatchNormalization(Layer):
    """Batch normalization over the channel axis, for (N, C), (N, C, L) or (N, C, H, W) input.

    Training normalizes with the batch statistics and updates moving averages; eval uses
    the moving averages. Keras's ``momentum`` weighs the old average, so torch's momentum
    is ``1 - momentum`` (0.99 becomes 0.01). As in torch, the moving variance is unbiased.

    Args:
        axis: the channel axis; ``None`` means 1 when
            :func:`kerasish.config.image_data_format` is ``"channels_first"`` and -1 (Keras's
            default) when it is ``"channels_last"``. Pass ``-1`` for (N, T, F) features.
        momentum: moving-average momentum in Keras's sense, in [0, 1].
        epsilon: positive number added to the variance.

    Example:
        >>> layer = BatchNormalization()
        >>> layer(torch.randn(4, 3, 5, 5)).shape
        torch.Size([4, 3, 5, 5])
        >>> layer.bn.num_features
        3
    """

    def __init__(
        self, *, axis: int | None = None, momentum: float = 0.99, epsilon: float = 1e-3
    ) -> None:
        super().__init__()
        if axis is None:
            axis = 1 if config.image_data_format() == "channels_first" else -1
        check(is_int(axis), "an integer", "axis", axis, TypeError)
        self.axis = axis
        self.momentum = check_fraction("momentum", momentum, closed=True)
        self.epsilon = check_positive_float("epsilon", epsilon)
        self.bn = _LazyBatchNorm(eps=self.epsilon, momentum=round(1.0 - self.momentum, 12))

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            self._prepare_build(x)
        if self.axis in (1, 1 - x.ndim):
            return self.bn(x)
        return self.bn(x.movedim(self.axis, 1)).movedim(1, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon}


class _LazyLayerNorm(LazyModuleMixin, nn.LayerNorm):
    """``nn.LayerNorm`` over the last axis whose size comes from the first input."""

    cls_to_become = nn.LayerNorm

    def __init__(self, eps: float) -> None:
        super().__init__(0, eps=eps)
        self.weight = UninitializedParameter()
        self.bias = UninitializedParameter()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params():
            super().reset_parameters()

    def initialize_parameters(self, x: Tensor) -> None:
        if self.has_uninitialized_params():
            with torch.no_grad():
                self.weight.materialize((x.shape[-1],))
                self.bias.materialize((x.shape[-1],))
                self.reset_parameters()
        self.normalized_shape = tuple(self.weight.shape)  # also after a lazy state-dict load


class LayerNormalization(Layer):
    """Layer normalization over the last axis, with learned scale and offset.

    Args:
        epsilon: positive number added to the variance.

    Example:
        >>> layer = LayerNormalization()
        >>> layer(torch.randn(2, 5, 8)).shape
        torch.Size([2, 5, 8])
        >>> layer.norm.normalized_shape
        (8,)
    """

    def __init__(self, *, epsilon: float = 1e-3) -> None:
        super().__init__()
        self.epsilon = check_positive_float("epsilon", epsilon)
        self.norm = _LazyLayerNorm(self.epsilon)

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            self._prepare_build(x)
        return self.norm(x)

    def get_config(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon}


class _LazyAffine(LazyModuleMixin, nn.Module):
    """Optional per-channel scale (ones) and offset (zeros), sized by axis 1 of the first input."""

    def __init__(self, scale: bool, center: bool) -> None:
        super().__init__()
        self.weight = UninitializedParameter() if scale else None
        self.bias = UninitializedParameter() if center else None

    def initialize_parameters(self, x: Tensor) -> None:
        if self.has_uninitialized_params():
            with torch.no_grad():
                for param, fill in ((self.weight, 1.0), (self.bias, 0.0)):
                    if param is not None:
                        param.materialize((x.shape[1],))
                        param.fill_(fill)

    def forward(self, x: Tensor) -> tuple[Tensor | None, Tensor | None]:
        return self.weight, self.bias


class GroupNormalization(Layer):
    """Group normalization: the channels split into ``groups``, each normalized per sample.

    ``F.group_norm`` does the compute; ``groups=1`` is layer normalization over all axes but
    the batch, ``groups=C`` instance normalization.

    Args:
        groups: number of groups; must divide the channel count.
        axis: the channel axis; ``None`` means 1 for ``"channels_first"`` and -1 (Keras's
            default) for ``"channels_last"`` (:func:`kerasish.config.image_data_format`).
        epsilon: positive number added to the variance.
        center: learn an offset per channel (initialized to 0).
        scale: learn a scale per channel (initialized to 1).

    Example:
        >>> GroupNormalization(groups=2)(torch.randn(2, 4, 3, 3)).shape
        torch.Size([2, 4, 3, 3])
    """

    def __init__(
        self,
        groups: int = 32,
        axis: int | None = None,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
    ) -> None:
        super().__init__()
        check(is_int(groups) and groups > 0, "a positive integer", "groups", groups)
        if axis is None:
            axis = 1 if config.image_data_format() == "channels_first" else -1
        check(is_int(axis), "an integer", "axis", axis, TypeError)
        self.groups, self.axis = groups, axis
        self.epsilon = check_positive_float("epsilon", epsilon)
        check(isinstance(center, bool), "a boolean", "center", center, TypeError)
        check(isinstance(scale, bool), "a boolean", "scale", scale, TypeError)
        self.center, self.scale = center, scale
        self.affine = _LazyAffine(scale, center)

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            self._prepare_build(x)
        first = self.axis in (1, 1 - x.ndim)
        x = x if first else x.movedim(self.axis, 1)
        channels = x.shape[1]
        check(
            channels % self.groups == 0,
            f"a channel count divisible by groups={self.groups}",
            "channels",
            channels,
        )
        weight, bias = self.affine(x)
        y = F.group_norm(x, self.groups, weight, bias, self.epsilon)
        return y if first else y.movedim(1, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
        }


class UnitNormalization(Layer):
    """Scales each vector along ``axis`` to unit L2 norm: ``x / max(||x||, 1e-6)`` (Keras's).

    Args:
        axis: the axis, or a tuple of axes, along which the norm is taken (-1 by default).

    Example:
        >>> UnitNormalization()(torch.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """

    def __init__(self, axis: int | tuple[int, ...] = -1) -> None:
        super().__init__()
        axes = (axis,) if is_int(axis) else axis
        ok = isinstance(axes, (tuple, list)) and len(axes) > 0 and all(is_int(a) for a in axes)
        check(ok, "an integer or a tuple of integers", "axis", axis, TypeError)
        self.axis = axis if is_int(axis) else tuple(axis)

    def forward(self, x: Tensor) -> Tensor:
        squares = (x * x).sum(dim=self.axis, keepdim=True)
        return x * torch.rsqrt(squares.clamp(min=1e-12))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}
