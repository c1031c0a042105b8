"""CompileConfig: what ``compile()`` was given, resolved and checked, in one frozen object.

``make_compile_config`` turns compile's arguments into a ``CompileConfig``: the optimizer
recipe (``kerasish.optimizers.get``), the loss or losses of one or many outputs, the metrics
(per output name when given as a dict), and the options. Every argument is checked here, so
a bad one raises before the model changes. The config is exposed as ``model.compile_config``
(Keras's ``get_compile_config()`` idea): saving, fine-tuning and callbacks read it, and a
changed copy (``replace``) can be assigned back.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

from kerasish import devices, losses, optimizers
from kerasish import metrics as metrics_lib

__all__ = ["CompileConfig", "make_compile_config", "flat_losses", "loss_pairs", "pick"]

_SCHEDULER_INTERVALS = ("epoch", "batch", "step")
_DISTRIBUTE = ("auto", "ddp", "fsdp", None)


@dataclasses.dataclass(frozen=True)
class CompileConfig:
    """The resolved arguments of ``compile``.

    Attributes:
        optimizer: the recipe (a ``kerasish.optimizers.Optimizer``, a torch optimizer
            instance, or a ``kerasish.optimizers.TorchClass``).
        loss: the loss, a list or dict of losses for several outputs, or None.
        metrics: the metric objects (a metric of a named output has ``output_key``).
        loss_weights: weights of the losses of several outputs (list or dict), or None.
        lr_scheduler: a torch scheduler, a callable ``optimizer -> scheduler``, or None.
        scheduler_interval: "epoch" or "batch".
        mixed_precision: None, "bf16" or "fp16".
        jit_compile: True/"auto" to ``torch.compile`` the forward and loss.
        compile_mode: ``torch.compile``'s mode.
        channels_last: conv weights and image batches channels-last.
        distribute: "auto", "ddp", "fsdp" or None.

    Example:
        >>> cfg = make_compile_config(optimizer="sgd", loss="mse")
        >>> cfg.replace(channels_last=True).channels_last
        True
    """

    optimizer: Any
    loss: Any = None
    metrics: tuple[Any, ...] = ()
    loss_weights: Any = None
    lr_scheduler: Any = None
    scheduler_interval: str = "epoch"
    mixed_precision: str | None = None
    jit_compile: bool | str = False
    compile_mode: str | None = None
    channels_last: bool = False
    distribute: str | None = "auto"

    def get_config(self) -> dict[str, Any]:
        """The fields as a dict (the objects themselves; ``kerasish.saving`` encodes them)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CompileConfig:
        """A config from ``get_config``'s dict."""
        return cls(**config)

    def replace(self, **changes: Any) -> CompileConfig:
        """A copy with some fields changed (e.g. another optimizer recipe)."""
        return dataclasses.replace(self, **changes)


def make_compile_config(
    optimizer: Any = "rmsprop",
    loss: Any = None,
    metrics: Any = None,
    loss_weights: Any = None,
    *,
    lr_scheduler: Any = None,
    scheduler_interval: str = "epoch",
    mixed_precision: str | None = None,
    jit_compile: bool | str = False,
    compile_mode: str | None = None,
    channels_last: bool = False,
    distribute: str | None = "auto",
) -> CompileConfig:
    """Resolve and check ``compile``'s arguments.

    Raises:
        ValueError / TypeError: for unknown names or inconsistent arguments.
    """
    _check_options(scheduler_interval, mixed_precision, distribute)
    opt = optimizers.get(optimizer)
    if loss is None:
        warnings.warn("compile() got no loss: fit() will need a train_step override.", stacklevel=3)
    loss_obj = resolve_loss(loss)
    return CompileConfig(
        optimizer=opt,
        loss=loss_obj,
        metrics=tuple(resolve_metrics(metrics, loss_obj)),
        loss_weights=loss_weights,
        lr_scheduler=lr_scheduler,
        scheduler_interval="epoch" if scheduler_interval == "epoch" else "batch",
        mixed_precision=mixed_precision,
        jit_compile=jit_compile,
        compile_mode=compile_mode,
        channels_last=channels_last,
        distribute=distribute,
    )


def _check_options(scheduler_interval: Any, mixed_precision: Any, distribute: Any) -> None:
    if scheduler_interval not in _SCHEDULER_INTERVALS:
        raise ValueError(
            f"Expected scheduler_interval to be 'epoch' or 'batch'. Received: "
            f"scheduler_interval={scheduler_interval!r}"
        )
    if mixed_precision not in devices.PRECISIONS:
        raise ValueError(
            f"Expected mixed_precision to be None, 'bf16' or 'fp16'. Received: "
            f"mixed_precision={mixed_precision!r}"
        )
    if distribute not in _DISTRIBUTE:
        raise ValueError(
            f"Expected distribute to be 'auto', 'ddp', 'fsdp' or None. "
            f"Received: distribute={distribute!r}"
        )


def resolve_loss(loss: Any) -> Any:
    """A loss object, or a list/dict of them for several outputs (None stays None)."""
    if loss is None:
        return None
    if isinstance(loss, Mapping):
        return {k: losses.get(v) for k, v in loss.items()}
    if isinstance(loss, list | tuple):
        return [losses.get(v) for v in loss]
    return losses.get(loss)


def resolve_metrics(specs: Any, loss: Any) -> list[metrics_lib.Metric]:
    """Metric objects; a dict ``{output: [specs]}`` gives metrics named ``output_metric``."""
    if specs is None:
        return []
    if isinstance(specs, Mapping):
        out = []
        for key, group in specs.items():
            for spec in group if isinstance(group, list | tuple) else [group]:
                m = metrics_lib.get(spec, loss=pick(loss, key))
                m.output_key = key
                m.name = f"{key}_{m.name}"
                out.append(m)
        return out
    if not isinstance(specs, list | tuple):
        raise TypeError(
            f"Expected metrics to be a list (or a dict per output). Received: metrics={specs!r}"
        )
    first = flat_losses(loss)[0] if flat_losses(loss) else None
    return [metrics_lib.get(s, loss=first) for s in specs]


def pick(loss: Any, key: Any) -> Any:
    """The loss of output ``key`` (the loss itself when there is one)."""
    if isinstance(loss, Mapping | list | tuple):
        return loss[key]
    return loss


def flat_losses(loss: Any) -> list[Any]:
    """The loss objects as a list."""
    if loss is None:
        return []
    if isinstance(loss, Mapping):
        return list(loss.values())
    if isinstance(loss, list | tuple):
        return list(loss)
    return [loss]


def loss_pairs(loss: Any, y: Any, y_pred: Any) -> list[tuple[Any, Any, Any]]:
    """``(loss, y_true, y_pred)`` for each output."""
    if isinstance(loss, Mapping):
        return [(loss[k], y[k], y_pred[k]) for k in loss]
    if isinstance(loss, list | tuple):
        return [(lo, y[i], y_pred[i]) for i, lo in enumerate(loss)]
    return [(loss, y, y_pred)]
