"""Keras's arguments shared by every layer: ``name``, ``input_shape``/``input_dim``,
``dtype``, ``trainable`` and the ``*_initializer``/``*_regularizer``/``*_constraint`` of the
weights (``kernel``, ``bias``, ``recurrent``, ``embeddings``, ``depthwise``, ``pointwise``,
``gamma``, ``beta``, ``alpha``), plus ``activity_regularizer``.

``split(kwargs, own)`` takes them out of a layer's keyword arguments (those the layer does
not declare itself), ``configure(layer, shared)`` applies them through the layer's public
methods, and ``config(shared)`` is the part of ``get_config`` they add (only what was given).
"""

from __future__ import annotations

from typing import Any

import torch

from kerasish import constraints, initializers, regularizers
from kerasish.layers.checks import check

__all__ = ["SHARED_ARGS", "split", "configure", "config"]

_WEIGHTS = {
    "kernel": "kernel",
    "bias": "bias",
    "recurrent": "recurrent_kernel",
    "embeddings": "embeddings",
    "depthwise": "depthwise_kernel",
    "pointwise": "kernel",
    "gamma": "gamma",
    "beta": "beta",
    "alpha": "alpha",
}
_KINDS = ("initializer", "regularizer", "constraint")
SHARED_ARGS = frozenset(
    {
        "name",
        "input_shape",
        "input_dim",
        "batch_size",
        "dtype",
        "trainable",
        "activity_regularizer",
        *(f"{w}_{kind}" for w in _WEIGHTS for kind in _KINDS),
    }
)


def split(kwargs: dict[str, Any], own: frozenset[str] | set[str]) -> dict[str, Any]:
    """Remove and return the shared arguments that a layer's ``__init__`` does not declare."""
    return {k: kwargs.pop(k) for k in list(kwargs) if k in SHARED_ARGS and k not in own}


def config(shared: dict[str, Any]) -> dict[str, Any]:
    """The ``get_config`` entries of the shared arguments given (None values left out)."""
    return {k: v for k, v in shared.items() if v is not None}


_FAMILIES = {
    "initializer": initializers,
    "regularizer": regularizers,
    "constraint": constraints,
}


def _family(kind: str) -> Any:
    return _FAMILIES[kind]


def configure(layer: Any, shared: dict[str, Any]) -> None:
    """Apply the shared arguments to a freshly constructed layer.

    Raises:
        ValueError, TypeError: for a bad ``name``, shape, ``trainable`` or identifier.
    """
    layer.name = shared.get("name")
    _ = layer.name  # the automatic name is taken at construction, as in Keras
    _input_shape(layer, shared)
    if shared.get("dtype") is not None:
        layer.set_dtype(_dtype(shared["dtype"]))
    for key, value in shared.items():
        if value is None or "_" not in key:
            continue
        weight, _, kind = key.rpartition("_")
        if weight in _WEIGHTS and kind in _KINDS:
            resolved = _family(kind).get(value)
            if resolved is None:
                continue
            target = _WEIGHTS[weight]
            if kind == "initializer":
                layer.set_weight_initializer(target, resolved)
            elif kind == "regularizer":
                layer.add_weight_regularizer(target, resolved)
            else:
                layer.add_weight_constraint(target, resolved)
    if shared.get("activity_regularizer") is not None:
        layer.activity_regularizer = _family("regularizer").get(shared["activity_regularizer"])
    if "trainable" in shared:
        layer.trainable = shared["trainable"]


def _input_shape(layer: Any, shared: dict[str, Any]) -> None:
    shape, dim = shared.get("input_shape"), shared.get("input_dim")
    if dim is not None:
        ok = isinstance(dim, int) and not isinstance(dim, bool) and dim > 0
        check(ok, "a positive integer", "input_dim", dim)
        shape = (dim,)
    if shape is None:
        return
    ok = isinstance(shape, tuple | list) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape
    )
    check(ok, "a tuple of positive integers or None (without the batch axis)", "input_shape", shape)
    layer.batch_input_shape = (shared.get("batch_size"), *shape)


def _dtype(value: Any) -> torch.dtype:
    if isinstance(value, torch.dtype):
        return value
    dtype = getattr(torch, value, None) if isinstance(value, str) else None
    check(isinstance(dtype, torch.dtype), "a torch dtype or its name", "dtype", value)
    return dtype
