"""compile.json: the optimizer recipe, losses, metrics and options of ``model.compile_config``.

``describe_compile(model)`` writes what ``compile`` was given in a JSON form (parts without
a portable description are listed under ``"problems"``); ``CompileDecoder`` turns it back
into the arguments of ``compile``, taking every class and function from a
``safe_load.Resolver``. Neither reads the model's private state: only the public
``model.compile_config``.

Example:
    >>> from kerasish.saving.compile_config import CompileDecoder, describe_compile
    >>> from kerasish.saving.safe_load import Resolver
    >>> cfg = describe_compile(model)
    >>> CompileDecoder(Resolver(None, safe_mode=True)).loss(cfg["loss"])  # doctest: +ELLIPSIS
    SparseCategoricalCrossentropy(name='sparse_categorical_crossentropy', ...)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import torch

from kerasish import losses as losses_lib
from kerasish import metrics as metrics_lib
from kerasish import optimizers as optimizers_lib
from kerasish.saving.configs import (
    Undescribable,
    decode,
    encode,
    module_config,
    module_from_config,
    object_ref,
)
from kerasish.saving.safe_load import Resolver

__all__ = ["CompileDecoder", "describe_compile", "usable"]

_OPTIONS = (
    "scheduler_interval",
    "mixed_precision",
    "jit_compile",
    "compile_mode",
    "channels_last",
    "ema",
)


def _named_scheduler(spec: Any) -> Any:
    """``compile(lr_scheduler=...)`` as JSON when it is a name or a (name, kwargs) pair."""
    if isinstance(spec, str):
        return spec
    if isinstance(spec, tuple | list) and len(spec) == 2 and isinstance(spec[0], str):
        try:
            json.dumps(spec[1])
        except TypeError:
            return None
        return [spec[0], spec[1]]
    return None


def describe_compile(model: Any) -> dict[str, Any] | None:
    """The JSON form of ``model.compile_config`` (None for an uncompiled model)."""
    if not getattr(model, "compiled", False):
        return None
    cfg = model.compile_config
    problems: list[str] = []
    return {
        "optimizer": _described(problems, "optimizer", _optimizer_config, cfg.optimizer),
        "loss": _described(problems, "loss", _loss_config, cfg.loss),
        "metrics": _metrics_config(cfg.metrics, problems),
        "weighted_metrics": _metrics_config(cfg.weighted_metrics, problems),
        "loss_weights": _described(problems, "loss_weights", encode, cfg.loss_weights),
        "options": {
            **{name: getattr(cfg, name) for name in _OPTIONS},
            # a scheduler by name is plain data; a torch scheduler object is rebuilt by hand
            "lr_scheduler": _named_scheduler(cfg.lr_scheduler),
        },
        "problems": problems,
    }


def usable(cfg: dict[str, Any], warn: Callable[[str], None]) -> bool:
    """False (after ``warn``) when the optimizer or loss could not be saved; metrics that
    could not be saved are left out (after ``warn``)."""
    problems = "; ".join(cfg["problems"])
    if cfg["optimizer"] is None or any(not p.startswith("metric") for p in cfg["problems"]):
        warn(
            f"The saved compile config is incomplete ({problems}), so the model is returned "
            "uncompiled. Call compile() yourself."
        )
        return False
    if problems:
        warn(f"Metrics not restored: {problems}.")
    return True


def _described(problems: list[str], part: str, fn: Callable[..., Any], value: Any) -> Any:
    try:
        return fn(value, part)
    except (Undescribable, TypeError) as e:
        problems.append(f"{part}: {e}")
        return None


def _optimizer_config(spec: Any, where: str) -> dict[str, Any]:
    if isinstance(spec, torch.optim.Optimizer):
        return {
            "torch_instance": object_ref(type(spec), where),
            "defaults": encode(spec.defaults, where),
        }
    if isinstance(spec, optimizers_lib.TorchClass):
        return {"torch_class": object_ref(spec.torch_class, where)}
    return {"class": object_ref(type(spec), where), "config": encode(spec.get_config(), where)}


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
        return {"function": object_ref(loss.fn, where), "config": encode(config, where)}
    try:
        return {"builtin": encode(losses_lib.serialize(loss), where)}
    except TypeError:
        return {
            "class": object_ref(type(loss), where),
            "config": encode(loss.get_config(), where),
        }


def _metrics_config(metrics: Any, problems: list[str]) -> list[dict[str, Any]]:
    out = []
    for m in metrics:
        try:
            out.append({"output_key": getattr(m, "output_key", None), "spec": _metric_spec(m)})
        except (Undescribable, TypeError) as e:
            problems.append(f"metric {m.name!r}: {e}")
    return out


def _metric_spec(m: Any) -> Any:
    """A registry name when ``metrics.get(name)`` rebuilds ``m``; else the class (or the
    function of a ``MeanMetricWrapper``) and its arguments (see ``metrics.describe``)."""
    described = metrics_lib.describe(m)
    if isinstance(described, str):
        return described
    how, obj, config = described
    key = getattr(m, "output_key", None)
    name = m.name[len(f"{key}_") :] if key is not None else m.name
    where = f"metric {name!r}"
    return {how: object_ref(obj, where), "config": encode(config, where)}


class CompileDecoder:
    """Rebuilds the arguments of ``compile`` from ``compile.json``.

    Args:
        resolver: where the classes and functions the file names come from.
    """

    def __init__(self, resolver: Resolver):
        self.r = resolver

    def optimizer(self, cfg: dict[str, Any]) -> Any:
        """The optimizer recipe; for a torch optimizer instance, ``("torch_instance", cls,
        defaults)`` (the caller builds it over the model's parameter groups)."""
        if "torch_instance" in cfg:
            return (
                "torch_instance",
                self.r.ref(cfg["torch_instance"], "optimizer"),
                decode(cfg["defaults"], self.r),
            )
        if "torch_class" in cfg:
            return optimizers_lib.TorchClass(self.r.ref(cfg["torch_class"], "optimizer"))
        cls = self.r.ref(cfg["class"], "optimizer")
        config = decode(cfg["config"], self.r)
        config.pop("class_name", None)
        if "from_config" in vars(cls):
            return cls.from_config(config)
        spec = cls.__new__(cls)
        optimizers_lib.Optimizer.__init__(spec, config.pop("learning_rate"), **config)
        return spec

    def loss(self, cfg: dict[str, Any] | None) -> Any:
        """The loss, or the list/dict of losses."""
        if cfg is None:
            return None
        if "dict" in cfg:
            return {k: self._one_loss(v) for k, v in cfg["dict"].items()}
        if "list" in cfg:
            return [self._one_loss(v) for v in cfg["list"]]
        return self._one_loss(cfg["single"])

    def _one_loss(self, cfg: dict[str, Any]) -> Any:
        if "torch_loss" in cfg:
            module = module_from_config(cfg["torch_loss"], self.r)
            return losses_lib.TorchLoss(module, name=cfg["name"], reduction=cfg["reduction"])
        if "function" in cfg:
            fn = self.r.ref(cfg["function"], "function")
            return losses_lib.LossFunctionWrapper(fn, **decode(cfg["config"], self.r))
        if "builtin" in cfg:
            return losses_lib.deserialize(decode(cfg["builtin"], self.r))
        cls = self.r.ref(cfg["class"], "loss")
        return cls.from_config(decode(cfg["config"], self.r))

    def metrics(self, entries: list[dict[str, Any]]) -> Any:
        """The metrics argument: a list, or a dict of lists per output name (or None)."""
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
            config = decode(spec["config"], self.r)
            return metrics_lib.MeanMetricWrapper(self.r.ref(spec["mean_of"], "function"), **config)
        cls = self.r.ref(spec["class"], "metric")
        config = decode(spec["config"], self.r)
        return cls.from_config(config) if hasattr(cls, "from_config") else cls(**config)
