"""Functional models: ``Model(inputs, outputs)`` over a graph of recorded calls.

``Functional(inputs, outputs)`` walks back from ``outputs`` (``KerasTensor`` objects, see
``kerasish.models.input``) to ``inputs``, keeps the nodes on the way in the order they were
called, registers each distinct module once (``model.layers``; a shared layer is one module
called twice) and generates the forward from the graph as Python source, one line per call
(``model.code``), so a forward costs what the same model written as a ``forward`` costs, and
``torch.compile``/``torch.export`` see plain code. The model is built when it is made. As
Keras's, the forward first casts an input whose dtype differs from its ``Input``'s (uint8
images to float32) and adjusts a rank one off (``(N,)`` into ``Input((1,))`` is ``(N, 1)``;
see ``kerasish.models.input.adjust_input``).

``get_config()`` describes the graph as JSON-able data (the layers, the inputs' shapes and
dtypes, each node's layer or torch function and its arguments with ``{"__slot__": i}`` for
the tensors); ``from_config`` replays it on new ``Input`` tensors.

Example:
    >>> inputs = K.models.Input((8,))
    >>> hidden = nn.ReLU()(K.layers.Dense(16)(inputs))
    >>> model = Functional(inputs, [K.layers.Dense(1)(hidden), nn.Linear(16, 3)(hidden)])
    >>> [tuple(o.shape) for o in model(torch.ones(4, 8))]
    [(4, 1), (4, 3)]
"""

from __future__ import annotations

import linecache
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from kerasish.layers.naming import to_snake_case
from kerasish.models.input import (
    RECORDER,
    Input,
    KerasTensor,
    Node,
    adjust_input,
    as_symbolic,
    example_of,
    leaves,
    rebuild,
)
from kerasish.models.model import Model, set_functional_factory
from kerasish.saving import register_keras_serializable
from kerasish.summary import counts

__all__ = ["Functional", "replay"]


def _symbolic_leaves(structure: Any, what: str) -> list[KerasTensor]:
    flat = leaves(structure)
    bad = [v for v in flat if not isinstance(v, KerasTensor)]
    if bad or not flat:
        raise TypeError(
            f"Expected {what} to be KerasTensors (from K.Input and calls on them), or a list or "
            f"dict of them. Received: {what} holding {type(bad[0]).__name__ if bad else 'nothing'}"
        )
    return flat


def _graph_nodes(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Node]:
    """The nodes between ``inputs`` and ``outputs``, in call order."""
    stop = {id(t) for t in inputs}
    found: dict[int, Node] = {}
    todo = [t for t in outputs if id(t) not in stop]
    while todo:
        t = todo.pop()
        if t.node is None:
            raise ValueError(
                "Expected the outputs to be computed from the model's inputs. Received: outputs "
                f"that need the input {t.name!r}, which is not among inputs="
                f"{[i.name for i in inputs]}"
            )
        if t.node.id not in found:
            found[t.node.id] = t.node
            todo.extend(i for i in t.node.inputs if id(i) not in stop)
    return [found[k] for k in sorted(found)]


_PLAIN_CONSTANTS = (bool, int, str, type(None))


