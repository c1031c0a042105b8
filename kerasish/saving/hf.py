"""Hugging Face models: describe a ``transformers`` model in a model file, rebuild it safely, and
write the ``save_pretrained`` directory that ``from_pretrained`` loads.

A wrapped ``PreTrainedModel`` (``K.Model.wrap(BertForSequenceClassification(config))``) is
described by its class (module and name) and its config as JSON (``config.to_json_string``);
``model_from_config`` rebuilds it with ``ConfigClass.from_dict`` and the class's ``_from_config``
(as ``AutoModel.from_config`` does). In safe mode the class must be a ``PreTrainedModel``
subclass that the ``transformers`` package itself exports under that name (found with
``getattr(transformers, name)``, so no module path from the file is imported), or one given in
``custom_objects``; a config asking for remote code (``auto_map``, ``trust_remote_code``) or a
Hub kernel (``attn_implementation="org/repo"``) is refused. Remote code never runs.

``save_pretrained`` (also ``model.save_pretrained(dir)`` and ``model.export(dir,
format="hf")``) writes the wrapped model's own ``save_pretrained`` output (``config.json``,
``model.safetensors``) into a temporary directory next to ``dir`` and then moves it into place
(see ``atomic.atomic_dir``). ``transformers`` is imported only here and only when needed:
``pip install "kerasish[hf]"``.

Example:
    >>> from transformers import AutoModelForSequenceClassification, BertConfig
    >>> from transformers import BertForSequenceClassification
    >>> config = BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1,
    ...                     num_attention_heads=2, intermediate_size=32)
    >>> model = K.Model.wrap(BertForSequenceClassification(config))
    >>> model.save("bert.kerasish")
    >>> type(K.saving.load_model("bert.kerasish").net).__name__
    'BertForSequenceClassification'
    >>> model.save_pretrained("bert-dir")
    >>> type(AutoModelForSequenceClassification.from_pretrained("bert-dir")).__name__
    'BertForSequenceClassification'
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from typing import Any

import torch
from torch import nn

from kerasish.saving.atomic import atomic_dir, is_chief
from kerasish.saving.safe_load import Resolver, lookup

__all__ = [
    "HF_EXTRA",
    "is_pretrained_model",
    "model_config",
    "model_from_config",
    "pretrained_module",
    "save_pretrained",
]

HF_EXTRA = 'pip install "kerasish[hf]"'
PACKAGE = "transformers"  # the "package" of a described Hugging Face model
# Config keys that load code from elsewhere (the Hub, a local module), refused in safe mode.
_REMOTE_KEYS = ("auto_map", "trust_remote_code", "custom_pipelines")
_SHARD = re.compile(r"-\d{5}-of-\d{5}$")
_KERNEL_KEYS = (
    "attn_implementation",
    "_attn_implementation",
    "_attn_implementation_internal",
    "experts_implementation",
    "_experts_implementation",
)

# Implementations that never load a kernel from the Hub (flash_attention_* falls back to a Hub
# kernel when flash_attn is missing and `kernels` is installed; deepgemm, sonicmoe are Hub kernels).
_BUILT_IN_IMPLEMENTATIONS = frozenset(
    {"eager", "sdpa", "flex_attention", "paged|eager", "grouped_mm", "batched_mm"}
)
_TIMM_TYPES = ("timm_backbone", "timm_wrapper")
# A timm model name ("resnet50", "vit_small_patch16_224.augreg_in21k"): no "hf-hub:" or
# "local-dir:" source, no path.
_TIMM_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
# timm.create_model keyword arguments that read files or the Hub (TimmWrapperConfig.model_args)
_TIMM_LOADING_ARGS = frozenset(
    {
        "checkpoint_path",
        "pretrained",
        "pretrained_cfg",
        "pretrained_cfg_overlay",
        "pretrained_model_args",
        "cache_dir",
    }
)


def _transformers(what: str) -> Any:
    try:
        return importlib.import_module("transformers")
    except ImportError as e:
        raise ImportError(f"{what} needs the transformers package: {HF_EXTRA}") from e


def _pretrained_base() -> Any:
    """``transformers.PreTrainedModel`` when transformers is imported, else None (a module
    cannot be a Hugging Face model before its package is imported)."""
    module = sys.modules.get("transformers")
    return getattr(module, "PreTrainedModel", None) if module is not None else None


def is_pretrained_model(obj: Any) -> bool:
    """Whether ``obj`` is a ``transformers.PreTrainedModel`` (instance or class); never imports
    transformers.

    Example:
        >>> is_pretrained_model(nn.Linear(2, 2))
        False
    """
    base = _pretrained_base()
    cls = obj if isinstance(obj, type) else type(obj)
    return base is not None and issubclass(cls, base)


# --------------------------------------------------------------------------- describing


def model_config(module: nn.Module, cls: type) -> dict[str, Any]:
    """The description of the Hugging Face model ``module`` of class ``cls``: its class and its
    config as JSON (``config.to_json_string(use_diff=False)``), no weights."""
    config = json.loads(module.config.to_json_string(use_diff=False))
    # the dtype the weights have, as save_pretrained writes it: rebuilt in it (_from_config)
    config["dtype"] = str(module.dtype).removeprefix("torch.")
    return {
        "package": PACKAGE,
        "module": cls.__module__,
        "class_name": cls.__qualname__,
        "transformers_version": sys.modules["transformers"].__version__,
        "config": config,
    }


# --------------------------------------------------------------------------- rebuilding


def model_from_config(cfg: dict[str, Any], resolver: Resolver) -> nn.Module:
    """The Hugging Face model ``model_config`` described, with new weights.

    Raises:
        ValueError: for a class or config safe mode refuses ("Expected ... Received: ...").
        ImportError: naming the ``hf`` extra when transformers is missing.
    """
    transformers = _transformers("Loading a Hugging Face model")
    module, name, config = cfg.get("module"), cfg.get("class_name"), cfg.get("config")
    if not (isinstance(module, str) and isinstance(name, str) and isinstance(config, dict)):
        raise ValueError(
            "Expected a Hugging Face model entry with 'module', 'class_name' (strings) and "
            f"'config' (a JSON object). Received: module={module!r}, class_name={name!r}, "
            f"config of type {type(config).__name__}"
        )
    cls = _model_class(transformers, module, name, resolver)
    if resolver.safe_mode:
        _check_config(config, f"{module}.{name}")
    config_class = getattr(cls, "config_class", None)
    if not (
        isinstance(config_class, type) and issubclass(config_class, transformers.PreTrainedConfig)
    ):
        raise ValueError(
            f"Expected a model class with a config class. Received: class_name={name!r}, whose "
            f"config_class is {config_class!r}"
        )
    expected_type = getattr(config_class, "model_type", "")
    if expected_type and config.get("model_type", expected_type) != expected_type:
        raise ValueError(
            f"Expected the config of a {name} (model_type={expected_type!r}). Received: "
            f"model_type={config.get('model_type')!r}"
        )
    try:
        hf_config = config_class.from_dict(config)
        build = getattr(cls, "_from_config", None)  # what AutoModel.from_config calls (dtype)
        return build(hf_config) if callable(build) else cls(hf_config)
    except Exception as e:  # noqa: BLE001 - transformers and its validators raise many types
        raise ValueError(
            f"Expected a config that builds a {name}. Received: a config that transformers "
            f"rejects ({type(e).__name__}: {e})"
        ) from e


def _model_class(transformers: Any, module: str, name: str, resolver: Resolver) -> type:
    """The class ``module.name``: from ``custom_objects``, else (safe mode) the class that
    transformers exports as ``name`` (``module`` must be a transformers module); else
    (``safe_mode=False``) from any importable module. Always a ``PreTrainedModel`` subclass."""
    cls = resolver.custom_object(f"{module}:{name}")
    why = None
    if cls is None and resolver.safe_mode:
        cls, why = _exported_class(transformers, module, name)
    elif cls is None:
        try:
            cls = lookup(importlib.import_module(module), name)
        except ImportError as e:
            cls, why = None, f"module {module!r} cannot be imported ({e})"
    if why is None and not (
        isinstance(cls, type) and issubclass(cls, transformers.PreTrainedModel)
    ):
        why = f"{module}.{name} is {cls!r}, not a transformers.PreTrainedModel subclass"
    if why is not None:
        opt_in = "or safe_mode=False if you trust the file" if resolver.safe_mode else ""
        raise ValueError(
            "Expected a transformers.PreTrainedModel class that the transformers package "
            f"exports (or one in custom_objects). Received: module={module!r}, "
            f"class_name={name!r}, which is refused ({why}). Pass "
            f"custom_objects={{{name.rsplit('.', 1)[-1]!r}: the class}} {opt_in}".rstrip()
            + "."
        )
    return cls


def _exported_class(transformers: Any, module: str, name: str) -> tuple[Any, str | None]:
    """``transformers.<name>`` when ``module`` is a transformers module and that export is
    defined in transformers; else why not.

    Only ``getattr`` on the transformers package (its own lazy import table) is used: no
    module path from the file is imported, so a file can name nothing outside transformers.
    The class is found by its exported name, so a file still loads after transformers moves
    the class to another module.
    """
    if not (module == PACKAGE or module.startswith(PACKAGE + ".")):
        return None, f"module {module!r} is not part of the transformers package"
    if not name.isidentifier() or name.startswith("_"):
        return None, f"{name!r} is not a public class name"
    try:
        cls = getattr(transformers, name, None)
    except Exception as e:  # noqa: BLE001 - a lazy import of a missing backend fails in many ways
        return None, f"transformers.{name} cannot be imported ({e})"
    if cls is None:
        return None, f"transformers has no attribute {name!r}"
    defined = getattr(cls, "__module__", None)
    if not (isinstance(defined, str) and defined.startswith(PACKAGE + ".")):
        return None, f"transformers.{name} is defined in {defined!r}, outside transformers"
    return cls, None


def _refuse(what: str, key: str, value: Any, where: str) -> ValueError:
    return ValueError(
        f"Expected {what}. Received: {key}={value!r} in the config of {where}. "
        "Pass safe_mode=False if you trust the file."
    )


def _check_config(config: Any, where: str) -> None:
    """Refuse (safe mode) a config, or a sub-config, that would load code or files from elsewhere."""
    if isinstance(config, list):
        for item in config:
            _check_config(item, where)
        return
    if not isinstance(config, dict):
        return
    for check in (_check_remote_code, _check_kernels, _check_dtypes, _check_backbone):
        check(config, where)
    for value in config.values():
        _check_config(value, where)


def _check_remote_code(config: dict, where: str) -> None:
    for key in _REMOTE_KEYS:
        if config.get(key):
            raise ValueError(
                f"Expected a config that needs no remote code. Received: {key}="
                f"{config[key]!r} in the config of {where}; kerasish never runs remote code. "
                "Pass safe_mode=False to ignore the key if you trust the file."
            )


def _check_kernels(config: dict, where: str) -> None:
    for key in _KERNEL_KEYS:
        value = config.get(key)
        # transformers also takes a dict per sub-config: {"": "sdpa", "text_config": "eager"}
        values = value.values() if isinstance(value, dict) else [value]
        if any(v is not None and v not in _BUILT_IN_IMPLEMENTATIONS for v in values):
            raise _refuse(
                f"a built-in implementation among {sorted(_BUILT_IN_IMPLEMENTATIONS)}, not a "
                "kernel loaded from the Hub",
                key,
                value,
                where,
            )


def _check_dtypes(config: dict, where: str) -> None:
    for key in ("dtype", "torch_dtype"):
        value = config.get(key)
        if value is not None and not (
            isinstance(value, str) and isinstance(getattr(torch, value, None), torch.dtype)
        ):
            raise _refuse(
                f"{key} to name a torch dtype ('float32', 'bfloat16', ...)", key, value, where
            )


def _check_backbone(config: dict, where: str) -> None:
    """No backbone weights, names or timm sources from elsewhere: transformers looks a
    backbone name up on the Hub, and timm's model_args may name a checkpoint file."""
    if config.get("use_pretrained_backbone"):
        raise _refuse(
            "use_pretrained_backbone=False (the file holds the weights)",
            "use_pretrained_backbone",
            config["use_pretrained_backbone"],
            where,
        )
    if config.get("model_type") not in _TIMM_TYPES:
        if config.get("backbone") is not None:
            raise _refuse(
                "a backbone given by backbone_config, not by name",
                "backbone",
                config["backbone"],
                where,
            )
        return
    for key in ("backbone", "architecture"):
        value = config.get(key)
        if value is not None and not (isinstance(value, str) and _TIMM_NAME.fullmatch(value)):
            raise _refuse(
                "a timm model name such as 'resnet50' (no 'hf-hub:' or 'local-dir:')",
                key,
                value,
                where,
            )
    args = config.get("model_args") or {}
    if not isinstance(args, dict) or _TIMM_LOADING_ARGS & set(args):
        raise _refuse(
            f"timm model_args without {sorted(_TIMM_LOADING_ARGS)} (they read files or the Hub)",
            "model_args",
            args,
            where,
        )


