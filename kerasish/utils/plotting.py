"""``plot_model``: a model's layers as a Graphviz diagram (pydot and the ``dot`` program).

``dot_source`` writes the diagram as DOT text (no dependency); ``model_to_dot`` parses it
with pydot and ``plot_model`` renders it to a file. Layers are the model's ``layers`` (or
its child modules), drawn as a chain in call order; output shapes come from one forward
pass on ``model.example_input`` (the batch the model was built or fit with).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kerasish import tree

__all__ = ["dot_source", "model_to_dot", "plot_model"]

_EXTRA = "pip install 'kerasish[plot]' (pydot) and install Graphviz's `dot` program"


def _layers(model: nn.Module, expand_nested: bool, prefix: str = "") -> list[tuple[str, nn.Module]]:
    layers = getattr(model, "layers", None)
    children = (
        [(str(i), m) for i, m in enumerate(layers)]
        if isinstance(layers, nn.ModuleList | list) and layers
        else list(model.named_children())
    )
    out = []
    for name, child in children:
        nested = expand_nested and any(True for _ in child.children())
        out += _layers(child, True, f"{prefix}{name}.") if nested else [(prefix + name, child)]
    return out


def _shape(out: Any) -> str:
    shapes = [str((None, *t.shape[1:])) for t in tree.flatten(out) if torch.is_tensor(t)]
    return ", ".join(shapes) or "?"


def _output_shapes(model: Any, layers: list[tuple[str, nn.Module]]) -> dict[int, str]:
    example = getattr(model, "example_input", None)
    leaves = [] if example is None else tree.flatten(example)
    if not leaves or not all(torch.is_tensor(t) for t in leaves):
        return {}
    shapes: dict[int, str] = {}

    def record(module: nn.Module, _inputs: Any, out: Any) -> None:
        shapes.setdefault(id(module), _shape(out))  # returning None keeps the output

    hooks = [m.register_forward_hook(record) for _, m in layers]
    was = model.training
    try:
        model.eval()
        with torch.no_grad():
            model.forward_batch(example) if hasattr(model, "forward_batch") else model(example)
    finally:
        model.train(was)
        for h in hooks:
            h.remove()
    return shapes


def _activation(layer: nn.Module) -> str | None:
    """The activation's Keras name (from ``get_config``), else its function or class name."""
    try:
        named = layer.get_config().get("activation") if hasattr(layer, "get_config") else None
    except Exception:  # noqa: BLE001 - a layer whose config cannot be made
        named = None
    if isinstance(named, str):
        return named
    act = getattr(layer, "activation", None)
    return None if act is None else getattr(act, "__name__", type(act).__name__)


def _label(name: str, layer: nn.Module, shape: str | None, opts: dict[str, bool]) -> str:
    own = getattr(layer, "name", None)
    name = own if isinstance(own, str) and own else name
    parts = [
        f"{name} ({type(layer).__name__})" if opts["show_layer_names"] else type(layer).__name__
    ]
    act = _activation(layer)
    if opts["show_layer_activations"] and act is not None:
        parts.append(f"Activation: {act}")
    params = list(layer.parameters())
    if opts["show_dtype"] and params:
        parts.append(f"dtype: {str(params[0].dtype).removeprefix('torch.')}")
    if opts["show_shapes"]:
        parts.append(f"Output shape: {shape or '?'}")
    if opts["show_trainable"] and params:
        parts.append(f"Trainable: {'Y' if any(p.requires_grad for p in params) else 'N'}")
    return "\\n".join(p.replace('"', '\\"') for p in parts)


def dot_source(
    model: nn.Module,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
) -> str:
    """The model's diagram as Graphviz DOT text (the arguments are ``plot_model``'s).

    Raises:
        ValueError: for a ``rankdir`` other than "TB", "LR", "BT", "RL".

    Example:
        >>> print(dot_source(K.Sequential([nn.Linear(2, 3), nn.ReLU()])))
        digraph model {
        graph [rankdir=TB, dpi=200];
        node [shape=record];
        n0 [label="Linear"];
        n1 [label="ReLU"];
        n0 -> n1;
        }
    """
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(
            f"Expected rankdir 'TB', 'LR', 'BT' or 'RL'. Received: rankdir={rankdir!r}"
        )
    opts = dict(show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                show_layer_activations=show_layer_activations, show_trainable=show_trainable)  # fmt: skip
    layers = _layers(model, expand_nested)
    shapes = _output_shapes(model, layers) if show_shapes else {}
    lines = [
        "digraph model {",
        f"graph [rankdir={rankdir}, dpi={int(dpi)}];",
        "node [shape=record];",
    ]
    for i, (name, layer) in enumerate(layers):
        lines.append(f'n{i} [label="{_label(name, layer, shapes.get(id(layer)), opts)}"];')
    lines += [f"n{i} -> n{i + 1};" for i in range(len(layers) - 1)]
    return "\n".join([*lines, "}"])


def _pydot() -> Any:
    try:
        import pydot
    except ImportError as e:
        raise ImportError(f"plot_model needs pydot and Graphviz: {_EXTRA}.") from e
    if shutil.which("dot") is None:
        raise ImportError(f"plot_model needs Graphviz's `dot` program on the PATH: {_EXTRA}.")
    return pydot


def model_to_dot(model: nn.Module, **kwargs: Any) -> Any:
    """The diagram as a ``pydot.Dot`` (keyword arguments as ``plot_model``'s).

    Raises:
        ImportError: when pydot or Graphviz's ``dot`` is missing (the ``kerasish[plot]``
            extra).
    """
    pydot = _pydot()
    return pydot.graph_from_dot_data(dot_source(model, **kwargs))[0]


def plot_model(model: nn.Module, to_file: str | Path = "model.png", **kwargs: Any) -> Any:
    """Draw the model's layers to an image file, as ``keras.utils.plot_model``.

    Args:
        model: a kerasish model (or any ``nn.Module``).
        to_file: the file; its suffix ("png", "svg", "pdf", ...) sets the format.
        **kwargs: ``show_shapes``, ``show_dtype``, ``show_layer_names``, ``rankdir``,
            ``expand_nested``, ``dpi``, ``show_layer_activations``, ``show_trainable``
            (Keras's names and defaults; see ``dot_source``).

    Returns:
        An ``IPython.display.Image`` in a notebook, else None.

    Raises:
        ImportError: when pydot or Graphviz's ``dot`` is missing (the ``kerasish[plot]``
            extra).

    Example:
        >>> plot_model(model, "model.png", show_shapes=True)  # doctest: +SKIP
    """
    graph = model_to_dot(model, **kwargs)
    to_file = Path(to_file)
    graph.write(str(to_file), format=to_file.suffix[1:] or "png")
    from kerasish.utils.general import in_notebook

    if in_notebook() and to_file.suffix in (".png", ".jpg", ".jpeg"):
        from IPython.display import Image

        return Image(filename=str(to_file))
    return None
