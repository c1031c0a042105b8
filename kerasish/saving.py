"""Saving: model files, weights and exports; atomic writes and safe loading.

``model.save(path)`` writes one zip file (suggested suffix ``.kerasish``) holding:

- ``metadata.json``: format version, kerasish and torch versions, the model's class;
- ``config.json``: the architecture where kerasish can describe it (a ``Sequential`` of
  ``kerasish.layers`` and standard ``torch.nn`` modules with their constructor arguments,
  ``Model.wrap`` of such a module, or any class with ``get_config``), the input shape it was
  built with and the names of frozen parameters;
- ``compile.json``: the optimizer and its arguments, the loss, the metrics and compile options;
- ``model.safetensors``: the state dict;
- ``optimizer.pt`` (+ ``optimizer.json``, ``scaler.pt``): the optimizer's state, when it exists.

``load_model`` rebuilds the model (or loads into ``model=`` for subclassed and wrapped models),
loads the weights, recompiles and restores the optimizer state. Nothing in a file runs code by
default: weights are safetensors, other tensors go through ``torch.load(weights_only=True)``,
and classes or functions named in a config are taken from ``custom_objects``, or from torch,
torchvision, torchmetrics and kerasish when the object is defined there and is of the kind the
config may name at that place (``_safe_lookup``); ``safe_mode=False`` is the opt-in for trusted
pickles and imports.

Every file is written to a temporary file in the same directory, fsync'd, then renamed over the
target (``atomic_path``/``atomic_write``), so a crash leaves the previous file whole.

Example:
    >>> model.save("run/model.kerasish")
    >>> model = K.models.load_model("run/model.kerasish")
    >>> model.save_weights("run/weights.safetensors")
    >>> model.export("run/model.onnx", format="onnx")
"""

from __future__ import annotations

import contextlib
import datetime
import importlib
import inspect
import io
import json
import os
import pickle
import re
import sys
import tempfile
import warnings
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, NamedTuple

import safetensors.torch
import torch
from torch import nn
from torch.nn.parameter import is_lazy

from kerasish import layers as layers_lib
from kerasish import losses as losses_lib
from kerasish import metrics as metrics_lib
from kerasish import optimizers as optimizers_lib

__all__ = [
    "SavingMixin",
    "LoadResult",
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "export_model",
    "atomic_path",
    "atomic_write",
    "safe_torch_load",
    "is_chief",
]

FORMAT = "kerasish.model"
FORMAT_VERSION = 1
WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
EXPORT_FORMATS = ("onnx", "torchscript", "torch_export")
_EXPORT_EXTRA = "pip install 'kerasish[export]'"
_RTOL, _ATOL = 1e-3, 1e-4
# Safe mode resolves a name from a file only when the object it finds is *defined* in one of
# these packages (its ``__module__``, not an attribute path through them) and is of a kind the
# file may name at that place (see ``_KIND_CHECKS``).
_TRUSTED_ROOTS = ("torch", "torchvision", "torchmetrics", "kerasish")
# Functions a file may name (activations, loss and metric functions): tensor ops only. Torch's
# C ops say they live in these modules (torch.nn.functional.gelu in torch._C._nn); Python
# functions of torch's top level (torch.load, torch.compile, ...) are not among them.
_TORCH_C_OP_MODULES = frozenset(
    {"torch", "torch._C._nn", "torch._C._special", "torch._C._linalg", "torch._C._fft"}
)
_FUNCTION_MODULES = frozenset(
    {
        "torch.functional",
        "torch.nn.functional",
        "kerasish.losses",
        "kerasish.metrics",
        "kerasish.activations",
        "kerasish.ops",
    }
)


class LoadResult(NamedTuple):
    """What ``load_weights`` left out: keys missing from the file, keys the model lacks, and
    keys skipped for a shape mismatch (``skip_mismatch=True``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]
    mismatched_keys: list[str]


class _Undescribable(Exception):
    """A part of a model (or of its compile config) has no portable description."""


# --------------------------------------------------------------------------- atomic writes


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success fsync it and rename it to ``path``.

    The rename is atomic, so readers see the old file or the new one, never a partial file; if
    the body raises (or the process dies) the old file is untouched and the temporary file is
    removed (or left under a hidden ``.name.*.tmp`` name).

    Args:
        path: the final file.
        overwrite: when False, raise FileExistsError if ``path`` exists.

    Raises:
        FileExistsError: when ``overwrite=False`` and the file exists.

    Example:
        >>> with atomic_path("model.onnx") as tmp:
        ...     torch.onnx.export(model, args, tmp)
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"Expected a path that does not exist yet (overwrite=False). Received: path={path!r}"
        )
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = ".tmp" + os.path.splitext(path)[1]  # some writers (torch.export) check it
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        with contextlib.suppress(OSError):
            os.chmod(tmp, os.stat(path).st_mode if os.path.exists(path) else 0o644)
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(directory)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[IO[bytes]]:
    """Open a temporary file next to ``path`` for binary writing; rename it over ``path`` when
    the block ends without error (see ``atomic_path``).

    Example:
        >>> with atomic_write("state.pt") as f:
        ...     torch.save(state, f)
    """
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as f:
        yield f


def _fsync_file(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(directory: str) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_bytes(path: str, data: bytes, overwrite: bool = True) -> None:
    with atomic_write(path, overwrite=overwrite) as f:
        f.write(data)


def is_chief() -> bool:
    """True unless this process is a non-zero rank of an initialised process group (torchrun);
    checkpoint callbacks write files only on the chief."""
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized() and dist.get_rank() != 0)


# --------------------------------------------------------------------------- safe loading


def safe_torch_load(
    source: str | os.PathLike | IO[bytes],
    *,
    safe_mode: bool = True,
    map_location: Any = "cpu",
    what: str | None = None,
    remedy: str = "If you trust the file, pass safe_mode=False.",
) -> Any:
    """``torch.load`` that never unpickles arbitrary objects unless ``safe_mode=False``.

    Args:
        source: a path or a binary file object.
        safe_mode: True loads with ``weights_only=True`` (tensors and plain containers only).
        map_location: where tensors go (default CPU, so CUDA checkpoints load anywhere).
        what: how to name the file in errors (default: the path).
        remedy: the error's last sentence, saying what the caller can do.

    Raises:
        ValueError: when the file needs full unpickling and ``safe_mode`` is True; the message
            names the opt-in ``safe_mode=False``.

    Example:
        >>> state = safe_torch_load("weights.pt")
    """
    try:
        return torch.load(source, map_location=map_location, weights_only=safe_mode)
    except pickle.UnpicklingError as e:
        if not safe_mode:
            raise
        name = what or (repr(os.fspath(source)) if isinstance(source, str | os.PathLike) else "")
        raise ValueError(
            "Expected a checkpoint of tensors and plain Python containers, which kerasish "
            "loads without running code from the file (torch.load(weights_only=True)). "
            f"Received: {name or 'a file'} that needs arbitrary unpickling "
            f"({_unpickling_reason(e)}). {remedy}"
        ) from e


def _unpickling_reason(error: Exception) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    found = re.search(r"WeightsUnpickler error: (.*?)(?: Please use|\n|$)", text)
    return found.group(1).strip() if found else text.splitlines()[0][:200]


# --------------------------------------------------------------------------- JSON encoding


def _encode(value: Any, where: str) -> Any:
    """A JSON-able form of a config value; raises _Undescribable for anything else."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, where) for v in value]}
    if isinstance(value, list):
        return [_encode(v, where) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _encode(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value).removeprefix("torch.")}
    if isinstance(value, nn.Module):
        return {"__module__": module_config(value)}
    if isinstance(value, type):
        return {"__class__": _object_ref(value, where)}
    if callable(value):
        return {"__function__": _object_ref(value, where)}
    raise _Undescribable(f"{where} holds a {type(value).__name__}, which has no JSON form")


