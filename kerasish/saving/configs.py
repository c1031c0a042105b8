"""Architecture configs: a JSON description of a model that rebuilds it, and back.

``module_config(module)`` describes kerasish layers (their ``get_config``), standard
``torch.nn`` modules (their constructor arguments, read back from their attributes and
checked by rebuilding), Hugging Face ``transformers`` models (their class and config JSON,
see ``hf``), and any class with ``get_config`` (registered classes, such as
``Sequential`` and ``Model.wrap``'s ``Wrapped``, carry their ``registered_name``).
``module_from_config(cfg, resolver)`` rebuilds one, taking every class and function the file
names from a ``safe_load.Resolver``. ``encode``/``decode`` carry config values (tuples, slices,
dtypes, modules, classes, functions, ``torch.Tensor`` methods) through JSON; ``to_json`` and
``model_from_json`` are Keras's JSON round trip of an architecture (no weights).

Example:
    >>> from kerasish.saving.safe_load import Resolver
    >>> cfg = module_config(K.Sequential([nn.Linear(3, 2)]))
    >>> rebuilt = module_from_config(cfg, Resolver(None, safe_mode=True))
    >>> rebuilt
    Sequential(
      (layers): ModuleList(
        (0): Linear(in_features=3, out_features=2, bias=True)
      )
    )
"""

from __future__ import annotations

import inspect
import json
import sys
import types
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from kerasish import layers as layers_lib
from kerasish.saving import hf, registry
from kerasish.saving.safe_load import Resolver, lookup

__all__ = [
    "Undescribable",
    "architecture",
    "decode",
    "decode_shapes",
    "encode",
    "init_params",
    "input_shapes",
    "model_from_json",
    "module_config",
    "module_from_config",
    "object_ref",
    "tensor_method",
    "tensor_method_name",
    "to_json",
]

_RNN_ARGS = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout")
_ARG_TABLE = {
    "LSTM": (*_RNN_ARGS, "bidirectional", "proj_size"),
    "GRU": (*_RNN_ARGS, "bidirectional"),
    "RNN": (*_RNN_ARGS, "bidirectional", "nonlinearity"),
}
_SKIP_ARGS = {"device", "dtype", "size_average", "reduce", "_weight", "_freeze"}
_MISSING = object()
_META_ABOVE = 1 << 20  # parameters
_LEGACY_MODELS = {"Sequential": "kerasish.models>Sequential", "Wrapped": "kerasish.models>Wrapped"}
# Tensor methods a file may name beyond the public ones: the operators.
_TENSOR_DUNDERS = frozenset(
    f"__{op}__"
    for op in (
        "add radd sub rsub mul rmul truediv rtruediv floordiv rfloordiv mod rmod pow rpow "
        "matmul rmatmul neg pos abs invert and rand or ror xor rxor lshift rshift getitem "
        "eq ne lt le gt ge"
    ).split()
)


class Undescribable(Exception):
    """A part of a model (or of its compile config) has no portable description."""


# --------------------------------------------------------------------------- JSON values


