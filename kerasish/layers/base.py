"""The Layer base class: Keras-style ``get_config``/``from_config``, ``trainable``, the lazy build."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.parameter import UninitializedParameter

from kerasish.layers.checks import check, is_int

__all__ = ["Layer"]

_PER_AXIS_ARGS = frozenset({"kernel_size", "strides", "dilation_rate", "pool_size"})
# What an argument whose default is None (resolved at construction) usually resolves to:
# the repr leaves it out then, as it leaves out other defaults.
_RESOLVED_DEFAULTS = {"data_format": "channels_first", "axis": 1}


def _format(value: Any, per_axis: bool = False) -> str:
    if per_axis and isinstance(value, tuple) and len(set(value)) == 1:
        return repr(value[0])  # (3, 3) reads as 3, as a Keras user writes it
    if isinstance(value, nn.Module) or not callable(value):
        return repr(value)
    return getattr(value, "__name__", repr(value))


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, tuple) and is_int(default):
        return all(v == default for v in value)
    return value is default or (type(value) is type(default) and value == default)


class Layer(nn.Module):
    """Base of the kerasish layers: Keras-style config, readable repr and the lazy build.

    Subclasses set their constructor arguments as attributes and return them from
    :meth:`get_config`; ``from_config(get_config())`` rebuilds an equal, unbuilt layer.

    Example:
        >>> layer = Dense(3)
        >>> layer.built
        False
        >>> _ = layer(torch.ones(1, 2))
        >>> layer.built
        True
    """

    _prepared = False

    @property
    def built(self) -> bool:
        """Whether every parameter is materialized (no ``UninitializedParameter`` left)."""
        return not any(isinstance(p, UninitializedParameter) for p in self.parameters())

    @property
    def trainable(self) -> bool:
        """False when every parameter is frozen (True for a layer without parameters).

        Setting it sets ``requires_grad`` on all of the layer's parameters, unbuilt ones
        included; it takes effect at the next ``fit``. Inside a kerasish model, a
        ``BatchNormalization`` whose parameters are all frozen runs in inference mode.

        Raises:
            TypeError: when set to anything but True or False.

        Example:
            >>> layer = Dense(3)
            >>> layer.trainable = False
            >>> layer.trainable
            False
        """
        params = list(self.parameters())
        return not params or any(p.requires_grad for p in params)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        check(isinstance(value, bool), "True or False", "trainable", value, TypeError)
        for p in self.parameters():
            p.requires_grad = value  # an attribute, so unbuilt (lazy) parameters take it too

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments, JSON-able when given as plain values.

        Returns:
            A dict such that ``type(self)(**config)`` rebuilds the layer (unbuilt).
        """
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Create a layer from the dict :meth:`get_config` returned.

        Args:
            config: constructor arguments by name.

        Returns:
            A new, unbuilt layer.
        """
        return cls(**config)

    def _prepare_build(self, x: Tensor) -> None:
        """Before the first call, move uninitialized weights to ``x``'s device and dtype.

        The dtype follows ``x`` only for floating inputs outside autocast, so a layer first
        called under mixed precision still keeps float32 weights.
        """
        self._prepared = True
        if self.built:
            return
        floating = x.is_floating_point() and not torch.is_autocast_enabled(x.device.type)
        self.to(device=x.device, dtype=x.dtype if floating else None)

    def __repr__(self) -> str:
        params = inspect.signature(type(self)).parameters
        args = []
        for name, value in self.get_config().items():
            default = params[name].default
            if default is None and name in _RESOLVED_DEFAULTS:
                default = _RESOLVED_DEFAULTS[name]
            text = _format(value, per_axis=name in _PER_AXIS_ARGS)
            if default is inspect.Parameter.empty:
                args.append(text)
            elif not _same(value, default):
                args.append(f"{name}={text}")
        return f"{type(self).__name__}({', '.join(args)})"