# --------------------------------------------------------------------------- save_pretrained


def pretrained_module(model: nn.Module) -> nn.Module:
    """The ``transformers.PreTrainedModel`` that ``model`` is or wraps (``model.net``).

    Raises:
        ImportError: naming the ``hf`` extra when transformers is missing.
        TypeError: when ``model`` neither is nor wraps one.
    """
    _transformers("save_pretrained")
    if is_pretrained_model(model):
        return model
    net = getattr(model, "net", None)
    if isinstance(net, nn.Module) and is_pretrained_model(net):
        return net
    inner = f" wrapping {type(net).__name__}" if isinstance(net, nn.Module) else ""
    raise TypeError(
        "Expected a model wrapping a transformers PreTrainedModel, e.g. "
        "K.Model.wrap(BertForSequenceClassification(config)). Received: model of type "
        f"{type(model).__name__}{inner}; for other models use model.save() or model.export()"
    )


def save_pretrained(model: nn.Module, save_directory: str | os.PathLike, **kwargs: Any) -> None:
    """Write a wrapped Hugging Face model as a directory ``from_pretrained`` loads.

    The wrapped ``PreTrainedModel``'s own ``save_pretrained`` writes ``config.json`` and
    ``model.safetensors`` (and ``generation_config.json`` for generative models) into a
    temporary directory next to ``save_directory``, which is then renamed into place (or, when
    ``save_directory`` exists, its files are moved in one by one, ``config.json`` last, and
    weight files of an earlier save that this one does not rewrite are removed; other files,
    such as a tokenizer's, stay). An interrupted call leaves the earlier files whole. Under
    torchrun every rank may call it (an FSDP model must: the weights are gathered); rank 0
    writes. Also ``model.save_pretrained(dir)`` and ``model.export(dir, format="hf")``.

    Args:
        model: a kerasish model wrapping a ``transformers.PreTrainedModel`` (``Model.wrap``).
        save_directory: the directory to write.
        **kwargs: passed to the Hugging Face ``save_pretrained`` (``max_shard_size``,
            ``variant``, ``state_dict``, ``is_main_process``, ...). Weights are always
            safetensors.

    Raises:
        TypeError: when ``model`` does not wrap a ``PreTrainedModel``.
        ValueError: for ``push_to_hub=True`` (push the directory afterwards) or a path that is
            a file.
        ImportError: naming the ``hf`` extra when transformers is missing.

    Example:
        >>> from transformers import BertConfig, BertForSequenceClassification
        >>> config = BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1,
        ...                     num_attention_heads=2, intermediate_size=32)
        >>> model = K.Model.wrap(BertForSequenceClassification(config))
        >>> model.save_pretrained("bert-dir")
        >>> sorted(os.listdir("bert-dir"))
        ['config.json', 'model.safetensors']
        >>> net = BertForSequenceClassification.from_pretrained("bert-dir")
    """
    net = pretrained_module(model)
    path = os.fspath(save_directory)
    if kwargs.get("push_to_hub"):
        raise ValueError(
            "Expected push_to_hub=False: kerasish writes the directory only. Received: "
            "push_to_hub=True. Push it afterwards with model.net.push_to_hub(repo_id) or "
            "huggingface_hub.upload_folder(folder_path=save_directory, repo_id=...)"
        )
    if os.path.isfile(path):
        raise ValueError(f"Expected a directory to save into. Received: a file, path={path!r}")
    kwargs.pop("safe_serialization", None)  # transformers 5 writes safetensors only
    if "state_dict" not in kwargs:
        state = _gathered_state(model, net)
        if state is not None:
            kwargs["state_dict"] = state
    if not kwargs.pop("is_main_process", is_chief()):
        return
    with atomic_dir(path, last=("config.json",), obsolete=_obsolete_weights) as tmp:
        net.save_pretrained(tmp, **kwargs)


def _weights_stem(name: str) -> str | None:
    """``"model"`` for ``model.safetensors``, its shards and its index (``"model.fp16"`` for a
    variant); None for other files."""
    if name.endswith(".safetensors.index.json"):
        return name.removesuffix(".safetensors.index.json")
    if name.endswith(".safetensors"):
        return _SHARD.sub("", name.removesuffix(".safetensors"))
    return None


def _obsolete_weights(new: list[str], old: list[str]) -> list[str]:
    """The weight files of an earlier save (same stem: the same variant) that this save does
    not rewrite, e.g. the shards of a sharded save replaced by one ``model.safetensors``."""
    stems = {_weights_stem(n) for n in new} - {None}
    return [n for n in old if n not in new and _weights_stem(n) in stems]


def _gathered_state(model: nn.Module, net: nn.Module) -> dict | None:
    """The HF model's full state dict when ``model`` is FSDP-sharded (a collective), else None
    (the HF model then reads its own state dict)."""
    from kerasish.distribute.fsdp import full_state_dict, is_fsdp

    if not (is_fsdp(model) or is_fsdp(net)):
        return None
    state = full_state_dict(model)
    prefix = "" if net is model else "net."
    return {k.removeprefix(prefix): v for k, v in state.items()}
