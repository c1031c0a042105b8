"""Preprocessing layers: Rescaling, Normalization (with ``adapt``), Resizing, CenterCrop.

Image layers take batched ``(N, ...)`` or unbatched images in ``data_format``'s layout
(``(C, H, W)``/``(N, C, H, W)`` channels-first, ``(H, W, C)``/``(N, H, W, C)`` channels-last)
and return floating images. ``Normalization`` acts on any tensor, along Keras's ``axis``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn.parameter import UninitializedBuffer, is_lazy

from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_bool, check_positive_int, is_int
from kerasish.layers.layout import resolve_data_format

__all__ = ["Rescaling", "Normalization", "Resizing", "CenterCrop", "as_nchw", "from_nchw"]

_EPSILON = 1e-7  # Keras's backend.epsilon()
_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic", "area": "area"}


def _floating(x: Tensor, dtype: torch.dtype | None = None) -> Tensor:
    """``x`` as it is when floating, else cast to ``dtype`` (default: torch's default dtype)."""
    return x if x.is_floating_point() else x.to(dtype or torch.get_default_dtype())


def as_nchw(x: Tensor, data_format: str) -> tuple[Tensor, bool]:
    """An image or a batch as an ``(N, C, H, W)`` view, and whether it was unbatched."""
    check(
        isinstance(x, Tensor) and x.ndim in (3, 4),
        "an image tensor of rank 3 (unbatched) or 4 (batched)",
        "x.shape",
        tuple(getattr(x, "shape", ())),
    )
    unbatched = x.ndim == 3
    x = x.unsqueeze(0) if unbatched else x
    return (x.movedim(-1, 1) if data_format == "channels_last" else x), unbatched


def from_nchw(x: Tensor, data_format: str, unbatched: bool) -> Tensor:
    """The inverse of :func:`as_nchw`."""
    x = x.movedim(1, -1) if data_format == "channels_last" else x
    return x.squeeze(0) if unbatched else x


class Rescaling(Layer):
    """``x * scale + offset`` in floating point (``Rescaling(1 / 255)`` maps [0, 255] to [0, 1]).

    As Keras's, integer input (such as the uint8 images of ``K.datasets.mnist``) is cast to
    the layer's dtype (``dtype=``, else torch's default float32); floating input keeps its
    dtype unless ``dtype=`` is given.

    Args:
        scale: the factor, a number (or a sequence broadcast against the last axis).
        offset: added after scaling.

    Example:
        >>> Rescaling(1 / 127.5, offset=-1)(torch.tensor([0, 255], dtype=torch.uint8))
        tensor([-1.,  1.])
    """

    def __init__(self, scale: float | Sequence[float], offset: float | Sequence[float] = 0.0):
        super().__init__()
        self.scale = _number_or_list("scale", scale)
        self.offset = _number_or_list("offset", offset)

    def forward(self, x: Tensor) -> Tensor:
        x = _floating(x, self.fixed_dtype)
        scale = self.scale if isinstance(self.scale, float) else x.new_tensor(self.scale)
        offset = self.offset if isinstance(self.offset, float) else x.new_tensor(self.offset)
        return x * scale + offset

    def get_config(self) -> dict[str, Any]:
        return {"scale": self.scale, "offset": self.offset}


def _number_or_list(name: str, value: Any) -> float | list[float]:
    def number(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if number(value):
        return float(value)
    ok = isinstance(value, (list, tuple)) and len(value) > 0 and all(number(v) for v in value)
    check(ok, "a number or a list of numbers", name, value)
    return [float(v) for v in value]


def _axes(axis: Any) -> tuple[int, ...]:
    if axis is None:
        return ()
    axes = (axis,) if is_int(axis) else axis
    ok = isinstance(axes, (tuple, list)) and all(is_int(a) and a != 0 for a in axes)
    check(ok, "an integer, a tuple of integers (not the batch axis 0) or None", "axis", axis)
    return tuple(axes)


class Normalization(Layer):
    """``(x - mean) / sqrt(variance)`` per feature, from given values or from ``adapt(data)``.

    As Keras: the statistics are kept per index of the ``axis`` axes and reduced over the
    others; the variance is the population variance; the divisor is at least 1e-7;
    ``invert=True`` maps normalized values back; called before ``adapt``, the layer uses mean
    0 and variance 1 (inputs pass through), so a model holding it builds before it is adapted.
    Adapted statistics are buffers (saved with the weights, not trained).

    Args:
        axis: the axis (or axes) with separate statistics, counted with the batch axis
            (-1: the last, Keras's default); ``None`` for one mean and variance over all.
        mean: the mean to use instead of ``adapt`` (a number or a list per feature).
        variance: the variance, given together with ``mean``.
        invert: apply the inverse transformation.

    Example:
        >>> layer = Normalization()
        >>> layer.adapt(torch.tensor([[0.0, 10.0], [2.0, 30.0]]))
        >>> layer(torch.tensor([[1.0, 20.0]]))
        tensor([[0., 0.]])
    """

    def __init__(
        self,
        axis: int | Sequence[int] | None = -1,
        mean: float | Sequence[float] | None = None,
        variance: float | Sequence[float] | None = None,
        invert: bool = False,
    ) -> None:
        super().__init__()
        self._axes = _axes(axis)
        self.axis = axis if axis is None or is_int(axis) else tuple(axis)
        check(
            (mean is None) == (variance is None),
            "given together",
            "mean and variance",
            (mean, variance),
        )
        self.mean_value = None if mean is None else _number_or_list("mean", mean)
        self.variance_value = None if variance is None else _number_or_list("variance", variance)
        self.invert = check_bool("invert", invert)
        if mean is not None:  # part of the config, not weights: Keras counts none
            self.register_buffer("mean", torch.tensor(self.mean_value), persistent=False)
            self.register_buffer("variance", torch.tensor(self.variance_value), persistent=False)
        else:  # until adapt() (or a load or a first call), the shape is unknown
            self.register_buffer("mean", UninitializedBuffer())
            self.register_buffer("variance", UninitializedBuffer())
            # Keras's third non-trainable weight; Keras keeps it 0 and so does kerasish
            self.register_buffer("count", torch.zeros(()))
        self._register_load_state_dict_pre_hook(self._take_loaded_shapes)

    def _take_loaded_shapes(self, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        for name in ("mean", "variance"):
            loaded, own = state_dict.get(prefix + name), getattr(self, name)
            if name in self._non_persistent_buffers_set:
                state_dict.pop(prefix + name, None)  # files from before they left the weights
            elif isinstance(loaded, Tensor) and is_lazy(own):
                own.materialize(loaded.shape, dtype=loaded.dtype)
        if "count" in self._buffers and prefix + "mean" in state_dict:
            state_dict.setdefault(prefix + "count", torch.zeros(()))  # files from before count

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # as torch's lazy modules: an uninitialized statistic is saved as it is
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars or is_lazy(buf) else buf.detach()

    @property
    def adapted(self) -> bool:
        """Whether the layer has statistics (given, adapted or loaded)."""
        return not is_lazy(self.mean)

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Compute the mean and variance of ``data`` along the layer's axes.

        Args:
            data: a NumPy array or tensor of samples, or an iterable of batches (arrays,
                tensors, or ``(x, y)`` tuples whose ``x`` is taken), such as a DataLoader.
            steps: read at most this many batches of an iterable.

        Raises:
            ValueError: when ``data`` holds no samples, or the layer was given ``mean`` and
                ``variance``.
        """
        if self.mean_value is not None:
            raise ValueError(
                "Expected a Normalization made without mean= and variance= to adapt. "
                f"Received: mean={self.mean_value!r}, variance={self.variance_value!r}"
            )
        count, total, squares = 0, None, None
        for batch in _batches(data, steps):
            dims = self._reduced_dims(batch.ndim)
            batch = batch.to(torch.float64)
            n = batch.numel() // max(1, _kept_size(batch, dims))
            s, q = batch.sum(dims), (batch * batch).sum(dims)
            total = s if total is None else total + s
            squares = q if squares is None else squares + q
            count += n
        check(count > 0, "data with at least one sample", "data", type(data).__name__)
        mean = total / count
        variance = (squares / count - mean * mean).clamp(min=0)
        dtype = torch.get_default_dtype()
        self.mean = mean.to(dtype).to(self.mean.device)
        self.variance = variance.to(dtype).to(self.variance.device)

    def _reduced_dims(self, ndim: int) -> tuple[int, ...]:
        kept = {a % ndim for a in self._axes}
        return tuple(d for d in range(ndim) if d not in kept)

    def forward(self, x: Tensor) -> Tensor:
        x = _floating(x, self.fixed_dtype)
        if not self.adapted:
            self._initial_statistics(x)
        mean, variance = self._broadcast(self.mean, x), self._broadcast(self.variance, x)
        std = variance.sqrt().clamp(min=_EPSILON)
        return mean + x * std if self.invert else (x - mean) / std

    def _initial_statistics(self, x: Tensor) -> None:
        """Keras's statistics before ``adapt``: mean 0 and variance 1 per kept index (the
        layer passes its inputs through), shaped from the first input, so a model holding a
        layer not adapted yet builds; ``adapt`` replaces them."""
        reduced = self._reduced_dims(x.ndim)
        shape = [x.shape[d] for d in range(x.ndim) if d not in reduced]
        dtype = torch.get_default_dtype()
        self.mean = torch.zeros(shape, dtype=dtype, device=x.device)
        self.variance = torch.ones(shape, dtype=dtype, device=x.device)

    def _broadcast(self, stat: Tensor, x: Tensor) -> Tensor:
        stat = stat.to(x.dtype)
        if stat.numel() == 1:
            return stat.reshape(())
        kept = {a % x.ndim for a in self._axes}
        return stat.reshape([x.shape[d] if d in kept else 1 for d in range(x.ndim)])

    def get_config(self) -> dict[str, Any]:
        return {
            "axis": self.axis,
            "mean": self.mean_value,
            "variance": self.variance_value,
            "invert": self.invert,
        }


def _kept_size(batch: Tensor, reduced: tuple[int, ...]) -> int:
    size = 1
    for d in range(batch.ndim):
        if d not in reduced:
            size *= batch.shape[d]
    return size


def _batches(data: Any, steps: int | None) -> Iterable[Tensor]:
    if isinstance(data, (np.ndarray, Tensor)):
        yield torch.as_tensor(data)
        return
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            return
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        yield torch.as_tensor(batch)


def crop_box(height: int, width: int, target_h: int, target_w: int) -> tuple[int, int, int, int]:
    """Keras's largest centred window of ``height x width`` with the target's aspect ratio.

    Returns:
        ``(top, left, crop_height, crop_width)``.
    """
    crop_h = max(min(height, int(width * target_h / target_w)), 1)
    crop_w = max(min(width, int(height * target_w / target_h)), 1)
    return (height - crop_h) // 2, (width - crop_w) // 2, crop_h, crop_w


def resize_nchw(x: Tensor, size: tuple[int, int], interpolation: str) -> Tensor:
    """``F.interpolate`` with TensorFlow's half-pixel centres and no antialiasing."""
    mode = _MODES[interpolation]
    corners = False if mode in ("bilinear", "bicubic") else None
    return F.interpolate(_floating(x), size=size, mode=mode, align_corners=corners)


class _Image(Layer):
    """Shared body of the image layers: size, data format, NCHW computation."""

    def _init_size(self, height: int, width: int, data_format: str | None) -> None:
        self.height = check_positive_int("height", height)
        self.width = check_positive_int("width", width)
        self.data_format = resolve_data_format(data_format)

    def forward(self, x: Tensor) -> Tensor:
        nchw, unbatched = as_nchw(x, self.data_format)
        return from_nchw(self._nchw(nchw), self.data_format, unbatched)

    def _nchw(self, x: Tensor) -> Tensor:
        raise NotImplementedError


class Resizing(_Image):
    """Resizes images to ``height x width``.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"`` or ``"area"``.
        crop_to_aspect_ratio: first crop the largest centred window with the target's aspect
            ratio, so the image is not distorted.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> Resizing(4, 6)(torch.rand(2, 3, 8, 8)).shape
        torch.Size([2, 3, 4, 6])
    """

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        data_format: str | None = None,
    ) -> None:
        super().__init__()
        self._init_size(height, width, data_format)
        check(interpolation in _MODES, f"one of {sorted(_MODES)}", "interpolation", interpolation)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = check_bool("crop_to_aspect_ratio", crop_to_aspect_ratio)

    def _nchw(self, x: Tensor) -> Tensor:
        if self.crop_to_aspect_ratio:
            top, left, h, w = crop_box(x.shape[2], x.shape[3], self.height, self.width)
            x = x[:, :, top : top + h, left : left + w]
        return resize_nchw(x, (self.height, self.width), self.interpolation)

    def get_config(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "data_format": self.data_format,
        }


class CenterCrop(_Image):
    """Crops the centre ``height x width`` of images (odd margins leave the extra row/column at
    the bottom/right); a smaller image is first resized as ``Resizing(crop_to_aspect_ratio=True)``.

    Args:
        height, width: the output size.
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> CenterCrop(2, 2)(torch.arange(16.0).reshape(1, 1, 4, 4))
        tensor([[[[ 5.,  6.],
                  [ 9., 10.]]]])
    """

    def __init__(self, height: int, width: int, data_format: str | None = None) -> None:
        super().__init__()
        self._init_size(height, width, data_format)

    def _nchw(self, x: Tensor) -> Tensor:
        h, w = x.shape[2], x.shape[3]
        if h < self.height or w < self.width:
            top, left, ch, cw = crop_box(h, w, self.height, self.width)
            crop = x[:, :, top : top + ch, left : left + cw]
            return resize_nchw(crop, (self.height, self.width), "bilinear")
        top, left = (h - self.height) // 2, (w - self.width) // 2
        return _floating(x[:, :, top : top + self.height, left : left + self.width])

    def get_config(self) -> dict[str, Any]:
        return {"height": self.height, "width": self.width, "data_format": self.data_format}
