"""Symbolic tensors: ``Input`` makes a ``KerasTensor``; calls on it are recorded as graph nodes.

A ``KerasTensor`` is a ``torch.Tensor`` subclass that *is* a small example batch (batch size
2, zeros) and remembers the ``Node`` that produced it. Calling any module on it (a kerasish
layer or model, any ``nn.Module``) runs the module once on the example (no autograd, buffers
such as BatchNorm's running statistics restored afterwards) and returns new ``KerasTensor`` objects
for its outputs: that is the shape inference, and it builds lazy layers. Torch operations on
``KerasTensor`` objects outside a module (``x + y``, ``torch.cat``, ``x[:, :3]``) are recorded as
nodes of their own, through ``__torch_function__``.

kerasish layers and models reach ``symbolic_call`` through ``kerasish.layers.api.SYMBOLIC_CALL``;
plain ``nn.Module`` objects through two process-wide module hooks, which are installed only while a
graph is being built (from ``Input()`` until a functional model first runs on real tensors) so
that they cost nothing afterwards.

Example:
    >>> x = Input(shape=(4,), name="features")
    >>> x.shape, x.dtype, x.name
    ((None, 4), torch.float32, 'features')
    >>> y = nn.Linear(4, 3)(x) + 1.0
    >>> y.shape
    (None, 3)
"""

from __future__ import annotations

import copy
import itertools
import sys
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn.modules import module as module_lib
from torch.nn.parameter import is_lazy

from kerasish.layers import api as layer_api
from kerasish.layers.core import Input as InputLayer
from kerasish.saving.configs import tensor_method, tensor_method_name

__all__ = [
    "RECORDER",
    "KerasTensor",
    "Input",
    "Node",
    "adjust_input",
    "cast_input",
    "example_of",
    "leaves",
    "rebuild",
    "symbolic_call",
]

