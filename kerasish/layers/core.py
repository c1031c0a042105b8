"""Core layers: Input, Dense, Activation, Lambda, Flatten, Reshape, Dropout, Embedding."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kerasish.layers.activations import ActivationLike, get_activation
from kerasish.layers.api import mark_masking
from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_bool, check_fraction, check_positive_int, is_int
from kerasish.layers.layout import resolve_data_format

__all__ = ["Input", "Dense", "Activation", "Lambda", "Flatten", "Reshape", "Dropout", "Embedding"]


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

    #: Calling a kerasish layer on an ``Input`` layer builds a functional graph, as Keras's
    #: ``x = layers.Dense(8)(layers.Input(shape))`` does (``kerasish.models.input``).
    __kerasish_symbolic__ = True

    def __init__(
        self, shape: Sequence[int | None], *, dtype: str | torch.dtype | None = None
    ) -> None:
        super().__init__()
        ok = isinstance(shape, (tuple, list)) and all(
            d is None or is_int(d) and d > 0 for d in shape
        )
        check(ok, "a tuple of positive integers or None", "shape", shape)
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
    check(isinstance(dtype, torch.dtype), "a torch dtype or its name", "dtype", value)
    return dtype


class Dense(Layer):
    """Densely connected layer on the last axis: ``activation(x @ W.T + b)``.

    Wraps :class:`torch.nn.LazyLinear`: the input size is inferred at the first call.
    Input ``(..., features)``, output ``(..., units)``. Weights use torch's default
    initialization unless ``kernel_initializer``/``bias_initializer`` are given (Keras's
    defaults are ``"glorot_uniform"`` and ``"zeros"``). torch stores the kernel as
    ``(units, features)``; ``weights``, ``get_weights()`` and ``set_weights()`` show it as
    Keras's ``(features, units)``.

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

    supports_masking = True

    def __init__(
        self, units: int, *, activation: ActivationLike = None, use_bias: bool = True
    ) -> None:
        super().__init__()
        self.units = check_positive_int("units", units)
        self.use_bias = check_bool("use_bias", use_bias)
        self.linear = nn.LazyLinear(units, bias=use_bias)
        self._activation_id = activation
        self.activation = get_activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        if not self._prepared:
            self._prepare_build(x)
        return self.activation(self.linear(x))

    @property
    def kernel(self) -> Any:
        """Keras's kernel: a :class:`~kerasish.layers.weights.Weight` ``(features, units)``
        view of ``linear.weight`` (None before the first call)."""
        return self.get_weight("kernel")

    @property
    def bias(self) -> Any:
        """Keras's bias (a ``Weight`` view of ``linear.bias``; None without one)."""
        return self.get_weight("bias")

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

    supports_masking = True

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
        check(callable(function), "a callable", "function", function, TypeError)
        self.function = function

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {"function": self.function}


class Flatten(Layer):
    """Flattens every axis but the batch axis: ``(N, ...)`` to ``(N, prod(...))``.

    The tensor is flattened as it is laid out, a view without a copy: channels-last input
    ``(N, H, W, C)`` gives Keras's (H, W, C) order, channels-first input PyTorch's
    (C, H, W) order (Keras would reorder it to (H, W, C); kerasish keeps ``nn.Flatten``'s
    order, so torch weights and models saved by earlier versions stay valid).

    Args:
        data_format: the layout of the input, ``"channels_first"`` or ``"channels_last"``;
            ``None`` means :func:`kerasish.config.image_data_format`. Recorded in the config
            for Keras compatibility; the order follows the layout as described above.

    Example:
        >>> Flatten()(torch.ones(2, 3, 4, 5)).shape
        torch.Size([2, 60])
    """

    def __init__(self, data_format: str | None = None) -> None:
        super().__init__()
        self.data_format = resolve_data_format(data_format)

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1) if x.ndim > 1 else x.unsqueeze(1)

    def get_config(self) -> dict[str, Any]:
        return {"data_format": self.data_format}


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
            is_int(d) and (d > 0 or d == -1) for d in target_shape
        )
        ok = ok and list(target_shape).count(-1) <= 1
        expected = "a tuple of positive integers with at most one -1"
        check(ok, expected, "target_shape", target_shape)
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

    supports_masking = True

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = check_fraction("rate", rate)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.rate, self.training)

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}


class Embedding(Layer):
    """Maps integer indices ``(N, ...)`` to vectors ``(N, ..., output_dim)``.

    Not lazy: the table size is given. Floating indices are cast to int64 (as Keras casts).
    Weights use torch's N(0, 1) initialization unless ``embeddings_initializer`` is given
    (Keras's default is uniform(-0.05, 0.05)).

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: size of each vector.
        mask_zero: index 0 is padding: the output carries the mask ``indices != 0``, which
            the next layers that take a mask (``LSTM``, ``GRU``, ``SimpleRNN``, ...) receive.

    Example:
        >>> Embedding(10, 4)(torch.tensor([[1, 2, 3]])).shape
        torch.Size([1, 3, 4])
    """

    def __init__(self, input_dim: int, output_dim: int, *, mask_zero: bool = False) -> None:
        super().__init__()
        self.input_dim = check_positive_int("input_dim", input_dim)
        self.output_dim = check_positive_int("output_dim", output_dim)
        self.mask_zero = check_bool("mask_zero", mask_zero)
        if mask_zero:
            mark_masking()
        self.embedding = nn.Embedding(input_dim, output_dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.embedding(x.long() if x.is_floating_point() else x)

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Tensor | None:
        """``inputs != 0`` with ``mask_zero``, else None.

        Example:
            >>> Embedding(5, 2, mask_zero=True).compute_mask(torch.tensor([[3, 0]]))
            tensor([[ True, False]])
        """
        return inputs != 0 if self.mask_zero else None

    def get_config(self) -> dict[str, Any]:
        return {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "mask_zero": self.mask_zero,
        }
