"""TrainState: where a model is in its training, and the live objects of the running loop.

One ``TrainState`` per model (``model.train_state``), made with the model and kept across
``compile`` and ``fit`` calls. It holds the counters a checkpoint needs to resume exactly
(epoch, step, micro-step, batches trained, the RNG state the epoch drew its order from), the
tracked metrics and their lazy logs, the GradScaler, and the resume point a callback such as
``BackupAndRestore`` asks for. The loop (``kerasish.training.loop``) reads and advances it;
callbacks read it; nothing else keeps training state on the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import torch

from kerasish.metrics import Mean

__all__ = ["TrainState", "BatchLogs", "Resume", "LossTracker"]


class LossTracker(Mean):
    """The running loss: the mean of the batch losses weighted by their batch sizes (Keras's
    loss tracker), with a per-batch update of one in-place kernel and a host addition.

    Example:
        >>> t = LossTracker(name="loss")
        >>> t.add_batch(torch.tensor(2.0), 3)
        >>> t.add_batch(torch.tensor(4.0), 1)
        >>> t.result()
        tensor(2.5000)
    """

    def add_batch(self, loss: torch.Tensor, n: int) -> None:
        """Add a batch's (detached) mean loss over ``n`` samples; the state must be on the
        loss's device already (the trainer moves it there). A non-scalar loss is averaged
        per sample, as ``Mean.update_state``."""
        if loss.ndim:
            self.update_state(loss, sample_weight=n)
            return
        self.total.add_(loss, alpha=n)
        self.count += n


class BatchLogs(MutableMapping):
    """The running loss and metrics, read from the device only when a key is read.

    One object serves a whole loop: no dict is built per batch, and nothing waits for the
    device unless a callback reads a value. It is mutable, as the dict Keras's steps return:
    ``logs["name"] = value`` (a tensor or a number) adds a log, kept as given until read,
    that the epoch's logs (and ``History``) show with its last value; ``reset`` (at each
    epoch's start) drops the added logs.

    Example:
        >>> logs = BatchLogs([])
        >>> logs["gap"] = torch.tensor(0.5)
        >>> dict(logs)
        {'gap': 0.5}
    """

    def __init__(self, tracked: list[Any]):
        self.tracked = {m.name: m for m in tracked}
        self.added: dict[str, Any] = {}

    def __getitem__(self, key: str) -> float:
        if key in self.added:
            return float(self.added[key])
        return float(self.tracked[key].result())

    def __setitem__(self, key: str, value: Any) -> None:
        self.added[key] = value

    def __delitem__(self, key: str) -> None:
        if key in self.added:
            del self.added[key]
        else:
            del self.tracked[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.tracked
        yield from (k for k in self.added if k not in self.tracked)

    def __len__(self) -> int:
        return len(self.tracked) + sum(1 for k in self.added if k not in self.tracked)

    def reset(self) -> None:
        """Drop the logs added with ``logs[key] = value``."""
        self.added.clear()

    def snapshot(self) -> dict[str, float]:
        """Every value as a float (one host sync)."""
        values = {k: m.result() for k, m in self.tracked.items()}
        values.update(self.added)
        tensors = {k: v for k, v in values.items() if isinstance(v, torch.Tensor)}
        out = {k: float(v) for k, v in values.items() if k not in tensors}
        if tensors:
            stacked = torch.stack([v.detach().float().reshape(()).cpu() for v in tensors.values()])
            out.update(zip(tensors, stacked.tolist()))
        return {k: out[k] for k in values}


@dataclass
class Resume:
    """Where the next ``fit`` starts: an epoch, the batches of it already done, and the RNG
    states that replay its order (see ``TrainState.request_resume``)."""

    epoch: int
    step: int = 0
    epoch_rng_state: torch.Tensor | None = None
    rng_state: torch.Tensor | None = None
    restore_metrics: Callable[[], None] | None = None
    data_state: dict[str, Any] | None = None


@dataclass
class TrainState:
    """The training position and live loop objects of one model.

    Attributes:
        epoch: the current (or last) epoch index.
        step: batches done in the current epoch.
        micro_step: backward passes since training began (the optimizer steps every
            ``accum_steps`` of them).
        accum_steps: ``gradient_accumulation_steps`` of the running fit.
        train_counter: batches trained over all fits.
        epoch_rng_state: torch's RNG state just before the current epoch drew its order.
        scaler: the fp16 GradScaler, or None.
        metrics: the tracked loss and compiled metrics (``model.metrics``).
        logs: the lazy ``BatchLogs`` over ``metrics``.
        forward_module: None, or the wrapper (DDP) that ``forward_batch`` calls while a
            training loop runs.
        resume: the resume point asked for by ``request_resume`` (taken by the next fit).
        loss_tracker: the ``Mean`` of the loss (``metrics[0]`` when there is a loss).
        clipping: the optimizer recipe's gradient clipping, or None.
        trainable_params: the parameters clipping applies to.
        grad_check: the distributed gradient check run before each step, or None.
        jit_fn: the ``torch.compile``'d forward+loss (``jit_compile``), or None.
        batch_schedule: True when the LR scheduler steps per batch.
        train_feed: the running fit's training ``Feed`` (its ``state_dict`` holds where a
            ``steps_per_epoch`` epoch left the data, for checkpoints), or None.
        ema_callback: the ``SwapEMAWeights`` that ``compile(ema=...)`` added (kept across
            fits, so they continue one average), or None.

    Example:
        >>> state = TrainState()
        >>> state.request_resume(epoch=2)
        >>> state.take_resume().epoch
        2
    """

    epoch: int = 0
    step: int = 0
    micro_step: int = 0
    accum_steps: int = 1
    train_counter: int = 0
    epoch_rng_state: torch.Tensor | None = None
    scaler: Any = None
    metrics: list[Any] = field(default_factory=list)
    logs: BatchLogs | None = None
    forward_module: Any = None
    resume: Resume | None = None
    loss_tracker: Any = None
    clipping: Any = None
    trainable_params: list[Any] = field(default_factory=list)
    grad_check: Any = None
    jit_fn: Any = None
    batch_schedule: bool = False
    train_feed: Any = None
    ema_callback: Any = None

    def request_resume(
        self,
        epoch: int,
        step: int = 0,
        epoch_rng_state: torch.Tensor | None = None,
        rng_state: torch.Tensor | None = None,
        restore_metrics: Callable[[], None] | None = None,
        data_state: dict[str, Any] | None = None,
    ) -> None:
        """Make the next ``fit`` start at ``epoch`` with ``step`` batches of it done.

        Args:
            epoch: the epoch to start at.
            step: batches of that epoch already trained (they are skipped, in the same order).
            epoch_rng_state: torch RNG state to set before the epoch draws its order.
            rng_state: torch RNG state to set after the skipped batches (mid-epoch resumes).
            restore_metrics: called right after the resumed epoch resets its metrics.
            data_state: the training feed's ``state_dict`` (where the data stood).
        """
        self.resume = Resume(epoch, step, epoch_rng_state, rng_state, restore_metrics, data_state)

    def take_resume(self) -> Resume | None:
        """The pending resume point, cleared."""
        resume, self.resume = self.resume, None
        return resume

    def state_dict(self) -> dict[str, Any]:
        """The counters (for checkpoints); the scaler's state when there is one."""
        return {
            "epoch": self.epoch,
            "step": self.step,
            "micro_step": self.micro_step,
            "train_counter": self.train_counter,
            "scaler": None if self.scaler is None else self.scaler.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned."""
        self.epoch, self.step = int(state["epoch"]), int(state["step"])
        self.micro_step, self.train_counter = int(state["micro_step"]), int(state["train_counter"])
        if state.get("scaler") is not None and self.scaler is not None:
            self.scaler.load_state_dict(state["scaler"])

    def __getstate__(self) -> dict[str, Any]:
        # A copy or pickle of the model leaves the DDP wrapper behind.
        state = dict(self.__dict__)
        state["forward_module"] = None
        state["train_feed"] = None
        return state
