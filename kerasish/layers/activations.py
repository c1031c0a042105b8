"""Activations: Keras names resolved to ``torch.nn`` modules by ``get_activation``."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import Tensor, nn

__all__ = ["ActivationLike", "get_activation"]


ActivationLike = str | Callable[[Tensor], Tensor] | nn.Module | None


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
