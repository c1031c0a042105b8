"""Normalization layers: BatchNormalization (any rank, axis 1) and LayerNormalization."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm, _LazyNormBase
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_fraction, check_positive_float, is_int

__all__ = ["BatchNormalization", "LayerNormalization"]


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
        axis: the channel axis (PyTorch's 1 by default; ``-1`` for (N, T, F) features).
        momentum: moving-average momentum in Keras's sense, in [0, 1].
        epsilon: positive number added to the variance.

    Example:
        >>> layer = BatchNormalization()
        >>> layer(torch.randn(4, 3, 5, 5)).shape
        torch.Size([4, 3, 5, 5])
        >>> layer.bn.num_features
        3
    """

    def __init__(self, *, axis: int = 1, momentum: float = 0.99, epsilon: float = 1e-3) -> None:
        super().__init__()
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