EXAMPLE_BATCH = 2  # the batch size of the example a KerasTensor holds
FREE_DIM = 8  # the example size of a None dimension other than the batch
_IDS = itertools.count()
_NAMES: dict[str, int] = {}
_CALL_CODES = (nn.Module._call_impl.__code__, nn.Module._wrapped_call_impl.__code__)
_DUNDER_IN_PLACE = frozenset(
    f"__i{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul")
) | frozenset({"__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "__setitem__"})


def _unique(prefix: str) -> str:
    count = _NAMES.get(prefix, 0)
    _NAMES[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


# --------------------------------------------------------------------------- structures


def leaves(structure: Any) -> list[Any]:
    """The leaves of nested tuples, lists and dicts, in order (dicts in insertion order).

    Example:
        >>> leaves([1, (2, {"b": 3, "a": 4})])
        [1, 2, 3, 4]
    """
    if isinstance(structure, list | tuple):
        return [leaf for item in structure for leaf in leaves(item)]
    if isinstance(structure, Mapping):
        return [leaf for item in structure.values() for leaf in leaves(item)]
    return [structure]


def rebuild(structure: Any, fn: Any) -> Any:
    """``structure`` with each leaf replaced by ``fn(leaf)`` (namedtuples keep their type)."""
    if isinstance(structure, tuple) and hasattr(structure, "_fields"):
        return type(structure)(*(rebuild(s, fn) for s in structure))
    if isinstance(structure, list | tuple):
        return type(structure)(rebuild(s, fn) for s in structure)
    if isinstance(structure, Mapping):
        return {k: rebuild(v, fn) for k, v in structure.items()}
    return fn(structure)


def example_of(t: KerasTensor) -> torch.Tensor:
    """A copy of the example batch ``t`` holds, as a plain tensor.

    Example:
        >>> example_of(Input((3,))).shape
        torch.Size([2, 3])
    """
    with torch._C.DisableTorchFunctionSubclass():
        return t.as_subclass(torch.Tensor).clone()


def _has_symbolic(structure: Any) -> bool:
    return any(isinstance(leaf, KerasTensor) for leaf in leaves(structure))


def _plain(structure: Any, device: torch.device | None = None) -> Any:
    """The structure with every KerasTensor replaced by its example as a plain tensor (on
    ``device`` when given)."""

    def plain(v: Any) -> Any:
        if not isinstance(v, KerasTensor):
            return v
        t = v.as_subclass(torch.Tensor)
        return t if device is None or t.device == device else t.to(device)

    with torch._C.DisableTorchFunctionSubclass():
        return rebuild(structure, plain)


def _device_of(module: nn.Module) -> torch.device | None:
    """The device of the module's first parameter or buffer (None for none, or lazy ones)."""
    for t in itertools.chain(module.parameters(), module.buffers()):
        return None if is_lazy(t) else t.device
    return None


# --------------------------------------------------------------------------- nodes


class Node:
    """One recorded call: ``module`` (or the torch function ``func``) on symbolic arguments.

    Attributes:
        module: the ``nn.Module`` called, or None for a torch operation.
        func: the torch function (None for a module call).
        args, kwargs: the arguments, with the ``KerasTensor`` objects in place.
        outputs: the result, with a ``KerasTensor`` for each tensor in it.
        inputs: the ``KerasTensor`` objects among the arguments, in order.
    """

    def __init__(self, module: nn.Module | None, func: Any, args: tuple, kwargs: dict):
        self.id = next(_IDS)
        self.module, self.func = module, func
        self.args, self.kwargs = args, kwargs
        self.inputs = [v for v in leaves((args, kwargs)) if isinstance(v, KerasTensor)]
        self.outputs: Any = None

    def set_outputs(self, result: Any) -> Any:
        """Wrap each tensor of ``result`` as a ``KerasTensor`` of this node; returns them."""
        free_batch = any(t.keras_shape[:1] == (None,) for t in self.inputs)
        free_dims = any(None in t.keras_shape[1:] for t in self.inputs)
        counter = itertools.count()

        def wrap(value: Any) -> Any:
            if not isinstance(value, torch.Tensor):
                return value
            dims = tuple(value.shape)
            shape = tuple(
                None
                if (i == 0 and free_batch and d == EXAMPLE_BATCH)
                or (i > 0 and free_dims and d == FREE_DIM)
                else d
                for i, d in enumerate(dims)
            )
            return KerasTensor.wrap(value, self, next(counter), shape)

        self.outputs = rebuild(_plain(result), wrap)
        return self.outputs

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        method = tensor_method_name(self.func)
        if method is not None:  # Tensor methods and getters pickle by their name
            state["func"] = ("__tensor_method__", method)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        func = state["func"]
        if isinstance(func, tuple) and func[:1] == ("__tensor_method__",):
            state = {**state, "func": tensor_method(func[1])}
        self.__dict__.update(state)

    def __deepcopy__(self, memo: dict) -> Node:
        twin = Node.__new__(Node)
        memo[id(self)] = twin
        twin.__dict__.update(
            {k: v if k == "func" else copy.deepcopy(v, memo) for k, v in self.__dict__.items()}
        )
        return twin

    @property
    def flat_outputs(self) -> list[KerasTensor]:
        """The output ``KerasTensor`` objects, in order."""
        return [v for v in leaves(self.outputs) if isinstance(v, KerasTensor)]


# --------------------------------------------------------------------------- the tensor


class KerasTensor(torch.Tensor):
    """A symbolic tensor: the input or output of a layer in a functional model being built.

    Attributes:
        shape: Keras's shape, ``None`` for the batch (inside a module call: torch's size).
        name: the input's name (``Input``) or ``"<layer>_output"``.
        node: the ``Node`` that produced it (None for an ``Input``).
        index: its position among the node's outputs.

    Example:
        >>> x = Input((3,))
        >>> x
        <KerasTensor shape=(None, 3), dtype=float32, name=input_layer...>
    """

    __kerasish_symbolic__ = True

    @staticmethod
    def wrap(example: torch.Tensor, node: Node | None, index: int, shape: tuple) -> KerasTensor:
        """A KerasTensor holding ``example`` (a plain tensor), produced by ``node``."""
        with torch._C.DisableTorchFunctionSubclass():
            t = torch.Tensor._make_subclass(KerasTensor, example.detach(), False)
        t.node, t.index, t.keras_shape = node, index, tuple(shape)
        t.name = None
        return t

    @property
    def name(self) -> str | None:  # type: ignore[override]
        return self.__dict__.get("keras_name")

    @name.setter
    def name(self, value: str | None) -> None:
        self.__dict__["keras_name"] = value

    @property
    def shape(self) -> Any:  # type: ignore[override]
        if RECORDER.depth:  # inside a module's forward: the example's torch.Size
            with torch._C.DisableTorchFunctionSubclass():
                return torch.Tensor.shape.__get__(self)
        return self.keras_shape

    def __repr__(self, *args: Any, **kwargs: Any) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        return f"<KerasTensor shape={self.keras_shape}, dtype={dtype}, name={self.name}>"

    def __deepcopy__(self, memo: dict) -> KerasTensor:
        with torch._C.DisableTorchFunctionSubclass():
            example = self.as_subclass(torch.Tensor).clone()
        copy = KerasTensor.wrap(example, None, self.index, self.keras_shape)
        memo[id(self)] = copy
        copy.node, copy.name = _deepcopy(self.node, memo), self.name
        return copy

    def __reduce_ex__(self, protocol: int) -> Any:
        state = (self.node, self.index, self.keras_shape, self.name)
        return (_rebuild_tensor, (example_of(self), state))

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if RECORDER.depth:
            with torch._C.DisableTorchFunctionSubclass():
                return func(*args, **kwargs)
        return _record_op(func, args, kwargs)


def _rebuild_tensor(example: torch.Tensor, state: tuple) -> KerasTensor:
    node, index, shape, name = state
    t = KerasTensor.wrap(example, node, index, shape)
    t.name = name
    return t


def _deepcopy(obj: Any, memo: dict) -> Any:
    return copy.deepcopy(obj, memo)


def _record_op(func: Any, args: tuple, kwargs: dict) -> Any:
    """A torch operation on KerasTensors outside any module: computed on the examples and,
    when it returns tensors, recorded as a node."""
    if not RECORDER.active and _inside_module_call():
        RECORDER.start()
        raise ValueError(
            "Expected symbolic tensors to be passed to torch modules while a graph is being "
            "built. Received: a KerasTensor inside a module's forward after a functional model "
            "ran on real data (which ends the recording); call the module again now, or call "
            "model.inputs / K.Input first"
        )
    name = getattr(func, "__name__", "")
    if name in _DUNDER_IN_PLACE or (name.endswith("_") and not name.startswith("_")):
        raise ValueError(
            "Expected an out-of-place operation on a symbolic tensor (x = x + y). Received: "
            f"the in-place operation {name!r}"
        )
    with torch.no_grad(), torch._C.DisableTorchFunctionSubclass():
        result = func(*_plain(args), **_plain(kwargs))
    if not any(isinstance(v, torch.Tensor) for v in leaves(result)):
        return result
    return Node(None, func, args, kwargs).set_outputs(result)


def _inside_module_call() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code in _CALL_CODES:
            return True
        frame = frame.f_back
    return False


# --------------------------------------------------------------------------- recording


class _Recorder:
    """The state of the graph recording: the module hooks and the depth of module calls."""

    def __init__(self) -> None:
        self.depth = 0
        self.handles: list[Any] = []
        self.saved: list[Any] = []

    @property
    def active(self) -> bool:
        """Whether the module hooks are installed."""
        return bool(self.handles)

    def start(self) -> None:
        """Install the hooks that record plain ``nn.Module`` calls on KerasTensors."""
        if not self.handles:
            self.handles = [
                module_lib.register_module_forward_pre_hook(_pre_hook),
                # not with_kwargs: torch never forgets such a hook (torch.compile then warns)
                module_lib.register_module_forward_hook(_post_hook, always_call=True),
            ]

    def stop(self) -> None:
        """Remove the hooks (module calls take torch's fast path again)."""
        for handle in self.handles:
            handle.remove()
        self.handles = []

    def enter(self, module: nn.Module, args: tuple = (), kwargs: dict | None = None) -> None:
        """Start an outermost symbolic call: no autograd, buffers saved."""
        buffers = [(b, b.clone()) for b in module.buffers() if not is_lazy(b)]
        lazy = [m for m in module.modules() if any(is_lazy(b) for b in m.buffers(recurse=False))]
        self.saved.append((torch.is_grad_enabled(), buffers, lazy, args, kwargs or {}))
        torch.set_grad_enabled(False)
        self.depth += 1

    def leave(self) -> tuple[tuple, dict]:
        """End it: autograd mode and buffers back as they were (fresh lazy statistics reset);
        returns the call's arguments as ``enter`` got them."""
        self.depth -= 1
        grad, buffers, lazy, args, kwargs = self.saved.pop()
        for buffer, value in buffers:
            if buffer.shape == value.shape:
                buffer.copy_(value)
        for m in lazy:
            if callable(getattr(m, "reset_running_stats", None)):
                m.reset_running_stats()
        torch.set_grad_enabled(grad)
        return args, kwargs


RECORDER = _Recorder()


def _caller_kwargs() -> dict:
    """The keyword arguments of the module call whose pre-hooks run now (torch does not pass
    them to global pre-hooks; they are a local of the calling frame)."""
    kwargs = sys._getframe(2).f_locals.get("kwargs")  # _caller_kwargs <- _pre_hook <- torch
    return kwargs if isinstance(kwargs, dict) else {}


def _pre_hook(module: nn.Module, args: tuple) -> Any:
    if RECORDER.depth:
        RECORDER.depth += 1
        return None
    kwargs = _caller_kwargs()
    if not (_has_symbolic(args) or _has_symbolic(kwargs)):
        return None
    RECORDER.enter(module, args, kwargs)
    device = _device_of(module)  # a module already on the GPU gets its examples there
    return None if device is None else _plain(args, device)


def _post_hook(module: nn.Module, args: tuple, result: Any) -> Any:
    if not RECORDER.depth:
        return None
    if RECORDER.depth > 1:
        RECORDER.depth -= 1
        return None
    args, kwargs = RECORDER.leave()
    if result is None:
        return None
    return _record_call(module, args, kwargs, result)


def _record_call(module: nn.Module, args: tuple, kwargs: dict, result: Any) -> Any:
    outputs = Node(module, None, args, kwargs).set_outputs(result)
    flat = leaves(outputs)
    prefix = getattr(module, "name", None) or type(module).__name__.lower()
    for t in flat:
        if isinstance(t, KerasTensor):
            t.name = f"{prefix}_output" if len(flat) == 1 else f"{prefix}_output_{t.index}"
    for attr, value in (("input", args[0] if len(args) == 1 else args), ("output", outputs)):
        if not hasattr(module, attr):
            try:
                setattr(module, attr, value)  # the first call's, as Keras's layer.output
            except AttributeError:
                pass
    return outputs


def symbolic_call(module: nn.Module, args: tuple, kwargs: dict) -> Any:
    """Call ``module`` on arguments that hold KerasTensors: run it on their examples and
    return the outputs as KerasTensors of a new node (``kerasish.layers.api.SYMBOLIC_CALL``).

    Example:
        >>> x = Input((4,))
        >>> symbolic_call(K.layers.Dense(2), (x,), {}).shape
        (None, 2)
    """
    args, kwargs = as_symbolic(args), as_symbolic(kwargs)
    RECORDER.start()
    device = _device_of(module)  # a module already on the GPU gets its examples there
    if RECORDER.depth:
        return module(*_plain(args, device), **_plain(kwargs, device))
    RECORDER.enter(module)
    try:
        result = module(*_plain(args, device), **_plain(kwargs, device))
    finally:
        RECORDER.leave()
    return _record_call(module, args, kwargs, result)


layer_api.SYMBOLIC_CALL = symbolic_call


def as_symbolic(structure: Any) -> Any:
    """``structure`` with each ``K.layers.Input`` layer replaced by its KerasTensor, so that
    Keras's ``inputs = layers.Input(shape); x = layers.Dense(8)(inputs)`` builds a graph too
    (one KerasTensor per Input layer, made at its first use).

    Example:
        >>> marker = K.layers.Input((4,))
        >>> as_symbolic([marker])[0].shape, as_symbolic(marker) is as_symbolic(marker)
        ((None, 4), True)
    """

    def convert(value: Any) -> Any:
        if not isinstance(value, InputLayer):
            return value
        tensor = value.__dict__.get("symbolic_tensor")
        if tensor is None:
            tensor = Input(value.shape, dtype=value.dtype)
            value.__dict__["symbolic_tensor"] = tensor
        return tensor

    return rebuild(structure, convert)


# --------------------------------------------------------------------------- Input


def _dtype(value: Any) -> torch.dtype:
    if value is None:
        return torch.get_default_dtype()
    if isinstance(value, torch.dtype):
        return value
    dtype = getattr(torch, value, None) if isinstance(value, str) else None
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"Expected a torch dtype or its name. Received: dtype={value!r}")
    return dtype


def _check_shape(shape: Any, arg: str) -> tuple:
    ok = isinstance(shape, tuple | list) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape
    )
    if not ok:
        raise ValueError(
            f"Expected {arg} to be a tuple of positive integers or None, such as (28, 28, 1). "
            f"Received: {arg}={shape!r}"
        )
    return tuple(shape)


def cast_input(x: Any, dtype: torch.dtype) -> Any:
    """``x`` as a model whose ``Input`` has ``dtype`` takes it: integer and bool tensors (and
    floating ones for an integer ``Input``) are cast to ``dtype``, as Keras converts a model's
    inputs to its ``Input``'s dtype, so uint8 images go into ``Input((1, 28, 28))`` as float32.

    A floating tensor of another precision is passed as it is, as torch modules take it (a
    model moved to float64 with ``model.double()``, or autocast); so is anything not a tensor.
    Models call this only when ``x.dtype`` differs from ``dtype``: a matching batch costs one
    comparison.

    Example:
        >>> cast_input(torch.tensor([0, 255], dtype=torch.uint8), torch.float32)
        tensor([  0., 255.])
        >>> cast_input(torch.ones(1, dtype=torch.float64), torch.float32).dtype
        torch.float64
    """
    if not isinstance(x, torch.Tensor) or x.dtype == dtype:
        return x
    if x.is_floating_point() and dtype.is_floating_point:
        return x
    return x.to(dtype)


def adjust_input(x: Any, dtype: torch.dtype, rank: int, expand: bool) -> Any:
    """``x`` as a model whose ``Input`` has ``dtype`` and ``rank`` dimensions (the batch's
    among them) takes it: cast as :func:`cast_input` casts, then its rank adjusted as Keras's
    functional models adjust it: a trailing dimension of size 1 too many is squeezed
    (``(N, d, 1)`` into ``Input((d,))``), and one missing is added when the ``Input``'s last
    dimension is 1 (``expand``: ``(N,)`` into ``Input((1,))`` is ``(N, 1)``). Other ranks are
    passed as they are, for the layers to take or refuse. Models call this only when ``x``'s
    rank or dtype differs: a matching batch costs two comparisons.

    Example:
        >>> adjust_input(torch.arange(3), torch.float32, 2, True)
        tensor([[0.],
                [1.],
                [2.]])
        >>> adjust_input(torch.ones(4, 5, 1), torch.float32, 2, False).shape
        torch.Size([4, 5])
    """
    x = cast_input(x, dtype)
    if not isinstance(x, torch.Tensor) or x.ndim == rank:
        return x
    if x.ndim == rank + 1 and x.shape[-1] == 1:
        return x.squeeze(-1)
    if x.ndim == rank - 1 and expand:
        return x.unsqueeze(-1)
    return x


def Input(  # noqa: N802 - Keras's name
    shape: tuple | None = None,
    batch_size: int | None = None,
    dtype: Any = None,
    batch_shape: tuple | None = None,
    name: str | None = None,
) -> KerasTensor:
    """A symbolic input of a functional model (``keras.Input``).

    Args:
        shape: the shape without the batch dimension, e.g. ``(3, 32, 32)``; None for a
            variable size.
        batch_size: a fixed batch size (default: any).
        dtype: a torch dtype or its name (default: torch's default float dtype). A model
            casts an integer input to a floating ``dtype`` (uint8 images to float32), as Keras
            does; see :func:`cast_input`.
        batch_shape: instead of ``shape`` and ``batch_size``, the shape with the batch.
        name: the input's name (the keyword a dict of inputs uses); default ``input_layer``,
            ``input_layer_1``, ...

    Returns:
        A ``KerasTensor`` with ``shape`` ``(batch_size, *shape)``.

    Raises:
        ValueError: for a bad shape or dtype, or neither ``shape`` nor ``batch_shape``.

    Example:
        >>> tokens = Input((None,), dtype="int64", name="tokens")
        >>> tokens.shape, tokens.dtype
        ((None, None), torch.int64)
    """
    if batch_shape is None:
        if shape is None:
            raise ValueError(
                "Expected shape or batch_shape. Received: shape=None, batch_shape=None"
            )
        batch_shape = (batch_size, *_check_shape(shape, "shape"))
    batch_shape = _check_shape(batch_shape, "batch_shape")
    if not batch_shape:
        raise ValueError(f"Expected a batch dimension. Received: batch_shape={batch_shape!r}")
    dims = [
        (EXAMPLE_BATCH if i == 0 else FREE_DIM) if d is None else d
        for i, d in enumerate(batch_shape)
    ]
    RECORDER.start()
    t = KerasTensor.wrap(torch.zeros(dims, dtype=_dtype(dtype)), None, 0, batch_shape)
    t.name = name if name is not None else _unique("input_layer")
    return t
