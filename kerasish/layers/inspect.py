"""Structural facts about a stack of modules: its output activation and whether it is built."""

from __future__ import annotations

from torch import nn
from torch.nn.parameter import UninitializedParameter

__all__ = ["output_activation", "is_built"]

_KINDS = {nn.Softmax: "softmax", nn.Sigmoid: "sigmoid", nn.LogSoftmax: "log_softmax"}


def _kind(module: nn.Module) -> str | None:
    for cls, name in _KINDS.items():
        if isinstance(module, cls):
            return name
    return None


def output_activation(model: nn.Module) -> str | None:
    """The activation that ends a sequential model: "softmax", "sigmoid", "log_softmax", or
    "linear" for anything else; None when the structure does not say (subclassed models).

    Example:
        >>> output_activation(nn.Sequential(nn.Linear(2, 3), nn.Softmax(-1)))
        'softmax'
    """
    last = _last_layer(model)
    if last is None:
        return None
    kind = _kind(last)
    if kind is not None:
        return kind
    act = getattr(last, "activation", None)
    if isinstance(act, nn.Module):
        return _kind(act) or "linear"
    if isinstance(last, nn.Sequential) or hasattr(last, "layers"):
        return output_activation(last)
    return "linear"


def _last_layer(model: nn.Module) -> nn.Module | None:
    layers = getattr(model, "layers", None)
    if isinstance(model, nn.Sequential):
        layers = list(model)
    if not layers:
        return None
    return layers[-1]


def is_built(model: nn.Module) -> bool:
    """True when no parameter is still lazy (an ``UninitializedParameter``)."""
    return not any(isinstance(p, UninitializedParameter) for p in model.parameters())
