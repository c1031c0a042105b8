"""torch LR schedulers by name: ``scheduler_from_name("cosine", optimizer, epochs=..., ...)``.

Each name builds ``torch.optim.lr_scheduler`` objects sized from the run (``epochs`` and
``steps_per_epoch``) and says when the scheduler steps: ``"batch"`` (after every optimizer
step) or ``"epoch"``. Extra keyword arguments go to the main torch scheduler, except the
warmup ones (``warmup_steps``, ``warmup_start_factor``), which add a ``LinearLR`` warmup
joined to it by ``SequentialLR``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch.optim import lr_scheduler as torch_sched

__all__ = ["SCHEDULER_NAMES", "parse_scheduler", "scheduler_from_name"]

SCHEDULER_NAMES = ("cosine", "onecycle", "linear_warmup_cosine", "step", "exponential")

_INTERVALS = {
    "cosine": "batch",
    "onecycle": "batch",
    "linear_warmup_cosine": "batch",
    "step": "epoch",
    "exponential": "epoch",
}


def parse_scheduler(spec: Any) -> tuple[str, dict[str, Any]]:
    """``(name, kwargs)`` of a scheduler spec: a name, or a ``(name, {kwargs})`` pair.

    Args:
        spec: ``"cosine"`` or ``("cosine", {"warmup_steps": 10})``.

    Returns:
        The lower-cased name and a copy of the keyword arguments.

    Raises:
        ValueError: for an unknown name (listing ``SCHEDULER_NAMES``) or a malformed pair.

    Example:
        >>> parse_scheduler(("cosine", {"warmup_steps": 10}))
        ('cosine', {'warmup_steps': 10})
    """
    kwargs: Any = {}
    if isinstance(spec, tuple | list) and len(spec) == 2:
        spec, kwargs = spec
    if not isinstance(spec, str) or spec.lower() not in SCHEDULER_NAMES:
        raise ValueError(
            f"Expected a scheduler name among {list(SCHEDULER_NAMES)} (or a (name, kwargs) "
            f"pair). Received: lr_scheduler={spec!r}"
        )
    if not isinstance(kwargs, Mapping):
        raise ValueError(
            f"Expected the scheduler's keyword arguments as a dict. Received: kwargs={kwargs!r}"
        )
    return spec.lower(), dict(kwargs)


def scheduler_from_name(
    name: Any,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    steps_per_epoch: int | None = None,
    **kwargs: Any,
) -> tuple[torch_sched.LRScheduler, str]:
    """A torch LR scheduler over ``optimizer`` by name, and when to step it.

    - ``"cosine"``: ``CosineAnnealingLR(T_max=epochs * steps_per_epoch)`` per batch
      (``warmup_steps=N`` adds a linear warmup over the first N steps);
    - ``"onecycle"``: ``OneCycleLR(total_steps=epochs * steps_per_epoch)`` per batch,
      ``max_lr`` defaulting to each group's current learning rate;
    - ``"linear_warmup_cosine"``: ``LinearLR`` warmup (``warmup_steps``, default a tenth of
      the steps, at least 1) then ``CosineAnnealingLR``, joined by ``SequentialLR``, per batch;
    - ``"step"``: ``StepLR`` per epoch (``step_size`` default ``max(1, epochs // 3)``,
      torch's ``gamma=0.1``);
    - ``"exponential"``: ``ExponentialLR`` per epoch (``gamma`` default 0.9).

    Args:
        name: one of ``SCHEDULER_NAMES``, or a ``(name, {kwargs})`` pair.
        optimizer: the torch optimizer.
        epochs: the number of epochs of the run.
        steps_per_epoch: optimizer steps per epoch (needed by the per-batch ones).
        **kwargs: passed to the main torch scheduler (``eta_min``, ``pct_start``, ``gamma``,
            ...); ``warmup_steps`` and ``warmup_start_factor`` (default 1e-3) shape a warmup.

    Returns:
        ``(scheduler, interval)`` with ``interval`` ``"batch"`` or ``"epoch"``.

    Raises:
        ValueError: for an unknown name, or missing/invalid ``epochs``/``steps_per_epoch``.

    Example:
        >>> opt = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
        >>> sched, interval = scheduler_from_name("onecycle", opt, epochs=2, steps_per_epoch=5)
        >>> type(sched).__name__, interval
        ('OneCycleLR', 'batch')
    """
    name, extra = parse_scheduler(name)
    kwargs = {**extra, **kwargs}
    _check_count(epochs, "epochs")
    interval = _INTERVALS[name]
    if interval == "epoch":
        return _epoch_scheduler(name, optimizer, epochs, kwargs), interval
    _check_count(steps_per_epoch, "steps_per_epoch")
    total = epochs * steps_per_epoch
    if name == "onecycle":
        lrs = [float(g["lr"]) for g in optimizer.param_groups]
        kwargs.setdefault("max_lr", lrs if len(lrs) > 1 else lrs[0])
        return torch_sched.OneCycleLR(optimizer, total_steps=total, **kwargs), interval
    warmup = kwargs.pop("warmup_steps", max(1, total // 10) if name != "cosine" else 0)
    start = kwargs.pop("warmup_start_factor", 1e-3)
    _check_warmup(warmup, total)
    if not warmup:
        return torch_sched.CosineAnnealingLR(optimizer, T_max=total, **kwargs), interval
    head = torch_sched.LinearLR(optimizer, start_factor=start, total_iters=warmup)
    tail = torch_sched.CosineAnnealingLR(optimizer, T_max=total - warmup, **kwargs)
    return torch_sched.SequentialLR(optimizer, [head, tail], milestones=[warmup]), interval


def _epoch_scheduler(
    name: str, optimizer: torch.optim.Optimizer, epochs: int, kwargs: dict[str, Any]
) -> torch_sched.LRScheduler:
    if name == "step":
        kwargs.setdefault("step_size", max(1, epochs // 3))
        return torch_sched.StepLR(optimizer, **kwargs)
    kwargs.setdefault("gamma", 0.9)
    return torch_sched.ExponentialLR(optimizer, **kwargs)


def _check_count(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Expected {name} to be an integer >= 1. Received: {name}={value!r}")


def _check_warmup(warmup: Any, total: int) -> None:
    if isinstance(warmup, bool) or not isinstance(warmup, int) or not 0 <= warmup < total:
        raise ValueError(
            f"Expected warmup_steps to be an integer in [0, {total}) (the run's "
            f"epochs * steps_per_epoch). Received: warmup_steps={warmup!r}"
        )
