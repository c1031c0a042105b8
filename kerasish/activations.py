"""Keras's ``keras.activations``: activation functions on tensors, by Keras name.

These are functions (``relu(x)``); ``kerasish.layers``' ``get_activation`` gives modules.
Arguments and defaults are Keras 3's: ``gelu`` is exact unless ``approximate=True``,
``leaky_relu``'s slope is 0.2, ``hard_sigmoid`` is ``relu6(x + 3) / 6``, ``softmax`` and
``log_softmax`` act on ``axis=-1``. Inputs may be tensors, NumPy arrays or Python numbers.

Example:
    >>> get("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    >>> serialize(relu)
    'relu'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kerasish.ops.core import convert_to_tensor
from kerasish.ops.nn import (  # the same functions as K.ops.nn (Keras's activations are ops)
    celu,
    elu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    leaky_relu,
    log_sigmoid,
    log_softmax,
    mish,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_shrink,
    softmax,
    softplus,
    softsign,
    squareplus,
    swish,
    tanh_shrink,
)

__all__ = [
    "celu", "deserialize", "elu", "exponential", "gelu", "get", "glu", "hard_shrink",
    "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear",
    "log_sigmoid", "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid",
    "silu", "soft_shrink", "softmax", "softplus", "softsign", "squareplus", "swish", "tanh",
    "tanh_shrink",
]  # fmt: skip

_t = convert_to_tensor


def relu(
    x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> Tensor:
    """Keras's ``relu``: ``x`` above ``threshold`` (else 0), capped at ``max_value``, plus a slope.

    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for ``threshold < x < max_value``,
    ``negative_slope * (x - threshold)`` otherwise.

    Args:
        x: the input.
        negative_slope: the slope below the threshold (default 0).
        max_value: the cap (default none).
        threshold: the value below which the output is 0 (or sloped).

    Returns:
        The activation.

    Example:
        >>> relu(torch.tensor([-10.0, -5.0, 0.0, 5.0, 10.0]), negative_slope=0.5, max_value=6.0)
        tensor([-5.0000, -2.5000,  0.0000,  5.0000,  6.0000])
    """
    x = _t(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0:
        return F.leaky_relu(x, negative_slope)
    negative_part = F.relu(threshold - x) if negative_slope != 0.0 else None
    if threshold != 0:
        out = x * (x > threshold).to(x.dtype)
    else:
        out = F.relu(x)
    if max_value is not None:
        out = out.clamp(0.0, max_value)
    if negative_part is not None:
        out = out - negative_slope * negative_part
    return out


def gelu(x: Any, approximate: bool = False) -> Tensor:
    """The Gaussian error linear unit: ``x * Phi(x)``; the tanh form with ``approximate=True``.

    Args:
        x: the input.
        approximate: use the tanh approximation (Keras's activation default: False).

    Returns:
        The activation.

    Example:
        >>> gelu(torch.tensor([0.0, 1.0]))
        tensor([0.0000, 0.8413])
    """
    return F.gelu(_t(x), approximate="tanh" if approximate else "none")


def _unary(name: str, fn: Callable[[Tensor], Tensor], doc: str, example: str, out: str) -> Any:
    """A one-argument activation with a Keras name and a doctested example."""

    def activation(x: Any) -> Tensor:
        return fn(_t(x))

    activation.__name__ = activation.__qualname__ = name
    activation.__doc__ = (
        f"{doc}\n\n    Args:\n        x: the input.\n\n    Returns:\n        The activation.\n\n"
        f"    Example:\n        >>> {name}(torch.tensor({example}))\n        {out}\n"
    )
    return activation


tanh = _unary("tanh", torch.tanh, "The hyperbolic tangent.", "[0.0]", "tensor([0.])")
exponential = _unary("exponential", torch.exp, "``exp(x)``.", "[0.0]", "tensor([1.])")
linear = _unary("linear", lambda x: x, "The identity, ``x``.", "[-1.0]", "tensor([-1.])")


_ALL: dict[str, Callable[..., Tensor]] = {
    fn.__name__: fn
    for fn in (relu, leaky_relu, relu6, gelu, softmax, log_softmax, sigmoid, tanh, selu, softplus,
               softsign, silu, swish, hard_sigmoid, hard_silu, hard_swish, mish, exponential,
               linear, log_sigmoid, hard_tanh, tanh_shrink, elu, celu, glu, hard_shrink,
               soft_shrink, squareplus)
}  # fmt: skip


def serialize(activation: Callable[..., Tensor]) -> str:
    """The Keras name of a built-in activation (Keras 3 serializes them as their name).

    Args:
        activation: one of this module's functions.

    Returns:
        Its name, e.g. ``"relu"``.

    Raises:
        ValueError: for a function that is not a built-in activation.

    Example:
        >>> serialize(gelu)
        'gelu'
    """
    name = getattr(activation, "__name__", None)
    if _ALL.get(name) is not activation:
        raise ValueError(
            f"Expected one of kerasish.activations' functions. Received: activation={activation!r}"
        )
    return name


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Callable[..., Tensor]:
    """An activation from its name or a ``{"class_name": name}`` dict.

    Args:
        config: a name or a dict with ``class_name`` (Keras's function form).
        custom_objects: extra functions by name.

    Returns:
        The function.

    Raises:
        ValueError: for an unknown name.

    Example:
        >>> deserialize("softmax") is softmax
        True
    """
    is_dict = isinstance(config, dict)
    name = (config.get("config") or config.get("class_name")) if is_dict else config
    table = {**_ALL, **(custom_objects or {})}
    if not isinstance(name, str) or name not in table:
        raise ValueError(
            f"Could not interpret activation function identifier. Expected one of "
            f"{sorted(table)}. Received: activation={config!r}"
        )
    return table[name]


def get(identifier: Any) -> Callable[..., Tensor]:
    """Resolve an activation identifier, as Keras's ``activations.get``.

    Args:
        identifier: ``None`` (``linear``), a Keras name, a dict, or a callable (returned).

    Returns:
        The activation function.

    Raises:
        ValueError: for an unknown name or a non-callable.

    Example:
        >>> get(None) is linear
        True
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str | dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")
