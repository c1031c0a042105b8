"""Weights files: ``save_weights``/``load_weights`` for ``.safetensors`` and torch state dicts.

``save_weights`` writes the (built) state dict atomically, as safetensors or ``torch.save``;
``load_weights`` reads ``.safetensors``, ``.pt``/``.pth``/``.bin`` (in safe mode with
``weights_only=True``) or a model file's weights, checks the sha256 digest that every file
kerasish writes carries (see ``integrity``; files of other tools have none), matches the names
(adding or stripping a ``net.``/``module.``/``_orig_mod.`` prefix when that makes them match),
reports missing, unexpected and mismatched names, and loads. ``model.save_weights`` and
``model.load_weights`` are these same functions.

Example:
    >>> save_weights(model, "weights.safetensors")
    >>> load_weights(model, "weights.safetensors", skip_mismatch=True)
    LoadResult(missing_keys=[], unexpected_keys=[], mismatched_keys=[])
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

import safetensors.torch
import torch
from torch import nn
from torch.nn.parameter import is_lazy

from kerasish.saving.archive import is_model_file, read_archive
from kerasish.saving.atomic import is_chief, write_bytes
from kerasish.saving.integrity import (
    check_safetensors,
    load_checked,
    save_checked,
    sign_safetensors,
)

__all__ = [
    "WEIGHT_SUFFIXES",
    "LoadResult",
    "apply_state",
    "is_sharded",
    "load_weights",
    "optimizer_state",
    "safetensors_bytes",
    "save_weights",
    "state_tensors",
]

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")


class LoadResult(NamedTuple):
    """What ``load_weights`` left out: keys missing from the file, keys the model lacks, and
    keys skipped for a shape mismatch (``skip_mismatch=True``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]
    mismatched_keys: list[str]


def save_weights(model: nn.Module, filepath: str | os.PathLike, *, overwrite: bool = True) -> None:
    """Write ``model``'s state dict to ``.safetensors`` or to a torch ``.pt``/``.pth`` file.

    Also ``model.save_weights(filepath)``. Under torchrun every rank may call it (an FSDP
    model must: the weights are gathered); rank 0 writes. The file carries a sha256 digest that
    ``load_weights`` checks (safetensors: ``__metadata__["kerasish_sha256"]``; ``.pt``: a zip
    record beside the state dict, which ``torch.load`` reads as before).

    Args:
        model: the (built) module.
        filepath: ``*.safetensors`` (recommended) or ``*.pt``/``*.pth``/``*.bin``.
        overwrite: when False, refuse to replace an existing file.

    Raises:
        ValueError: for another suffix, or an unbuilt model.

    Example:
        >>> model.save_weights("weights.safetensors")
    """
    path = os.fspath(filepath)
    suffix = _weights_suffix(path)
    state = state_tensors(model)
    if not is_chief():
        return
    if suffix == ".safetensors":
        write_bytes(path, safetensors_bytes(state), overwrite=overwrite)
        return
    save_checked(state, path, overwrite=overwrite)


def load_weights(
    model: nn.Module,
    filepath: str | os.PathLike,
    *,
    strict: bool = True,
    skip_mismatch: bool = False,
    safe_mode: bool = True,
    check_integrity: bool = True,
) -> LoadResult:
    """Load a ``.safetensors``/``.pt`` state dict (or a ``model.save`` file's weights).

    Also ``model.load_weights(filepath)``.

    Args:
        model: the module to load into (lazy layers take the file's shapes).
        filepath: a ``.safetensors``, ``.pt``/``.pth``/``.bin`` or model file.
        strict: raise when the names differ (else load the common names, with a warning).
        skip_mismatch: skip weights whose shapes differ (with a warning) instead of raising.
        safe_mode: load ``.pt`` files with ``weights_only=True``; False is the opt-in for
            trusted pickles that hold more than tensors.
        check_integrity: check the sha256 digest a file written by kerasish carries (files of
            other tools have none and load unchecked); False loads a file whose tensors changed
            since it was written.

    Returns:
        A ``LoadResult`` with the missing, unexpected and skipped names.

    Raises:
        ValueError: naming each mismatched weight with both shapes, or the differing names,
            when a ``.pt`` file needs full unpickling in safe mode, or when the file's data
            does not match its digest (corrupt or tampered).

    Example:
        >>> model.save_weights("weights.safetensors")
        >>> model.load_weights("weights.safetensors", skip_mismatch=True)
        LoadResult(missing_keys=[], unexpected_keys=[], mismatched_keys=[])
    """
    path = os.fspath(filepath)
    state = _read_state(path, safe_mode, check_integrity)
    return apply_state(model, state, strict, skip_mismatch, repr(path))


