"""EarlyStopping: stop training when a monitored metric has stopped improving (Keras 3 rules)."""

from __future__ import annotations

from typing import Any

import torch

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.monitor import Monitor

__all__ = ["EarlyStopping"]


def _non_negative_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(
            f"Expected {name} to be a non-negative integer. Received: {name}={value!r}"
        )
    return value


class EarlyStopping(Callback):
    """Stop training when a monitored metric has stopped improving.

    At the end of each epoch (from ``start_from_epoch`` on) the monitored value is compared with
    the best so far. An epoch whose value does not beat the best by more than ``min_delta``
    adds one to ``wait``; when ``wait`` reaches ``patience`` training stops (never at epoch 0).
    With a ``baseline``, ``wait`` is reset only by values that beat the baseline too, so
    training stops after ``patience`` epochs that fail to reach it.

    With ``restore_best_weights=True`` the model's state dict (parameters and buffers, cloned on
    the model's device) is kept from the best epoch and loaded back at the end of training,
    whether or not training stopped early (Keras 3's behaviour).

    Args:
        monitor: the log key to watch.
        min_delta: the least change that counts as an improvement.
        patience: epochs without improvement after which training stops.
        verbose: 1 prints a line when training stops and when weights are restored.
        mode: "auto", "min" or "max" ("auto" maximises accuracy/AUC-like names).
        baseline: a value the metric must beat; epochs that do not beat it count against
            patience.
        restore_best_weights: load the best epoch's weights at the end of training.
        start_from_epoch: epochs to wait before starting to monitor (a warm-up).

    Attributes:
        stopped_epoch: the epoch training stopped at (0 when it did not stop early).
        best, best_epoch, best_weights, wait: the state of the comparison.

    Raises:
        ValueError / TypeError: for a bad argument; ValueError at the first epoch end when
            ``mode="auto"`` and ``monitor`` is neither ``loss`` nor one of the model's metrics
            (with or without ``val_``), as in Keras 3.

    Example:
        >>> stop = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        >>> history = model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[stop], verbose=0)
        >>> stop.best == min(history.history["val_loss"])  # the best weights are back in model
        True
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ):
        super().__init__()
        self._monitor = Monitor(monitor, mode, min_delta, owner="Early stopping")
        if baseline is not None and (
            isinstance(baseline, bool) or not isinstance(baseline, int | float)
        ):
            raise TypeError(f"Expected baseline to be a number. Received: baseline={baseline!r}")
        self.monitor = monitor
        self.mode = mode
        self.min_delta = self._monitor.min_delta
        self.patience = _non_negative_int(patience, "patience")
        self.start_from_epoch = _non_negative_int(start_from_epoch, "start_from_epoch")
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.best_epoch = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def state_dict(self) -> dict[str, Any]:
        """``wait``, ``stopped_epoch``, ``best``, ``best_epoch`` and ``best_weights``."""
        return {
            "wait": self.wait,
            "stopped_epoch": self.stopped_epoch,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "best_weights": self.best_weights,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``; the best weights go to the model's devices."""
        self.wait, self.stopped_epoch = int(state["wait"]), int(state["stopped_epoch"])
        self.best = None if state["best"] is None else float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        weights = state["best_weights"]
        if weights is not None and self.model is not None:
            current = self.model.state_dict()
            weights = {
                k: v.to(current[k].device) if k in current else v for k, v in weights.items()
            }
        self.best_weights = weights

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._monitor.resolve(self.model)  # Keras 3: "auto" with an unknown key raises here
        current = self._monitor.get(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self._keep_weights(epoch)
        self.wait += 1
        if self._monitor.is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self._keep_weights(epoch)
            if self.baseline is None or self._monitor.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", flush=True)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}.",
                    flush=True,
                )
            self.model.load_state_dict(self.best_weights)

    def _keep_weights(self, epoch: int) -> None:
        self.best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        self.best_epoch = epoch