def _object_ref(obj: Any, where: str) -> str:
    """``"module:qualname"`` for an importable class or function."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise _Undescribable(f"{where} is {obj!r}, a lambda or local object without an import path")
    loaded = sys.modules.get(module)
    name = getattr(obj, "__name__", "")
    for path in (name, qualname):  # the public name first (torch.tanh, not a private class)
        if loaded is not None and path and _lookup(loaded, path) is obj:
            return f"{module}:{path}"
    raise _Undescribable(f"{where} is {obj!r}, which is not reachable as {module}.{qualname}")


def _lookup(root: Any, qualname: str) -> Any:
    obj = root
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def _under(module: Any, roots: tuple[str, ...] | frozenset[str]) -> bool:
    return isinstance(module, str) and any(module == r or module.startswith(r + ".") for r in roots)


def _is_public_path(dotted: str) -> bool:
    return all(part and not part.startswith("_") for part in dotted.split("."))


def _is_class_of(*bases: Any) -> Callable[[Any], bool]:
    return lambda obj: isinstance(obj, type) and issubclass(obj, tuple(b for b in bases if b))


def _torchmetrics_metric() -> Any:
    module = sys.modules.get("torchmetrics")  # only when the user's code already imported it
    return getattr(module, "Metric", None) if module is not None else None


def _is_tensor_function(obj: Any) -> bool:
    """A function a file may name: a tensor op of torch or a kerasish loss/metric function."""
    if isinstance(obj, type) or not callable(obj):
        return False
    module = getattr(obj, "__module__", None)
    if module in _TORCH_C_OP_MODULES:
        return inspect.isbuiltin(obj)
    return module in _FUNCTION_MODULES and (inspect.isfunction(obj) or inspect.isbuiltin(obj))


# What a file may name, by the place that names it.
_KIND_CHECKS: dict[str, Callable[[Any], bool]] = {
    "module": lambda obj: _is_class_of(nn.Module)(obj),
    "optimizer": lambda obj: _is_class_of(torch.optim.Optimizer, optimizers_lib.Optimizer)(obj),
    "loss": lambda obj: _is_class_of(losses_lib.Loss, nn.Module)(obj),
    "metric": lambda obj: _is_class_of(metrics_lib.Metric, _torchmetrics_metric())(obj),
    "function": _is_tensor_function,
}
_KIND_CHECKS["class"] = lambda obj: any(  # a class given as an argument inside a config
    _KIND_CHECKS[k](obj) for k in ("module", "optimizer", "loss", "metric")
)
_KIND_WORDS = {
    "module": "an nn.Module class",
    "optimizer": "an optimizer class",
    "loss": "a loss class",
    "metric": "a metric class",
    "function": "a tensor function of torch or kerasish",
    "class": "a module, loss, metric or optimizer class",
}


def _safe_lookup(module: str, qualname: str, kind: str) -> tuple[Any, str | None]:
    """The object ``module:qualname`` names, if safe mode may use it; else why not.

    Only modules under the trusted packages are imported, no private name is followed, the
    path may not pass through another module (``torch:os.system``), and the object must be
    defined in a trusted package and be of the kind the file may name at that place.
    """
    if not _under(module, _TRUSTED_ROOTS) or not _is_public_path(module):
        return None, f"module {module!r} is not one of {list(_TRUSTED_ROOTS)}' public modules"
    if not _is_public_path(qualname):
        return None, f"{qualname!r} is a private name"
    try:
        obj: Any = importlib.import_module(module)
    except ImportError:
        return None, f"module {module!r} cannot be imported"
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return None, f"{module} has no attribute {qualname!r}"
        if inspect.ismodule(obj):
            return None, f"{module}.{qualname} goes through the module {obj.__name__!r}"
    defined_in = getattr(obj, "__module__", None)
    if not _under(defined_in, _TRUSTED_ROOTS):
        return None, f"{module}.{qualname} is defined in {defined_in!r}, outside torch/kerasish"
    if not _KIND_CHECKS[kind](obj):
        return None, f"{module}.{qualname} is not {_KIND_WORDS[kind]}"
    return obj, None


class _Resolver:
    """Turns configs back into objects, taking classes and functions from ``custom_objects``
    first, then from torch/kerasish, and from any module only when ``safe_mode=False``."""

    def __init__(self, custom_objects: Mapping[str, Any] | None, safe_mode: bool):
        if custom_objects is not None and not isinstance(custom_objects, Mapping):
            raise TypeError(
                "Expected custom_objects to be a dict {name: class or function}. "
                f"Received: custom_objects={custom_objects!r}"
            )
        self.custom = dict(custom_objects or {})
        self.safe_mode = safe_mode

    def ref(self, ref: str, kind: str) -> Any:
        """The class or function ``"module:qualname"`` names, for a place expecting ``kind``
        (one of ``_KIND_CHECKS``): from ``custom_objects`` first, then from torch/kerasish
        under safe mode's rules, or from anywhere when ``safe_mode=False``."""
        if not isinstance(ref, str):
            raise ValueError(f"Expected a 'module:name' reference. Received: ref={ref!r}")
        module, _, qualname = ref.partition(":")
        name = qualname.rsplit(".", 1)[-1]
        for key in (ref, f"{module}.{qualname}", qualname, name):
            if key in self.custom:
                return self.custom[key]
        if not self.safe_mode:
            found = _lookup(importlib.import_module(module), qualname)
            if found is not None:
                return found
            why = f"{module} has no attribute {qualname!r}"
        else:
            found, why = _safe_lookup(module, qualname, kind)
            if why is None:
                return found
        word = "function" if kind == "function" else "class"
        raise ValueError(
            f"Expected {name!r} in custom_objects: the file names the {word} {module}.{qualname} "
            f"as {_KIND_WORDS[kind]}, which safe mode refuses ({why}). Received: "
            f"custom_objects={sorted(self.custom)}. Pass custom_objects={{{name!r}: {name}}}, "
            "or safe_mode=False if you trust the file."
        )

    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "__tuple__":
                return tuple(self.decode(v) for v in inner)
            if key == "__dtype__" and isinstance(getattr(torch, inner, None), torch.dtype):
                return getattr(torch, inner)
            if key == "__module__":
                return self.module(inner)
            if key in ("__class__", "__function__"):
                return self.ref(inner, "class" if key == "__class__" else "function")
        return {k: self.decode(v) for k, v in value.items()}

    def module(self, cfg: dict[str, Any]) -> nn.Module:
        package, name = cfg["package"], cfg["class_name"]
        if package == "kerasish.layers":
            if name not in layers_lib.LAYERS:
                raise ValueError(
                    f"Expected a kerasish layer among {sorted(layers_lib.LAYERS)}. Received: "
                    f"class_name={name!r} (saved by a newer kerasish?)"
                )
            return layers_lib.LAYERS[name].from_config(self.decode(cfg["config"]))
        if package == "kerasish.models":
            return self._kerasish_model(cfg)
        if package == "torch.nn":
            return self._torch_module(cfg)
        cls = self.ref(f"{cfg['module']}:{name}", "module")
        config = self.decode(cfg["config"])
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)

    def _kerasish_model(self, cfg: dict[str, Any]) -> nn.Module:
        from kerasish.models.model import Wrapped
        from kerasish.models.sequential import Sequential

        if cfg["class_name"] == "Wrapped":
            return Wrapped(self.module(cfg["net"]))
        layers = [self.module(c) for c in cfg["layers"]]
        return Sequential(layers, **self.decode(cfg["config"]))

    def _torch_module(self, cfg: dict[str, Any]) -> nn.Module:
        cls = getattr(nn, cfg["class_name"], None)
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise ValueError(
                f"Expected a torch.nn module class name. Received: class_name={cfg['class_name']!r}"
            )
        if cls is nn.ModuleList:
            return nn.ModuleList([self.module(c) for c in cfg["layers"]])
        if cls in (nn.Sequential, nn.ModuleDict):
            items = OrderedDict((k, self.module(c)) for k, c in cfg["layers"])
            return cls(items)
        return cls(**self.decode(cfg["config"]))


