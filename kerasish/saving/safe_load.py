"""Safe loading: ``torch.load`` without unpickling, and the rules for names a file may use.

A model file names classes and functions (``"module:qualname"``) that loading must turn back
into objects. ``Resolver.ref`` takes them from ``custom_objects`` first, then from the
registry (``register_keras_serializable``), then, in safe mode, only from torch, torchvision,
torchmetrics and kerasish, and only objects *defined* there and of the kind the file may name
at that place (``_KIND_CHECKS``); ``safe_mode=False`` is the opt-in for anything importable.

Example:
    >>> torch.save(model.state_dict(), "weights.pt")
    >>> state = safe_torch_load("weights.pt")
    >>> sorted(state) == sorted(model.state_dict())
    True
    >>> Resolver(None, safe_mode=True).ref("torch.nn:Linear", "module")
    <class 'torch.nn.modules.linear.Linear'>
"""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import re
import sys
from collections.abc import Callable, Mapping
from typing import IO, Any

import torch
from torch import nn

from kerasish import losses as losses_lib
from kerasish import metrics as metrics_lib
from kerasish import optimizers as optimizers_lib
from kerasish.saving import registry

__all__ = ["KINDS", "Resolver", "lookup", "safe_torch_load"]

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
        >>> torch.save({"w": torch.ones(2), "step": 3}, "weights.pt")
        >>> safe_torch_load("weights.pt")
        {'w': tensor([1., 1.]), 'step': 3}
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


def lookup(root: Any, qualname: str) -> Any:
    """``root.a.b`` for ``qualname="a.b"``, or None where an attribute is missing."""
    obj = root
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


# --------------------------------------------------------------------------- the kind rules


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
    # K.ops's functions live in its submodules (kerasish.ops.nn, kerasish.ops.elementwise...)
    known = module in _FUNCTION_MODULES or (module or "").startswith("kerasish.ops.")
    return known and (inspect.isfunction(obj) or inspect.isbuiltin(obj))


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
KINDS = tuple(_KIND_WORDS)  # the places a file may name an object at


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


class Resolver:
    """Turns the names in a file back into classes and functions.

    From ``custom_objects`` first, then from the registry, then from torch/kerasish under safe
    mode's rules, and from any module only when ``safe_mode=False``.

    Args:
        custom_objects: ``{name: class or function}`` the caller trusts, or None.
        safe_mode: False lets the file import any module.

    Raises:
        TypeError: when ``custom_objects`` is not a mapping.

    Example:
        >>> class Scale(nn.Module):
        ...     def forward(self, x):
        ...         return 2 * x
        >>> Resolver({"Scale": Scale}, safe_mode=True).ref("my.module:Scale", "module") is Scale
        True
    """

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
        (one of ``KINDS``): from ``custom_objects`` first, then the registry, then from
        torch/kerasish under safe mode's rules, or from anywhere when ``safe_mode=False``.

        Raises:
            ValueError: when safe mode refuses the name; the message names both opt-ins.
        """
        if not isinstance(ref, str):
            raise ValueError(f"Expected a 'module:name' reference. Received: ref={ref!r}")
        module, _, qualname = ref.partition(":")
        name = qualname.rsplit(".", 1)[-1]
        found = self.custom_object(ref)
        if found is not None:
            return found
        found = registry.registered_object_at(module, qualname)
        if found is not None:
            return found
        found, why = self._lookup(module, qualname, kind)
        if why is None:
            return found
        word = "function" if kind == "function" else "class"
        raise ValueError(
            f"Expected {name!r} in custom_objects: the file names the {word} {module}.{qualname} "
            f"as {_KIND_WORDS[kind]}, which safe mode refuses ({why}). Received: "
            f"custom_objects={sorted(self.custom)}. Pass custom_objects={{{name!r}: {name}}}, "
            "or safe_mode=False if you trust the file."
        )

    def custom_object(self, ref: str) -> Any:
        """The entry of ``custom_objects`` for ``"module:qualname"`` (keyed by that, by
        ``"module.qualname"``, by the qualname or by the last name), or None."""
        module, _, qualname = ref.partition(":")
        for key in (ref, f"{module}.{qualname}", qualname, qualname.rsplit(".", 1)[-1]):
            if key in self.custom:
                return self.custom[key]
        return None

    def registered(self, name: str) -> Any:
        """The object registered (or in ``custom_objects``) as ``"package>name"``, or None."""
        return registry.get_registered_object(name, self.custom)

    def _lookup(self, module: str, qualname: str, kind: str) -> tuple[Any, str | None]:
        if self.safe_mode:
            return _safe_lookup(module, qualname, kind)
        found = lookup(importlib.import_module(module), qualname)
        return found, None if found is not None else f"{module} has no attribute {qualname!r}"
