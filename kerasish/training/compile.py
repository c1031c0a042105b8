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

__all__ = [
    "CompileConfig",
    "make_compile_config",
    "flat_losses",
    "loss_pairs",
    "pick",
    "check_loss_weights",
]

_SCHEDULER_INTERVALS = ("epoch", "batch", "step")
_DISTRIBUTE = ("auto", "ddp", "fsdp", None)


@dataclasses.dataclass(frozen=True)
class CompileConfig:
    """The resolved arguments of ``compile``.

    Attributes:
        optimizer: the recipe (a ``kerasish.optimizers.Optimizer``, a torch optimizer
            instance, or a ``kerasish.optimizers.TorchClass``).
        loss: the loss, a list or dict of losses for several outputs, or None.
        metrics: the metric objects (a metric of a named output has ``output_key``); they
            ignore sample and class weights, as Keras's ``metrics``.
        loss_weights: a number scaling the loss of a single output, a list or dict of
            weights of several outputs' losses, or None.
        lr_scheduler: a torch scheduler, a callable ``optimizer -> scheduler``, a schedule
            name for ``kerasish.optimizers.scheduler_from_name`` (built at fit start), or
            None.
        scheduler_interval: "epoch" or "batch".
        mixed_precision: None, "bf16" or "fp16".
        jit_compile: True/"auto" to ``torch.compile`` the forward and loss.
        compile_mode: ``torch.compile``'s mode.
        channels_last: conv weights and image batches channels-last.
        distribute: "auto", "ddp", "fsdp" or None.
        weighted_metrics: the metric objects that sample and class weights weigh (a name
            that is also in ``metrics`` is logged as ``weighted_<name>``, as Keras).
        ema: the decay of an exponential moving average of the weights (fit adds a
            ``kerasish.callbacks.SwapEMAWeights(decay=ema)``), or None.

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
    weighted_metrics: tuple[Any, ...] = ()
    ema: float | None = None

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
    weighted_metrics: Any = None,
    ema: float | None = None,
    warn_no_loss: bool = True,
) -> CompileConfig:
    """Resolve and check ``compile``'s arguments (``warn_no_loss``: warn when ``loss`` is
    None; the trainer passes False for a model whose ``train_step`` is overridden).

    Raises:
        ValueError / TypeError: for unknown names or inconsistent arguments.

    Example:
        >>> cfg = make_compile_config("sgd", "mse", metrics=["mae"], weighted_metrics=["mae"])
        >>> [m.name for m in cfg.metrics], [m.name for m in cfg.weighted_metrics]
        (['mae'], ['weighted_mae'])
    """
    _check_options(scheduler_interval, mixed_precision, distribute)
    _check_scheduler_name(lr_scheduler)
    _check_ema(ema)
    opt = optimizers.get(optimizer)
    if loss is None and warn_no_loss:
        warnings.warn(
            "compile() got no loss: fit() trains on the loss the model returns (an output "
            "with .loss, as Hugging Face models give when called with labels=), else needs a "
            "train_step override.",
            stacklevel=3,
        )
    loss_obj = resolve_loss(loss)
    plain = resolve_metrics(metrics, loss_obj)
    weighted = resolve_metrics(weighted_metrics, loss_obj, "weighted_metrics")
    _name_weighted(plain, weighted)
    return CompileConfig(
        optimizer=opt,
        loss=loss_obj,
        metrics=tuple(plain),
        loss_weights=check_loss_weights(loss_weights, loss_obj),
        lr_scheduler=lr_scheduler,
        scheduler_interval="epoch" if scheduler_interval == "epoch" else "batch",
        mixed_precision=mixed_precision,
        jit_compile=jit_compile,
        compile_mode=compile_mode,
        channels_last=channels_last,
        distribute=distribute,
        weighted_metrics=tuple(weighted),
        ema=ema,
    )


def is_named_scheduler(lr_scheduler: Any) -> bool:
    """True for ``lr_scheduler="cosine"`` or ``("cosine", {kwargs})`` (built at ``fit``)."""
    if isinstance(lr_scheduler, str):
        return True
    return (
        isinstance(lr_scheduler, tuple | list)
        and len(lr_scheduler) == 2
        and isinstance(lr_scheduler[0], str)
    )


def _check_scheduler_name(lr_scheduler: Any) -> None:
    """An unknown scheduler name fails at compile, not at fit."""
    if not is_named_scheduler(lr_scheduler):
        return
    try:
        optimizers.parse_scheduler(lr_scheduler)
    except ValueError as err:
        raise ValueError(
            f"Expected lr_scheduler to be one of {list(optimizers.SCHEDULER_NAMES)} (or a "
            "(name, kwargs) pair), a torch LR scheduler or a callable optimizer -> scheduler. "
            f"Received: lr_scheduler={lr_scheduler!r} ({err})"
        ) from None


def _check_ema(ema: Any) -> None:
    if ema is None:
        return
    if isinstance(ema, bool) or not isinstance(ema, int | float) or not 0 <= ema <= 1:
        raise ValueError(f"Expected ema to be a decay in [0, 1] or None. Received: ema={ema!r}")


def check_loss_weights(loss_weights: Any, loss: Any) -> Any:
    """``loss_weights`` checked against the loss: a number for one loss (a one-item list is
    taken as its number), a list as long as a list of losses, a dict naming only outputs of a
    dict of losses (an output not named weighs 1).

    Raises:
        ValueError: for a list of the wrong length or a dict of other keys.
        TypeError: for weights that are not numbers.

    Example:
        >>> check_loss_weights(0.2, losses.get("mse"))
        0.2
        >>> check_loss_weights([1.0, 2.0], losses.get("mse"))
        Traceback (most recent call last):
        ValueError: Expected loss_weights to be one number for the single loss. Received: loss_weights=[1.0, 2.0]
    """
    if loss_weights is None or loss is None:
        return loss_weights
    if isinstance(loss, Mapping):
        return _dict_weights(loss_weights, loss)
    if isinstance(loss, list | tuple):
        if not isinstance(loss_weights, list | tuple) or len(loss_weights) != len(loss):
            raise ValueError(
                f"Expected loss_weights to be a list of {len(loss)} numbers, one per loss. "
                f"Received: loss_weights={loss_weights!r}"
            )
        return [_number(w, loss_weights) for w in loss_weights]
    if isinstance(loss_weights, list | tuple) and len(loss_weights) == 1:
        loss_weights = loss_weights[0]
    if isinstance(loss_weights, Mapping | list | tuple):
        raise ValueError(
            f"Expected loss_weights to be one number for the single loss. Received: "
            f"loss_weights={loss_weights!r}"
        )
    return _number(loss_weights, loss_weights)


def _dict_weights(loss_weights: Any, loss: Mapping) -> dict[Any, float]:
    if isinstance(loss_weights, Mapping):
        unknown = [k for k in loss_weights if k not in loss]
        if not unknown:
            return {k: _number(loss_weights.get(k, 1.0), loss_weights) for k in loss}
    raise ValueError(
        f"Expected loss_weights to be a dict whose keys are outputs of the loss dict "
        f"{list(loss)}. Received: loss_weights={loss_weights!r}"
    )


def _number(w: Any, given: Any) -> float:
    if isinstance(w, bool) or not isinstance(w, int | float):
        raise TypeError(f"Expected loss_weights to hold numbers. Received: loss_weights={given!r}")
    return float(w)


def _name_weighted(plain: list[Any], weighted: list[Any]) -> None:
    """Keras's log names: a weighted metric whose name a plain metric has is
    ``weighted_<name>`` (``<output>_weighted_<name>`` for a metric of a named output)."""
    taken = {m.name for m in plain}
    for m in weighted:
        if m.name in taken:
            key = getattr(m, "output_key", None)
            base = m.name if key is None else m.name[len(f"{key}_") :]
            m.name = f"weighted_{base}" if key is None else f"{key}_weighted_{base}"
        taken.add(m.name)


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


def resolve_metrics(specs: Any, loss: Any, argument: str = "metrics") -> list[metrics_lib.Metric]:
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
            f"Expected {argument} to be a list (or a dict per output). Received: "
            f"{argument}={specs!r}"
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


def named_outputs(model: Any, value: Any) -> Any:
    """A list/tuple of outputs (or targets) as a dict by the model's ``output_names`` (a
    functional model's), so losses and metrics keyed by output name find theirs, as in Keras.

    Example:
        >>> class Two:
        ...     output_names = ["a", "b"]
        >>> named_outputs(Two(), [1, 2])
        {'a': 1, 'b': 2}
    """
    names = getattr(model, "output_names", None)
    if isinstance(value, list | tuple) and names and len(names) == len(value):
        return dict(zip(names, value, strict=True))
    return value


def loss_pairs(loss: Any, y: Any, y_pred: Any) -> list[tuple[Any, Any, Any]]:
    """``(loss, y_true, y_pred)`` for each output."""
    if isinstance(loss, Mapping):
        return [(loss[k], y[k], y_pred[k]) for k in loss]
    if isinstance(loss, list | tuple):
        return [(lo, y[i], y_pred[i]) for i, lo in enumerate(loss)]
    return [(loss, y, y_pred)]