# --------------------------------------------------------------------------- architecture


_RNN_ARGS = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout")
_ARG_TABLE = {
    "LSTM": (*_RNN_ARGS, "bidirectional", "proj_size"),
    "GRU": (*_RNN_ARGS, "bidirectional"),
    "RNN": (*_RNN_ARGS, "bidirectional", "nonlinearity"),
}
_SKIP_ARGS = {"device", "dtype", "size_average", "reduce", "_weight", "_freeze"}
_MISSING = object()
_META_ABOVE = 1 << 20  # parameters


def module_config(module: nn.Module) -> dict[str, Any]:
    """A JSON-able description of ``module`` that ``load_model`` can rebuild.

    Raises:
        _Undescribable: naming the part that has no description.
    """
    cls = type(module)
    if layers_lib.LAYERS.get(cls.__name__) is cls:
        config = _encode(module.get_config(), cls.__name__)
        return {"package": "kerasish.layers", "class_name": cls.__name__, "config": config}
    kerasish_model = _kerasish_model_config(module)
    if kerasish_model is not None:
        return kerasish_model
    if _is_torch_module(cls):
        return _torch_module_config(module)
    if callable(getattr(module, "get_config", None)):
        config = _encode(module.get_config(), cls.__name__)
        return {
            "package": "custom",
            "module": cls.__module__,
            "class_name": cls.__qualname__,
            "config": config,
        }
    raise _Undescribable(
        f"{cls.__qualname__} is neither a kerasish layer, a standard torch.nn module, nor a "
        "class with get_config()"
    )


def _kerasish_model_config(module: nn.Module) -> dict[str, Any] | None:
    from kerasish.models.model import Wrapped
    from kerasish.models.sequential import Sequential

    if type(module) is Sequential:
        return {
            "package": "kerasish.models",
            "class_name": "Sequential",
            "config": {"name": module.name},
            "layers": [module_config(m) for m in module.layers],
        }
    if type(module) is Wrapped:
        net = module._modules["net"]
        return {"package": "kerasish.models", "class_name": "Wrapped", "net": module_config(net)}
    return None


def _is_torch_module(cls: type) -> bool:
    return cls.__module__.startswith("torch.nn.modules") and getattr(nn, cls.__name__, None) is cls


def _torch_module_config(module: nn.Module) -> dict[str, Any]:
    cls = type(module)
    cfg: dict[str, Any] = {"package": "torch.nn", "class_name": cls.__name__}
    if isinstance(module, nn.ModuleList):
        cfg["layers"] = [module_config(m) for m in module]
    elif isinstance(module, nn.Sequential | nn.ModuleDict):
        cfg["layers"] = [[k, module_config(m)] for k, m in module.named_children()]
    else:
        args = _torch_module_args(module)
        cfg["config"] = _encode(args, cls.__name__)
        _check_rebuild(module, args)
    return cfg


def _init_params(cls: type) -> list[tuple[str, Any]]:
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
    for name, default in _init_params(type(module)):
        value = getattr(module, name, _MISSING)
        if name == "bias" and (value is None or isinstance(value, torch.Tensor)):
            value = value is not None
        if value is _MISSING:
            if default is inspect.Parameter.empty:
                raise _Undescribable(
                    f"{type(module).__name__}: the argument {name!r} is not readable from "
                    "the module"
                )
            continue
        args[name] = value
    return args


def _check_rebuild(module: nn.Module, args: dict[str, Any]) -> None:
    """Rebuild ``module`` from ``args`` and compare; big modules are rebuilt on the meta
    device (small ones on the CPU: the first meta initialisation costs torch seconds)."""
    cls = type(module)
    big = sum(p.numel() for p in module.parameters()) > _META_ABOVE
    with torch.random.fork_rng(devices=[]):
        try:
            twin = cls(**args, device="meta") if big else cls(**args)
        except TypeError:
            try:
                twin = cls(**args)
            except Exception as e:  # noqa: BLE001 - any failure means "not describable"
                raise _Undescribable(f"{cls.__name__}(**{args}) fails: {e}") from e
        except Exception as e:  # noqa: BLE001
            raise _Undescribable(f"{cls.__name__}(**{args}) fails: {e}") from e
    if repr(twin) != repr(module) or _shapes(twin) != _shapes(module):
        raise _Undescribable(
            f"{cls.__name__}: the arguments read from its attributes ({args}) rebuild "
            f"{twin!r}, not {module!r}"
        )


def _shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in module.state_dict().items() if not is_lazy(v)}


def _architecture(model: nn.Module) -> tuple[dict[str, Any] | None, str | None]:
    try:
        return module_config(model), None
    except _Undescribable as e:
        return None, str(e)


def _input_shapes(example: Any) -> Any:
    if isinstance(example, torch.Tensor):
        return {"__tuple__": [None, *example.shape[1:]]}
    if isinstance(example, list | tuple):
        return [_input_shapes(e) for e in example]
    if isinstance(example, Mapping):
        return {"__dict__": {k: _input_shapes(v) for k, v in example.items()}}
    return None


