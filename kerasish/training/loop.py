"""The loops: run_epochs -> train_epoch -> test_loop, and predict_loop.

Each loop iterates a ``Feed`` (``kerasish.data``: batches already on the device), calls the
model's public step (``train_step``/``test_step``/``predict_step``) and the callbacks' hooks
(only those some callback overrides: a ``CallbackList`` attribute is None otherwise), and
keeps ``model.train_state`` up to date. Per batch: one step, the hooks that exist, one
stop check; no host sync.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from kerasish import data as data_lib

__all__ = [
    "run_epochs",
    "train_epoch",
    "test_loop",
    "predict_loop",
    "final_logs",
    "should_validate",
]


def run_epochs(model: Any, train: Any, val: Any, cbs: Any, plan: Mapping[str, Any]) -> dict:
    """Epochs ``plan["initial_epoch"]`` to ``plan["epochs"]``, with validation; the last logs.

    ``plan`` holds fit's ``initial_epoch``, ``epochs``, ``steps_per_epoch``,
    ``validation_steps`` and ``validation_freq``.
    """
    logs: dict[str, float] = {}
    resume = model.train_state.take_resume()
    start = plan["initial_epoch"] if resume is None else resume.epoch
    for epoch in range(start, plan["epochs"]):
        model.train_state.epoch = epoch
        if cbs.on_epoch_begin:
            cbs.on_epoch_begin(epoch, None)
        logs = train_epoch(model, train, cbs, plan["steps_per_epoch"], resume)
        resume = None
        if val is not None and should_validate(epoch, plan["validation_freq"]):
            val_logs = test_loop(model, val, cbs, plan["validation_steps"])
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        _end_epoch_schedules(model, logs)
        if cbs.on_epoch_end:
            cbs.on_epoch_end(epoch, logs)
        model.stop_training = model.strategy.any(model.stop_training)
        if model.stop_training:
            break
        if train.exhausted:
            data_lib.warn_exhausted()
            break
    return logs


def train_epoch(model: Any, feed: Any, cbs: Any, steps: int | None, resume: Any = None) -> dict:
    """One epoch of ``train_step`` over ``feed``; the epoch's logs as floats."""
    state, strategy = model.train_state, model.strategy
    model.train()
    _reset(state.metrics)
    if resume is not None and resume.restore_metrics is not None:
        resume.restore_metrics()  # the running means of a mid-epoch checkpoint
    begin = cbs.on_train_batch_begin
    end = strategy.stop_agreement(cbs, cbs.on_train_batch_end, model)
    step_fn = model.train_step
    logs: Mapping[str, Any] = state.logs
    it, start = _epoch_batches(model, feed, steps, resume)
    step = start - 1
    with strategy.training_forward(model):
        for step, batch in enumerate(it, start):
            if begin:
                begin(step, None)
            logs = step_fn(batch)
            if end:
                end(step, logs)
            if model.stop_training:
                break
    state.step = step + 1
    state.train_counter += step + 1 - start
    out = final_logs(model, logs)
    if model.optimizer is not None:
        out["learning_rate"] = float(model.optimizer.param_groups[0]["lr"])
    return out


def _epoch_batches(model: Any, feed: Any, steps: int | None, resume: Any) -> tuple[Iterator, int]:
    """This epoch's batches; when resuming, replay the epoch's order and skip done steps.

    ``train_state.epoch_rng_state`` is the torch RNG state before the epoch drew its order,
    kept so a checkpoint can resume mid-epoch exactly (see ``BackupAndRestore``).
    """
    state = model.train_state
    if resume is not None and resume.epoch_rng_state is not None:
        torch.set_rng_state(resume.epoch_rng_state)
    state.epoch_rng_state = torch.get_rng_state()
    it = iter(feed.epoch(state.epoch, steps))
    start = 0 if resume is None else resume.step
    if start:
        next(itertools.islice(it, start - 1, None), None)  # skip the batches already done
    if resume is not None and resume.rng_state is not None:
        torch.set_rng_state(resume.rng_state)
    return it, start


def _end_epoch_schedules(model: Any, logs: dict[str, float]) -> None:
    sched = model.lr_scheduler
    if sched is None or model.compile_config.scheduler_interval != "epoch":
        return
    if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
        sched.step(logs.get("val_loss", logs.get("loss")))
    else:
        sched.step()


def test_loop(model: Any, feed: Any, cbs: Any, steps: int | None) -> dict[str, float]:
    """``test_step`` over ``feed`` without gradients; the logs as floats."""
    model.eval()
    _reset(model.train_state.metrics)
    begin, end = cbs.on_test_batch_begin, cbs.on_test_batch_end
    if cbs.on_test_begin:
        cbs.on_test_begin(None)
    logs: Mapping[str, Any] = model.train_state.logs
    most = model.strategy.eval_steps(feed.source, steps)
    step, batch = -1, None
    with torch.no_grad():
        for step, batch in enumerate(feed.epoch(None, steps)):
            if begin:
                begin(step, None)
            logs = model.test_step(batch)
            if end:
                end(step, logs)
        for _ in range(0 if most is None or batch is None else most - step - 1):
            model.forward_batch(batch[0])  # FSDP: as many (collective) forwards as any rank
    if batch is None and most is None:
        raise ValueError(
            "Expected at least one batch to evaluate on. Received: no batches (a one-shot "
            "generator that ran out, or empty data); its loss would read 0"
        )
    out = final_logs(model, logs)
    if cbs.on_test_end:
        cbs.on_test_end(out)
    return out


def predict_loop(model: Any, feed: Any, cbs: Any, steps: int | None) -> list[Any]:
    """``predict_step`` over ``feed``; the outputs of every batch, on the device."""
    model.eval()
    outputs = []
    if cbs.on_predict_begin:
        cbs.on_predict_begin(None)
    begin, end = cbs.on_predict_batch_begin, cbs.on_predict_batch_end
    with torch.no_grad():
        for step, batch in enumerate(feed.epoch(None, steps)):
            if begin:
                begin(step, None)
            out = model.predict_step(batch)
            outputs.append(out)
            if end:
                end(step, {"outputs": out})
    if cbs.on_predict_end:
        cbs.on_predict_end(None)
    return outputs


def final_logs(model: Any, logs: Mapping[str, Any]) -> dict[str, float]:
    """The loop's logs as floats; across ranks, metric states are summed first."""
    state, strategy = model.train_state, model.strategy
    if logs is state.logs:
        strategy.reduce_metrics(state.metrics)
        return state.logs.snapshot()
    return strategy.mean_logs({k: float(v) for k, v in logs.items()})


def _reset(metrics: list[Any]) -> None:
    for m in metrics:
        m.reset_state()


def should_validate(epoch: int, freq: int | list[int]) -> bool:
    """Whether (0-based) ``epoch`` validates under fit's ``validation_freq``."""
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return epoch + 1 in freq