class _Source:
    """Writes the forward of a graph as Python source: one line per call, as a hand-written
    ``forward`` would be, with the modules as ``m0, m1, ...`` and other objects as names."""

    def __init__(self, slots: dict[int, int], modules: list[nn.Module]):
        self.slots = slots
        self.module_index = {id(m): i for i, m in enumerate(modules)}
        self.names: dict[str, Any] = {}
        self.lines: list[str] = []

    def expr(self, value: Any) -> str:
        """The source of an argument: a value slot, a container, a constant or a name."""
        if isinstance(value, KerasTensor):
            return f"v{self.slots[id(value)]}"
        if type(value) in (list, tuple):
            inner = ", ".join(self.expr(v) for v in value)
            return f"[{inner}]" if type(value) is list else f"({inner},)"
        if type(value) is dict and all(isinstance(k, str) for k in value):
            return "{" + ", ".join(f"{k!r}: {self.expr(v)}" for k, v in value.items()) + "}"
        if type(value) in _PLAIN_CONSTANTS:
            return repr(value)
        name = f"c{len(self.names)}"
        self.names[name] = value
        return name

    def call(self, node: Node) -> None:
        """The line(s) of one node: the call, then its outputs into their slots."""
        if node.module is not None:
            callee = f"m{self.module_index[id(node.module)]}"
        else:
            callee = self.expr(node.func)
        args = [self.expr(a) for a in node.args]
        args += [f"{k}={self.expr(v)}" for k, v in node.kwargs.items()]
        text = f"{callee}({', '.join(args)})"
        if isinstance(node.outputs, KerasTensor):
            self.lines.append(f"    v{self.slots[id(node.outputs)]} = {text}")
            return
        self.lines.append(f"    out = {text}")
        for path, t in _paths(node.outputs, ""):
            self.lines.append(f"    v{self.slots[id(t)]} = out{path}")

    def function(self, inputs: list[KerasTensor], outputs: Any, name: str) -> tuple[Any, str]:
        """The forward as a function ``run(modules, *inputs)``, and its source; each input
        is first cast to its ``Input``'s dtype and its rank adjusted, as Keras's are (see
        ``adjust_input``), when they differ (two comparisons when not)."""
        head = ["def run(modules, " + ", ".join(f"v{i}" for i in range(len(inputs))) + "):"]
        adjust = self.expr(adjust_input)
        for i, t in enumerate(inputs):
            d, rank, expand = self.expr(t.dtype), len(t.keras_shape), t.keras_shape[-1] == 1
            head.append(
                f"    if getattr(v{i}, 'ndim', {rank}) != {rank} or getattr(v{i}, 'dtype', {d}) "
                f"is not {d}: v{i} = {adjust}(v{i}, {d}, {rank}, {expand})"
            )
        if self.module_index:
            head.append(
                "    " + ", ".join(f"m{i}" for i in range(len(self.module_index))) + ", = modules"
            )
        source = "\n".join([*head, *self.lines, f"    return {self.expr(outputs)}", ""])
        filename = f"<kerasish functional forward {name}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = dict(self.names)
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own source
        return namespace["run"], source


def _paths(structure: Any, prefix: str) -> list[tuple[str, KerasTensor]]:
    """``("[0][1]", tensor)`` for each KerasTensor in a node's output structure."""
    if isinstance(structure, KerasTensor):
        return [(prefix, structure)]
    if isinstance(structure, list | tuple):
        items = enumerate(structure)
    elif isinstance(structure, Mapping):
        items = structure.items()
    else:
        return []
    return [p for k, v in items for p in _paths(v, f"{prefix}[{k!r}]")]


def _auto_names(modules: list[nn.Module]) -> list[str]:
    """Each layer's ``name`` where it has one, else Keras's style from its class."""
    names: list[str] = []
    counts: dict[str, int] = {}
    for m in modules:
        name = getattr(m, "name", None)
        if not isinstance(name, str) or not name:
            base = to_snake_case(type(m).__name__)
            count = counts.get(base, 0)
            counts[base] = count + 1
            name = base if count == 0 else f"{base}_{count}"
        if name in names:
            raise ValueError(
                f"Expected unique layer names in a model. Received: two layers named {name!r}"
            )
        names.append(name)
    return names