def encode(value: Any, where: str) -> Any:
    """A JSON-able form of a config value.

    Raises:
        Undescribable: for anything else (naming ``where``).
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, where) for v in value]}
    if isinstance(value, list):
        return [encode(v, where) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: encode(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value).removeprefix("torch.")}
    if isinstance(value, nn.Module):
        return {"__module__": module_config(value)}
    if isinstance(value, slice):
        return {"__slice__": [encode(v, where) for v in (value.start, value.stop, value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": None}
    if isinstance(value, type):
        return {"__class__": object_ref(value, where)}
    method = tensor_method_name(value)
    if method is not None:
        return {"__tensor_method__": method}
    if callable(value):
        return {"__function__": object_ref(value, where)}
    raise Undescribable(f"{where} holds a {type(value).__name__}, which has no JSON form")


def object_ref(obj: Any, where: str) -> str:
    """``"module:qualname"`` for an importable class or function.

    Raises:
        Undescribable: for lambdas, local objects and objects not reachable by that path.
    """
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise Undescribable(f"{where} is {obj!r}, a lambda or local object without an import path")
    loaded = sys.modules.get(module)
    name = getattr(obj, "__name__", "")
    for path in (name, qualname):  # the public name first (torch.tanh, not a private class)
        if loaded is not None and path and lookup(loaded, path) is obj:
            return f"{module}:{path}"
    raise Undescribable(f"{where} is {obj!r}, which is not reachable as {module}.{qualname}")


def tensor_method_name(func: Any) -> str | None:
    """The name of a ``torch.Tensor`` method or property getter (``"__add__"``, ``"mean"``,
    ``"T.__get__"``), or None for anything else.

    Example:
        >>> tensor_method_name(torch.Tensor.__getitem__), tensor_method_name(torch.cat)
        ('__getitem__', None)
    """
    name = getattr(func, "__name__", None)
    owner = getattr(func, "__self__", None)
    if name == "__get__" and isinstance(owner, types.GetSetDescriptorType):
        if inspect.getattr_static(torch.Tensor, owner.__name__, None) is owner:
            return f"{owner.__name__}.__get__"
        return None
    if isinstance(name, str) and getattr(torch.Tensor, name, None) is func:
        return name
    return None


def tensor_method(name: str) -> Any:
    """The ``torch.Tensor`` method ``tensor_method_name`` named (public or an operator).

    Raises:
        ValueError: for a private name or one that is not a Tensor method.

    Example:
        >>> tensor_method("__add__") is torch.Tensor.__add__
        True
    """
    attr, _, getter = name.partition(".")
    allowed = (not attr.startswith("_") or attr in _TENSOR_DUNDERS) and getter in ("", "__get__")
    found = inspect.getattr_static(torch.Tensor, attr, None) if allowed else None
    if found is None or (getter and not isinstance(found, types.GetSetDescriptorType)):
        raise ValueError(
            "Expected a public torch.Tensor method or operator. Received: "
            f"__tensor_method__={name!r}"
        )
    return found.__get__ if getter else getattr(torch.Tensor, attr)


def decode(value: Any, resolver: Resolver) -> Any:
    """The value ``encode`` described, with classes and functions from ``resolver``."""
    if isinstance(value, list):
        return [decode(v, resolver) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "__tuple__":
            return tuple(decode(v, resolver) for v in inner)
        if key == "__dtype__" and isinstance(getattr(torch, inner, None), torch.dtype):
            return getattr(torch, inner)
        if key == "__module__":
            return module_from_config(inner, resolver)
        if key == "__slice__":
            return slice(*decode(inner, resolver))
        if key == "__ellipsis__":
            return Ellipsis
        if key == "__tensor_method__":
            return tensor_method(inner)
        if key in ("__class__", "__function__"):
            return resolver.ref(inner, "class" if key == "__class__" else "function")
    return {k: decode(v, resolver) for k, v in value.items()}


# --------------------------------------------------------------------------- describing


def module_config(module: nn.Module) -> dict[str, Any]:
    """A JSON-able description of ``module`` that ``module_from_config`` rebuilds.

    Raises:
        Undescribable: naming the part that has no description.
    """
    cls = described_class(type(module))
    if layers_lib.LAYERS.get(cls.__name__) is cls:
        config = encode(module.get_config(), cls.__name__)
        return {"package": "kerasish.layers", "class_name": cls.__name__, "config": config}
    if _is_torch_module(cls):
        return _torch_module_config(module)
    if hf.is_pretrained_model(cls):
        try:
            return hf.model_config(module, cls)
        except (TypeError, ValueError) as e:
            raise Undescribable(f"{cls.__qualname__}: its config has no JSON form ({e})") from e
    if callable(getattr(module, "get_config", None)):
        cfg = {"package": "custom", "module": cls.__module__, "class_name": cls.__qualname__}
        name = registry.get_registered_name(cls)
        if registry.get_registered_object(name) is cls:
            cfg["registered_name"] = name
        return {**cfg, "config": encode(module.get_config(), cls.__name__)}
    raise Undescribable(
        f"{cls.__qualname__} is neither a kerasish layer, a standard torch.nn module, nor a "
        "class with get_config()"
    )


def to_json(model: nn.Module, **kwargs: Any) -> str:
    """The architecture of ``model`` as a JSON string (Keras's ``model.to_json()``; no weights).

    Args:
        model: a model (or module) kerasish can describe.
        **kwargs: passed to ``json.dumps`` (``indent=2``, ...).

    Raises:
        ValueError: when a part of the model has no description (naming it).

    Example:
        >>> text = to_json(K.Sequential([nn.Linear(3, 2)]))
        >>> json.loads(text)["registered_name"]
        'kerasish.models>Sequential'
    """
    try:
        return json.dumps(module_config(model), **kwargs)
    except Undescribable as e:
        raise ValueError(f"Expected a model kerasish can describe. Received: {e}") from e


def model_from_json(
    json_string: str, custom_objects: Mapping[str, Any] | None = None, safe_mode: bool = True
) -> nn.Module:
    """The model ``to_json`` described, with new weights (Keras's ``model_from_json``).

    Args:
        json_string: what ``to_json`` (or ``model.to_json()``) returned.
        custom_objects: ``{name: class or function}`` for unregistered classes it names.
        safe_mode: resolve names only to registered, custom or torch/kerasish objects.

    Raises:
        ValueError: for a class safe mode refuses.

    Example:
        >>> model = model_from_json(to_json(K.Sequential([nn.Linear(3, 2)])))
        >>> type(model).__name__, model(torch.ones(1, 3)).shape
        ('Sequential', torch.Size([1, 2]))
    """
    return module_from_config(json.loads(json_string), Resolver(custom_objects, safe_mode))


def architecture(model: nn.Module) -> tuple[dict[str, Any] | None, str | None]:
    """``(module_config(model), None)``, or ``(None, why not)``."""
    try:
        return module_config(model), None
    except Undescribable as e:
        return None, str(e)


def _is_torch_module(cls: type) -> bool:
    return cls.__module__.startswith("torch.nn.modules") and getattr(nn, cls.__name__, None) is cls


def described_class(cls: type) -> type:
    """The class a module is described by: FSDP2's ``fully_shard`` swaps in a subclass
    ``FSDP<Name>(FSDPModule, <Name>)``, which stands for the class it shards.

    Example:
        >>> described_class(nn.Linear) is nn.Linear
        True
    """
    bases = cls.__bases__
    if len(bases) == 2 and bases[0].__name__ == "FSDPModule":
        return bases[1]
    return cls


def _torch_module_config(module: nn.Module) -> dict[str, Any]:
    cls = described_class(type(module))
    cfg: dict[str, Any] = {"package": "torch.nn", "class_name": cls.__name__}
    if isinstance(module, nn.ModuleList):
        cfg["layers"] = [module_config(m) for m in module]
    elif isinstance(module, nn.Sequential | nn.ModuleDict):
        cfg["layers"] = [[k, module_config(m)] for k, m in module.named_children()]
    else:
        args = _torch_module_args(module)
        cfg["config"] = encode(args, cls.__name__)
        _check_rebuild(module, args)
    return cfg


def init_params(cls: type) -> list[tuple[str, Any]]:
    """The constructor arguments of ``cls`` (name, default), without device/dtype and such."""
    if cls.__name__ in _ARG_TABLE:
        return [(name, None) for name in _ARG_TABLE[cls.__name__]]
    params = inspect.signature(cls.__init__).parameters.values()
    plain = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [
        (p.name, p.default)
        for p in list(params)[1:]
        if p.kind in plain and p.name not in _SKIP_ARGS
    ]


def _torch_module_args(module: nn.Module) -> dict[str, Any]:
    """Constructor arguments of a torch.nn module, read from its same-named attributes."""
    args = {}
    for name, default in init_params(described_class(type(module))):
        value = getattr(module, name, _MISSING)
        if name == "bias" and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None
        if value is _MISSING:
            if default is inspect.Parameter.empty:
                raise Undescribable(
                    f"{type(module).__name__}: the argument {name!r} is not readable from "
                    "the module"
                )
            continue
        args[name] = value
    return args


def _check_rebuild(module: nn.Module, args: dict[str, Any]) -> None:
    """Rebuild ``module`` from ``args`` and compare; big modules are rebuilt on the meta
    device (small ones on the CPU: the first meta initialisation costs torch seconds)."""
    cls = described_class(type(module))
    big = sum(p.numel() for p in module.parameters()) > _META_ABOVE
    with torch.random.fork_rng(devices=[]):
        try:
            twin = cls(**args, device="meta") if big else cls(**args)
        except TypeError:
            try:
                twin = cls(**args)
            except Exception as e:  # noqa: BLE001 - any failure means "not describable"
                raise Undescribable(f"{cls.__name__}(**{args}) fails: {e}") from e
        except Exception as e:  # noqa: BLE001
            raise Undescribable(f"{cls.__name__}(**{args}) fails: {e}") from e
    seen = f"{cls.__name__}({module.extra_repr()})" if cls is not type(module) else repr(module)
    if repr(twin) != seen or _shapes(twin) != _shapes(module):
        raise Undescribable(
            f"{cls.__name__}: the arguments read from its attributes ({args}) rebuild "
            f"{twin!r}, not {module!r}"
        )


def _shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items() if not is_lazy(v)}


# --------------------------------------------------------------------------- rebuilding


def module_from_config(cfg: dict[str, Any], resolver: Resolver) -> nn.Module:
    """The module ``module_config`` described, with classes from ``resolver``.

    Raises:
        ValueError: for a class safe mode refuses (naming ``custom_objects``), or an unknown
            kerasish layer or torch.nn class.
    """
    package, name = cfg["package"], cfg["class_name"]
    if package == "kerasish.layers":
        if name not in layers_lib.LAYERS:
            raise ValueError(
                f"Expected a kerasish layer among {sorted(layers_lib.LAYERS)}. Received: "
                f"class_name={name!r} (saved by a newer kerasish?)"
            )
        return layers_lib.LAYERS[name].from_config(decode(cfg["config"], resolver))
    if package == "kerasish.models":
        return _legacy_model(cfg, resolver)
    if package == "torch.nn":
        return _torch_module(cfg, resolver)
    if package == hf.PACKAGE:
        return hf.model_from_config(cfg, resolver)
    cls = _custom_class(cfg, resolver)
    config = decode(cfg["config"], resolver)
    return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)


def _custom_class(cfg: dict[str, Any], resolver: Resolver) -> type:
    """The class of a ``"custom"`` entry: by its registered name when this process has it
    registered, else by its import path."""
    registered_name = cfg.get("registered_name")
    cls = resolver.registered(registered_name) if isinstance(registered_name, str) else None
    if cls is None:
        return resolver.ref(f"{cfg['module']}:{cfg['class_name']}", "module")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(
            "Expected registered_name to name an nn.Module class. Received: "
            f"registered_name={registered_name!r}, which is {cls!r}"
        )
    return cls


def _legacy_model(cfg: dict[str, Any], resolver: Resolver) -> nn.Module:
    """Files of kerasish <= 0.1 describe Sequential and Wrapped by their own shape."""
    registered_name = _LEGACY_MODELS.get(cfg["class_name"])
    cls = resolver.registered(registered_name) if registered_name else None
    if cls is None:
        raise ValueError(
            f"Expected a kerasish model among {sorted(_LEGACY_MODELS)}. Received: "
            f"class_name={cfg['class_name']!r}"
        )
    if cfg["class_name"] == "Wrapped":
        return cls.from_config({"net": module_from_config(cfg["net"], resolver)})
    layers = [module_from_config(c, resolver) for c in cfg["layers"]]
    return cls.from_config({**decode(cfg["config"], resolver), "layers": layers})


def _torch_module(cfg: dict[str, Any], resolver: Resolver) -> nn.Module:
    cls = getattr(nn, cfg["class_name"], None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(
            f"Expected a torch.nn module class name. Received: class_name={cfg['class_name']!r}"
        )
    if cls is nn.ModuleList:
        return nn.ModuleList([module_from_config(c, resolver) for c in cfg["layers"]])
    if cls in (nn.Sequential, nn.ModuleDict):
        items = OrderedDict((k, module_from_config(c, resolver)) for k, c in cfg["layers"])
        return cls(items)
    return cls(**decode(cfg["config"], resolver))


# --------------------------------------------------------------------------- input shapes


def input_shapes(example: Any) -> Any:
    """The JSON form of the input shapes of an example batch (batch dimension None)."""
    if isinstance(example, torch.Tensor):
        return {"__tuple__": [None, *example.shape[1:]]}
    if isinstance(example, list | tuple):
        return [input_shapes(e) for e in example]
    if isinstance(example, Mapping):
        return {"__dict__": {k: input_shapes(v) for k, v in example.items()}}
    return None


def decode_shapes(value: Any) -> Any:
    """The shapes ``input_shapes`` wrote, as ``build()`` takes them."""
    if isinstance(value, list):
        return [decode_shapes(v) for v in value]
    if isinstance(value, dict) and "__tuple__" in value:
        return tuple(value["__tuple__"])
    if isinstance(value, dict) and "__dict__" in value:
        return {k: decode_shapes(v) for k, v in value["__dict__"].items()}
    return value