def _decode_shapes(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode_shapes(v) for v in value]
    if isinstance(value, dict) and "__tuple__" in value:
        return tuple(value["__tuple__"])
    if isinstance(value, dict) and "__dict__" in value:
        return {k: _decode_shapes(v) for k, v in value["__dict__"].items()}
    return value


# --------------------------------------------------------------------------- compile config


def _compile_config(model: Any) -> dict[str, Any] | None:
    if not getattr(model, "compiled", False):
        return None
    problems: list[str] = []
    return {
        "optimizer": _described(problems, "optimizer", _optimizer_config, model._optimizer_spec),
        "loss": _described(problems, "loss", _loss_config, model.loss),
        "metrics": _metrics_config(model._metric_objs, problems),
        "loss_weights": _described(problems, "loss_weights", _encode, model._loss_weights),
        "options": {
            "scheduler_interval": model._scheduler_interval,
            "mixed_precision": model._precision,
            "jit_compile": model._jit,
            "compile_mode": model._compile_mode,
            "channels_last": model._channels_last,
        },
        "problems": problems,
    }


def _described(problems: list[str], part: str, fn: Callable[..., Any], value: Any) -> Any:
    try:
        return fn(value, part)
    except (_Undescribable, TypeError) as e:
        problems.append(f"{part}: {e}")
        return None


def _optimizer_config(spec: Any, where: str) -> dict[str, Any]:
    if isinstance(spec, torch.optim.Optimizer):
        return {
            "torch_instance": _object_ref(type(spec), where),
            "defaults": _encode(spec.defaults, where),
        }
    if isinstance(spec, optimizers_lib._TorchClass):
        return {"torch_class": _object_ref(spec.torch_class, where)}
    return {"class": _object_ref(type(spec), where), "config": _encode(spec.get_config(), where)}


def _loss_config(loss: Any, where: str) -> dict[str, Any] | None:
    if loss is None:
        return None
    if isinstance(loss, Mapping):
        return {"dict": {k: _one_loss(v, f"{where}[{k!r}]") for k, v in loss.items()}}
    if isinstance(loss, list | tuple):
        return {"list": [_one_loss(v, f"{where}[{i}]") for i, v in enumerate(loss)]}
    return {"single": _one_loss(loss, where)}


def _one_loss(loss: Any, where: str) -> dict[str, Any]:
    if isinstance(loss, losses_lib.TorchLoss):
        return {
            "torch_loss": module_config(loss.module),
            "name": loss.name,
            "reduction": loss.reduction,
        }
    if isinstance(loss, losses_lib.LossFunctionWrapper):
        config = {"name": loss.name, "reduction": loss.reduction, **loss.fn_kwargs}
        return {"function": _object_ref(loss.fn, where), "config": _encode(config, where)}
    try:
        return {"builtin": _encode(losses_lib.serialize(loss), where)}
    except TypeError:
        return {
            "class": _object_ref(type(loss), where),
            "config": _encode(loss.get_config(), where),
        }


def _metrics_config(metric_objs: list[Any], problems: list[str]) -> list[dict[str, Any]]:
    out = []
    for m in metric_objs:
        key = getattr(m, "output_key", None)
        name = m.name[len(f"{key}_") :] if key is not None else m.name
        try:
            out.append({"output_key": key, "spec": _metric_spec(m, name)})
        except (_Undescribable, TypeError) as e:
            problems.append(f"metric {m.name!r}: {e}")
    return out


def _metric_spec(m: Any, name: str) -> Any:
    """A registry name when ``get(name)`` rebuilds ``m``; else the class and its arguments."""
    factory, kwargs = metrics_lib._NAMES.get(name, (None, {}))
    if type(m) is factory and _public_config(m) == _public_config(factory(name=name, **kwargs)):
        return name
    where = f"metric {name!r}"
    if callable(getattr(m, "get_config", None)):
        return {"class": _object_ref(type(m), where), "config": _encode(m.get_config(), where)}
    if type(m) is metrics_lib.MeanMetricWrapper:
        config = {"name": name, **m._fn_kwargs}
        return {"mean_of": _object_ref(m._fn, where), "config": _encode(config, where)}
    if type(m).__module__ != metrics_lib.__name__ or isinstance(m, metrics_lib.TorchMetricsAdapter):
        raise _Undescribable(f"{type(m).__name__} has no get_config()")
    args = {k: _plain(getattr(m, k)) for k, _ in _init_params(type(m)) if hasattr(m, k)}
    args["name"] = name
    return {"class": _object_ref(type(m), where), "config": _encode(args, where)}


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    return value


def _public_config(m: Any) -> dict[str, Any]:
    """A metric's public settings that are set (not None), without its name and running state."""
    simple = bool | int | float | str | torch.Tensor
    return {
        k: _plain(v)
        for k, v in vars(m).items()
        if not k.startswith("_") and k != "name" and k not in m._initial and isinstance(v, simple)
    }


class _CompileDecoder:
    """Rebuilds the objects ``compile`` takes from ``compile.json``."""

    def __init__(self, resolver: _Resolver):
        self.r = resolver

    def optimizer(self, cfg: dict[str, Any]) -> Any:
        if "torch_instance" in cfg:
            return (
                "torch_instance",
                self.r.ref(cfg["torch_instance"], "optimizer"),
                self.r.decode(cfg["defaults"]),
            )
        if "torch_class" in cfg:
            return optimizers_lib._TorchClass(self.r.ref(cfg["torch_class"], "optimizer"))
        cls = self.r.ref(cfg["class"], "optimizer")
        config = self.r.decode(cfg["config"])
        config.pop("class_name", None)
        if "from_config" in vars(cls):
            return cls.from_config(config)
        spec = cls.__new__(cls)
        optimizers_lib.Optimizer.__init__(spec, config.pop("learning_rate"), **config)
        return spec

    def loss(self, cfg: dict[str, Any] | None) -> Any:
        if cfg is None:
            return None
        if "dict" in cfg:
            return {k: self._one_loss(v) for k, v in cfg["dict"].items()}
        if "list" in cfg:
            return [self._one_loss(v) for v in cfg["list"]]
        return self._one_loss(cfg["single"])

    def _one_loss(self, cfg: dict[str, Any]) -> Any:
        if "torch_loss" in cfg:
            module = self.r.module(cfg["torch_loss"])
            return losses_lib.TorchLoss(module, name=cfg["name"], reduction=cfg["reduction"])
        if "function" in cfg:
            fn = self.r.ref(cfg["function"], "function")
            return losses_lib.LossFunctionWrapper(fn, **self.r.decode(cfg["config"]))
        if "builtin" in cfg:
            return losses_lib.deserialize(self.r.decode(cfg["builtin"]))
        cls = self.r.ref(cfg["class"], "loss")
        return cls.from_config(self.r.decode(cfg["config"]))

    def metrics(self, entries: list[dict[str, Any]]) -> Any:
        specs = [(e["output_key"], self._metric(e["spec"])) for e in entries]
        if not specs:
            return None
        if all(key is None for key, _ in specs):
            return [m for _, m in specs]
        grouped: dict[str, list[Any]] = {}
        for key, m in specs:
            grouped.setdefault(key, []).append(m)
        return grouped

    def _metric(self, spec: Any) -> Any:
        if isinstance(spec, str):
            return spec
        if "mean_of" in spec:
            config = self.r.decode(spec["config"])
            return metrics_lib.MeanMetricWrapper(self.r.ref(spec["mean_of"], "function"), **config)
        cls = self.r.ref(spec["class"], "metric")
        config = self.r.decode(spec["config"])
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)


