"""BackupAndRestore: back up the whole training state; a re-run after a crash resumes exactly.

The backup (``backup_dir/checkpoint.pt``, written atomically) holds the model, optimizer, LR
scheduler and grad scaler states, the epoch and the step within it, the random number generator
states (Python, NumPy, torch CPU and CUDA) with the torch state from before the epoch drew its
shuffle order, the History so far, mid-epoch the running loss/metric values, the
``state_dict()`` of every other callback that has one (EarlyStopping's best and patience,
ModelCheckpoint's best, CSVLogger's file position, ...), and the batch size, steps per epoch
and sample count of the run. At the next ``fit`` the callback checks the whole backup against
the model, optimizer and data first (nothing is changed when it does not match), loads it and
asks for a resume (``model.train_state.request_resume``); the loop replays the epoch's shuffle
order, skips the batches already done and continues, so the resumed run computes what the
uninterrupted one would have (bit for bit on CPU).

It reads and writes only public seams: ``model.state_dict()``, ``model.optimizer``,
``model.lr_scheduler``, ``model.history``, ``model.train_state`` (epoch RNG state, scaler,
counters, ``request_resume``), its metrics' and the callbacks' ``state_dict()`` /
``load_state_dict()``.
"""

from __future__ import annotations

import contextlib
import os
import random
from typing import Any

import numpy as np
import torch

from kerasish import tree
from kerasish.callbacks.callback import Callback
from kerasish.callbacks.paths import check_writable
from kerasish.distribute.fsdp import (
    full_optimizer_state_dict,
    full_state_dict,
    load_full_optimizer_state_dict,
    load_full_state_dict,
)
from kerasish.saving import is_chief, is_sharded, load_checked, save_checked
from kerasish.saving.atomic import remove_stale_temps

__all__ = ["BackupAndRestore"]

_FILE = "checkpoint.pt"
_FORMAT = "kerasish.backup"


