"""ModelCheckpoint: save the model (or its weights) every epoch or every N batches, as Keras."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping
from typing import Any

import torch

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.monitor import Monitor
from kerasish.callbacks.paths import check_format, check_writable
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
    torchrun only rank 0 writes. A checkpoint is never written when the epoch's loss, the
    monitored value or a weight is not finite (NaN/inf): the callback warns and keeps the
    previous file (the weights are checked once per save, never per batch).

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
        ValueError / TypeError: for bad arguments, when the callback is made; ValueError at
            the start of ``fit`` for a ``filepath`` with bad syntax or unknown fields, or one
            that cannot be written (under a regular file, in a read-only directory); ValueError
            at the first save when ``mode="auto"`` and ``monitor`` is neither ``loss`` nor one
            of the model's metrics (Keras 3).

    Example:
        >>> import os
        >>> ckpt = ModelCheckpoint("ckpt/best.kerasish", monitor="val_accuracy",
        ...                        save_best_only=True)
        >>> history = model.fit(x, y, validation_split=0.2, epochs=3, callbacks=[ckpt], verbose=0)
        >>> os.listdir("ckpt"), ckpt.best == max(history.history["val_accuracy"])
        (['best.kerasish'], True)
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
        if save_freq == "epoch":  # saved per epoch: never called per batch
            self.skipped_hooks = frozenset({"on_train_batch_end"})

    def on_train_begin(self, logs: dict | None = None) -> None:
        check_format(self.filepath, _known_fields(self.model, self.save_freq != "epoch"))
        check_writable(self.filepath.format_map(_Any()), "ModelCheckpoint filepath")

    def state_dict(self) -> dict[str, Any]:
        """``best`` and the batches counted towards ``save_freq`` since the last save."""
        return {"best": self.best, "batches_since_save": self._batches_since_save}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``: a resumed run never overwrites a better best file."""
        self.best = None if state["best"] is None else float(state["best"])
        self._batches_since_save = int(state["batches_since_save"])

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

    def _should_save(self, epoch: int, logs: dict[str, Any], filepath: str) -> tuple[bool, str]:
        """Whether to save, and the line ``verbose=1`` prints about it."""
        if not self.save_best_only:
            return True, f"Epoch {epoch + 1}: saving model to {filepath}"
        current = self._monitor.get(logs)
        if current is None:  # warned; Keras saves anyway
            return True, ""
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._monitor.is_improvement(current, self.best):
            return True, (
                f"Epoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                f"saving model to {filepath}"
            )
        return False, f"Epoch {epoch + 1}: {self.monitor} did not improve from {best}"

    def _not_finite(self, logs: dict[str, Any]) -> str | None:
        """What is not finite (the loss, the monitored value, the weights), or None."""
        for key in dict.fromkeys(("loss", self.monitor)):
            value = logs.get(key)
            if isinstance(value, int | float) and not math.isfinite(value):
                return f"{key}={value}"
        if is_sharded(self.model):
            return None  # each rank holds a shard: the logs (reduced) decide alike
        flags = [torch.isfinite(p.detach()).all() for p in self.model.parameters()]
        if flags and not torch.stack([f.to(flags[0].device) for f in flags]).all().item():
            return "some weights are NaN or inf"
        return None

    def _say(self, message: str) -> None:
        if self.verbose > 0 and message:
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
        self.mode = self._monitor.resolve(self.model)  # Keras 3: "auto", unknown key: raise
        filepath = self._file_path(epoch, batch, logs)
        save, message = self._should_save(epoch, logs, filepath)
        if not save:
            self._say(message)  # the logs are reduced over ranks, so every rank decides alike
            return
        bad = self._not_finite(logs)
        if bad is not None:
            warnings.warn(
                f"ModelCheckpoint did not save {filepath!r} at epoch {epoch + 1}: {bad}. "
                "The previous checkpoint is kept.",
                stacklevel=2,
            )
            return
        self._say(message)
        if self.save_best_only and logs.get(self.monitor) is not None:
            self.best = float(logs[self.monitor])
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


class _Any(dict):
    """Format fields: every name reads as 1, so a template gives a sample path."""

    def __missing__(self, key: str) -> int:
        return 1


def _known_fields(model: Any, batch_level: bool) -> list[str] | None:
    """The names ``filepath`` may use (the keys of the logs it is saved with, ``epoch`` and, per
    batch, ``batch``); None (any) when the model has its own train or test step."""
    default_steps = getattr(model, "has_default_steps", None)
    if default_steps is None or not default_steps():
        return None
    names = ["loss", *(m.name for m in getattr(model, "metrics", []))]
    if batch_level:
        return ["epoch", "batch", *names]
    return ["epoch", "learning_rate", *names, *(f"val_{n}" for n in names)]
