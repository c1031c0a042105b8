"""LearningRateScheduler: set the learning rate at the start of each epoch from a function.

For torch's own schedulers (StepLR, OneCycleLR, ReduceLROnPlateau, ...) pass them to
``compile(lr_scheduler=...)`` instead: the trainer steps them per epoch or per batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from numbers import Real
from typing import Any

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.reduce_lr_on_plateau import get_lr, set_lr

__all__ = ["LearningRateScheduler"]


def _takes_lr(schedule: Callable) -> bool:
    """True when ``schedule`` accepts ``(epoch, lr)``; False for the old ``schedule(epoch)``."""
    try:
        sig = inspect.signature(schedule)
    except (TypeError, ValueError):
        return True
    positional = [
        p
        for p in sig.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in positional)


class LearningRateScheduler(Callback):
    """Set the learning rate at the beginning of every epoch to ``schedule(epoch, lr)``.

    ``epoch`` is the absolute epoch index (``initial_epoch`` included) and ``lr`` the current
    rate. Each param group of the torch optimizer is scheduled on its own rate, so groups
    with different rates keep their ratio under multiplicative schedules. A one-argument
    ``schedule(epoch)`` (Keras's old API) is accepted too. At each epoch end the rate (param
    group 0's) goes into ``logs["learning_rate"]``, as Keras's does, for the callbacks after it
    (``History``, the progress bar).

    Args:
        schedule: a function ``(epoch: int, lr: float) -> float``.
        verbose: 1 prints the new rate each epoch.

    Raises:
        TypeError: when ``schedule`` is not callable.
        ValueError: (during fit) when ``schedule`` returns something that is not a number.

    Example:
        >>> def schedule(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> history = model.fit(x, y, epochs=15, callbacks=[LearningRateScheduler(schedule)], verbose=0)
        >>> round(model.optimizer.param_groups[0]["lr"], 6)  # 0.001 * 0.9 ** 5
        0.00059
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                f"Expected schedule to be a function (epoch, lr) -> lr. "
                f"Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _takes_lr(schedule)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not getattr(optimizer, "param_groups", None):
            raise ValueError(
                f"Expected the model to have a torch optimizer. Received: optimizer={optimizer!r}"
            )
        for group in optimizer.param_groups:
            set_lr(group, self._next_lr(epoch, get_lr(group)))
        if self.verbose > 0:
            lr = get_lr(optimizer.param_groups[0])
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Write the epoch's rate (param group 0's) into ``logs["learning_rate"]``, as Keras."""
        optimizer = getattr(self.model, "optimizer", None)
        if logs is not None and getattr(optimizer, "param_groups", None):
            logs["learning_rate"] = get_lr(optimizer.param_groups[0])

    def _next_lr(self, epoch: int, lr: float) -> float:
        out = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        new = _as_float(out)
        if new is None:
            raise ValueError(
                f"Expected the output of the schedule function to be a float. Received: {out!r}"
            )
        return new


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Real):
        return float(value)
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return float(value.item())
    return None