class BackupAndRestore(Callback):
    """Back up the full training state, and resume from it when the same ``fit`` runs again.

    Put it in the callbacks of a script you may have to re-run after a crash (pre-emption,
    out-of-memory, a killed job): the re-run restores the weights, optimizer, LR scheduler,
    grad scaler, RNG states, the sampler's shuffle order and position and the History, then
    continues at the epoch and batch where the backup was made. When ``fit`` finishes, the
    backup is deleted (unless ``delete_checkpoint=False``). Generators (one-shot iterators)
    cannot be replayed: resume those at an epoch boundary with ``save_freq="epoch"``.

    Args:
        backup_dir: the directory for the backup (created when needed); use one per run.
        save_freq: "epoch" (back up at each epoch end) or an integer: back up every that many
            batches, counted across epochs.
        delete_checkpoint: delete the backup when training ends normally.

    Its hooks run after the other callbacks' (``dispatch_last``): a backup holds the state
    they reached, and their state is restored after their ``on_train_begin``. Temporary files
    left in ``backup_dir`` by a writer that was killed are removed when ``fit`` starts.

    Raises:
        ValueError / TypeError: for bad arguments; ValueError at the start of ``fit`` when
            ``backup_dir`` cannot be written, or when the backup comes from another model,
            optimizer, batch size or data size (before anything of the model is changed).

    Example:
        >>> import os
        >>> backup = BackupAndRestore("run1_backup", save_freq=500)
        >>> history = model.fit(x, y, epochs=2, callbacks=[backup], verbose=0)  # re-run after a crash
        >>> history.epoch, os.path.exists("run1_backup")  # a finished run deletes its backup
        ([0, 1], False)
    """

    dispatch_last = True

    def __init__(
        self,
        backup_dir: str | os.PathLike,
        save_freq: str | int = "epoch",
        delete_checkpoint: bool = True,
    ):
        super().__init__()
        if backup_dir is None or (
            isinstance(backup_dir, str | os.PathLike) and not os.fspath(backup_dir)
        ):  # Keras 3: ValueError("Empty `backup_dir` argument passed")
            raise ValueError(
                f"Expected backup_dir to be a non-empty path. Received: backup_dir={backup_dir!r}"
            )
        if not isinstance(backup_dir, str | os.PathLike):
            raise TypeError(
                f"Expected backup_dir to be a non-empty path. Received: backup_dir={backup_dir!r}"
            )
        if save_freq != "epoch" and (
            isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
        ):
            raise ValueError(
                "Expected save_freq to be 'epoch' or a positive integer (batches). "
                f"Received: save_freq={save_freq!r}"
            )
        if not isinstance(delete_checkpoint, bool):
            raise TypeError(
                "Expected delete_checkpoint to be True or False. "
                f"Received: delete_checkpoint={delete_checkpoint!r}"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self._path = os.path.join(self.backup_dir, _FILE)
        self._epoch = 0
        self._batches = 0
        self._callbacks: list[Any] = []

    def set_callbacks(self, callbacks: list[Any]) -> None:
        """The fit's callbacks (given by the CallbackList): their state goes in the backup."""
        self._callbacks = [cb for cb in callbacks if cb is not self]

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._epoch, self._batches = 0, 0
        check_writable(self.backup_dir, "BackupAndRestore backup_dir", is_dir=True)
        if is_chief():
            remove_stale_temps(self._path)
        if os.path.exists(self._path):
            remedy = "kerasish backups never need that: delete it or choose another backup_dir."
            corrupt = "Delete it to train from the start, or restore it from a good copy."
            self._restore(
                load_checked(
                    self._path, what=repr(self._path), remedy=remedy, corrupt_remedy=corrupt
                )
            )

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            return
        self._batches += 1
        if self._batches % self.save_freq == 0:
            self._backup(self._epoch, batch + 1, mid_epoch=True)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._backup(epoch + 1, 0, mid_epoch=False)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._callbacks = []
        if self.delete_checkpoint and is_chief():
            with contextlib.suppress(FileNotFoundError):
                os.remove(self._path)
            with contextlib.suppress(OSError):
                os.rmdir(self.backup_dir)  # only when empty

    # ------------------------------------------------------------------ backup
    def _backup(self, epoch: int, step: int, mid_epoch: bool) -> None:
        if not is_chief() and not is_sharded(self.model):
            return
        model_state = _model_state(self.model)  # FSDP: every rank gathers (a collective)
        if not is_chief():
            return
        train_state = self.model.train_state
        state = {"format": _FORMAT, "version": 2, "epoch": epoch, "step": step}
        state.update(model_state)
        state.update(_rng_state())
        state["epoch_rng_state"] = train_state.epoch_rng_state.clone() if mid_epoch else None
        state["history"] = _history_state(self.model)
        state["metrics"] = [m.state_dict() for m in train_state.metrics] if mid_epoch else None
        feed = train_state.train_feed
        state["data_state"] = None if feed is None else feed.state_dict(epoch_start=mid_epoch)
        state["batches_seen"] = self._batches
        state["data"] = _data_signature(self.params)
        state["callbacks"] = _cpu(_callback_states(self._callbacks))
        save_checked(state, self._path)

    # ------------------------------------------------------------------ restore
    def _restore(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(
                f"Expected a kerasish backup in {self._path!r}. Received: a file of another "
                "format; delete it or choose another backup_dir"
            )
        _check_matches(self.model, state, self._path, self.params)
        _load_model_state(self.model, state, self._path)
        _set_rng_state(state)
        _load_history(self.model, state["history"])
        _load_callback_states(self._callbacks, state.get("callbacks") or {})
        self._batches = state["batches_seen"]
        self._epoch = state["epoch"]
        mid_epoch = state["epoch_rng_state"] is not None
        self.model.train_state.request_resume(
            epoch=state["epoch"],
            step=state["step"],
            # At an epoch boundary the torch RNG is set before the epoch draws its order.
            epoch_rng_state=state["epoch_rng_state"] if mid_epoch else state["rng_state"],
            rng_state=state["rng_state"] if mid_epoch else None,
            # called by the loop right after the resumed epoch resets its metrics
            restore_metrics=_metrics_loader(self.model, state["metrics"]),
            data_state=state.get("data_state"),
        )


# ---------------------------------------------------------------------- model state


def _model_state(model: Any) -> dict[str, Any]:
    train_state = model.train_state
    sched, scaler = model.lr_scheduler, train_state.scaler
    micro, accum = train_state.micro_step, train_state.accum_steps
    grads = None
    if accum > 1 and micro % accum:  # a backup in the middle of gradient accumulation
        grads = {
            n: p.grad.detach().cpu() for n, p in model.named_parameters() if p.grad is not None
        }
    return {
        "model": _cpu(full_state_dict(model)),
        "optimizer": None if model.optimizer is None else _optimizer_state(model),
        "lr_scheduler": None if sched is None else _cpu(sched.state_dict()),
        "scaler": None if scaler is None else scaler.state_dict(),
        "train_counter": train_state.train_counter,
        "micro_step": micro,
        "grads": grads,
    }


def _optimizer_state(model: Any) -> dict[str, Any]:
    """The optimizer's whole state dict on the CPU (gathered under FSDP), with its class name
    (checked at restore)."""
    optimizer = model.optimizer
    state = full_optimizer_state_dict(model, optimizer)
    return {**_cpu(state), "kerasish_class": type(optimizer).__name__}


def _cpu(obj: Any) -> Any:
    """``obj`` with every tensor detached and on the CPU."""
    return tree.map_structure(lambda v: v.detach().cpu() if isinstance(v, torch.Tensor) else v, obj)


def _load_model_state(model: Any, state: dict[str, Any], path: str) -> None:
    try:
        load_full_state_dict(model, state["model"])  # FSDP: each rank keeps its shard
        if state["optimizer"] is not None:
            saved = {k: v for k, v in state["optimizer"].items() if k != "kerasish_class"}
            load_full_optimizer_state_dict(model, model.optimizer, saved)
    except (RuntimeError, ValueError, KeyError) as e:
        raise ValueError(
            f"Expected the backup in {path!r} to come from this model and optimizer. "
            f"Received: {e}. Delete it, or use another backup_dir."
        ) from e
    train_state = model.train_state
    if state["lr_scheduler"] is not None and model.lr_scheduler is not None:
        model.lr_scheduler.load_state_dict(state["lr_scheduler"])
    if state["scaler"] is not None and train_state.scaler is not None:
        train_state.scaler.load_state_dict(state["scaler"])
    train_state.train_counter = state["train_counter"]
    train_state.micro_step = state["micro_step"]
    if state["grads"] is not None:
        params = dict(model.named_parameters())
        for name, grad in state["grads"].items():
            params[name].grad = grad.to(params[name].device)


# ---------------------------------------------------------------------- checks


def _check_matches(model: Any, state: dict[str, Any], path: str, params: dict) -> None:
    """Raise, before anything is loaded, when the backup is not of this model/optimizer/data."""
    problems = _tensor_problems(model.state_dict(), state["model"])
    if state["optimizer"] is not None and model.optimizer is not None:
        problems += _optimizer_problems(model.optimizer, state["optimizer"])
    if problems:
        raise ValueError(
            f"Expected the backup in {path!r} to come from this model and optimizer. "
            f"Received: {'; '.join(problems[:6])}. Delete it, or use another backup_dir."
        )
    saved, current = state.get("data") or {}, _data_signature(params)
    diffs = [
        f"{k}={saved[k]!r} in the backup, {k}={current[k]!r} now"
        for k in current
        if saved.get(k) is not None and current[k] is not None and saved[k] != current[k]
    ]
    if diffs:
        raise ValueError(
            f"Expected the backup in {path!r} to come from a run with the same batch_size and "
            f"data (a resume replays the same batches). Received: {'; '.join(diffs)}. Delete "
            "it, or use another backup_dir."
        )


def _tensor_problems(current: dict[str, Any], saved: Any) -> list[str]:
    if not isinstance(saved, dict):
        return [f"model state of type {type(saved).__name__}"]
    problems = [f"missing {k}" for k in current if k not in saved]
    problems += [f"unexpected {k}" for k in saved if k not in current]
    for k, v in current.items():
        s = saved.get(k)
        if isinstance(v, torch.Tensor) and isinstance(s, torch.Tensor) and s.shape != v.shape:
            problems.append(f"{k} of shape {tuple(s.shape)} (the model's: {tuple(v.shape)})")
    return problems


def _optimizer_problems(optimizer: Any, saved: dict[str, Any]) -> list[str]:
    groups, saved_groups = optimizer.param_groups, saved.get("param_groups", [])
    if len(groups) != len(saved_groups):
        return [f"{len(saved_groups)} optimizer param groups (the optimizer's: {len(groups)})"]
    kind = saved.get("kerasish_class")
    if kind is not None and kind != type(optimizer).__name__:
        return [f"optimizer={kind} (the model's: {type(optimizer).__name__})"]
    sizes = [(len(s["params"]), len(g["params"])) for s, g in zip(saved_groups, groups)]
    if any(a != b for a, b in sizes):
        return [
            f"optimizer param groups of sizes {[a for a, _ in sizes]} (now {[b for _, b in sizes]})"
        ]
    index = {i: p for s, g in zip(saved_groups, groups) for i, p in zip(s["params"], g["params"])}
    problems = []
    for i, entry in saved.get("state", {}).items():
        p = index.get(i)
        for k, v in entry.items() if p is not None else ():
            if isinstance(v, torch.Tensor) and v.dim() == p.dim() > 0 and v.shape != p.shape:
                problems.append(
                    f"optimizer state {k} of shape {tuple(v.shape)} for a parameter of shape {tuple(p.shape)}"
                )
    return problems


def _data_signature(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params.get(k) for k in ("batch_size", "steps", "samples")}


# ---------------------------------------------------------------------- callback state


def _keyed(callbacks: list[Any]) -> list[tuple[str, Any]]:
    """``(ClassName[i], callback)``: i counts the callbacks of that class, in list order."""
    seen: dict[str, int] = {}
    out = []
    for cb in callbacks:
        name = type(cb).__name__
        out.append((f"{name}[{seen.get(name, 0)}]", cb))
        seen[name] = seen.get(name, 0) + 1
    return out


def _callback_states(callbacks: list[Any]) -> dict[str, Any]:
    states = {}
    for key, cb in _keyed(callbacks):
        state = cb.state_dict() if callable(getattr(cb, "state_dict", None)) else None
        if state:
            states[key] = state
    return states


def _load_callback_states(callbacks: list[Any], saved: dict[str, Any]) -> None:
    for key, cb in _keyed(callbacks):
        if key in saved and callable(getattr(cb, "load_state_dict", None)):
            cb.load_state_dict(saved[key])


# ---------------------------------------------------------------------- RNG and history


def _rng_state() -> dict[str, Any]:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else []
    return {
        "rng_state": torch.get_rng_state(),
        "cuda_rng_states": cuda,
        "python_rng": random.getstate(),
        "numpy_rng": (name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["rng_state"])
    cuda = state["cuda_rng_states"]
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    random.setstate(state["python_rng"])
    name, keys, pos, has_gauss, cached = state["numpy_rng"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))


def _history_state(model: Any) -> dict[str, Any]:
    history = model.history
    return {
        "history": {k: list(v) for k, v in history.history.items()},
        "epoch": list(history.epoch),
    }


def _load_history(model: Any, saved: dict[str, Any]) -> None:
    model.history.history = {k: list(v) for k, v in saved["history"].items()}
    model.history.epoch = list(saved["epoch"])


# ---------------------------------------------------------------------- metric state


def _metrics_loader(model: Any, saved: list[dict[str, Any]] | None) -> Any:
    """A function putting the backed-up running metric values back (None: nothing saved)."""
    if saved is None:
        return None

    def load() -> None:
        for metric, state in zip(model.train_state.metrics, saved):
            metric.load_state_dict(state)

    return load
