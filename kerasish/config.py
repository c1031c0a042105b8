"""Global settings, Keras's ``keras.config``: the default image data format of the layers.

The default ``data_format`` of the image and sequence layers (``data_format=None``) comes,
in this order, from :func:`set_image_data_format`, the environment variable
``KERASISH_IMAGE_DATA_FORMAT``, the file ``~/.kerasish/kerasish.json`` (the directory is
``$KERASISH_HOME`` when set) holding ``{"image_data_format": "channels_last"}``, as Keras
reads ``~/.keras/keras.json``; else ``"channels_first"``, PyTorch's layout (Keras's own
default is ``"channels_last"``). Layers read the setting when they are created.

Example:
    >>> from kerasish import config
    >>> config.set_image_data_format("channels_last")
    >>> config.image_data_format()
    'channels_last'
    >>> config.set_image_data_format("channels_first")
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["config_path", "image_data_format", "reload", "set_image_data_format"]

ENV_VAR = "KERASISH_IMAGE_DATA_FORMAT"
HOME_VAR = "KERASISH_HOME"
_FORMATS = ("channels_first", "channels_last")
_DEFAULT = "channels_first"

_image_data_format: str | None = None  # None: not read yet


def _check(value: Any, name: str) -> str:
    if value not in _FORMATS:
        raise ValueError(
            f"Expected `{name}` to be one of 'channels_first', 'channels_last'. "
            f"Received: {name}={value!r}"
        )
    return value


def config_path() -> Path:
    """The settings file: ``$KERASISH_HOME/kerasish.json``, else ``~/.kerasish/kerasish.json``.

    Returns:
        The path (the file need not exist).

    Example:
        >>> config_path().name
        'kerasish.json'
    """
    home = os.environ.get(HOME_VAR)
    folder = Path(home) if home else Path.home() / ".kerasish"
    return folder / "kerasish.json"


def _from_file(path: Path) -> str | None:
    """The file's ``image_data_format``, or None when the file or the key is absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(
            f"Expected {path} to hold a JSON object such as "
            f'{{"image_data_format": "channels_last"}}. Received: invalid JSON ({e})'
        ) from e
    if not isinstance(settings, dict) or "image_data_format" not in settings:
        return None
    return _check(settings["image_data_format"], f"image_data_format (in {path})")


def reload() -> str:
    """Forget :func:`set_image_data_format` and read the environment and the file again.

    Returns:
        The image data format now in effect.

    Raises:
        ValueError: when the environment variable or the file holds an unknown format, or
            the file is not valid JSON.

    Example:
        >>> reload() in ("channels_first", "channels_last")
        True
    """
    global _image_data_format
    env = os.environ.get(ENV_VAR)
    if env:
        _image_data_format = _check(env, ENV_VAR)
    else:
        _image_data_format = _from_file(config_path()) or _DEFAULT
    return _image_data_format


def image_data_format() -> str:
    """The default data format of the image and sequence layers.

    Returns:
        ``"channels_first"`` (images ``(N, C, H, W)``, sequences ``(N, C, L)``) or
        ``"channels_last"`` (images ``(N, H, W, C)``, sequences ``(N, steps, features)``).

    Example:
        >>> image_data_format() in ("channels_first", "channels_last")
        True
    """
    return _image_data_format if _image_data_format is not None else reload()


def set_image_data_format(data_format: str) -> None:
    """Set the default ``data_format`` of the layers created from now on.

    Args:
        data_format: ``"channels_first"`` or ``"channels_last"``.

    Raises:
        ValueError: for any other value.

    Example:
        >>> set_image_data_format("channels_last")
        >>> image_data_format()
        'channels_last'
        >>> set_image_data_format("channels_first")
    """
    global _image_data_format
    _image_data_format = _check(data_format, "data_format")
