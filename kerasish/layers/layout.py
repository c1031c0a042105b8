"""Data formats of the layers: resolving ``data_format=None``, the NCHW view, the layout check.

A channels-last layer moves the channel axis to position 1 with ``movedim`` (a view, no
copy: a 4-D image batch becomes an NCHW tensor in torch's ``channels_last`` memory format,
which the convolutions and poolings use directly) and moves it back on the way out.
"""

from __future__ import annotations

from torch import Tensor

from kerasish import config
from kerasish.layers.checks import check_data_format

__all__ = ["check_layout", "resolve_data_format", "to_channels_first", "to_channels_last"]

_CHANNELS_LAST_SIZES = (1, 3, 4)  # grey, RGB, RGBA images; uni-, tri-variate series
_SHAPES = {1: ("(N, C, L)", "(N, steps, features)"), 2: ("(N, C, H, W)", "(N, H, W, C)")}


def resolve_data_format(value: str | None) -> str:
    """``value``, or the configured default (:func:`kerasish.config.image_data_format`) for None.

    Raises:
        ValueError: for anything but None, ``"channels_first"``, ``"channels_last"``.
    """
    return config.image_data_format() if value is None else check_data_format(value)


def to_channels_first(x: Tensor) -> Tensor:
    """The channels-last ``x`` as a channels-first view (the last axis moved to axis 1)."""
    return x.movedim(-1, 1)


def to_channels_last(x: Tensor) -> Tensor:
    """The channels-first ``x`` as a channels-last view (axis 1 moved to the end)."""
    return x.movedim(1, -1)


def _looks_channels_last(x: Tensor, rank: int) -> bool:
    """A batch of rank ``rank + 2`` whose last axis is 1, 3 or 4 and spatial axes are > 4."""
    if x.ndim != rank + 2:
        return False
    return x.shape[-1] in _CHANNELS_LAST_SIZES and all(s > 4 for s in x.shape[1:-1])


def check_layout(layer_name: str, x: Tensor, rank: int) -> None:
    """At a channels-first layer's first call, refuse a batch that looks channels-last.

    The layers call it only when their ``data_format`` was left to the default, so passing
    ``data_format="channels_first"`` explicitly accepts such a shape.

    Raises:
        ValueError: naming ``data_format`` and ``K.config.set_image_data_format``.
    """
    if not isinstance(x, Tensor) or rank not in _SHAPES or not _looks_channels_last(x, rank):
        return
    first, last = _SHAPES[rank]
    raise ValueError(
        f"Expected channels-first input {first} for {layer_name}, whose data_format is "
        f"'channels_first'. Received: x.shape={tuple(x.shape)}, which looks channels-last "
        f"{last}. For Keras's layout call "
        f'K.config.set_image_data_format("channels_last") before creating the layers, or '
        f'pass data_format="channels_last" to each layer; if this really is channels-first '
        f'input, pass data_format="channels_first" explicitly.'
    )
