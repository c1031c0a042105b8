"""ModelCheckpoint: save the model (or its weights) every epoch or every N batches, as Keras."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.monitor import Monitor
from kerasish.saving import WEIGHT_SUFFIXES, is_chief, is_sharded

__all__ = ["ModelCheckpoint"]


def _check_args(filepath, verbose, save_best_only, save_weights_only, save_freq, threshold):
    if not isinstance(filepath, str | os.PathLike) or not os.fspath(filepath):
        raise TypeError(
            f"Expected filepath to be a non-empty path. Received: filepath={filepath!r}"
        )
    if verbose not in (0, 1) or isinstance(verbose, bool):
        raise ValueError(f"Expected verbose to be 0 or 1. Received: verbose={verbose!r}")
    for name, value in (
        ("save_best_only", save_best_only),
        ("save_weights_only", save_weights_only),
    ):
        if not isinstance(value, bool):
            raise TypeError(f"Expected {name} to be True or False. Received: {name}={value!r}")
    if save_freq != "epoch" and (
        isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
    ):
        raise ValueError(
            f"Expected save_freq to be 'epoch' or a positive integer (batches). Received: save_freq={save_freq!r}"
        )
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float)
    ):
        raise TypeError(
            f"Expected initial_value_threshold to be None or a number. Received: "
            f"initial_value_threshold={threshold!r}"
        )


def _check_suffix(filepath: str, save_weights_only: bool) -> None:
    is_weights = os.path.splitext(filepath)[1].lower() in WEIGHT_SUFFIXES
    if save_weights_only and not is_weights:
        raise ValueError(
            f"Expected a weights path ending in one of {list(WEIGHT_SUFFIXES)} with "
            f"save_weights_only=True. Received: filepath={filepath!r}"
        )
    if not save_weights_only and is_weights:
        raise ValueError(
            "Expected a model file path such as 'model.{epoch:02d}.kerasish' (or "
            f"save_weights_only=True for a weights file). Received: filepath={filepath!r}"
        )


class ModelCheckpoint(Callback):
    """Save the model or its weights at the end of every epoch, or every ``save_freq`` batches.

    ``filepath`` may hold ``str.format`` fields: ``{epoch}`` (1-based, as Keras), ``{batch}``
    (1-based, with batch-level saving) and any log key, e.g.
    ``"ckpt/model.{epoch:02d}-{val_loss:.2f}.kerasish"``. Files are written atomically (a
    temporary file renamed into place), so a crash never leaves a partial checkpoint. Under
    torchrun only rank 0 writes.

    Args:
        filepath: where to save; a weights suffix (``.safetensors``, ``.pt``) with
            ``save_weights_only=True``, any other name for the whole model.
        monitor: the log key compared under ``save_best_only``.
        verbose: 1 prints a line when the callback saves (or declines to).
        save_best_only: save only when ``monitor`` improves on the best value so far.
        save_weights_only: ``model.save_weights`` instead of ``model.save``.
        mode: "min", "max", or "auto" (from the name, as ``kerasish.callbacks.monitor``:
            "max" for accuracy/AUC/precision/recall/F-score-like names, "min" otherwise).
        save_freq: "epoch", or an integer: save every that many batches (counted across
            epochs; the monitored value is then the running batch value).
        initial_value_threshold: the best value to beat at first (``save_best_only``).

    Raises:
        ValueError / TypeError: for bad arguments, when the callback is made.

    Example:
        >>> ckpt = ModelCheckpoint("ckpt/best.kerasish", monitor="val_accuracy",
        ...                        save_best_only=True)
        >>> model.fit(x, y, validation_split=0.2, epochs=10, callbacks=[ckpt])
    """

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ):
        super().__init__()
        _check_args(
            filepath, verbose, save_best_only, save_weights_only, save_freq, initial_value_threshold
        )
        self._monitor = Monitor(monitor, mode, owner="ModelCheckpoint")
        self.filepath = os.fspath(filepath)
        _check_suffix(self.filepath, save_weights_only)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = self._monitor.mode  # "min" or "max"
        self.save_freq = save_freq
        self.best: float | None = (
            None if initial_value_threshold is None else float(initial_value_threshold)
        )
        self._current_epoch = 0
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Mapping[str, Any] | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, dict(logs or {}))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, None, dict(logs or {}))

    def _should_save(self, epoch: int, logs: dict[str, Any], filepath: str) -> bool:
        if not self.save_best_only:
            self._say(f"Epoch {epoch + 1}: saving model to {filepath}")
            return True
        current = self._monitor.get(logs)
        if current is None:  # warned; Keras saves anyway
            return True
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._monitor.is_improvement(current, self.best):
            self._say(
                f"Epoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                f"saving model to {filepath}"
            )
            self.best = current
            return True
        self._say(f"Epoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _say(self, message: str) -> None:
        if self.verbose > 0:
            print(f"\n{message}", flush=True)

    def _file_path(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> str:
        fields = {**logs, "epoch": epoch + 1}
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError) as e:
            raise KeyError(
                f"Expected filepath fields among epoch, batch and the log keys {sorted(logs)}. "
                f"Received: filepath={self.filepath!r} (missing {e})"
            ) from e

    def _save(self, epoch: int, batch: int | None, logs: dict[str, Any]) -> None:
        filepath = self._file_path(epoch, batch, logs)
        if not self._should_save(epoch, logs, filepath):
            return  # the logs are reduced over ranks, so every rank decides alike
        if not is_chief() and not is_sharded(self.model):
            return  # FSDP needs every rank to gather the weights; the saving writes on rank 0
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                f"Expected a file path for ModelCheckpoint. Received: an existing directory {filepath!r}"
            )
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