# --------------------------------------------------------------------------- weights


def _state_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict on the CPU; raises when lazy layers are not built yet.

    Under FSDP this gathers the full tensors (a collective: every rank must call it) and
    non-zero ranks get an empty dict.
    """
    from kerasish import distribute

    state = distribute.full_state_dict(model)
    lazy = [k for k, v in state.items() if is_lazy(v)]
    if lazy:
        raise ValueError(
            "Expected a built model to save (lazy layers learn their sizes at the first call). "
            f"Received: unbuilt weights {lazy[:5]}. Call model.build(input_shape), fit() or "
            "predict() first."
        )
    meta = [k for k, v in state.items() if isinstance(v, torch.Tensor) and v.is_meta]
    if meta:
        raise ValueError(
            "Expected weights with values to save. Received: tensors on the meta device "
            f"{meta[:5]}; load or initialise the weights (e.g. model.to_empty(device='cpu')) first"
        )
    odd = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if odd:
        raise TypeError(f"Expected only tensors in the state dict. Received: extra state {odd[:5]}")
    return {k: v.detach().cpu() for k, v in state.items()}


def _safetensors_bytes(state: dict[str, torch.Tensor]) -> bytes:
    """safetensors bytes; tensors sharing memory (tied weights, views) are copied apart."""
    seen: set[int] = set()
    flat = {}
    for k, t in state.items():
        storage = t.untyped_storage()
        whole = storage.nbytes() == t.numel() * t.element_size()
        if storage.data_ptr() in seen or not whole or not t.is_contiguous():
            t = t.clone(memory_format=torch.contiguous_format)
        seen.add(t.untyped_storage().data_ptr())
        flat[k] = t
    return safetensors.torch.save(flat, metadata={"format": "pt"})


def _weights_suffix(path: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise ValueError(
            f"Expected a weights file ending in one of {list(WEIGHT_SUFFIXES)} (.safetensors is "
            f"safest). Received: path={path!r}"
        )
    return suffix


def save_weights(model: nn.Module, path: str | os.PathLike, *, overwrite: bool = True) -> None:
    """Write ``model``'s state dict to ``.safetensors`` or to a torch ``.pt``/``.pth`` file.

    Args:
        model: the (built) module.
        path: ``*.safetensors`` (recommended) or ``*.pt``/``*.pth``/``*.bin``.
        overwrite: when False, refuse to replace an existing file.

    Raises:
        ValueError: for another suffix, or an unbuilt model.

    Example:
        >>> save_weights(model, "weights.safetensors")
    """
    path = os.fspath(path)
    suffix = _weights_suffix(path)
    state = _state_tensors(model)
    if not is_chief():  # under torchrun every rank may call save; rank 0 writes
        return
    if suffix == ".safetensors":
        _write_bytes(path, _safetensors_bytes(state), overwrite)
        return
    with atomic_write(path, overwrite=overwrite) as f:
        torch.save(state, f)


def _read_state(path: str, safe_mode: bool) -> dict[str, torch.Tensor]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected an existing weights file. Received: path={path!r}")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".safetensors":
        return safetensors.torch.load_file(path, device="cpu")
    if suffix in WEIGHT_SUFFIXES:
        return _state_dict_in(safe_torch_load(path, safe_mode=safe_mode), path)
    if _is_model_file(path):
        return safetensors.torch.load(_read_archive(path)["model.safetensors"])
    raise ValueError(
        f"Expected a .safetensors or .pt weights file, or a model file from model.save(). "
        f"Received: path={path!r}"
    )


def _state_dict_in(obj: Any, path: str) -> dict[str, torch.Tensor]:
    """The state dict in a torch checkpoint: the object itself, or under a usual key."""
    if isinstance(obj, Mapping):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return dict(obj)
        for key in ("state_dict", "model_state_dict", "model"):
            inner = obj.get(key)
            if isinstance(inner, Mapping) and all(
                isinstance(v, torch.Tensor) for v in inner.values()
            ):
                return dict(inner)
    raise ValueError(
        "Expected a state dict {name: tensor} (or one under 'state_dict', 'model_state_dict' or "
        f"'model'). Received: a {type(obj).__name__} in {path!r}"
    )


def _align_prefix(own: Mapping[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """Add or strip a ``net.``/``module.``/``_orig_mod.`` prefix when that makes keys match."""
    if not state or set(state) & set(own):
        return state
    for prefix in ("net.", "module.", "_orig_mod."):
        added = {prefix + k: v for k, v in state.items()}
        if set(added) & set(own):
            return added
        if all(k.startswith(prefix) for k in state):
            stripped = {k[len(prefix) :]: v for k, v in state.items()}
            if set(stripped) & set(own):
                return stripped
    return state


def _apply_state(
    model: nn.Module, state: dict[str, torch.Tensor], strict: bool, skip_mismatch: bool, source: str
) -> LoadResult:
    own = model.state_dict()
    state = _align_prefix(own, state)
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [
        (k, tuple(own[k].shape), tuple(state[k].shape))
        for k in own
        if k in state and not is_lazy(own[k]) and own[k].shape != state[k].shape
    ]
    if mismatched and not skip_mismatch:
        raise ValueError(
            f"Expected weights of the model's shapes. Received: {source} with "
            f"{_shape_report(mismatched)}. Pass skip_mismatch=True to load the others."
        )
    if strict and (missing or unexpected):
        raise ValueError(
            f"Expected the same weight names in the model and the file. Received: {source} "
            f"{_names_report(missing, unexpected)}. Pass strict=False to load the common ones."
        )
    if mismatched or missing or unexpected:
        warnings.warn(
            f"Loading {source}: skipped {_shape_report(mismatched)}; "
            f"{_names_report(missing, unexpected)}.",
            stacklevel=3,
        )
    skip = {k for k, _, _ in mismatched}
    model.load_state_dict(
        {k: v for k, v in state.items() if k in own and k not in skip}, strict=False
    )
    return LoadResult(missing, unexpected, sorted(skip))


def _shape_report(mismatched: list[tuple[str, tuple, tuple]]) -> str:
    if not mismatched:
        return "no shape mismatches"
    parts = [f"{k}: model {a}, file {b}" for k, a, b in mismatched[:20]]
    more = f" (and {len(mismatched) - 20} more)" if len(mismatched) > 20 else ""
    return "shape mismatches: " + "; ".join(parts) + more


def _names_report(missing: list[str], unexpected: list[str]) -> str:
    def short(names: list[str]) -> str:
        return str(names[:20]) + (f" (and {len(names) - 20} more)" if len(names) > 20 else "")

    return f"missing from the file: {short(missing)}, not in the model: {short(unexpected)}"


def load_weights(
    model: nn.Module,
    path: str | os.PathLike,
    *,
    strict: bool = True,
    skip_mismatch: bool = False,
    safe_mode: bool = True,
) -> LoadResult:
    """Load a ``.safetensors``/``.pt`` state dict (or a ``model.save`` file's weights).

    Args:
        model: the module to load into (lazy layers take the file's shapes).
        path: the weights file.
        strict: raise when the names differ (else load the common names, with a warning).
        skip_mismatch: skip weights whose shapes differ (with a warning) instead of raising.
        safe_mode: load ``.pt`` files with ``weights_only=True``; False is the opt-in for
            trusted pickles.

    Returns:
        A ``LoadResult`` with the missing, unexpected and skipped names.

    Raises:
        ValueError: naming each mismatched weight with both shapes, or the differing names,
            or when a ``.pt`` file needs full unpickling in safe mode.

    Example:
        >>> load_weights(model, "weights.safetensors", skip_mismatch=True)
    """
    path = os.fspath(path)
    state = _read_state(path, safe_mode)
    return _apply_state(model, state, strict, skip_mismatch, repr(path))


# --------------------------------------------------------------------------- model files


def _is_model_file(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return "metadata.json" in zf.namelist()


def _model_path(path: str | os.PathLike) -> str:
    path = os.fspath(path)
    if os.path.splitext(path)[1].lower() in WEIGHT_SUFFIXES:
        raise ValueError(
            "Expected a model file path such as 'model.kerasish' (weights files ending in "
            f"{list(WEIGHT_SUFFIXES)} are written by save_weights). Received: path={path!r}"
        )
    return path


def _metadata(model: nn.Module, reason: str | None) -> dict[str, Any]:
    import kerasish

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kerasish_version": kerasish.__version__,
        "torch_version": torch.__version__,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "class_name": type(model).__qualname__,
        "module": type(model).__module__,
        "architecture_missing_because": reason,
    }


def _torch_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(_to_cpu(obj), buf)
    return buf.getvalue()


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def _param_names(model: nn.Module) -> dict[int, str]:
    return {id(p): name for name, p in model.named_parameters()}


def _optimizer_members(model: nn.Module) -> dict[str, bytes]:
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return {}
    names = _param_names(model)
    groups = [[names.get(id(p)) for p in g["params"]] for g in opt.param_groups]
    if any(None in g for g in groups):
        warnings.warn(
            "The optimizer holds tensors that are not this model's parameters; its state is "
            "not saved.",
            stacklevel=3,
        )
        return {}
    members = {
        "optimizer.pt": _torch_bytes(opt.state_dict()),
        "optimizer.json": json.dumps({"param_groups": groups}).encode(),
    }
    scaler = getattr(model, "_scaler", None)
    if scaler is not None:
        members["scaler.pt"] = _torch_bytes(scaler.state_dict())
    return members


def save_model(
    model: nn.Module,
    path: str | os.PathLike,
    *,
    overwrite: bool = True,
    include_optimizer: bool = True,
) -> None:
    """Write ``model`` to one zip file: architecture, weights, compile config, optimizer state.

    Args:
        model: a built kerasish model.
        path: the file, e.g. ``"model.kerasish"`` (not a weights suffix).
        overwrite: when False, refuse to replace an existing file.
        include_optimizer: also save the optimizer state (and the fp16 grad scaler).

    Raises:
        ValueError: for a weights suffix or an unbuilt model.

    Example:
        >>> save_model(model, "model.kerasish")
    """
    path = _model_path(path)
    state = _state_tensors(model)
    if include_optimizer and is_sharded(model):
        warnings.warn("The optimizer state of an FSDP-sharded model is not saved.", stacklevel=3)
        include_optimizer = False
    if not is_chief():  # under torchrun every rank may call save; rank 0 writes
        return
    arch, reason = _architecture(model)
    config = {
        "architecture": arch,
        "build_input_shape": _input_shapes(getattr(model, "_summary_input", None)),
        "frozen": [n for n, p in model.named_parameters() if not p.requires_grad],
    }
    members = {
        "metadata.json": json.dumps(_metadata(model, reason), indent=2).encode(),
        "config.json": json.dumps(config, indent=2).encode(),
        "compile.json": json.dumps(_compile_config(model), indent=2).encode(),
        "model.safetensors": _safetensors_bytes(state),
    }
    if include_optimizer:
        members.update(_optimizer_members(model))
    with atomic_write(path, overwrite=overwrite) as f, zipfile.ZipFile(f, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def is_sharded(model: nn.Module) -> bool:
    """True when ``model`` is sharded by FSDP (saving must then run on every rank)."""
    from kerasish import distribute

    return distribute._is_fsdp(model)


def _read_archive(path: str) -> dict[str, bytes]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected an existing model file. Received: path={path!r}")
    if not _is_model_file(path):
        raise ValueError(
            "Expected a model file written by model.save() (a zip with metadata.json); for "
            f"weights files use model.load_weights(). Received: path={path!r}"
        )
    with zipfile.ZipFile(path) as zf:
        archive = {name: zf.read(name) for name in zf.namelist()}
    meta = json.loads(archive["metadata.json"])
    if meta.get("format") != FORMAT or meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"Expected a {FORMAT} file of version <= {FORMAT_VERSION}. Received: "
            f"format={meta.get('format')!r}, format_version={meta.get('format_version')!r} "
            f"in {path!r} (saved by kerasish {meta.get('kerasish_version')})"
        )
    return archive


def _model_to_load(
    archive: dict[str, bytes], model: Any, resolver: _Resolver, path: str
) -> nn.Module:
    from kerasish.models.model import Model

    if model is not None:
        if callable(model) and not isinstance(model, nn.Module):
            model = model()
        if not isinstance(model, nn.Module):
            raise TypeError(
                "Expected model to be an nn.Module (or a function returning one). Received: "
                f"model of type {type(model).__name__}"
            )
        return model if isinstance(model, Model) else Model.wrap(model)
    config = json.loads(archive["config.json"])
    if config["architecture"] is None:
        meta = json.loads(archive["metadata.json"])
        name = meta["class_name"]
        raise ValueError(
            f"Expected a file whose architecture kerasish can rebuild. Received: {path!r}, saved "
            f"from {name}, whose architecture is not described "
            f"({meta['architecture_missing_because']}). Pass the model to load into: "
            f"load_model(path, model={name}(...)), or a function that builds it: "
            f"load_model(path, model=lambda: {name}(...))."
        )
    with torch.random.fork_rng(devices=[]):
        model = resolver.module(config["architecture"])
        _build(model, _decode_shapes(config["build_input_shape"]))
    return model


def _build(model: nn.Module, shape: Any) -> None:
    """Build lazy layers from the saved input shape; loading the state dict builds them too."""
    if shape is None or not hasattr(model, "build") or getattr(model, "built", True):
        return
    with contextlib.suppress(RuntimeError, ValueError, TypeError, IndexError):
        model.build(shape)


def load_model(
    path: str | os.PathLike,
    *,
    model: Any = None,
    custom_objects: Mapping[str, Any] | None = None,
    safe_mode: bool = True,
    map_location: str | torch.device | None = None,
    compile: bool = True,
) -> Any:
    """Load a file written by ``model.save``: rebuild, load weights, recompile, restore the
    optimizer state.

    Args:
        path: the model file.
        model: for subclassed or wrapped models whose architecture the file cannot describe:
            the model to load into, or a function returning it.
        custom_objects: ``{name: class or function}`` for user classes (layers, losses,
            metrics, models with ``get_config``) and functions (``Lambda`` layers) the file names.
        safe_mode: never unpickle objects nor import modules on the file's say; False is the
            opt-in for trusted files.
        map_location: the device to put the model on (default: the compile default "auto"
            when compiling, else CPU). Files hold CPU tensors, so any device works.
        compile: recompile with the saved optimizer, loss and metrics, and restore the
            optimizer state.

    Returns:
        The kerasish model.

    Raises:
        ValueError: when the architecture cannot be rebuilt and ``model`` is missing (the
            message says how to pass it), when a named class or function is not in
            ``custom_objects`` in safe mode, or when weights do not match.

    Example:
        >>> model = load_model("model.kerasish")
        >>> net = load_model("net.kerasish", model=Net(), map_location="cpu")
    """
    path = os.fspath(path)
    archive = _read_archive(path)
    resolver = _Resolver(custom_objects, safe_mode)
    model = _model_to_load(archive, model, resolver, path)
    state = safetensors.torch.load(archive["model.safetensors"])
    _apply_state(model, state, strict=True, skip_mismatch=False, source=repr(path))
    _freeze(model, json.loads(archive["config.json"]).get("frozen", []))
    cfg = json.loads(archive["compile.json"])
    device = None if map_location is None else torch.device(map_location)
    if compile and cfg is not None:
        _restore_compile(model, cfg, archive, device, resolver, safe_mode)
    elif device is not None:
        model.to(device)
    return model


def _freeze(model: nn.Module, names: list[str]) -> None:
    params = dict(model.named_parameters())
    for name in names:
        if name in params:
            params[name].requires_grad_(False)


def _restore_compile(
    model: Any,
    cfg: dict[str, Any],
    archive: dict[str, bytes],
    device: torch.device | None,
    resolver: _Resolver,
    safe_mode: bool,
) -> None:
    if not _compile_config_usable(cfg):
        if device is not None:
            model.to(device)
        return
    decoder = _CompileDecoder(resolver)
    groups = _saved_groups(model, archive)
    optimizer = decoder.optimizer(cfg["optimizer"])
    if isinstance(optimizer, tuple):  # a torch optimizer instance: built over the parameters
        _, cls, defaults = optimizer
        optimizer = cls(_param_groups(model, groups), **defaults)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="compile\\(\\) got no loss")
        model.compile(
            optimizer=optimizer,
            loss=decoder.loss(cfg["loss"]),
            metrics=decoder.metrics(cfg["metrics"]),
            loss_weights=resolver.decode(cfg["loss_weights"]),
            device=device if device is not None else "auto",
            **cfg["options"],
        )
    if "optimizer.pt" in archive:
        _restore_optimizer(model, archive, groups, safe_mode)


def _compile_config_usable(cfg: dict[str, Any]) -> bool:
    """False (with a warning) when the optimizer or loss could not be saved; metrics that
    could not be saved are left out with a warning."""
    problems = "; ".join(cfg["problems"])
    if cfg["optimizer"] is None or any(not p.startswith("metric") for p in cfg["problems"]):
        warnings.warn(
            f"The saved compile config is incomplete ({problems}), so the model is returned "
            "uncompiled. Call compile() yourself.",
            stacklevel=4,
        )
        return False
    if problems:
        warnings.warn(f"Metrics not restored: {problems}.", stacklevel=4)
    return True


def _saved_groups(model: nn.Module, archive: dict[str, bytes]) -> list[list[str]] | None:
    if "optimizer.json" not in archive:
        return None
    groups = json.loads(archive["optimizer.json"])["param_groups"]
    params = dict(model.named_parameters())
    missing = [n for g in groups for n in g if n not in params]
    if missing:
        raise ValueError(
            "Expected the saved optimizer's parameters in the model. Received: parameters "
            f"{missing[:5]} missing from the model"
        )
    return groups


def _param_groups(model: nn.Module, groups: list[list[str]] | None) -> Any:
    if groups is None:
        return list(model.parameters())
    params = dict(model.named_parameters())
    return [{"params": [params[n] for n in names]} for names in groups]


def _restore_optimizer(
    model: Any, archive: dict[str, bytes], groups: list[list[str]] | None, safe_mode: bool
) -> None:
    """Build the torch optimizer now (it is lazy otherwise) and load its saved state.

    Uses the trainer's private ``_make_optimizer`` so that fit() then finds it ready.
    """
    if model.optimizer is None:
        model.optimizer = model._optimizer_spec.build(_param_groups(model, groups))
    model._make_optimizer()
    state = safe_torch_load(
        io.BytesIO(archive["optimizer.pt"]), safe_mode=safe_mode, what="optimizer.pt"
    )
    model.optimizer.load_state_dict(state)
    if "scaler.pt" in archive and model._scaler is not None:
        scaler = safe_torch_load(
            io.BytesIO(archive["scaler.pt"]), safe_mode=safe_mode, what="scaler.pt"
        )
        model._scaler.load_state_dict(scaler)


# --------------------------------------------------------------------------- export


def _require(module: str, what: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{what} needs the {module} package: {_EXPORT_EXTRA}") from e


def _example_args(model: Any, example: Any, input_shape: Any) -> tuple[torch.Tensor, ...]:
    if example is None and input_shape is not None:
        from kerasish.models.model import _zeros

        with torch.random.fork_rng(devices=[]):
            example = _random_like(_zeros(input_shape, torch.device("cpu")))
    if example is None:
        example = getattr(model, "_summary_input", None)
    if example is None:
        raise ValueError(
            "Expected an example batch or an input_shape to export with (or a model that was "
            "built or fit). Received: example=None, input_shape=None"
        )
    args = tuple(example) if isinstance(example, list | tuple) else (example,)
    if not all(isinstance(a, torch.Tensor) or hasattr(a, "__array__") for a in args):
        raise TypeError(
            "Expected example to be a tensor, a NumPy array, or a tuple of them (positional "
            f"inputs). Received: example of type {type(example).__name__}"
        )
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    return tuple(torch.as_tensor(a).to(device) for a in args)


def _random_like(example: Any) -> Any:
    if isinstance(example, list):
        return [_random_like(e) for e in example]
    return torch.rand_like(example)


def _flat_outputs(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, Mapping):
        return [t for v in out.values() for t in _flat_outputs(v)]
    if isinstance(out, list | tuple):
        return [t for v in out for t in _flat_outputs(v)]
    return []


def _check_close(got: list[Any], expected: list[torch.Tensor], fmt: str) -> None:
    if len(got) != len(expected):
        raise RuntimeError(
            f"Expected the {fmt} export to give {len(expected)} outputs. Received: {len(got)}"
        )
    for g, e in zip(got, expected):
        g = torch.as_tensor(g).detach().cpu().float()
        e = e.detach().cpu().float()
        if g.shape != e.shape or not torch.allclose(g, e, rtol=_RTOL, atol=_ATOL):
            diff = (g - e).abs().max().item() if g.shape == e.shape else "shapes differ"
            raise RuntimeError(
                f"Expected the {fmt} export to match the model within rtol={_RTOL}, "
                f"atol={_ATOL}. Received: max abs difference {diff} (shapes {tuple(g.shape)} "
                f"vs {tuple(e.shape)})"
            )


def _dynamic_shapes(args: tuple[torch.Tensor, ...], dynamic_batch: bool) -> Any:
    if not dynamic_batch:
        return None
    return tuple({0: torch.export.Dim.AUTO} for _ in args)


def _export_onnx(model, args, path, dynamic_batch, verify, opset_version) -> Any:
    _require("onnx", "Exporting to ONNX")
    _require("onnxscript", "Exporting to ONNX")
    ort = _require("onnxruntime", "Checking the ONNX export") if verify else None
    with atomic_path(path) as tmp, contextlib.redirect_stdout(io.StringIO()):
        torch.onnx.export(
            model,
            args,
            tmp,
            dynamo=True,
            external_data=False,
            dynamic_shapes=_dynamic_shapes(args, dynamic_batch),
            opset_version=opset_version,
            verbose=False,
        )
    if ort is not None:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feeds = {i.name: a.detach().cpu().numpy() for i, a in zip(session.get_inputs(), args)}
        return session.run(None, feeds)
    return None


def _export_torchscript(model, args, path, dynamic_batch, verify, opset_version) -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.jit.*deprecated", category=FutureWarning)
        traced = torch.jit.trace(model, args, check_trace=False, strict=False)
        with atomic_path(path) as tmp:
            torch.jit.save(traced, tmp)
        if verify:
            return _flat_outputs(torch.jit.load(path, map_location=args[0].device)(*args))
    return None


def _export_torch_export(model, args, path, dynamic_batch, verify, opset_version) -> Any:
    program = torch.export.export(model, args, dynamic_shapes=_dynamic_shapes(args, dynamic_batch))
    with atomic_path(path) as tmp:
        torch.export.save(program, tmp)
    if verify:
        return _flat_outputs(torch.export.load(path).module()(*args))
    return None


_EXPORTERS = {
    "onnx": _export_onnx,
    "torchscript": _export_torchscript,
    "torch_export": _export_torch_export,
}


def export_model(
    model: Any,
    path: str | os.PathLike,
    format: str = "onnx",
    *,
    example: Any = None,
    input_shape: Any = None,
    dynamic_batch: bool = True,
    verify: bool = True,
    opset_version: int | None = None,
) -> None:
    """Export ``model`` for inference to ONNX, TorchScript or ``torch.export``.

    The model is exported in eval mode from an example batch. With ``verify`` the file is
    reloaded (onnxruntime for ONNX) and its outputs compared with the model's.

    Args:
        model: the model.
        path: the output file (``.onnx``, ``.pt`` for TorchScript, ``.pt2`` for torch.export).
        format: "onnx" (needs ``pip install 'kerasish[export]'``), "torchscript" (deprecated by
            PyTorch, traced) or "torch_export".
        example: an input batch: a tensor, an array, or a tuple of them for several inputs.
        input_shape: instead of ``example``, a shape such as ``(None, 3, 32, 32)`` (random
            values; ``None`` becomes 2). Without either, the batch the model was built with.
        dynamic_batch: let the batch dimension vary (where the model allows it).
        verify: reload the file and compare outputs (rtol 1e-3, atol 1e-4).
        opset_version: the ONNX opset (default: torch's).

    Raises:
        ValueError: for an unknown format or no example.
        ImportError: naming the ``export`` extra when onnx/onnxruntime are missing.
        RuntimeError: when the reloaded export does not match the model.

    Example:
        >>> export_model(model, "model.onnx", input_shape=(None, 1, 28, 28))
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(
            f"Expected format to be one of {list(EXPORT_FORMATS)}. Received: format={format!r}"
        )
    path = os.fspath(path)
    args = _example_args(model, example, input_shape)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            expected = _flat_outputs(model(*args))
        got = _EXPORTERS[format](model, args, path, dynamic_batch, verify, opset_version)
        if verify:
            _check_close(list(got), expected, format)
    finally:
        model.train(was_training)


# --------------------------------------------------------------------------- mixin


class SavingMixin:
    """``save``, ``save_weights``, ``load_weights`` and ``export`` for ``kerasish.Model``."""

    def save(
        self, filepath: str | os.PathLike, *, overwrite: bool = True, include_optimizer: bool = True
    ) -> None:
        """Save the whole model to one file (see ``kerasish.models.load_model``).

        Args:
            filepath: e.g. ``"model.kerasish"``.
            overwrite: when False, refuse to replace an existing file.
            include_optimizer: also save the optimizer state.

        Example:
            >>> model.save("model.kerasish")
            >>> model = K.models.load_model("model.kerasish")
        """
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath: str | os.PathLike, *, overwrite: bool = True) -> None:
        """Save the state dict to ``*.safetensors`` (or a torch ``*.pt``/``*.pth``).

        Example:
            >>> model.save_weights("weights.safetensors")
        """
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(
        self,
        filepath: str | os.PathLike,
        *,
        strict: bool = True,
        skip_mismatch: bool = False,
        safe_mode: bool = True,
    ) -> LoadResult:
        """Load weights saved by ``save_weights``, ``save`` or any torch state dict.

        Args:
            filepath: a ``.safetensors``, ``.pt``/``.pth`` or model file.
            strict: raise when names differ.
            skip_mismatch: skip weights of another shape instead of raising.
            safe_mode: False to unpickle a trusted ``.pt`` file that holds more than tensors.

        Returns:
            A ``LoadResult`` (missing, unexpected and skipped names).

        Example:
            >>> model.load_weights("weights.safetensors")
        """
        return load_weights(
            self, filepath, strict=strict, skip_mismatch=skip_mismatch, safe_mode=safe_mode
        )

    def export(
        self,
        filepath: str | os.PathLike,
        format: str = "onnx",
        *,
        example: Any = None,
        input_shape: Any = None,
        dynamic_batch: bool = True,
        verify: bool = True,
        opset_version: int | None = None,
    ) -> None:
        """Export for inference: "onnx", "torchscript" or "torch_export" (see
        ``kerasish.saving.export_model``).

        Example:
            >>> model.export("model.onnx", input_shape=(None, 1, 28, 28))
        """
        export_model(
            self,
            filepath,
            format,
            example=example,
            input_shape=input_shape,
            dynamic_batch=dynamic_batch,
            verify=verify,
            opset_version=opset_version,
        )