@register_keras_serializable(package="kerasish.models")
class Functional(Model):
    """A model defined by its inputs and outputs: ``Model(inputs, outputs)``.

    Args:
        inputs: a ``KerasTensor`` (``K.Input``), or a list or dict of them; a dict's keys
            name the keyword arguments of the model (and the keys of a dict batch).
        outputs: a ``KerasTensor`` computed from them, or a list or dict of them; the model
            returns the same structure (a dict's keys are the output names that ``compile``'s
            loss, metrics and loss_weights dicts use).
        name: the model's name.

    Raises:
        TypeError: when inputs or outputs are not KerasTensors.
        ValueError: when an output needs an input that is not among ``inputs``.

    Example:
        >>> a, b = K.models.Input((3,), name="a"), K.models.Input((2,), name="b")
        >>> merged = torch.cat([K.layers.Dense(4)(a), b], dim=1)
        >>> model = Functional({"a": a, "b": b}, {"score": nn.Linear(6, 1)(merged)})
        >>> model(a=torch.ones(5, 3), b=torch.ones(5, 2))["score"].shape
        torch.Size([5, 1])
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, **kwargs: Any):
        if kwargs:
            raise TypeError(f"Expected inputs, outputs and name. Received: {sorted(kwargs)}")
        made = self.__dict__.get("_graph")
        if made is not None and made[3] is inputs and made[4] is outputs:
            return  # Model.__new__ made this model already; Python calls __init__ again
        super().__init__(name=name)
        inputs = as_symbolic(inputs)  # K.layers.Input layers stand for their KerasTensors
        flat_in = _symbolic_leaves(inputs, "inputs")
        flat_out = _symbolic_leaves(outputs, "outputs")
        nodes = _graph_nodes(flat_in, flat_out)
        modules: dict[int, nn.Module] = {}
        for node in nodes:
            if node.module is not None:
                modules.setdefault(id(node.module), node.module)
        self.layers = nn.ModuleList(modules.values())
        self.layer_names = _auto_names(list(self.layers))
        self._graph = (flat_in, flat_out, nodes, inputs, outputs)
        self._compile_forward()
        self._arity = len(flat_in)
        self._in_names = list(inputs) if isinstance(inputs, Mapping) else [t.name for t in flat_in]
        self.example_input = self._example()

    def _slots(self) -> dict[int, int]:
        """The position of each tensor of the graph in the forward's values (inputs first)."""
        flat_in, _, nodes, _, _ = self._graph
        slots = {id(t): i for i, t in enumerate(flat_in)}
        for node in nodes:
            for t in node.flat_outputs:
                slots[id(t)] = len(slots)
        return slots

    def _compile_forward(self) -> None:
        """Generate the forward from the graph (``model.code`` is its source)."""
        flat_in, _, nodes, _, outputs = self._graph
        source = _Source(self._slots(), list(self.layers))
        for node in nodes:
            source.call(node)
        self._functional_forward, self.code = source.function(flat_in, outputs, self.name)
        self._functional_modules = tuple(self.layers)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        return {k: v for k, v in state.items() if k != "_functional_forward"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._compile_forward()  # a generated function does not pickle: made again

    def _example(self) -> Any:
        flat_in, _, _, inputs, _ = self._graph
        plain = [example_of(t) for t in flat_in]
        if isinstance(inputs, Mapping):
            return dict(zip(inputs, plain))
        return plain[0] if isinstance(inputs, KerasTensor) else plain

    # ------------------------------------------------------------------ running
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if RECORDER.handles and not RECORDER.depth and not torch.compiler.is_compiling():
            RECORDER.stop()  # the graph is built: module calls take torch's fast path again
        if kwargs or len(args) != self._arity:
            args = self._bind(args, kwargs)
        return self._functional_forward(self._functional_modules, *args)

    def _bind(self, args: tuple, kwargs: dict) -> tuple:
        """The inputs in order, from a list or dict argument or keyword arguments."""
        if not kwargs and len(args) == 1:
            (only,) = args
            if isinstance(only, Mapping):
                kwargs, args = dict(only), ()
            elif isinstance(only, list | tuple) and len(only) == self._arity:
                return tuple(only)
        missing = [n for n in self._in_names[len(args) :] if n not in kwargs]
        extra = sorted(set(kwargs) - set(self._in_names))
        if missing or extra or len(args) > self._arity:
            raise ValueError(
                f"Expected the model's inputs {self._in_names} (positional, a list, or by name). "
                f"Received: {len(args)} positional and keywords {sorted(kwargs)}"
            )
        return (*args, *(kwargs[n] for n in self._in_names[len(args) :]))

    # ------------------------------------------------------------------ Keras's attributes
    @property
    def inputs(self) -> list[KerasTensor]:
        """The input ``KerasTensor`` objects, as a list."""
        RECORDER.start()  # they may be called on again (a model built on this one)
        return list(self._graph[0])

    @property
    def outputs(self) -> list[KerasTensor]:
        """The output ``KerasTensor`` objects, as a list."""
        RECORDER.start()
        return list(self._graph[1])

    @property
    def input(self) -> Any:
        """The inputs in the structure given (a tensor, list or dict)."""
        RECORDER.start()
        return self._graph[3]

    @property
    def output(self) -> Any:
        """The outputs in the structure given (a tensor, list or dict)."""
        RECORDER.start()
        return self._graph[4]

    @property
    def output_names(self) -> list[str]:
        """The outputs' names: a dict's keys, else the names of the layers producing them."""
        names = self.__dict__.get("_output_names")
        if names is None:
            outputs = self._graph[4]
            if isinstance(outputs, Mapping):
                names = list(outputs)
            else:
                names = [self._producer_name(t) for t in self._graph[1]]
            self.__dict__["_output_names"] = names
        return names

    def _producer_name(self, t: KerasTensor) -> str:
        if t.node is None or t.node.module is None:
            return t.name or "output"
        return self.layer_names[self._layer_index(t.node.module)]

    def _layer_index(self, module: nn.Module) -> int:
        return next(i for i, m in enumerate(self.layers) if m is module)

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A layer by its name (``model.layer_names``) or its index in ``model.layers``.

        Raises:
            ValueError: for an unknown name or index, or neither given.

        Example:
            >>> x = K.models.Input((2,))
            >>> model = Functional(x, K.layers.Dense(3, name="head")(x))
            >>> model.get_layer("head").output.shape
            (None, 3)
        """
        if index is not None and 0 <= index < len(self.layers):
            return self.layers[index]
        if name is not None and name in self.layer_names:
            return self.layers[self.layer_names.index(name)]
        raise ValueError(
            f"Expected a layer name among {self.layer_names} or an index below "
            f"{len(self.layers)}. Received: name={name!r}, index={index!r}"
        )

    # ------------------------------------------------------------------ summary
    def layer_connections(self) -> list[tuple[str, str, str, int, str]]:
        """Rows for ``summary``, inputs first: (name, class name, output shape, parameters,
        "connected to"), one per layer (a shared layer lists every call's inputs). The
        parameters count as Keras's do: the weights and the saved floating-point buffers
        (BatchNorm's moving statistics), as ``kerasish.summary.counts`` counts them.

        "connected to" names each tensor a layer receives as ``layer[node][tensor]`` (Keras's
        notation: the node is the producer's n-th call in this model).

        Example:
            >>> x = K.models.Input((2,), name="x")
            >>> Functional(x, nn.Linear(2, 1)(x)).layer_connections()[1]
            ('linear', 'Linear', '(None, 1)', 3, 'x[0][0]')
        """
        flat_in, _, nodes, _, _ = self._graph
        where: dict[int, str] = {id(t): f"{t.name}[0][0]" for t in flat_in}
        rows = {t.name: [t.name, "InputLayer", str(t.keras_shape), 0, []] for t in flat_in}
        calls: dict[str, int] = {}
        op_names: dict[str, int] = {}
        for node in nodes:
            name, kind = self._node_label(node, op_names)
            k = calls.get(name, 0)
            calls[name] = k + 1
            for t in node.flat_outputs:
                where[id(t)] = f"{name}[{k}][{t.index}]"
            if name not in rows:
                shapes = ", ".join(str(t.keras_shape) for t in node.flat_outputs)
                params = 0 if node.module is None else sum(counts(node.module))
                rows[name] = [name, kind, shapes, params, []]
            rows[name][4].extend(where[id(t)] for t in node.inputs)
        return [(n, k, s, p, ", ".join(links) or "-") for n, k, s, p, links in rows.values()]

    def _node_label(self, node: Node, op_names: dict[str, int]) -> tuple[str, str]:
        if node.module is not None:
            return self.layer_names[self._layer_index(node.module)], type(node.module).__name__
        base = getattr(node.func, "__name__", "op").strip("_") or "op"
        count = op_names.get(base, 0)
        op_names[base] = count + 1
        return (base if count == 0 else f"{base}_{count}"), "TorchOp"

    # ------------------------------------------------------------------ config
    def get_config(self) -> dict[str, Any]:
        """The graph as data: layers, inputs (shape, dtype, name), nodes, outputs.

        Example:
            >>> x = K.models.Input((2,), name="x")
            >>> cfg = Functional(x, nn.Linear(2, 1)(x) * 2.0).get_config()
            >>> [n["layer"] for n in cfg["nodes"]], cfg["inputs"][0]["name"]
            ([0, None], 'x')
        """
        flat_in, _, nodes, inputs, outputs = self._graph
        slots = self._slots()

        def ref(v: Any) -> Any:
            return {"__slot__": slots[id(v)]} if isinstance(v, KerasTensor) else v

        return {
            "name": self.name,
            "layers": list(self.layers),
            "layer_names": list(self.layer_names),
            "inputs": [
                {"name": t.name, "batch_shape": t.keras_shape, "dtype": t.dtype} for t in flat_in
            ],
            "input_structure": rebuild(inputs, ref),
            "nodes": [
                {
                    "layer": None if n.module is None else self._layer_index(n.module),
                    "op": n.func,
                    "args": rebuild(list(n.args), ref),
                    "kwargs": rebuild(n.kwargs, ref),
                }
                for n in nodes
            ],
            "outputs": rebuild(outputs, ref),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Functional:
        """Replay ``get_config()``'s graph on new inputs with ``config["layers"]``.

        Example:
            >>> x = K.models.Input((2,))
            >>> model = Functional(x, nn.Linear(2, 1)(x))
            >>> twin = Functional.from_config(model.get_config())
            >>> twin.layers[0] is model.layers[0]
            True
        """
        return replay(config)


def replay(config: dict[str, Any], input_tensors: Any = None) -> Functional:
    """The functional model of ``config`` (``Functional.get_config()``'s), its graph called
    on ``input_tensors`` (a list in the config's input order; default: new ``Input`` tensors).

    Raises:
        ValueError: when ``input_tensors`` are not as many as the config's inputs.

    Example:
        >>> x = K.models.Input((2,))
        >>> config = Functional(x, nn.Linear(2, 1)(x)).get_config()
        >>> fresh = K.models.Input((2,), name="fresh")
        >>> replay(config, [fresh]).inputs[0] is fresh
        True
    """
    layers = list(config["layers"])
    specs = config["inputs"]
    if input_tensors is None:
        values = [
            Input(batch_shape=s["batch_shape"], dtype=s["dtype"], name=s["name"]) for s in specs
        ]
    else:
        values = leaves(input_tensors)
        if len(values) != len(specs):
            raise ValueError(
                f"Expected {len(specs)} input tensors. Received: input_tensors with {len(values)}"
            )

    def fill(v: Any) -> Any:
        return values[v["__slot__"]]

    for node in config["nodes"]:
        fn = node["op"] if node["layer"] is None else layers[node["layer"]]
        out = fn(*_fill(node["args"], fill), **_fill(node["kwargs"], fill))
        values.extend(v for v in leaves(out) if isinstance(v, KerasTensor))
    _rename(layers, config.get("layer_names"))
    inputs = _fill(config["input_structure"], fill)
    return Functional(inputs, _fill(config["outputs"], fill), name=config.get("name"))


def _fill(structure: Any, fill: Any) -> Any:
    """``structure`` with each ``{"__slot__": i}`` replaced by ``fill``'s value."""
    if isinstance(structure, Mapping) and set(structure) == {"__slot__"}:
        return fill(structure)
    if isinstance(structure, list | tuple):
        return type(structure)(_fill(s, fill) for s in structure)
    if isinstance(structure, Mapping):
        return {k: _fill(v, fill) for k, v in structure.items()}
    return structure


def _rename(layers: list[nn.Module], names: list[str] | None) -> None:
    """Give rebuilt kerasish layers their saved (possibly automatic) names back."""
    for layer, name in zip(layers, names or []):
        if isinstance(getattr(type(layer), "name", None), property):
            try:
                layer.name = name
            except (AttributeError, ValueError):
                pass


set_functional_factory(Functional)
