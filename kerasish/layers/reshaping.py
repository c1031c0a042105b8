"""Reshaping layers: Permute, RepeatVector, UpSampling1D/2D, ZeroPadding1D/2D, Cropping1D/2D.

The 1-D layers act on the steps of ``(N, steps, features)`` sequences, as Keras's do (they
have no ``data_format`` in Keras); the 2-D layers take ``data_format`` like the convolutions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_positive_int, is_int
from kerasish.layers.layout import resolve_data_format, to_channels_first, to_channels_last

__all__ = [
    "Permute",
    "RepeatVector",
    "UpSampling1D",
    "UpSampling2D",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "Cropping1D",
    "Cropping2D",
]


class Permute(Layer):
    """Permutes the axes of each sample; ``dims`` counts from 1 (the batch axis stays first).

    Args:
        dims: a permutation of ``1..rank-1``, e.g. ``(2, 1)`` swaps the two axes of a sequence.

    Example:
        >>> Permute((2, 1))(torch.ones(4, 10, 64)).shape
        torch.Size([4, 64, 10])
    """

    def __init__(self, dims: Sequence[int]) -> None:
        super().__init__()
        ok = isinstance(dims, (tuple, list)) and all(is_int(d) for d in dims)
        ok = ok and sorted(dims) == list(range(1, len(dims) + 1))
        check(ok, "a permutation of 1..n", "dims", dims)
        self.dims = tuple(dims)

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(0, *self.dims)

    def get_config(self) -> dict[str, Any]:
        return {"dims": self.dims}


class RepeatVector(Layer):
    """Repeats each ``(N, features)`` vector ``n`` times: output ``(N, n, features)``.

    Args:
        n: how many times (positive).

    Example:
        >>> RepeatVector(3)(torch.ones(2, 5)).shape
        torch.Size([2, 3, 5])
    """

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = check_positive_int("n", n)

    def forward(self, x: Tensor) -> Tensor:
        check(x.ndim == 2, "input of rank 2 (N, features)", "x.shape", tuple(x.shape))
        return x.unsqueeze(1).expand(-1, self.n, -1)

    def get_config(self) -> dict[str, Any]:
        return {"n": self.n}


class UpSampling1D(Layer):
    """Repeats each step ``size`` times: ``(N, steps, features)`` to ``(N, steps*size, features)``.

    Args:
        size: the upsampling factor (positive).

    Example:
        >>> UpSampling1D(2)(torch.arange(3.0).reshape(1, 3, 1))[0, :, 0]
        tensor([0., 0., 1., 1., 2., 2.])
    """

    def __init__(self, size: int = 2) -> None:
        super().__init__()
        self.size = check_positive_int("size", size)

    def forward(self, x: Tensor) -> Tensor:
        return x.repeat_interleave(self.size, dim=1)

    def get_config(self) -> dict[str, Any]:
        return {"size": self.size}


def _pair(name: str, value: Any, *, positive: bool = True) -> tuple[int, int]:
    values = (value, value) if is_int(value) else value
    low = 1 if positive else 0
    ok = isinstance(values, (tuple, list)) and len(values) == 2
    ok = ok and all(is_int(v) and v >= low for v in values)
    kind = "positive" if positive else "non-negative"
    check(ok, f"a {kind} integer or a pair of them", name, value)
    return tuple(values)


class _Spatial2D(Layer):
    """Shared body of the 2-D reshaping layers: an NCHW computation on either layout."""

    def _init_format(self, data_format: str | None) -> None:
        self.data_format = resolve_data_format(data_format)
        self._channels_last = self.data_format == "channels_last"

    def forward(self, x: Tensor) -> Tensor:
        if self._channels_last:
            return to_channels_last(self._nchw(to_channels_first(x)))
        return self._nchw(x)

    def _nchw(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class UpSampling2D(_Spatial2D):
    """Upsamples the rows and columns by ``size``, with ``"nearest"`` or ``"bilinear"`` pixels.

    Args:
        size: the factors for rows and columns, an int or a pair.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.
        interpolation: ``"nearest"`` (each pixel repeated) or ``"bilinear"`` (half-pixel
            centres, as TensorFlow's resize and ``F.interpolate(align_corners=False)``).

    Example:
        >>> UpSampling2D(2)(torch.ones(1, 3, 4, 5)).shape
        torch.Size([1, 3, 8, 10])
    """

    def __init__(
        self,
        size: int | Sequence[int] = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
    ) -> None:
        super().__init__()
        self.size = _pair("size", size)
        self._init_format(data_format)
        modes = ("nearest", "bilinear")
        check(interpolation in modes, f"one of {modes}", "interpolation", interpolation)
        self.interpolation = interpolation

    def _nchw(self, x: Tensor) -> Tensor:
        if self.interpolation == "nearest":
            return x.repeat_interleave(self.size[0], 2).repeat_interleave(self.size[1], 3)
        return F.interpolate(x, scale_factor=self.size, mode="bilinear", align_corners=False)

    def get_config(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


def _amounts(name: str, value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras's 2-D padding/cropping: an int, (rows, cols) or ((top, bottom), (left, right))."""
    if is_int(value):
        value = ((value, value), (value, value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        value = ((value[0], value[0]), (value[1], value[1]))
    ok = isinstance(value, (tuple, list)) and len(value) == 2
    ok = ok and all(
        isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(i) and i >= 0 for i in v)
        for v in value
    )
    expected = "a non-negative integer, a pair, or a pair of pairs ((top, bottom), (left, right))"
    check(ok, expected, name, value)
    return (tuple(value[0]), tuple(value[1]))


class ZeroPadding1D(Layer):
    """Pads the steps of ``(N, steps, features)`` with zeros at the start and the end.

    Args:
        padding: an int for both ends or a pair ``(start, end)``.

    Example:
        >>> ZeroPadding1D((1, 2))(torch.ones(2, 3, 4)).shape
        torch.Size([2, 6, 4])
    """

    def __init__(self, padding: int | Sequence[int] = 1) -> None:
        super().__init__()
        self.padding = _pair("padding", padding, positive=False)

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x, (0, 0, *self.padding))

    def get_config(self) -> dict[str, Any]:
        return {"padding": self.padding}


class ZeroPadding2D(_Spatial2D):
    """Pads the rows and columns of images with zeros.

    Args:
        padding: an int (all sides), ``(rows, cols)`` or ``((top, bottom), (left, right))``.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> ZeroPadding2D(((1, 0), (2, 3)))(torch.ones(1, 3, 4, 4)).shape
        torch.Size([1, 3, 5, 9])
    """

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None) -> None:
        super().__init__()
        self.padding = _amounts("padding", padding)
        self._init_format(data_format)

    def _nchw(self, x: Tensor) -> Tensor:
        (top, bottom), (left, right) = self.padding
        return F.pad(x, (left, right, top, bottom))

    def get_config(self) -> dict[str, Any]:
        return {"padding": self.padding, "data_format": self.data_format}


