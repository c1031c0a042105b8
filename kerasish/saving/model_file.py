"""Model files: ``save_model`` writes one zip with everything; ``load_model`` rebuilds from it.

``model.save(path)`` writes (suggested suffix ``.kerasish``):

- ``metadata.json``: format version, kerasish and torch versions, the model's class and the
  sha256 of every other member (checked at load: see ``integrity``);
- ``config.json``: the architecture where kerasish can describe it (see ``configs``), the
  input shape the model was built with and the names of frozen parameters;
- ``compile.json``: the optimizer recipe, the loss, the metrics and compile options (see
  ``compile_config``);
- ``model.safetensors``: the state dict;
- ``optimizer.pt`` (+ ``optimizer.json``, ``scaler.pt``): the optimizer's state, when it exists.

``load_model`` rebuilds the model (or loads into ``model=`` for subclassed and wrapped
models), loads the weights, recompiles and restores the optimizer state, through the model's
public seams only (``compile``, ``compile_config``, ``build_optimizer``, ``train_state``).
Nothing in a file runs code unless ``safe_mode=False`` (see ``safe_load``), and a member that
changed since it was written is an error unless ``check_integrity=False``.

Example:
    >>> model.save("model.kerasish")
    >>> restored = load_model("model.kerasish")
    >>> torch.equal(restored(torch.from_numpy(x_test)), model(torch.from_numpy(x_test)))
    True
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import sys
import warnings
from collections.abc import Mapping
from typing import Any

import safetensors.torch
import torch
from torch import nn

from kerasish import tree
from kerasish.saving import registry
from kerasish.saving.archive import FORMAT, FORMAT_VERSION, read_archive, write_archive
from kerasish.saving.atomic import is_chief
from kerasish.saving.compile_config import CompileDecoder, describe_compile, usable
from kerasish.saving.configs import (
    architecture,
    decode,
    decode_shapes,
    described_class,
    input_shapes,
    module_from_config,
)
from kerasish.saving.safe_load import Resolver, safe_torch_load
from kerasish.saving.weights import (
    WEIGHT_SUFFIXES,
    apply_state,
    optimizer_state,
    safetensors_bytes,
    state_tensors,
)

__all__ = ["load_model", "save_model"]

_WRAPPED = "kerasish.models>Wrapped"  # Model.wrap's class, registered by kerasish.models


def save_model(
    model: nn.Module,
    filepath: str | os.PathLike,
    *,
    overwrite: bool = True,
    include_optimizer: bool = True,
) -> None:
    """Write ``model`` to one zip file: architecture, weights, compile config, optimizer state.

    Also ``model.save(filepath)``. Under torchrun every rank may call it (an FSDP model must:
    the weights are gathered); rank 0 writes.

    Args:
        model: a built kerasish model.
        filepath: the file, e.g. ``"model.kerasish"`` (not a weights suffix).
        overwrite: when False, refuse to replace an existing file.
        include_optimizer: also save the optimizer state (and the fp16 grad scaler).

    Raises:
        ValueError: for a weights suffix or an unbuilt model.

    Example:
        >>> model.save("model.kerasish")
        >>> model = K.models.load_model("model.kerasish")
    """
    path = _model_path(filepath)
    state = state_tensors(model)
    optimizer = optimizer_state(model) if include_optimizer else None  # FSDP: gathered, collective
    if not is_chief():
        return
    arch, reason = architecture(model)
    config = {
        "architecture": arch,
        "build_input_shape": input_shapes(getattr(model, "example_input", None)),
        "frozen": [n for n, p in model.named_parameters() if not p.requires_grad],
    }
    members = {
        "config.json": json.dumps(config, indent=2).encode(),
        "compile.json": json.dumps(describe_compile(model), indent=2).encode(),
        "model.safetensors": safetensors_bytes(state),
    }
    if optimizer is not None:
        members.update(_optimizer_members(model, optimizer))
    write_archive(path, _metadata(model, reason), members, overwrite=overwrite)


def load_model(
    path: str | os.PathLike,
    *,
    model: Any = None,
    custom_objects: Mapping[str, Any] | None = None,
    safe_mode: bool = True,
    map_location: str | torch.device | None = None,
    compile: bool = True,
    check_integrity: bool = True,
) -> Any:
    """Load a file written by ``model.save``: rebuild, load weights, recompile, restore the
    optimizer state.

    Args:
        path: the model file.
        model: for subclassed or wrapped models whose architecture the file cannot describe:
            the model to load into, or a function returning it.
        custom_objects: ``{name: class or function}`` for user classes (layers, losses,
            metrics, models with ``get_config``) and functions (``Lambda`` layers) the file
            names; classes registered with ``register_keras_serializable`` need no entry.
        safe_mode: never unpickle objects nor import modules on the file's say; False is the
            opt-in for trusted files.
        map_location: the device to put the model on (default: the compile default "auto"
            when compiling, else CPU). Files hold CPU tensors, so any device works.
        compile: recompile with the saved optimizer, loss and metrics, and restore the
            optimizer state.
        check_integrity: check every member against the sha256 digests the file holds (files
            from kerasish 0.1 have none); False loads a file whose members changed since it was
            written (e.g. edited by hand).

    Returns:
        The kerasish model.

    Raises:
        ValueError: when the architecture cannot be rebuilt and ``model`` is missing (the
            message says how to pass it), when a named class or function is not in
            ``custom_objects`` in safe mode, when weights do not match, or when a member is
            corrupt or changed since it was written (the message names the member).

    Example:
        >>> history = model.fit(x, y, epochs=1, verbose=0)
        >>> model.save("model.kerasish")
        >>> restored = load_model("model.kerasish")  # recompiled, optimizer state restored
        >>> state = restored.optimizer.state_dict()["state"]
        >>> state.keys() == model.optimizer.state_dict()["state"].keys()
        True
        >>> class Net(K.Model):  # a subclassed model: the file cannot describe its code
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.dense = nn.Linear(3, 2)
        ...     def forward(self, x):
        ...         return self.dense(x)
        >>> Net().save("net.kerasish")
        >>> net = load_model("net.kerasish", model=Net(), map_location="cpu")
        >>> type(net).__name__
        'Net'
    """
    path = os.fspath(path)
    archive = read_archive(path, check_integrity=check_integrity)
    resolver = Resolver(custom_objects, safe_mode)
    model = _model_to_load(archive, model, resolver, path)
    state = safetensors.torch.load(archive["model.safetensors"])
    apply_state(model, state, strict=True, skip_mismatch=False, source=repr(path))
    _freeze(model, json.loads(archive["config.json"]).get("frozen", []))
    cfg = json.loads(archive["compile.json"])
    device = None if map_location is None else torch.device(map_location)
    if compile and cfg is not None and usable(cfg, _warn_at_load):
        _recompile(model, cfg, archive, device, resolver)
    elif device is not None:
        model.to(device)
    return model


def _model_path(path: str | os.PathLike) -> str:
    path = os.fspath(path)
    if os.path.splitext(path)[1].lower() in WEIGHT_SUFFIXES:
        raise ValueError(
            "Expected a model file path such as 'model.kerasish' (weights files ending in "
            f"{list(WEIGHT_SUFFIXES)} are written by save_weights). Received: path={path!r}"
        )
    return path


def _metadata(model: nn.Module, reason: str | None) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        # the parent package, always imported before its kerasish.saving
        "kerasish_version": sys.modules["kerasish"].__version__,
        "torch_version": torch.__version__,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "class_name": described_class(type(model)).__qualname__,
        "module": described_class(type(model)).__module__,
        "architecture_missing_because": reason,
    }


# --------------------------------------------------------------------------- optimizer state


def _torch_bytes(obj: Any) -> bytes:
    buf = io.BytesIO()
    on_cpu = tree.map_structure(
        lambda v: v.detach().cpu() if isinstance(v, torch.Tensor) else v, obj
    )
    torch.save(on_cpu, buf)
    return buf.getvalue()


def _optimizer_members(model: nn.Module, state: dict) -> dict[str, bytes]:
    opt = model.optimizer
    names = {id(p): name for name, p in model.named_parameters()}
    groups = [[names.get(id(p)) for p in g["params"]] for g in opt.param_groups]
    if any(None in g for g in groups):
        warnings.warn(
            "The optimizer holds tensors that are not this model's parameters; its state is "
            "not saved.",
            stacklevel=3,
        )
        return {}
    members = {
        "optimizer.pt": _torch_bytes(state),
        "optimizer.json": json.dumps({"param_groups": groups}).encode(),
    }
    scaler = getattr(getattr(model, "train_state", None), "scaler", None)
    if scaler is not None:
        members["scaler.pt"] = _torch_bytes(scaler.state_dict())
    return members


# --------------------------------------------------------------------------- loading


def _model_to_load(
    archive: dict[str, bytes], model: Any, resolver: Resolver, path: str
) -> nn.Module:
    if model is not None:
        return _given_model(model)
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
        model = module_from_config(config["architecture"], resolver)
        _build(model, decode_shapes(config["build_input_shape"]))
    return model


def _given_model(model: Any) -> nn.Module:
    """The ``model=`` argument as a kerasish model (a plain module is wrapped, as by
    ``Model.wrap``: kerasish models are the modules with ``build_optimizer``)."""
    if callable(model) and not isinstance(model, nn.Module):
        model = model()
    if not isinstance(model, nn.Module):
        raise TypeError(
            "Expected model to be an nn.Module (or a function returning one). Received: "
            f"model of type {type(model).__name__}"
        )
    if callable(getattr(model, "build_optimizer", None)):
        return model
    return registry.get_registered_object(_WRAPPED).from_config({"net": model})


def _build(model: nn.Module, shape: Any) -> None:
    """Build lazy layers from the saved input shape; loading the state dict builds them too."""
    if shape is None or not hasattr(model, "build") or getattr(model, "built", True):
        return
    with contextlib.suppress(RuntimeError, ValueError, TypeError, IndexError):
        model.build(shape)


def _freeze(model: nn.Module, names: list[str]) -> None:
    params = dict(model.named_parameters())
    for name in names:
        if name in params:
            params[name].requires_grad_(False)


def _warn_at_load(message: str) -> None:
    warnings.warn(message, stacklevel=4)  # at the caller of load_model


def _recompile(
    model: Any,
    cfg: dict[str, Any],
    archive: dict[str, bytes],
    device: torch.device | None,
    resolver: Resolver,
) -> None:
    """``compile`` the model as it was saved, then load the optimizer (and scaler) state."""
    decoder = CompileDecoder(resolver)
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
            weighted_metrics=decoder.metrics(cfg.get("weighted_metrics", [])),
            loss_weights=decode(cfg["loss_weights"], resolver),
            device=device if device is not None else "auto",
            **cfg["options"],
        )
    if "optimizer.pt" in archive:
        _restore_optimizer(model, archive, groups, resolver.safe_mode)


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
    """Build the torch optimizer now (``fit`` then finds it ready) and load its saved state."""
    model.build_optimizer(_param_groups(model, groups))
    state = safe_torch_load(
        io.BytesIO(archive["optimizer.pt"]), safe_mode=safe_mode, what="optimizer.pt"
    )
    model.optimizer.load_state_dict(state)
    scaler = model.train_state.scaler
    if "scaler.pt" in archive and scaler is not None:
        scaler.load_state_dict(
            safe_torch_load(io.BytesIO(archive["scaler.pt"]), safe_mode=safe_mode, what="scaler.pt")
        )
