"""Keras's image-file helpers over PIL: ``load_img``, ``img_to_array``, ``array_to_img``,
``save_img``.

``data_format=None`` means ``kerasish.config.image_data_format()`` (as Keras reads its
backend's setting): kerasish's default is ``"channels_first"``, so arrays come out
``(channels, height, width)`` unless ``"channels_last"`` is configured or passed.
"""

from __future__ import annotations

import io
import pathlib
import warnings
from typing import Any

import numpy as np

from kerasish import config

__all__ = ["load_img", "img_to_array", "array_to_img", "save_img"]

_FORMATS = ("channels_first", "channels_last")


def _pil() -> Any:
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("Image files need Pillow: pip install pillow") from e
    return Image


def _data_format(data_format: str | None) -> str:
    fmt = config.image_data_format() if data_format is None else data_format
    if fmt not in _FORMATS:
        raise ValueError(
            f"Expected data_format 'channels_first' or 'channels_last'. "
            f"Received: data_format={data_format!r}"
        )
    return fmt


def _resample(interpolation: str) -> Any:
    image = _pil()
    methods = {
        "nearest": image.Resampling.NEAREST,
        "bilinear": image.Resampling.BILINEAR,
        "bicubic": image.Resampling.BICUBIC,
        "hamming": image.Resampling.HAMMING,
        "box": image.Resampling.BOX,
        "lanczos": image.Resampling.LANCZOS,
    }
    if interpolation not in methods:
        raise ValueError(
            f"Expected interpolation among {sorted(methods)}. "
            f"Received: interpolation={interpolation!r}"
        )
    return methods[interpolation]


def load_img(
    path: Any,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Any:
    """Load an image file as a PIL image, as ``keras.utils.load_img``.

    Args:
        path: a path (str/Path/bytes) or an ``io.BytesIO``.
        color_mode: "grayscale", "rgb" or "rgba".
        target_size: ``(height, width)`` to resize to, or None.
        interpolation: PIL's resampling ("nearest", "bilinear", "bicubic", ...).
        keep_aspect_ratio: center-crop to the target's aspect ratio before resizing.

    Returns:
        A ``PIL.Image.Image``.

    Raises:
        ValueError / TypeError: for a bad color mode, interpolation or path type.

    Example:
        >>> from PIL import Image
        >>> Image.new("RGB", (4, 2), (255, 0, 0)).save("red.png")
        >>> load_img("red.png", target_size=(1, 2)).size
        (2, 1)
    """
    image = _pil()
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, pathlib.Path | bytes | str):
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"Expected a path or io.BytesIO. Received: path={path!r}")
    img = _convert(img, color_mode)
    if target_size is not None:
        size = (target_size[1], target_size[0])
        if img.size != size:
            resample = _resample(interpolation)
            box = _crop_box(img.size, size) if keep_aspect_ratio else None
            img = img.resize(size, resample, box=box)
    return img


def _convert(img: Any, color_mode: str) -> Any:
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode in ("rgb", "rgba"):
        mode = color_mode.upper()
        return img if img.mode == mode else img.convert(mode)
    raise ValueError(
        f"Expected color_mode 'grayscale', 'rgb' or 'rgba'. Received: color_mode={color_mode!r}"
    )


def _crop_box(size: tuple[int, int], target: tuple[int, int]) -> list[int]:
    """Keras's centered crop to the target's aspect ratio, as (left, top, right, bottom)."""
    width, height = size
    target_width, target_height = target
    crop_height = min(height, width * target_height // target_width)
    crop_width = min(width, height * target_width // target_height)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return [left, top, left + crop_width, top + crop_height]


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A PIL image as a NumPy array (float32 by default), as ``keras.utils.img_to_array``.

    Args:
        img: a PIL image (or anything ``np.asarray`` takes).
        data_format: "channels_first" (C, H, W) or "channels_last" (H, W, C); None: the
            configured ``kerasish.config.image_data_format()``.
        dtype: the array's dtype (default float32, Keras's floatx).

    Returns:
        A rank-3 array.

    Raises:
        ValueError: for an array that is not rank 2 or 3.

    Example:
        >>> from PIL import Image
        >>> img_to_array(Image.new("RGB", (4, 2)), data_format="channels_last").shape
        (2, 4, 3)
    """
    fmt = _data_format(data_format)
    x = np.asarray(img, dtype="float32" if dtype is None else dtype)
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if fmt == "channels_first" else x
    if x.ndim == 2:
        shape = (1, *x.shape) if fmt == "channels_first" else (*x.shape, 1)
        return x.reshape(shape)
    raise ValueError(f"Expected an image of rank 2 or 3. Received: shape={x.shape}")


def array_to_img(
    x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None
) -> Any:
    """A rank-3 array as a PIL image, as ``keras.utils.array_to_img``.

    Args:
        x: the array, (H, W, C) or (C, H, W) with 1, 3 or 4 channels.
        data_format: the array's layout; None: the configured one.
        scale: rescale the values to [0, 255] (min to 0, max to 255).
        dtype: the working dtype (default float32).

    Returns:
        A ``PIL.Image.Image`` ("L", "I", "RGB" or "RGBA").

    Raises:
        ValueError: for a rank other than 3 or an unsupported channel count.

    Example:
        >>> array_to_img(np.zeros((2, 3, 3)), data_format="channels_last").size
        (3, 2)
    """
    image = _pil()
    fmt = _data_format(data_format)
    x = np.asarray(x, dtype="float32" if dtype is None else dtype)
    if x.ndim != 3:
        raise ValueError(f"Expected an image array of rank 3. Received: shape={x.shape}")
    if fmt == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        if np.max(x) != 0:
            x /= np.max(x)
        x *= 255
    modes = {4: "RGBA", 3: "RGB"}
    if x.shape[2] in modes:
        return image.fromarray(x.astype("uint8"), modes[x.shape[2]])
    if x.shape[2] == 1:
        if np.max(x) > 255:
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Expected 1, 3 or 4 channels. Received: {x.shape[2]} channels")


def save_img(
    path: Any,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Save a rank-3 array as an image file, as ``keras.utils.save_img``.

    Args:
        path: the file (its suffix gives the format unless ``file_format`` is set).
        x: the array.
        data_format: the array's layout; None: the configured one.
        file_format: "png", "jpeg", ... (default from the suffix).
        scale: rescale the values to [0, 255].
        **kwargs: passed to ``PIL.Image.Image.save``.

    Example:
        >>> save_img("gray.png", np.ones((1, 4, 4)), data_format="channels_first")
        >>> load_img("gray.png", color_mode="grayscale").size
        (4, 4)
    """
    if file_format is None and isinstance(path, str | pathlib.Path):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn(
            "The JPEG format does not support RGBA images, converting to RGB.", stacklevel=2
        )
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)
