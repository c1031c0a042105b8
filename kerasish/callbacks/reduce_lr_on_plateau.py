"""ReduceLROnPlateau: multiply the learning rate by ``factor`` when a metric stops improving."""

from __future__ import annotations

from typing import Any

import torch

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.monitor import Monitor

__all__ = ["ReduceLROnPlateau", "get_lr", "set_lr"]


def get_lr(group: dict[str, Any]) -> float:
    """The learning rate of a torch optimizer's param group, as a float."""
    lr = group["lr"]
    return float(lr.item() if isinstance(lr, torch.Tensor) else lr)


def set_lr(group: dict[str, Any], lr: float) -> None:
    """Set a param group's learning rate (in place when it is a tensor, as torch allows)."""
    if isinstance(group["lr"], torch.Tensor):
        group["lr"].fill_(lr)
    else:
        group["lr"] = lr


class ReduceLROnPlateau(Callback):
    """Reduce the learning rate when a metric has stopped improving.

    After ``patience`` epochs whose monitored value does not beat the best by more than
    ``min_delta``, every param group of ``model.optimizer`` gets ``lr * factor`` (never below
    ``min_lr``); then ``cooldown`` epochs pass before epochs count against patience again.
    At each epoch end it first writes the rate the epoch trained with (param group 0's) into
    ``logs["learning_rate"]``, as Keras does, so the callbacks after it (``History``,
    ``CSVLogger`` placed after it, the progress bar) show it; a reduction applies from the next
    epoch, so ``history.history["learning_rate"]`` shows it one epoch after the plateau.
    ``best`` is None until the first monitored value (Keras 3).

    Args:
        monitor: the log key to watch.
        factor: the multiplier of the learning rate, in [0, 1).
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints a line at each reduction.
        mode: "auto", "min" or "max" ("auto" maximises accuracy/AUC-like names).
        min_delta: the least change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the lower bound of the learning rate.

    Raises:
        ValueError: for ``factor >= 1`` or another bad argument; at the first epoch end when
            ``mode="auto"`` and ``monitor`` is neither ``loss`` nor one of the model's metrics
            (Keras 3).

    Example:
        >>> reduce = ReduceLROnPlateau(monitor="val_loss", factor=0.2, patience=5, min_lr=1e-5)
        >>> history = model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[reduce], verbose=0)
        >>> min(history.history["learning_rate"]) >= 1e-5  # never below min_lr
        True
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ):
        super().__init__()
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor >= 1.0:
            raise ValueError(
                f"Expected factor to be a number below 1.0. Received: factor={factor!r}"
            )
        if factor < 0:
            raise ValueError(f"Expected factor to be >= 0. Received: factor={factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(
                    f"Expected {name} to be a non-negative integer. Received: {name}={value!r}"
                )
        if isinstance(min_lr, bool) or not isinstance(min_lr, int | float) or min_lr < 0:
            raise ValueError(f"Expected min_lr to be a number >= 0. Received: min_lr={min_lr!r}")
        self._monitor = Monitor(monitor, mode, min_delta, owner="Learning rate reduction")
        self.monitor, self.mode, self.min_delta = monitor, mode, self._monitor.min_delta
        self.factor, self.min_lr = float(factor), float(min_lr)
        self.patience, self.cooldown, self.verbose = patience, cooldown, verbose
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.cooldown_counter = 0
        self.best: float | None = None

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def state_dict(self) -> dict[str, Any]:
        """``wait``, ``cooldown_counter`` and ``best`` (the rates live in the optimizer)."""
        return {"wait": self.wait, "cooldown_counter": self.cooldown_counter, "best": self.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``."""
        self.wait, self.cooldown_counter = int(state["wait"]), int(state["cooldown_counter"])
        self.best = None if state["best"] is None else float(state["best"])

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {} if logs is None else logs
        optimizer = getattr(self.model, "optimizer", None)
        if getattr(optimizer, "param_groups", None):
            logs["learning_rate"] = get_lr(optimizer.param_groups[0])  # before any reduction
        self._monitor.resolve(self.model)
        current = self._monitor.get(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._monitor.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, epoch: int) -> bool:
        """Reduce every param group's rate; False when all are already at ``min_lr``."""
        reduced = False
        for group in self.model.optimizer.param_groups:
            old = get_lr(group)
            new = max(old * self.factor, self.min_lr)
            if new < old:
                set_lr(group, new)
                reduced = True
        if reduced and self.verbose > 0:
            new = get_lr(self.model.optimizer.param_groups[0])
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
        return reduced
