"""Image augmentation layers, active only in training: RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomCrop, RandomContrast.

As ``Dropout``, each layer augments while the module is in training mode (as in ``fit``) and
is the identity in eval mode (``evaluate``, ``predict``, ``model.eval()``); ``RandomCrop``
then takes the centred window instead. Each sample gets its own draw; ``seed=`` gives the
layer its own generator (on the input's device), else torch's global one is used. The
geometric layers sample with ``F.grid_sample`` (half-pixel centres, as TensorFlow).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_positive_int, is_int
from kerasish.layers.layout import resolve_data_format
from kerasish.layers.preprocessing import as_nchw, crop_box, from_nchw, resize_nchw

__all__ = [
    "RandomFlip",
    "RandomRotation",
    "RandomZoom",
    "RandomTranslation",
    "RandomCrop",
    "RandomContrast",
]

_FILL_MODES = {"reflect": "reflection", "constant": "zeros", "nearest": "border"}
_INTERPOLATIONS = ("bilinear", "nearest")


def _range(name: str, factor: Any, *, symmetric: bool = True) -> tuple[float, float]:
    """Keras's factor: a number ``f`` for ``(-f, f)`` (``(f, f)`` if not symmetric) or a pair."""

    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if number(factor):
        check(factor >= 0, "a non-negative number or a pair (lower, upper)", name, factor)
        return (-float(factor) if symmetric else float(factor), float(factor))
    ok = isinstance(factor, (tuple, list)) and len(factor) == 2 and all(map(number, factor))
    ok = ok and factor[0] <= factor[1]
    check(ok, "a number or a pair (lower, upper) with lower <= upper", name, factor)
    return (float(factor[0]), float(factor[1]))