def state_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict on the CPU; raises when lazy layers are not built yet.

    Under FSDP this gathers the full tensors (a collective: every rank must call it) and
    non-zero ranks get an empty dict.

    Raises:
        ValueError: for unbuilt (lazy) or meta-device weights.
        TypeError: for extra state that is not a tensor.
    """
    from kerasish.distribute.fsdp import full_state_dict

    state = full_state_dict(model)
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


def optimizer_state(model: nn.Module) -> dict | None:
    """The model's optimizer state dict in torch's layout; None when it has no optimizer.

    Under FSDP the shards are gathered (a collective: every rank must call it) and non-zero
    ranks get an empty dict; the result loads into an unsharded optimizer as it is.
    """
    opt = getattr(model, "optimizer", None)
    if opt is None:
        return None
    from kerasish.distribute.fsdp import full_optimizer_state_dict

    return full_optimizer_state_dict(model, opt)


def is_sharded(model: nn.Module) -> bool:
    """True when ``model`` is sharded by FSDP (saving must then run on every rank)."""
    from kerasish.distribute.fsdp import is_fsdp

    return is_fsdp(model)


def safetensors_bytes(state: dict[str, torch.Tensor]) -> bytes:
    """safetensors bytes with their digest (see ``integrity.sign_safetensors``); tensors sharing
    memory (tied weights, views) are copied apart."""
    seen: set[int] = set()
    flat = {}
    for k, t in state.items():
        storage = t.untyped_storage()
        whole = storage.nbytes() == t.numel() * t.element_size()
        if storage.data_ptr() in seen or not whole or not t.is_contiguous():
            t = t.clone(memory_format=torch.contiguous_format)
        seen.add(t.untyped_storage().data_ptr())
        flat[k] = t
    return sign_safetensors(safetensors.torch.save(flat, metadata={"format": "pt"}))


def _weights_suffix(path: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in WEIGHT_SUFFIXES:
        raise ValueError(
            f"Expected a weights file ending in one of {list(WEIGHT_SUFFIXES)} (.safetensors is "
            f"safest). Received: path={path!r}"
        )
    return suffix


# --------------------------------------------------------------------------- reading


def _read_state(path: str, safe_mode: bool, check_integrity: bool) -> dict[str, torch.Tensor]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected an existing weights file. Received: path={path!r}")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".safetensors":
        if check_integrity:
            check_safetensors(path, what=repr(path))
        return _load_safetensors(path)
    if suffix in WEIGHT_SUFFIXES:
        obj = load_checked(
            path, safe_mode=safe_mode, check_integrity=check_integrity, what=repr(path)
        )
        return _state_dict_in(obj, path)
    if is_model_file(path):
        archive = read_archive(path, check_integrity=check_integrity)
        return _load_safetensors(archive["model.safetensors"], path)
    raise ValueError(
        f"Expected a .safetensors or .pt weights file, or a model file from model.save(). "
        f"Received: path={path!r}"
    )


def _load_safetensors(source: str | bytes, path: str | None = None) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file (or of its bytes, from the model file ``path``)."""
    try:
        if isinstance(source, bytes):
            return safetensors.torch.load(source)
        return safetensors.torch.load_file(source, device="cpu")
    except safetensors.SafetensorError as e:
        where = repr(source) if path is None else f"'model.safetensors' in {path!r}"
        raise ValueError(
            f"Expected a readable safetensors file. Received: {where}, which safetensors "
            f"cannot read ({e}): the file is corrupt or not safetensors."
        ) from e


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


# --------------------------------------------------------------------------- matching


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


def apply_state(
    model: nn.Module, state: dict[str, torch.Tensor], strict: bool, skip_mismatch: bool, source: str
) -> LoadResult:
    """Load ``state`` into ``model`` after matching names and shapes (see ``load_weights``);
    ``source`` names the file in errors and warnings."""
    own = model.state_dict()
    state = _align_prefix(own, state)
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    mismatched = [
        (k, tuple(own[k].shape), tuple(state[k].shape))
        for k in own
        if k in state and not is_lazy(own[k]) and own[k].shape != state[k].shape
    ]
    _check_match(source, missing, unexpected, mismatched, strict, skip_mismatch)
    skip = {k for k, _, _ in mismatched}
    model.load_state_dict(
        {k: v for k, v in state.items() if k in own and k not in skip}, strict=False
    )
    return LoadResult(missing, unexpected, sorted(skip))


def _check_match(
    source: str,
    missing: list[str],
    unexpected: list[str],
    mismatched: list[tuple[str, tuple, tuple]],
    strict: bool,
    skip_mismatch: bool,
) -> None:
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
            stacklevel=4,
        )


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