class Cropping1D(Layer):
    """Removes steps from the start and the end of ``(N, steps, features)`` sequences.

    Args:
        cropping: an int for both ends or a pair ``(start, end)``.

    Example:
        >>> Cropping1D((1, 2))(torch.ones(2, 6, 4)).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, cropping: int | Sequence[int] = (1, 1)) -> None:
        super().__init__()
        self.cropping = _pair("cropping", cropping, positive=False)

    def forward(self, x: Tensor) -> Tensor:
        start, end = self.cropping
        return x[:, start : x.shape[1] - end]

    def get_config(self) -> dict[str, Any]:
        return {"cropping": self.cropping}


class Cropping2D(_Spatial2D):
    """Removes rows and columns at the borders of images.

    Args:
        cropping: an int (all sides), ``(rows, cols)`` or ``((top, bottom), (left, right))``.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> Cropping2D(((1, 0), (2, 1)))(torch.ones(1, 3, 5, 6)).shape
        torch.Size([1, 3, 4, 3])
    """

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None) -> None:
        super().__init__()
        self.cropping = _amounts("cropping", cropping)
        self._init_format(data_format)

    def _nchw(self, x: Tensor) -> Tensor:
        (top, bottom), (left, right) = self.cropping
        return x[:, :, top : x.shape[2] - bottom, left : x.shape[3] - right]

    def get_config(self) -> dict[str, Any]:
        return {"cropping": self.cropping, "data_format": self.data_format}