class _Augmentation(Layer):
    """Shared body: data format, seed, the training switch, uniform draws."""

    def _init_common(self, seed: int | None, data_format: str | None) -> None:
        check(seed is None or is_int(seed), "an integer or None", "seed", seed, TypeError)
        self.seed = seed
        self.data_format = resolve_data_format(data_format)
        self._generator: torch.Generator | None = None

    def _uniform(self, x: Tensor, low: float, high: float, n: int) -> Tensor:
        """``n`` draws from U(low, high) on ``x``'s device, from the layer's own generator."""
        if self.seed is not None and (
            self._generator is None or self._generator.device != x.device
        ):
            self._generator = torch.Generator(device=x.device).manual_seed(self.seed)
        u = torch.rand(n, device=x.device, generator=self._generator)
        return low + (high - low) * u

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return self._inference(x)
        nchw, unbatched = as_nchw(x, self.data_format)
        return from_nchw(self._augment(nchw), self.data_format, unbatched)

    def _inference(self, x: Tensor) -> Tensor:
        return x

    def _augment(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class RandomFlip(_Augmentation):
    """Flips each image left-right and/or up-down with probability 1/2, in training.

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
        seed: an integer for the layer's own generator, or None.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> RandomFlip("horizontal").eval()(torch.ones(2, 3, 4, 4)).shape
        torch.Size([2, 3, 4, 4])
    """

    _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(
        self,
        mode: str = "horizontal_and_vertical",
        seed: int | None = None,
        data_format: str | None = None,
    ) -> None:
        super().__init__()
        check(mode in self._MODES, f"one of {self._MODES}", "mode", mode)
        self.mode = mode
        self._init_common(seed, data_format)

    def _augment(self, x: Tensor) -> Tensor:
        shape = (x.shape[0], 1, 1, 1)
        if self.mode != "vertical":
            flip = self._uniform(x, 0, 1, x.shape[0]).reshape(shape) < 0.5
            x = torch.where(flip, x.flip(3), x)
        if self.mode != "horizontal":
            flip = self._uniform(x, 0, 1, x.shape[0]).reshape(shape) < 0.5
            x = torch.where(flip, x.flip(2), x)
        return x

    def get_config(self) -> dict[str, Any]:
        return {"mode": self.mode, "seed": self.seed, "data_format": self.data_format}


class _Affine(_Augmentation):
    """Shared body of rotation, zoom and translation: one affine map per image."""

    def _init_sampling(self, fill_mode: str, interpolation: str, fill_value: float) -> None:
        modes = tuple(_FILL_MODES)
        check(fill_mode in _FILL_MODES, f"one of {modes}", "fill_mode", fill_mode)
        check(
            interpolation in _INTERPOLATIONS,
            f"one of {_INTERPOLATIONS}",
            "interpolation",
            interpolation,
        )
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)

    def _augment(self, x: Tensor) -> Tensor:
        x = x if x.is_floating_point() else x.to(torch.get_default_dtype())
        theta = self._theta(x)  # (N, 2, 3): output -> input, in normalized coordinates
        return sample(x, theta, self.fill_mode, self.interpolation, self.fill_value)

    def _theta(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def _sampling_config(self) -> dict[str, Any]:
        return {
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "seed": self.seed,
            "fill_value": self.fill_value,
            "data_format": self.data_format,
        }


def sample(x: Tensor, theta: Tensor, fill_mode: str, interpolation: str, fill: float) -> Tensor:
    """``x`` (N, C, H, W) resampled where ``theta`` maps output to input coordinates.

    Args:
        x: the images.
        theta: ``(N, 2, 3)`` affine maps in ``F.affine_grid``'s normalized coordinates.
        fill_mode: ``"reflect"``, ``"constant"`` (``fill``) or ``"nearest"`` (edge pixels).
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill: the value outside the image for ``"constant"``.
    """
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    out = F.grid_sample(
        x, grid, mode=interpolation, padding_mode=_FILL_MODES[fill_mode], align_corners=False
    )
    if fill_mode == "constant" and fill != 0.0:
        inside = F.grid_sample(
            torch.ones_like(x[:, :1]), grid, mode=interpolation, align_corners=False
        )
        out = out + (1 - inside) * fill
    return out


def _pixel_to_normalized(x: Tensor, a: Tensor, shift: Tensor) -> Tensor:
    """``theta`` for the centred pixel-space map ``p_in = a @ p_out + shift`` (a: N,2,2)."""
    h, w = x.shape[2], x.shape[3]
    s = x.new_tensor([w / 2, h / 2])
    a_n = a * (s.reshape(1, 1, 2) / s.reshape(1, 2, 1))  # S^-1 a S
    return torch.cat([a_n, (shift / s).unsqueeze(-1)], dim=2)


class RandomRotation(_Affine):
    """Rotates each image by a random angle in ``factor * 2π`` (positive: counter-clockwise).

    Args:
        factor: a fraction of a full turn: ``f`` for ``(-f, f)``, or a pair ``(lower, upper)``;
            ``0.25`` rotates by up to 90 degrees either way.
        fill_mode: ``"reflect"`` (default), ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        seed: an integer for the layer's own generator, or None.
        fill_value: the value outside the image for ``fill_mode="constant"``.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> RandomRotation(0.1)(torch.rand(2, 3, 8, 8)).shape
        torch.Size([2, 3, 8, 8])
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
    ) -> None:
        super().__init__()
        self.factor = _range("factor", factor)
        self._init_sampling(fill_mode, interpolation, fill_value)
        self._init_common(seed, data_format)

    def _theta(self, x: Tensor) -> Tensor:
        angle = self._uniform(x, *self.factor, x.shape[0]) * (2 * math.pi)
        c, s = angle.cos(), angle.sin()
        a = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)
        return _pixel_to_normalized(x, a, x.new_zeros(x.shape[0], 2))

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, **self._sampling_config()}


class RandomZoom(_Affine):
    """Zooms each image by a random factor: ``1 + f`` with ``f`` drawn from ``height_factor``.

    As Keras: a negative factor zooms in (``(-0.3, -0.3)``: 30% closer), a positive one zooms
    out; ``width_factor=None`` keeps the aspect ratio (one draw for both axes).

    Args:
        height_factor: ``f`` for ``(-f, f)`` or a pair ``(lower, upper)``, each above -1.
        width_factor: the same for the width, or None.
        fill_mode, interpolation, seed, fill_value, data_format: as for ``RandomRotation``.

    Example:
        >>> RandomZoom(0.2)(torch.rand(2, 3, 8, 8)).shape
        torch.Size([2, 3, 8, 8])
    """

    def __init__(
        self,
        height_factor: float | tuple[float, float],
        width_factor: float | tuple[float, float] | None = None,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
    ) -> None:
        super().__init__()
        self.height_factor = _range("height_factor", height_factor)
        self.width_factor = None if width_factor is None else _range("width_factor", width_factor)
        for name, f in (("height_factor", self.height_factor), ("width_factor", self.width_factor)):
            check(f is None or f[0] > -1, "above -1", name, f)
        self._init_sampling(fill_mode, interpolation, fill_value)
        self._init_common(seed, data_format)

    def _theta(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        zh = 1 + self._uniform(x, *self.height_factor, n)
        zw = zh if self.width_factor is None else 1 + self._uniform(x, *self.width_factor, n)
        zero = torch.zeros_like(zh)
        theta = torch.stack([torch.stack([zw, zero, zero], -1), torch.stack([zero, zh, zero], -1)])
        return theta.transpose(0, 1)

    def get_config(self) -> dict[str, Any]:
        return {
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            **self._sampling_config(),
        }


class RandomTranslation(_Affine):
    """Shifts each image by random fractions of its height and width (positive: down, right).

    Args:
        height_factor: ``f`` for ``(-f, f)`` or a pair, fractions of the height.
        width_factor: the same, fractions of the width.
        fill_mode, interpolation, seed, fill_value, data_format: as for ``RandomRotation``.

    Example:
        >>> RandomTranslation(0.1, 0.1)(torch.rand(2, 3, 8, 8)).shape
        torch.Size([2, 3, 8, 8])
    """

    def __init__(
        self,
        height_factor: float | tuple[float, float],
        width_factor: float | tuple[float, float],
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        data_format: str | None = None,
    ) -> None:
        super().__init__()
        self.height_factor = _range("height_factor", height_factor)
        self.width_factor = _range("width_factor", width_factor)
        self._init_sampling(fill_mode, interpolation, fill_value)
        self._init_common(seed, data_format)

    def _theta(self, x: Tensor) -> Tensor:
        n, h, w = x.shape[0], x.shape[2], x.shape[3]
        dy = self._uniform(x, *self.height_factor, n) * h
        dx = self._uniform(x, *self.width_factor, n) * w
        eye = torch.eye(2, device=x.device, dtype=x.dtype).expand(n, 2, 2)
        return _pixel_to_normalized(x, eye, -torch.stack([dx, dy], -1))

    def get_config(self) -> dict[str, Any]:
        return {
            "height_factor": self.height_factor,
            "width_factor": self.width_factor,
            **self._sampling_config(),
        }


class RandomCrop(_Augmentation):
    """Crops a random ``height x width`` window in training, the centred one in inference.

    As Keras: one window position per batch; an image smaller than the target (and every
    image in inference) is cropped to the target's aspect ratio and resized.

    Args:
        height, width: the output size.
        seed: an integer for the layer's own generator, or None.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> RandomCrop(4, 4)(torch.rand(2, 3, 8, 8)).shape
        torch.Size([2, 3, 4, 4])
    """

    def __init__(
        self, height: int, width: int, seed: int | None = None, data_format: str | None = None
    ) -> None:
        super().__init__()
        self.height = check_positive_int("height", height)
        self.width = check_positive_int("width", width)
        self._init_common(seed, data_format)
        self._cpu_generator: torch.Generator | None = None

    def _inference(self, x: Tensor) -> Tensor:
        nchw, unbatched = as_nchw(x, self.data_format)
        return from_nchw(self._resize(nchw), self.data_format, unbatched)

    def _resize(self, x: Tensor) -> Tensor:
        top, left, h, w = crop_box(x.shape[2], x.shape[3], self.height, self.width)
        return resize_nchw(
            x[:, :, top : top + h, left : left + w], (self.height, self.width), "bilinear"
        )

    def _augment(self, x: Tensor) -> Tensor:
        h, w = x.shape[2], x.shape[3]
        if h < self.height or w < self.width:
            return self._resize(x)
        if self.seed is not None and self._cpu_generator is None:
            self._cpu_generator = torch.Generator().manual_seed(self.seed)
        # drawn on the CPU: a window position must not wait for the device
        top, left = (
            int(torch.randint(0, size - target + 1, (), generator=self._cpu_generator))
            for size, target in ((h, self.height), (w, self.width))
        )
        return x[:, :, top : top + self.height, left : left + self.width]

    def get_config(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "width": self.width,
            "seed": self.seed,
            "data_format": self.data_format,
        }


class RandomContrast(_Augmentation):
    """Scales each image's contrast by a random factor in ``[1 - lower, 1 + upper]``.

    Per image and channel, ``(x - mean) * f + mean``, clipped to ``value_range`` (Keras 3).

    Args:
        factor: a number ``f`` for ``[1 - f, 1 + f]`` or a pair ``(lower, upper)``.
        value_range: the pixel range the output is clipped to (Keras's ``(0, 255)``).
        seed: an integer for the layer's own generator, or None.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> RandomContrast(0.5).eval()(torch.full((1, 3, 2, 2), 7.0))[0, 0, 0, 0]
        tensor(7.)
    """

    def __init__(
        self,
        factor: float | tuple[float, float],
        value_range: tuple[float, float] = (0, 255),
        seed: int | None = None,
        data_format: str | None = None,
    ) -> None:
        super().__init__()
        lower, upper = _range("factor", factor, symmetric=False)
        check(0 <= lower <= 1 and upper >= 0, "lower in [0, 1], upper >= 0", "factor", factor)
        self.factor = (lower, upper)
        self.value_range = _range("value_range", value_range, symmetric=False)
        self._init_common(seed, data_format)

    def _augment(self, x: Tensor) -> Tensor:
        x = x if x.is_floating_point() else x.to(torch.get_default_dtype())
        f = self._uniform(x, 1 - self.factor[0], 1 + self.factor[1], x.shape[0])
        mean = x.mean(dim=(2, 3), keepdim=True)
        out = (x - mean) * f.reshape(-1, 1, 1, 1).to(x.dtype) + mean
        return out.clamp(*self.value_range)

    def get_config(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "value_range": self.value_range,
            "seed": self.seed,
            "data_format": self.data_format,
        }
