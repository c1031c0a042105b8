"""The summary table: layer (type), output shape, parameter count, and totals.

Output shapes come from running the model once on ``model.example_input`` (the batch it was
built or first fit with) with a forward hook on each listed layer. A functional model (one
with ``layer_connections()``) gives its rows itself, with Keras's "Connected to" column.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from kerasish.layers.core import Input as InputLayer
from kerasish.saving import get_registered_object

__all__ = ["summarize"]

_WRAPPED = "kerasish.models>Wrapped"  # Model.wrap's class, registered by kerasish.models


def _layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, layer)`` rows: a kerasish layer by its Keras name (``dense``, ``dense_1``...),
    a torch module by its attribute name or index."""
    if hasattr(model, "layers") and isinstance(model.layers, nn.ModuleList):
        named = [(str(i), m) for i, m in enumerate(model.layers)]
    else:
        wrapped = get_registered_object(_WRAPPED)
        root = model.net if wrapped is not None and isinstance(model, wrapped) else model
        named = list(root.named_children())
    # Keras's Sequential summary leaves its Input out (it holds no weights and changes nothing)
    return [(_keras_name(m) or key, m) for key, m in named if not isinstance(m, InputLayer)]


def _keras_name(module: nn.Module) -> str | None:
    name = getattr(module, "name", None) if hasattr(type(module), "name") else None
    return name if isinstance(name, str) and name else None


def _shape(out: Any) -> str:
    if isinstance(out, torch.Tensor):
        return str((None, *out.shape[1:]))
    if isinstance(out, tuple | list):
        return ", ".join(_shape(o) for o in out)
    if isinstance(out, dict):
        return ", ".join(f"{k}: {_shape(v)}" for k, v in out.items())
    return "?"


def _output_shapes(model: nn.Module, layers: list[tuple[str, nn.Module]]) -> dict[int, str]:
    example = getattr(model, "example_input", None)
    if example is None:
        return {}
    shapes: dict[int, str] = {}

    def record(module: nn.Module, _inputs: Any, out: Any) -> None:
        shapes.setdefault(id(module), _shape(out))  # returning None keeps the output

    hooks = [m.register_forward_hook(record) for _, m in layers]
    was = model.training
    try:
        model.eval()
        with torch.no_grad():
            model.forward_batch(example)
    finally:
        model.train(was)
        for h in hooks:
            h.remove()
    return shapes


def counts(module: nn.Module) -> tuple[int, int]:
    """``(trainable, non-trainable)`` values as Keras counts them: the parameters by
    ``requires_grad``, and the saved floating-point buffers (BatchNorm's moving mean and
    variance) as non-trainable; integer counters such as ``num_batches_tracked`` are left out.

    Example:
        >>> counts(nn.BatchNorm1d(5))
        (10, 10)
    """
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    saved = module.state_dict(keep_vars=True)
    buffers = {id(b) for b in module.buffers()}
    frozen += sum(v.numel() for v in saved.values() if id(v) in buffers and v.is_floating_point())
    return trainable, frozen


def _nested(layers: list[tuple[str, nn.Module]], depth: int = 0) -> list[tuple[str, nn.Module]]:
    """The rows with each layer's sublayers below it, indented (``expand_nested=True``)."""
    out = []
    for name, m in layers:
        out.append(("  " * depth + name, m))
        if callable(getattr(m, "fit", None)) or isinstance(m, nn.Sequential):  # a model
            out += _nested(_layers(m), depth + 1)
    return out


def _trainable(module: nn.Module | None) -> str:
    """Keras's "Trainable" column: Y, N, or - for a layer without weights."""
    params = [] if module is None else list(module.parameters())
    if not params:
        return "-"
    return "Y" if any(p.requires_grad for p in params) else "N"


def _rows(
    model: nn.Module, expand_nested: bool, show_trainable: bool
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    connections = getattr(model, "layer_connections", None)
    if callable(connections):
        header = ("Layer (type)", "Output Shape", "Param #", "Connected to")
        rows = [(f"{n} ({k})", shape, f"{p:,}", links) for n, k, shape, p, links in connections()]
        if show_trainable:
            names = set(getattr(model, "layer_names", []))
            modules = [model.get_layer(n) if n in names else None for n, *_ in connections()]
            rows = [(*r, _trainable(m)) for r, m in zip(rows, modules, strict=True)]
            header = (*header, "Trainable")
        return header, rows
    layers = _layers(model)
    shapes = _output_shapes(model, _nested(layers) if expand_nested else layers)
    if expand_nested:
        layers = _nested(layers)
    rows = [
        (f"{name} ({type(m).__name__})", shapes.get(id(m), "?"), f"{sum(counts(m)):,}")
        for name, m in layers
    ]
    header = ("Layer (type)", "Output Shape", "Param #")
    if show_trainable:
        rows = [(*r, _trainable(m)) for r, (_, m) in zip(rows, layers, strict=True)]
        header = (*header, "Trainable")
    return header, rows


def summarize(model: nn.Module, expand_nested: bool = False, show_trainable: bool = False) -> str:
    """Build the summary table of ``model`` (a kerasish model).

    Output shapes come from the example batch the model was built with (``build()`` or the
    first ``fit``); without one they show as "?".

    Args:
        model: the model.
        expand_nested: also list the layers inside nested models (indented), as Keras's.
        show_trainable: add Keras's "Trainable" column (Y, N, or - without weights).

    Raises:
        ValueError: when lazy layers are not built yet.
    """
    if any(is_lazy(p) for p in model.parameters()):
        raise ValueError(
            "Expected a built model: its layers' sizes are inferred from the first "
            "batch. Build it with model.build(input_shape), e.g. "
            "model.build((None, 64)), start with layers.Input(shape), or call "
            "fit() first. Received: an unbuilt model"
        )
    header, rows = _rows(model, expand_nested, show_trainable)
    widths = [max(len(r[i]) for r in [header, *rows]) + 2 for i in range(len(header))]
    line = "".join(h.ljust(w) for h, w in zip(header, widths))
    rule = "=" * len(line)
    body = ["".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    trainable, frozen = counts(model)
    total = trainable + frozen
    title = f'Model: "{getattr(model, "name", None) or type(model).__name__}"'
    return "\n".join(
        [
            title,
            rule,
            line,
            rule,
            *body,
            rule,
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
            rule,
        ]
    )
