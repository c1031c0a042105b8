"""The summary table: layer (type), output shape, parameter count, and totals.

Output shapes come from running the model once on ``model.example_input`` (the batch it was
built or first fit with) with a forward hook on each listed layer.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from kerasish.saving import get_registered_object

__all__ = ["summarize"]

_WRAPPED = "kerasish.models>Wrapped"  # Model.wrap's class, registered by kerasish.models


def _layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    if hasattr(model, "layers") and isinstance(model.layers, nn.ModuleList):
        return [(str(i), m) for i, m in enumerate(model.layers)]
    wrapped = get_registered_object(_WRAPPED)
    root = model.net if wrapped is not None and isinstance(model, wrapped) else model
    return list(root.named_children())


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


def summarize(model: nn.Module) -> str:
    """Build the summary table of ``model`` (a kerasish model).

    Output shapes come from the example batch the model was built with (``build()`` or the
    first ``fit``); without one they show as "?".

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
    layers = _layers(model)
    shapes = _output_shapes(model, layers)
    rows = [
        (
            f"{name} ({type(m).__name__})",
            shapes.get(id(m), "?"),
            f"{sum(p.numel() for p in m.parameters()):,}",
        )
        for name, m in layers
    ]
    header = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(len(r[i]) for r in [header, *rows]) + 2 for i in range(3)]
    line = "".join(h.ljust(w) for h, w in zip(header, widths))
    rule = "=" * len(line)
    body = ["".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
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
