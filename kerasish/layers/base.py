"""The Layer base class: Keras's layer API, shared arguments, config, ``trainable``, lazy build.

Every subclass's ``__init__`` also takes Keras's shared arguments (see
:mod:`kerasish.layers.shared`: ``name``, ``input_shape``, ``dtype``, ``trainable``,
``kernel_initializer``, ...) unless it declares them itself, and its ``get_config`` gains
those that were given.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from kerasish.layers import shared as shared_lib
from kerasish.layers.api import KerasLayerAPI
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


def _wrap_init(init: Callable) -> Callable:
    own = frozenset(inspect.signature(init).parameters)

    @functools.wraps(init)
    def __init__(self: Layer, *args: Any, **kwargs: Any) -> None:
        shared = shared_lib.split(kwargs, own)
        state = self.__dict__
        outer = "_init_shared" not in state
        if outer:
            state["_init_shared"] = {}
        state["_init_shared"].update(shared)
        try:
            init(self, *args, **kwargs)
        finally:
            if outer:
                shared = state.pop("_init_shared")
        if outer:
            self._configure(shared)

    return __init__


def _wrap_get_config(get_config: Callable) -> Callable:
    @functools.wraps(get_config)
    def wrapped(self: Layer) -> dict[str, Any]:
        return {**get_config(self), **shared_lib.config(self.__dict__.get("_shared", {}))}

    return wrapped


class Layer(KerasLayerAPI, nn.Module):
    """Base of the kerasish layers: Keras's layer API, config, readable repr, lazy build.

    Subclasses set their constructor arguments as attributes and return them from
    :meth:`get_config`; ``from_config(get_config())`` rebuilds an equal, unbuilt layer.
    Keras-style subclasses define ``build(input_shape)`` and ``call(inputs, ...)`` (see
    :class:`kerasish.layers.api.KerasLayerAPI`).

    Args:
        **kwargs: Keras's shared arguments (``name``, ``trainable``, ``dtype``, ...).

    Example:
        >>> layer = K.layers.Dense(3, name="head")
        >>> layer.built, layer.name
        (False, 'head')
        >>> _ = layer(torch.ones(1, 2))
        >>> layer.built, layer.get_weights()[0].shape
        (True, (2, 3))
    """

    _prepared = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _wrap_init(cls.__dict__["__init__"])
        if "get_config" in cls.__dict__:
            cls.get_config = _wrap_get_config(cls.__dict__["get_config"])

    def __init__(self, **kwargs: Any) -> None:
        shared = shared_lib.split(kwargs, frozenset())
        if kwargs:
            raise TypeError(
                f"Expected Keras layer arguments ({sorted(shared_lib.SHARED_ARGS)}). "
                f"Received: {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}"
            )
        super().__init__()
        pending = self.__dict__.get("_init_shared")
        if pending is None:
            self._configure(shared)
        else:
            pending.update(shared)

    def _configure(self, shared: dict[str, Any]) -> None:
        self.__dict__["_shared"] = {k: v for k, v in shared.items() if k != "trainable"}
        if shared.get("trainable") is False:
            self.__dict__["_shared"]["trainable"] = False
        shared_lib.configure(self, shared)

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
        fixed = self.fixed_dtype is not None
        self.to(device=x.device, dtype=x.dtype if floating and not fixed else None)

    def __repr__(self) -> str:
        params = inspect.signature(type(self)).parameters
        args = []
        for name, value in self.get_config().items():
            if name not in params:
                continue  # a shared argument (name, trainable, ...): not in the short repr
            default = params[name].default
            if default is None and name in _RESOLVED_DEFAULTS:
                default = _RESOLVED_DEFAULTS[name]
            text = _format(value, per_axis=name in _PER_AXIS_ARGS)
            if default is inspect.Parameter.empty:
                args.append(text)
            elif not _same(value, default):
                args.append(f"{name}={text}")
        return f"{type(self).__name__}({', '.join(args)})"
