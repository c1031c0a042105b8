"""Keras-named layers over ``torch.nn`` whose input sizes are inferred at the first call.

Every layer is an ordinary :class:`torch.nn.Module`. Layers whose weights depend on the
input size (``Dense``, ``Conv1D``, ``Conv2D``, ``BatchNormalization``, ``LayerNormalization``,
``LSTM``, ``GRU``) start *unbuilt*: those weights are
:class:`torch.nn.parameter.UninitializedParameter` until the first forward call, which
creates them on the input's device (and in the input's dtype, for floating inputs outside
autocast). A module is unbuilt exactly when it still holds an ``UninitializedParameter``.

Layout follows PyTorch, not Keras: tensors are **channels-first**. Image layers take
``(N, C, H, W)``; ``Conv1D`` and the 1-D pooling layers take ``(N, C, L)``; ``LSTM`` and
``GRU`` take batch-first sequences ``(N, T, F)``. ``Dense`` and ``LayerNormalization`` act
on the last axis, ``BatchNormalization`` on axis 1 (the channels).

Every layer has ``get_config()`` (its constructor arguments) and ``from_config(config)``;
``LAYERS`` maps class names to classes and :func:`get_activation` resolves activation names.

Example:
    >>> model = torch.nn.Sequential(
    ...     Conv2D(8, 3, padding="same", activation="relu"),
    ...     MaxPooling2D(),
    ...     Flatten(),
    ...     Dense(10, activation="softmax"),
    ... )
    >>> model(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm, _LazyNormBase
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

__all__ = [
    "LAYERS",
    "Activation",
    "AveragePooling1D",
    "AveragePooling2D",
    "BatchNormalization",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "LSTM",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "MaxPooling1D",
    "MaxPooling2D",
    "Reshape",
    "get_activation",
]

ActivationLike = str | Callable[[Tensor], Tensor] | nn.Module | None
IntOrTuple = int | Sequence[int]


# --------------------------------------------------------------------------- activations


class _Exponential(nn.Module):
    """``exp(x)``, Keras's ``"exponential"`` activation."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.exp(x)


class _Function(nn.Module):
    """Wraps a plain callable on tensors as an ``nn.Module``."""

    def __init__(self, fn: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return getattr(self.fn, "__name__", repr(self.fn))


_ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "linear": nn.Identity,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "softmax": functools.partial(nn.Softmax, dim=-1),
    "log_softmax": functools.partial(nn.LogSoftmax, dim=-1),
    "gelu": nn.GELU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "softplus": nn.Softplus,
    "softsign": nn.Softsign,
    "swish": nn.SiLU,
    "silu": nn.SiLU,
    "leaky_relu": functools.partial(nn.LeakyReLU, negative_slope=0.2),
    "relu6": nn.ReLU6,
    "hard_sigmoid": nn.Hardsigmoid,
    "hard_silu": nn.Hardswish,
    "hard_swish": nn.Hardswish,
    "mish": nn.Mish,
    "exponential": _Exponential,
}


def get_activation(identifier: ActivationLike) -> nn.Module:
    """Resolve an activation identifier to an ``nn.Module``.

    Names follow Keras: ``"softmax"`` and ``"log_softmax"`` act on the last axis and
    ``"leaky_relu"`` uses Keras's slope 0.2; ``"hard_sigmoid"`` is ``relu6(x + 3) / 6``.

    Args:
        identifier: a Keras name (``"relu"``, ``"softmax"``, ...); ``None`` or ``"linear"``
            for the identity; an ``nn.Module`` instance (returned as is) or class
            (instantiated); or any callable on tensors (wrapped in a module).

    Returns:
        The activation as an ``nn.Module``.

    Raises:
        ValueError: if a string is not a known activation name.
        TypeError: if the identifier is neither a string, ``None``, nor callable.

    Example:
        >>> get_activation("relu")
        ReLU()
        >>> get_activation(None)
        Identity()
    """
    if identifier is None:
        return nn.Identity()
    if isinstance(identifier, nn.Module):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, nn.Module):
        return identifier()
    if isinstance(identifier, str):
        if identifier not in _ACTIVATIONS:
            raise ValueError(
                "Could not interpret activation identifier. Expected one of "
                f"{sorted(_ACTIVATIONS)}. Received: activation={identifier!r}"
            )
        return _ACTIVATIONS[identifier]()
    if callable(identifier):
        return _Function(identifier)
    raise TypeError(
        "Expected `activation` to be a string, None, a callable or an nn.Module. "
        f"Received: activation={identifier!r}"
    )


