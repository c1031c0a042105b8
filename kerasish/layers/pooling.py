"""Pooling layers: max/average pooling and global pooling, 1-D and 2-D."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from kerasish.layers.base import Layer
from kerasish.layers.checks import (
    IntOrTuple,
    check_bool,
    check_int_tuple,
    check_padding,
    same_padding,
)
from kerasish.layers.layout import (
    check_layout,
    resolve_data_format,
    to_channels_first,
    to_channels_last,
)

__all__ = [
    "MaxPooling1D",
    "AveragePooling1D",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "MaxPooling3D",
    "AveragePooling3D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling3D",
]


class _Pooling(Layer):
    """Shared body of the max/average pooling layers, with Keras 'same' padding."""

    _rank = 2
    _is_max = True
    _pool: Callable[..., Tensor] = staticmethod(F.max_pool2d)

    def __init__(
        self,
        pool_size: IntOrTuple = 2,
        strides: IntOrTuple | None = None,
        *,
        padding: str = "valid",
        data_format: str | None = None,
    ) -> None:
        super().__init__()
        self.pool_size = check_int_tuple("pool_size", pool_size, self._rank)
        self.strides = (
            self.pool_size if strides is None else check_int_tuple("strides", strides, self._rank)
        )
        self.padding = check_padding(padding)
        self._check_layout = data_format is None  # only a defaulted format is second-guessed
        self.data_format = resolve_data_format(data_format)
        self._channels_last = self.data_format == "channels_last"

    def forward(self, x: Tensor) -> Tensor:
        if self._check_layout:
            if not self._channels_last:
                check_layout(type(self).__name__, x, self._rank)
            self._check_layout = False
        if self._channels_last:
            return to_channels_last(self._pool_first(to_channels_first(x)))
        return self._pool_first(x)

    def _pool_first(self, x: Tensor) -> Tensor:
        if self.padding == "same":
            pads = same_padding(x.shape[2:], self.pool_size, self.strides, (1,) * self._rank)
            if any(pads):
                return self._pool_padded(x, pads)
        return self._pool(x, self.pool_size, self.strides)

    def _pool_padded(self, x: Tensor, pads: list[int]) -> Tensor:
        """Pool as Keras 'same' does: padding never wins a max nor counts in an average."""
        if self._is_max:
            return self._pool(F.pad(x, pads, value=-math.inf), self.pool_size, self.strides)
        count = self._pool(
            F.pad(x.new_ones((1, 1, *x.shape[2:])), pads), self.pool_size, self.strides
        )
        return self._pool(F.pad(x, pads), self.pool_size, self.strides) / count

    def get_config(self) -> dict[str, Any]:
        strides = None if self.strides == self.pool_size else self.strides
        return {
            "pool_size": self.pool_size,
            "strides": strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pooling):
    """Max pooling over the last axis of channels-first ``(N, C, L)`` input.

    Args:
        pool_size: window length, an int or a 1-tuple.
        strides: step; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (output length ``ceil(L / strides)``).
        data_format: ``"channels_first"`` for ``(N, C, L)``, ``"channels_last"`` for
            ``(N, steps, features)``; ``None`` means :func:`kerasish.config.image_data_format`.

    Example:
        >>> MaxPooling1D(2)(torch.randn(2, 3, 9)).shape
        torch.Size([2, 3, 4])
    """

    _rank = 1
    _pool = staticmethod(F.max_pool1d)


class AveragePooling1D(_Pooling):
    """Average pooling over the last axis of channels-first ``(N, C, L)`` input.

    With ``padding="same"`` the padded positions are left out of each average, as in Keras.

    Args:
        pool_size: window length, an int or a 1-tuple.
        strides: step; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (output length ``ceil(L / strides)``).
        data_format: ``"channels_first"`` for ``(N, C, L)``, ``"channels_last"`` for
            ``(N, steps, features)``; ``None`` means :func:`kerasish.config.image_data_format`.

    Example:
        >>> AveragePooling1D(2, padding="same")(torch.randn(2, 3, 9)).shape
        torch.Size([2, 3, 5])
    """

    _rank = 1
    _is_max = False
    _pool = staticmethod(F.avg_pool1d)


class MaxPooling2D(_Pooling):
    """Max pooling over (H, W) of channels-first ``(N, C, H, W)`` input.

    Args:
        pool_size: window, an int or a 2-tuple (default ``(2, 2)``).
        strides: step; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (output ``ceil(H / stride)`` by ``ceil(W / stride)``).
        data_format: ``"channels_first"`` for ``(N, C, H, W)``, ``"channels_last"`` for
            ``(N, H, W, C)``; ``None`` means :func:`kerasish.config.image_data_format`.

    Example:
        >>> MaxPooling2D()(torch.randn(2, 3, 8, 8)).shape
        torch.Size([2, 3, 4, 4])
    """

    _pool = staticmethod(F.max_pool2d)


class AveragePooling2D(_Pooling):
    """Average pooling over (H, W) of channels-first ``(N, C, H, W)`` input.

    With ``padding="same"`` the padded positions are left out of each average, as in Keras.

    Args:
        pool_size: window, an int or a 2-tuple (default ``(2, 2)``).
        strides: step; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (output ``ceil(H / stride)`` by ``ceil(W / stride)``).
        data_format: ``"channels_first"`` for ``(N, C, H, W)``, ``"channels_last"`` for
            ``(N, H, W, C)``; ``None`` means :func:`kerasish.config.image_data_format`.

    Example:
        >>> AveragePooling2D(3, strides=2, padding="same")(torch.randn(2, 3, 7, 7)).shape
        torch.Size([2, 3, 4, 4])
    """

    _is_max = False
    _pool = staticmethod(F.avg_pool2d)


class _GlobalPooling(Layer):
    """Shared body of the global pooling layers."""

    _rank = 2
    _is_max = False

    def __init__(self, *, keepdims: bool = False, data_format: str | None = None) -> None:
        super().__init__()
        self.keepdims = check_bool("keepdims", keepdims)
        self._check_layout = data_format is None  # only a defaulted format is second-guessed
        self.data_format = resolve_data_format(data_format)
        first = 2 if self.data_format == "channels_first" else 1
        self._dims = tuple(range(first, first + self._rank))

    def forward(self, x: Tensor) -> Tensor:
        if self._check_layout:
            if self.data_format == "channels_first":
                check_layout(type(self).__name__, x, self._rank)
            self._check_layout = False
        if self._is_max:
            return x.amax(dim=self._dims, keepdim=self.keepdims)
        return x.mean(dim=self._dims, keepdim=self.keepdims)

    def get_config(self) -> dict[str, Any]:
        return {"keepdims": self.keepdims, "data_format": self.data_format}


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps: ``(N, C, L)`` to ``(N, C)``.

    Args:
        keepdims: keep the reduced axis with length 1.
        data_format: ``"channels_first"`` for ``(N, C, L)`` (Conv1D output), or
            ``"channels_last"`` for ``(N, L, C)`` (Embedding or LSTM sequence output);
            ``None`` means :func:`kerasish.config.image_data_format`.

    Example:
        >>> GlobalAveragePooling1D()(torch.ones(2, 3, 5)).shape
        torch.Size([2, 3])
    """

    _rank = 1


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps: ``(N, C, L)`` to ``(N, C)``.

    Args:
        keepdims: keep the reduced axis with length 1.
        data_format: ``"channels_first"`` for ``(N, C, L)`` or ``"channels_last"`` for
            ``(N, L, C)``; ``None`` means :func:`kerasish.config.image_data_format`.

    Example:
        >>> GlobalMaxPooling1D(data_format="channels_last")(torch.ones(2, 5, 3)).shape
        torch.Size([2, 3])
    """

    _rank = 1
    _is_max = True


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over (H, W): ``(N, C, H, W)`` to ``(N, C)`` (``(N, C, 1, 1)`` with keepdims).

    Args:
        keepdims: keep the reduced axes with length 1.
        data_format: ``"channels_first"`` for ``(N, C, H, W)`` or ``"channels_last"`` for
            ``(N, H, W, C)``; ``None`` means :func:`kerasish.config.image_data_format`.

    Example:
        >>> GlobalAveragePooling2D(keepdims=True)(torch.ones(2, 3, 4, 4)).shape
        torch.Size([2, 3, 1, 1])
    """


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over (H, W): ``(N, C, H, W)`` to ``(N, C)`` (``(N, C, 1, 1)`` with keepdims).

    Args:
        keepdims: keep the reduced axes with length 1.
        data_format: ``"channels_first"`` for ``(N, C, H, W)`` or ``"channels_last"`` for
            ``(N, H, W, C)``; ``None`` means :func:`kerasish.config.image_data_format`.

    Example:
        >>> GlobalMaxPooling2D()(torch.ones(2, 3, 4, 4)).shape
        torch.Size([2, 3])
    """

    _is_max = True


class MaxPooling3D(_Pooling):
    """Max pooling over (D, H, W) of ``(N, C, D, H, W)`` (or channels-last) volumes.

    Args:
        pool_size: window, an int or a 3-tuple (default 2).
        strides: step; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> MaxPooling3D()(torch.randn(1, 2, 4, 4, 4)).shape
        torch.Size([1, 2, 2, 2, 2])
    """

    _rank = 3
    _pool = staticmethod(F.max_pool3d)


class AveragePooling3D(_Pooling):
    """Average pooling over (D, H, W); ``"same"`` leaves the padding out of each average.

    Args:
        pool_size: window, an int or a 3-tuple (default 2).
        strides: step; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> AveragePooling3D(padding="same")(torch.randn(1, 2, 5, 5, 5)).shape
        torch.Size([1, 2, 3, 3, 3])
    """

    _rank = 3
    _is_max = False
    _pool = staticmethod(F.avg_pool3d)


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over (D, H, W): ``(N, C, D, H, W)`` to ``(N, C)``.

    Args:
        keepdims: keep the reduced axes with length 1.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> GlobalAveragePooling3D()(torch.ones(2, 3, 4, 4, 4)).shape
        torch.Size([2, 3])
    """

    _rank = 3


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over (D, H, W): ``(N, C, D, H, W)`` to ``(N, C)``.

    Args:
        keepdims: keep the reduced axes with length 1.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> GlobalMaxPooling3D()(torch.ones(2, 3, 4, 4, 4)).shape
        torch.Size([2, 3])
    """

    _rank = 3
    _is_max = True
