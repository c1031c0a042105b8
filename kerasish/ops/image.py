"""``keras.ops.image``: ``resize`` with Keras's arguments (half-pixel centers, as Keras's torch backend).

``data_format=None`` is :func:`kerasish.config.image_data_format` (``"channels_first"``
unless set; Keras's own default is ``"channels_last"``). Images are ``(H, W, C)`` /
``(N, H, W, C)`` channels-last or ``(C, H, W)`` / ``(N, C, H, W)`` channels-first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kerasish import config
from kerasish.ops.core import convert_to_tensor

__all__ = ["resize"]

_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
_INTEGER = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def _check(images: Tensor, size: Sequence[int], interpolation: str, fill_mode: str,
           crop: bool, pad: bool) -> None:  # fmt: skip
    problems = [
        (interpolation not in _MODES, f"`interpolation` one of {sorted(_MODES)}",
         f"interpolation={interpolation!r}"),
        (fill_mode != "constant", "fill_mode='constant'", f"fill_mode={fill_mode!r}"),
        (crop and pad, "at most one of crop_to_aspect_ratio and pad_to_aspect_ratio",
         "both True"),
        (len(size) != 2, "`size` to be (height, width)", f"size={size}"),
        (images.ndim not in (3, 4), "images of rank 3 or 4",
         f"images.shape={tuple(images.shape)}"),
    ]  # fmt: skip
    for bad, expected, received in problems:
        if bad:
            raise ValueError(f"Expected {expected}. Received: {received}")


def _crop(images: Tensor, size: Sequence[int]) -> Tensor:
    """The centered crop of ``size``'s aspect ratio (Keras's ``crop_to_aspect_ratio``)."""
    height, width = images.shape[-2:]
    th, tw = size
    ch = max(min(height, int(width * th / tw)), 1)
    cw = max(min(width, int(height * tw / th)), 1)
    top, left = int((height - ch) / 2), int((width - cw) / 2)
    return images[..., top : top + ch, left : left + cw]


def _pad(images: Tensor, size: Sequence[int], fill_value: float) -> Tensor:
    """``images`` padded to ``size``'s aspect ratio (Keras's ``pad_to_aspect_ratio``)."""
    height, width = images.shape[-2:]
    th, tw = size
    ph, pw = max(height, int(width * th / tw)), max(width, int(height * tw / th))
    top, left = int((ph - height) / 2), int((pw - width) / 2)
    return F.pad(images, (left, left, top, top), value=fill_value)


def resize(
    images: Any,
    size: Sequence[int],
    interpolation: str = "bilinear",
    antialias: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    fill_mode: str = "constant",
    fill_value: float = 0.0,
    data_format: str | None = None,
) -> Tensor:
    """Resize images to ``size = (height, width)``, as ``keras.ops.image.resize``.

    Args:
        images: one image (rank 3) or a batch (rank 4).
        size: ``(height, width)``.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"``.
        antialias: low-pass filter when downsampling (bilinear/bicubic).
        crop_to_aspect_ratio: first crop the center to the target's aspect ratio.
        pad_to_aspect_ratio: first pad (with ``fill_value``) to the target's aspect ratio.
        fill_mode: ``"constant"`` only.
        fill_value: the padding value.
        data_format: see the module docstring.

    Returns:
        The resized images, in the input's dtype (integers rounded) and layout.

    Raises:
        ValueError: for a bad argument.

    Example:
        >>> resize(torch.ones(2, 8, 8, 3), (4, 6), data_format="channels_last").shape
        torch.Size([2, 4, 6, 3])
    """
    images = convert_to_tensor(images)
    _check(images, size, interpolation, fill_mode, crop_to_aspect_ratio, pad_to_aspect_ratio)
    last = (data_format or config.image_data_format()) == "channels_last"
    dtype, single = images.dtype, images.ndim == 3
    x = images[None] if single else images
    x = x if dtype in (torch.float32, torch.float64) else x.float()
    x = x.permute(0, 3, 1, 2) if last else x
    if crop_to_aspect_ratio:
        x = _crop(x, size)
    elif pad_to_aspect_ratio:
        x = _pad(x, size, fill_value)
    smooth = interpolation in ("bilinear", "bicubic")
    out = F.interpolate(x, size=tuple(int(s) for s in size), mode=_MODES[interpolation],
                        align_corners=False if smooth else None,
                        antialias=antialias and smooth)  # fmt: skip
    out = out.permute(0, 2, 3, 1) if last else out
    out = out[0] if single else out
    if dtype in _INTEGER:
        info = torch.iinfo(dtype)
        out = out.round().clamp(info.min, info.max)
    return out.to(dtype)