# --------------------------------------------------------------------------- validation


def _check(ok: bool, expected: str, name: str, value: Any, error: type = ValueError) -> None:
    """Raise ``error`` worded "Expected `name` to be <expected>. Received: name=value"."""
    if not ok:
        raise error(f"Expected `{name}` to be {expected}. Received: {name}={value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(name: str, value: Any) -> int:
    _check(_is_int(value), "an integer", name, value, TypeError)
    _check(value > 0, "a positive integer", name, value)
    return value


def _bool(name: str, value: Any) -> bool:
    _check(isinstance(value, bool), "a boolean", name, value, TypeError)
    return value


def _int_tuple(name: str, value: Any, rank: int) -> tuple[int, ...]:
    values = (value,) * rank if _is_int(value) else value
    ok = (
        isinstance(values, (tuple, list))
        and len(values) == rank
        and all(_is_int(v) and v > 0 for v in values)
    )
    _check(ok, f"a positive integer or a tuple of {rank} positive integers", name, value)
    return tuple(values)


def _padding(value: Any) -> str:
    ok = isinstance(value, str) and value.lower() in ("valid", "same")
    _check(ok, "one of 'valid', 'same'", "padding", value)
    return value.lower()


def _fraction(name: str, value: Any, *, closed: bool = False) -> float:
    upper = "1]" if closed else "1)"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (0 <= value <= 1 if closed else 0 <= value < 1)
    _check(ok, f"a float in [0, {upper}", name, value)
    return float(value)


def _positive_float(name: str, value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    _check(ok, "a positive float", name, value)
    return float(value)


def _data_format(value: Any) -> str:
    ok = value in ("channels_first", "channels_last")
    _check(ok, "one of 'channels_first', 'channels_last'", "data_format", value)
    return value


def _same_padding(
    sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> list[int]:
    """``F.pad`` amounts (last axis first) for Keras 'same': output ceil(size / stride).

    As TensorFlow does, an odd total goes one more to the right/bottom.
    """
    pads: list[int] = []
    for size, k, s, d in zip(*map(reversed, (sizes, kernel, strides, dilation))):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads += [total // 2, total - total // 2]
    return pads


# --------------------------------------------------------------------------- base


_PER_AXIS_ARGS = frozenset({"kernel_size", "strides", "dilation_rate", "pool_size"})


def _format(value: Any, per_axis: bool = False) -> str:
    if per_axis and isinstance(value, tuple) and len(set(value)) == 1:
        return repr(value[0])  # (3, 3) reads as 3, as a Keras user writes it
    if isinstance(value, nn.Module) or not callable(value):
        return repr(value)
    return getattr(value, "__name__", repr(value))


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, tuple) and _is_int(default):
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
        _check(isinstance(value, bool), "True or False", "trainable", value, TypeError)
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
            text = _format(value, per_axis=name in _PER_AXIS_ARGS)
            if default is inspect.Parameter.empty:
                args.append(text)
            elif not _same(value, default):
                args.append(f"{name}={text}")
        return f"{type(self).__name__}({', '.join(args)})"


# --------------------------------------------------------------------------- core


class Input(Layer):
    """Marker for a model's input shape (without the batch axis); the identity in forward.

    A ``Sequential`` that starts with ``Input`` can be built without data by calling it on
    a dummy batch of this shape (``None`` dims are variable and need a concrete size then).

    Args:
        shape: input shape without the batch axis, e.g. ``(3, 32, 32)`` (channels-first).
        dtype: expected input dtype (``"float32"``, ``"int64"``, a ``torch.dtype``) or
            ``None`` for the default float dtype.

    Example:
        >>> inp = Input((3, 32, 32))
        >>> inp.shape
        (3, 32, 32)
        >>> inp(torch.ones(2, 3, 32, 32)).shape
        torch.Size([2, 3, 32, 32])
    """

    def __init__(
        self, shape: Sequence[int | None], *, dtype: str | torch.dtype | None = None
    ) -> None:
        super().__init__()
        ok = isinstance(shape, (tuple, list)) and all(
            d is None or _is_int(d) and d > 0 for d in shape
        )
        _check(ok, "a tuple of positive integers or None", "shape", shape)
        self.shape: tuple[int | None, ...] = tuple(shape)
        self.dtype: torch.dtype | None = _torch_dtype(dtype)

    def forward(self, x: Tensor) -> Tensor:
        return x

    def get_config(self) -> dict[str, Any]:
        dtype = None if self.dtype is None else str(self.dtype).removeprefix("torch.")
        return {"shape": self.shape, "dtype": dtype}


def _torch_dtype(value: Any) -> torch.dtype | None:
    if value is None or isinstance(value, torch.dtype):
        return value
    dtype = getattr(torch, value, None) if isinstance(value, str) else None
    _check(isinstance(dtype, torch.dtype), "a torch dtype or its name", "dtype", value)
    return dtype


class Dense(Layer):
    """Densely connected layer on the last axis: ``activation(x @ W.T + b)``.

    Wraps :class:`torch.nn.LazyLinear`: the input size is inferred at the first call.
    Input ``(..., features)``, output ``(..., units)``. Weights use torch's default
    initialization, not Keras's Glorot.

    Args:
        units: number of output features (positive).
        activation: activation name, callable or module (see :func:`get_activation`);
            ``None`` for none. The resolved module is the attribute ``activation``.
        use_bias: whether to add a bias.

    Example:
        >>> layer = Dense(4, activation="relu")
        >>> layer(torch.randn(2, 3)).shape
        torch.Size([2, 4])
        >>> layer.linear.in_features
        3
    """

    def __init__(
        self, units: int, *, activation: ActivationLike = None, use_bias: bool = True
    ) -> None:
        super().__init__()
        self.units = _positive_int("units", units)
        self.use_bias = _bool("use_bias", use_bias)
        self.linear = nn.LazyLinear(units, bias=use_bias)
        self._activation_id = activation
        self.activation = get_activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            self._prepare_build(x)
        return self.activation(self.linear(x))

    def get_config(self) -> dict[str, Any]:
        return {"units": self.units, "activation": self._activation_id, "use_bias": self.use_bias}


class Activation(Layer):
    """Applies an activation function.

    Args:
        activation: activation name, callable or module (see :func:`get_activation`).

    Example:
        >>> Activation("relu")(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, activation: ActivationLike) -> None:
        super().__init__()
        self._activation_id = activation
        self.activation = get_activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.activation(x)

    def get_config(self) -> dict[str, Any]:
        return {"activation": self._activation_id}


class Lambda(Layer):
    """Wraps a function of tensors as a layer.

    Its config holds the function itself, so it is not JSON-able.

    Args:
        function: callable applied to the layer's inputs.

    Example:
        >>> Lambda(lambda x: x * 2)(torch.ones(2))
        tensor([2., 2.])
    """

    def __init__(self, function: Callable[..., Any]) -> None:
        super().__init__()
        _check(callable(function), "a callable", "function", function, TypeError)
        self.function = function

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {"function": self.function}


class Flatten(Layer):
    """Flattens every axis but the batch axis: ``(N, ...)`` to ``(N, prod(...))``.

    On channels-first input the element order is PyTorch's (C, H, W), not Keras's (H, W, C).

    Example:
        >>> Flatten()(torch.ones(2, 3, 4, 5)).shape
        torch.Size([2, 60])
    """

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1) if x.ndim > 1 else x.unsqueeze(1)


class Reshape(Layer):
    """Reshapes every sample to ``target_shape`` (the batch axis is kept).

    Args:
        target_shape: the new shape without the batch axis; one entry may be ``-1``.

    Example:
        >>> Reshape((4, -1))(torch.ones(2, 12)).shape
        torch.Size([2, 4, 3])
    """

    def __init__(self, target_shape: Sequence[int]) -> None:
        super().__init__()
        ok = isinstance(target_shape, (tuple, list)) and all(
            _is_int(d) and (d > 0 or d == -1) for d in target_shape
        )
        ok = ok and list(target_shape).count(-1) <= 1
        expected = "a tuple of positive integers with at most one -1"
        _check(ok, expected, "target_shape", target_shape)
        self.target_shape = tuple(target_shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.target_shape)

    def get_config(self) -> dict[str, Any]:
        return {"target_shape": self.target_shape}


class Dropout(Layer):
    """Zeroes inputs with probability ``rate`` in training, scaling the rest by 1/(1-rate).

    Args:
        rate: fraction of inputs to drop, in [0, 1).

    Example:
        >>> layer = Dropout(0.5).eval()
        >>> layer(torch.ones(3))
        tensor([1., 1., 1.])
    """

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = _fraction("rate", rate)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.rate, self.training)

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}


class Embedding(Layer):
    """Maps integer indices ``(N, ...)`` to vectors ``(N, ..., output_dim)``.

    Not lazy: the table size is given. Floating indices are cast to int64 (as Keras casts).
    Weights use torch's N(0, 1) initialization, not Keras's uniform(-0.05, 0.05).

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: size of each vector.
        mask_zero: accepted for Keras compatibility and otherwise ignored: kerasish layers
            do not propagate masks, so index 0 is embedded like any other (a warning says so).

    Example:
        >>> Embedding(10, 4)(torch.tensor([[1, 2, 3]])).shape
        torch.Size([1, 3, 4])
    """

    def __init__(self, input_dim: int, output_dim: int, *, mask_zero: bool = False) -> None:
        super().__init__()
        self.input_dim = _positive_int("input_dim", input_dim)
        self.output_dim = _positive_int("output_dim", output_dim)
        self.mask_zero = _bool("mask_zero", mask_zero)
        if mask_zero:
            warnings.warn(
                "Embedding(mask_zero=True) is ignored: kerasish layers do not propagate "
                "masks, so index 0 is embedded like any other index.",
                stacklevel=2,
            )
        self.embedding = nn.Embedding(input_dim, output_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.embedding(x.long() if x.is_floating_point() else x)

    def get_config(self) -> dict[str, Any]:
        return {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "mask_zero": self.mask_zero,
        }


# --------------------------------------------------------------------------- convolution


class _Conv(Layer):
    """Shared body of Conv1D/Conv2D over a ``torch.nn.LazyConv{1,2}d``."""

    _rank = 2
    _lazy_conv: type[nn.Module] = nn.LazyConv2d

    def __init__(
        self,
        filters: int,
        kernel_size: IntOrTuple,
        *,
        strides: IntOrTuple = 1,
        padding: str = "valid",
        dilation_rate: IntOrTuple = 1,
        activation: ActivationLike = None,
        use_bias: bool = True,
    ) -> None:
        super().__init__()
        self.filters = _positive_int("filters", filters)
        self.kernel_size = _int_tuple("kernel_size", kernel_size, self._rank)
        self.strides = _int_tuple("strides", strides, self._rank)
        self.padding = _padding(padding)
        self.dilation_rate = _int_tuple("dilation_rate", dilation_rate, self._rank)
        self.use_bias = _bool("use_bias", use_bias)
        self.conv = self._lazy_conv(
            filters,
            self.kernel_size,
            stride=self.strides,
            padding=self._native_padding(),
            dilation=self.dilation_rate,
            bias=use_bias,
        )
        self._activation_id = activation
        self.activation = get_activation(activation)

    def _native_padding(self) -> tuple[int, ...]:
        """Symmetric padding torch's conv can apply itself; sets ``_pad_explicitly`` otherwise.

        'same' with stride 1 and an even total pad is symmetric; other 'same' cases need
        the asymmetric Keras padding (extra on the right), applied in ``forward``.
        """
        totals = [(k - 1) * d for k, d in zip(self.kernel_size, self.dilation_rate)]
        same = self.padding == "same"
        self._pad_explicitly = same and (max(self.strides) > 1 or any(t % 2 for t in totals))
        if same and not self._pad_explicitly:
            return tuple(t // 2 for t in totals)
        return (0,) * self._rank

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            self._prepare_build(x)
        if self._pad_explicitly:
            pads = _same_padding(x.shape[2:], self.kernel_size, self.strides, self.dilation_rate)
            if any(pads):
                x = F.pad(x, pads)
        return self.activation(self.conv(x))

    def get_config(self) -> dict[str, Any]:
        return {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "dilation_rate": self.dilation_rate,
            "activation": self._activation_id,
            "use_bias": self.use_bias,
        }


class Conv1D(_Conv):
    """1-D convolution on channels-first ``(N, C, L)`` input; ``C`` is inferred at first call.

    Args:
        filters: number of output channels (positive).
        kernel_size: window length, an int or a 1-tuple.
        strides: step, an int or a 1-tuple.
        padding: ``"valid"`` (none) or ``"same"`` (output length ``ceil(L / strides)``,
            padded as Keras with the odd element on the right).
        dilation_rate: dilation, an int or a 1-tuple.
        activation: activation name, callable or module; ``None`` for none.
        use_bias: whether to add a bias.

    Example:
        >>> Conv1D(8, 3, strides=2, padding="same")(torch.randn(2, 4, 11)).shape
        torch.Size([2, 8, 6])
    """

    _rank = 1
    _lazy_conv = nn.LazyConv1d


class Conv2D(_Conv):
    """2-D convolution on channels-first ``(N, C, H, W)`` input; ``C`` is inferred at first call.

    Args:
        filters: number of output channels (positive).
        kernel_size: window size, an int or a ``(height, width)`` tuple.
        strides: step, an int or a 2-tuple.
        padding: ``"valid"`` (none) or ``"same"`` (output ``ceil(H / stride)`` by
            ``ceil(W / stride)``, padded as Keras with the odd row/column at the bottom/right).
        dilation_rate: dilation, an int or a 2-tuple.
        activation: activation name, callable or module; ``None`` for none. Note that
            ``"softmax"`` acts on the last axis (width); pass ``nn.Softmax(dim=1)`` for channels.
        use_bias: whether to add a bias.

    Example:
        >>> Conv2D(16, 3, strides=2, padding="same")(torch.randn(2, 3, 9, 8)).shape
        torch.Size([2, 16, 5, 4])
    """

    _rank = 2
    _lazy_conv = nn.LazyConv2d


# --------------------------------------------------------------------------- pooling


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
    ) -> None:
        super().__init__()
        self.pool_size = _int_tuple("pool_size", pool_size, self._rank)
        self.strides = (
            self.pool_size if strides is None else _int_tuple("strides", strides, self._rank)
        )
        self.padding = _padding(padding)

    def forward(self, x: Tensor) -> Tensor:
        if self.padding == "same":
            pads = _same_padding(x.shape[2:], self.pool_size, self.strides, (1,) * self._rank)
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
        return {"pool_size": self.pool_size, "strides": strides, "padding": self.padding}


class MaxPooling1D(_Pooling):
    """Max pooling over the last axis of channels-first ``(N, C, L)`` input.

    Args:
        pool_size: window length, an int or a 1-tuple.
        strides: step; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (output length ``ceil(L / strides)``).

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

    def __init__(self, *, keepdims: bool = False, data_format: str = "channels_first") -> None:
        super().__init__()
        self.keepdims = _bool("keepdims", keepdims)
        self.data_format = _data_format(data_format)
        first = 2 if data_format == "channels_first" else 1
        self._dims = tuple(range(first, first + self._rank))

    def forward(self, x: Tensor) -> Tensor:
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
            ``"channels_last"`` for ``(N, L, C)`` (Embedding or LSTM sequence output).

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
            ``(N, L, C)``.

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
        data_format: ``"channels_first"`` for ``(N, C, H, W)`` or ``"channels_last"``.

    Example:
        >>> GlobalAveragePooling2D(keepdims=True)(torch.ones(2, 3, 4, 4)).shape
        torch.Size([2, 3, 1, 1])
    """


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over (H, W): ``(N, C, H, W)`` to ``(N, C)`` (``(N, C, 1, 1)`` with keepdims).

    Args:
        keepdims: keep the reduced axes with length 1.
        data_format: ``"channels_first"`` for ``(N, C, H, W)`` or ``"channels_last"``.

    Example:
        >>> GlobalMaxPooling2D()(torch.ones(2, 3, 4, 4)).shape
        torch.Size([2, 3])
    """

    _is_max = True


# --------------------------------------------------------------------------- normalization


class _AnyRankBatchNorm(_BatchNorm):
    """Batch norm over axis 1 of any input of rank >= 2 (what the lazy one becomes)."""

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(
                "Expected input of rank >= 2 (N, C, ...). "
                f"Received: input.shape={tuple(input.shape)}"
            )


class _LazyBatchNorm(_LazyNormBase, _AnyRankBatchNorm):
    """Lazy batch norm for any rank: the channel count comes from the first input."""

    cls_to_become = _AnyRankBatchNorm


class BatchNormalization(Layer):
    """Batch normalization over the channel axis, for (N, C), (N, C, L) or (N, C, H, W) input.

    Training normalizes with the batch statistics and updates moving averages; eval uses
    the moving averages. Keras's ``momentum`` weighs the old average, so torch's momentum
    is ``1 - momentum`` (0.99 becomes 0.01). As in torch, the moving variance is unbiased.

    Args:
        axis: the channel axis (PyTorch's 1 by default; ``-1`` for (N, T, F) features).
        momentum: moving-average momentum in Keras's sense, in [0, 1].
        epsilon: positive number added to the variance.

    Example:
        >>> layer = BatchNormalization()
        >>> layer(torch.randn(4, 3, 5, 5)).shape
        torch.Size([4, 3, 5, 5])
        >>> layer.bn.num_features
        3
    """

    def __init__(self, *, axis: int = 1, momentum: float = 0.99, epsilon: float = 1e-3) -> None:
        super().__init__()
        _check(_is_int(axis), "an integer", "axis", axis, TypeError)
        self.axis = axis
        self.momentum = _fraction("momentum", momentum, closed=True)
        self.epsilon = _positive_float("epsilon", epsilon)
        self.bn = _LazyBatchNorm(eps=self.epsilon, momentum=round(1.0 - self.momentum, 12))

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            self._prepare_build(x)
        if self.axis in (1, 1 - x.ndim):
            return self.bn(x)
        return self.bn(x.movedim(self.axis, 1)).movedim(1, self.axis)

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon}


class _LazyLayerNorm(LazyModuleMixin, nn.LayerNorm):
    """``nn.LayerNorm`` over the last axis whose size comes from the first input."""

    cls_to_become = nn.LayerNorm

    def __init__(self, eps: float) -> None:
        super().__init__(0, eps=eps)
        self.weight = UninitializedParameter()
        self.bias = UninitializedParameter()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params():
            super().reset_parameters()

    def initialize_parameters(self, x: Tensor) -> None:
        if self.has_uninitialized_params():
            with torch.no_grad():
                self.weight.materialize((x.shape[-1],))
                self.bias.materialize((x.shape[-1],))
                self.reset_parameters()
        self.normalized_shape = tuple(self.weight.shape)  # also after a lazy state-dict load


class LayerNormalization(Layer):
    """Layer normalization over the last axis, with learned scale and offset.

    Args:
        epsilon: positive number added to the variance.

    Example:
        >>> layer = LayerNormalization()
        >>> layer(torch.randn(2, 5, 8)).shape
        torch.Size([2, 5, 8])
        >>> layer.norm.normalized_shape
        (8,)
    """

    def __init__(self, *, epsilon: float = 1e-3) -> None:
        super().__init__()
        self.epsilon = _positive_float("epsilon", epsilon)
        self.norm = _LazyLayerNorm(self.epsilon)

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            self._prepare_build(x)
        return self.norm(x)

    def get_config(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon}


# --------------------------------------------------------------------------- recurrent


class _LazyRNNMixin(LazyModuleMixin):
    """Lazy batch-first one-layer torch RNN: ``weight_ih_l0`` waits for the feature size."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__(1, hidden_size, batch_first=True)
        self.weight_ih_l0 = UninitializedParameter()

    def flatten_parameters(self) -> None:
        if not self.has_uninitialized_params():
            super().flatten_parameters()

    def initialize_parameters(self, x: Tensor, *args: Any) -> None:
        if self.has_uninitialized_params():
            with torch.no_grad():
                self.weight_ih_l0.materialize((self.weight_hh_l0.shape[0], x.shape[-1]))
                bound = 1.0 / math.sqrt(self.hidden_size)
                self.weight_ih_l0.uniform_(-bound, bound)  # torch's RNN initialization
        self.input_size = self.weight_ih_l0.shape[1]  # also after a lazy state-dict load


class _LazyLSTM(_LazyRNNMixin, nn.LSTM):
    cls_to_become = nn.LSTM


class _LazyGRU(_LazyRNNMixin, nn.GRU):
    cls_to_become = nn.GRU


class _RNN(Layer):
    """Shared body of LSTM and GRU over a lazy one-layer batch-first torch RNN."""

    _lazy_rnn: type[nn.Module] = _LazyLSTM
    _num_states = 2

    def __init__(
        self,
        units: int,
        *,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.units = _positive_int("units", units)
        self.return_sequences = _bool("return_sequences", return_sequences)
        self.return_state = _bool("return_state", return_state)
        self.go_backwards = _bool("go_backwards", go_backwards)
        self.dropout = _fraction("dropout", dropout)
        self.rnn = self._lazy_rnn(units)

    def forward(
        self, x: Tensor, initial_state: Tensor | Sequence[Tensor] | None = None
    ) -> Tensor | tuple[Tensor, ...]:
        if not self._prepared:
            self._prepare_build(x)
        if self.dropout and self.training:  # one mask per sequence, as Keras
            x = x * F.dropout(x.new_ones(x.shape[0], 1, x.shape[2]), self.dropout)
        if self.go_backwards:
            x = x.flip(1)
        out, state = self.rnn(x, self._torch_state(initial_state))
        output = out if self.return_sequences else out[:, -1]
        if not self.return_state:
            return output
        states = state if isinstance(state, tuple) else (state,)
        return (output, *(s[0] for s in states))

    def _torch_state(self, initial_state: Tensor | Sequence[Tensor] | None) -> Any:
        """Keras states ``[h, (c)]`` of shape (N, units) to torch's (1, N, units)."""
        if initial_state is None:
            return None
        states = [initial_state] if isinstance(initial_state, Tensor) else list(initial_state)
        expected = f"a list of {self._num_states} tensors of shape (batch, units)"
        _check(len(states) == self._num_states, expected, "initial_state", initial_state)
        torch_states = tuple(s.unsqueeze(0) for s in states)
        return torch_states if self._num_states > 1 else torch_states[0]

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "dropout": self.dropout,
        }


class LSTM(_RNN):
    """Long short-term memory over batch-first ``(N, T, F)`` input; ``F`` inferred at first call.

    Wraps a one-layer ``nn.LSTM`` (cuDNN on GPU), so the activations are torch's and
    Keras's defaults: ``tanh`` and ``sigmoid`` for the gates; weights use torch's
    initialization. ``layer(x, initial_state=[h, c])`` starts from given states.

    Args:
        units: size of the hidden state (positive).
        return_sequences: return every step ``(N, T, units)`` instead of the last ``(N, units)``.
        return_state: also return the final states: ``(output, h, c)``, each state ``(N, units)``.
        go_backwards: read the sequence backwards (a returned sequence is in reading order).
        dropout: fraction of input features dropped in training, one mask per sequence.

    Example:
        >>> out, h, c = LSTM(8, return_sequences=True, return_state=True)(torch.randn(2, 5, 3))
        >>> out.shape, h.shape, c.shape
        (torch.Size([2, 5, 8]), torch.Size([2, 8]), torch.Size([2, 8]))
    """

    _lazy_rnn = _LazyLSTM
    _num_states = 2


class GRU(_RNN):
    """Gated recurrent unit over batch-first ``(N, T, F)`` input; ``F`` inferred at first call.

    Wraps a one-layer ``nn.GRU``, which is Keras's ``reset_after=True`` variant with
    ``tanh``/``sigmoid`` activations; weights use torch's initialization.
    ``layer(x, initial_state=h)`` starts from a given state.

    Args:
        units: size of the hidden state (positive).
        return_sequences: return every step ``(N, T, units)`` instead of the last ``(N, units)``.
        return_state: also return the final state: ``(output, h)`` with ``h`` ``(N, units)``.
        go_backwards: read the sequence backwards (a returned sequence is in reading order).
        dropout: fraction of input features dropped in training, one mask per sequence.

    Example:
        >>> GRU(8)(torch.randn(2, 5, 3)).shape
        torch.Size([2, 8])
    """

    _lazy_rnn = _LazyGRU
    _num_states = 1


LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        Input,
        Dense,
        Activation,
        Lambda,
        Flatten,
        Reshape,
        Dropout,
        Embedding,
        Conv1D,
        Conv2D,
        MaxPooling1D,
        AveragePooling1D,
        MaxPooling2D,
        AveragePooling2D,
        GlobalAveragePooling1D,
        GlobalMaxPooling1D,
        GlobalAveragePooling2D,
        GlobalMaxPooling2D,
        BatchNormalization,
        LayerNormalization,
        LSTM,
        GRU,
    )
}
