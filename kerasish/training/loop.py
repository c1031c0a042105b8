"""The loops: run_epochs -> train_epoch -> test_loop, and predict_loop.

Each loop iterates a ``Feed`` (``kerasish.data``: batches already on the device), calls the
model's public step (``train_step``/``test_step``/``predict_step``) and the callbacks' hooks
(only those some callback overrides: a ``CallbackList`` attribute is None otherwise), and
keeps ``model.train_state`` up to date. Per batch: one step, the hooks that exist, one
stop check; no host sync. An overridden step receives its batch as the user gave it
(``(x, y)``, ``(x, y, sample_weight)``, or ``x`` alone; ``pack_batch``). Each loop resets
``model.metrics`` at its start (Keras's ``reset_metrics``), and ``model.stop_evaluating`` /
``model.stop_predicting`` end ``test_loop`` / ``predict_loop`` after the current batch.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import torch

from kerasish import data as data_lib
from kerasish.training.fused import fused_step
from kerasish.training.steps import Steps, unpack_x_y_sample_weight

__all__ = [
    "run_epochs",
    "train_epoch",
    "test_loop",
    "predict_loop",
    "final_logs",
    "should_validate",
    "pack_batch",
    "reset_metrics",
]


def run_epochs(
    model: Any, train: Any, val: Any, cbs: Any, plan: Mapping[str, Any], check: Any = None
) -> dict:
    """Epochs ``plan["initial_epoch"]`` to ``plan["epochs"]``, with validation; the last logs.

    ``plan`` holds fit's ``initial_epoch``, ``epochs``, ``steps_per_epoch``,
    ``validation_steps`` and ``validation_freq``; ``check`` (a ``validate.FirstStep``, or
    None) checks the first training step.
    """
    logs: dict[str, float] = {}
    resume = model.train_state.take_resume()
    start = plan["initial_epoch"] if resume is None else resume.epoch
    for epoch in range(start, plan["epochs"]):
        model.train_state.epoch = epoch
        if cbs.on_epoch_begin:
            cbs.on_epoch_begin(epoch, None)
        logs = train_epoch(model, train, cbs, plan["steps_per_epoch"], resume, check)
        resume = check = None
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


def train_epoch(
    model: Any, feed: Any, cbs: Any, steps: int | None, resume: Any = None, check: Any = None
) -> dict:
    """One epoch of ``train_step`` over ``feed`` (the first step checked by ``check`` when
    given); the epoch's logs as floats."""
    state, strategy = model.train_state, model.strategy
    model.train()
    reset_metrics(model)
    if resume is not None and resume.restore_metrics is not None:
        resume.restore_metrics()  # the running means of a mid-epoch checkpoint
    begin = cbs.on_train_batch_begin
    end = strategy.stop_agreement(cbs, cbs.on_train_batch_end, model)
    logs: Mapping[str, Any] = state.logs
    it, start = _epoch_batches(model, feed, steps, resume)
    step = start - 1
    with strategy.training_forward(model):
        for step_fn, batches in _segments(model, "train_step", it, check):
            first = step + 1
            for step, batch in enumerate(batches, first):
                if begin:
                    begin(step, None)
                logs = step_fn(batch)
                if end:
                    end(step, logs)
                if model.stop_training:
                    break
            if model.stop_training:
                break
    state.step = step + 1
    state.train_counter += step + 1 - start
    return final_logs(model, logs)


def _epoch_batches(model: Any, feed: Any, steps: int | None, resume: Any) -> tuple[Iterator, int]:
    """This epoch's batches; when resuming, replay the epoch's order and skip done steps.

    ``train_state.epoch_rng_state`` is the torch RNG state before the epoch drew its order,
    kept so a checkpoint can resume mid-epoch exactly (see ``BackupAndRestore``).
    """
    state = model.train_state
    if resume is not None and resume.epoch_rng_state is not None:
        torch.set_rng_state(resume.epoch_rng_state)
    state.epoch_rng_state = torch.get_rng_state()
    if resume is not None:
        feed.load_state_dict(resume.data_state)  # where steps_per_epoch epochs left the data
    it = iter(feed.epoch(state.epoch, steps))
    start = 0 if resume is None else resume.step
    if start:
        next(itertools.islice(it, start - 1, None), None)  # skip the batches already done
    if resume is not None and resume.rng_state is not None:
        torch.set_rng_state(resume.rng_state)
    return it, start


def _end_epoch_schedules(model: Any, logs: dict[str, float]) -> None:
    sched = model.lr_scheduler
    if sched is None or model.train_state.batch_schedule:
        return
    if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
        sched.step(logs.get("val_loss", logs.get("loss")))
    else:
        sched.step()


def test_loop(
    model: Any, feed: Any, cbs: Any, steps: int | None, check: Any = None
) -> dict[str, float]:
    """``test_step`` over ``feed`` without gradients (the first step checked by ``check``
    when given); the logs as floats."""
    model.eval()
    reset_metrics(model)
    model.stop_evaluating = False
    begin, end = cbs.on_test_batch_begin, cbs.on_test_batch_end
    if cbs.on_test_begin:
        cbs.on_test_begin(None)
    logs: Mapping[str, Any] = model.train_state.logs
    most = model.strategy.eval_steps(feed.source, steps)
    step, batch = -1, None
    with torch.no_grad():
        for step_fn, batches in _segments(model, "test_step", feed.epoch(None, steps), check):
            first = step + 1
            for step, batch in enumerate(batches, first):
                if begin:
                    begin(step, None)
                logs = step_fn(batch)
                if end:
                    end(step, logs)
                if model.stop_evaluating:
                    break
            if model.stop_evaluating:
                break
        for _ in range(0 if most is None or batch is None else most - step - 1):
            x = unpack_x_y_sample_weight(batch)[0]
            model.forward_batch(x)  # FSDP: as many (collective) forwards as any rank
    if batch is None and most is None:
        raise ValueError(
            "Expected at least one batch to evaluate on. Received: no batches (a one-shot "
            "generator that ran out, or empty data); its loss would read 0"
        )
    out = final_logs(model, logs)
    if cbs.on_test_end:
        cbs.on_test_end(out)
    return out


def predict_loop(
    model: Any, feed: Any, cbs: Any, steps: int | None, check: Any = None
) -> list[Any]:
    """``predict_step`` over ``feed`` (the first step checked by ``check`` when given); the
    outputs of every batch, on the device."""
    model.eval()
    model.stop_predicting = False
    outputs = []
    if cbs.on_predict_begin:
        cbs.on_predict_begin(None)
    begin, end = cbs.on_predict_batch_begin, cbs.on_predict_batch_end
    step = -1
    with torch.no_grad():
        for step_fn, batches in _segments(model, "predict_step", feed.epoch(None, steps), check):
            first = step + 1
            for step, batch in enumerate(batches, first):
                if begin:
                    begin(step, None)
                out = step_fn(batch)
                outputs.append(out)
                if end:
                    end(step, {"outputs": out})
                if model.stop_predicting:
                    break
            if model.stop_predicting:
                break
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


def reset_metrics(model: Any) -> None:
    """Reset ``model.metrics`` (the trackers an overridden ``metrics`` property returns, too)
    and drop the logs a step added to the running logs, as Keras's ``reset_metrics``."""
    state = model.train_state
    seen = {id(m) for m in state.metrics}
    for m in (*state.metrics, *(m for m in model.metrics if id(m) not in seen)):
        m.reset_state()
    if state.logs is not None:
        state.logs.reset()


def pack_batch(batch: tuple[Any, Any, Any]) -> Any:
    """A Feed's ``(x, y, sample_weight)`` as the user gave it, as Keras's
    ``pack_x_y_sample_weight``: ``x`` (or ``(x,)`` for a tuple x) without targets,
    ``(x, y)`` without weights, else the triple.

    Example:
        >>> pack_batch((1, 2, None)), pack_batch((1, None, None)), pack_batch((1, 2, 3))
        ((1, 2), 1, (1, 2, 3))
    """
    x, y, sw = batch
    if y is None:
        return (x,) if isinstance(x, tuple | list) else x
    return (x, y) if sw is None else batch


def _segments(model: Any, name: str, batches: Iterator, check: Any) -> Iterator[tuple]:
    """``(step function, batches)``: the first batch through ``check`` (when given), then
    the rest (cast as the first one needed) through the fused default step when the model
    allows it (``fused.fused_step``); an overridden step gets ``pack_batch``'d data."""
    step = getattr(model, name)
    pack = None if getattr(type(model), name) is getattr(Steps, name) else pack_batch
    if check is not None:
        yield functools.partial(check, step, pack=pack), itertools.islice(batches, 1)
        batches = check.rest(batches)
    if pack is None:
        yield fused_step(model, name) or step, batches
    else:
        yield step, map(pack, batches)


def should_validate(epoch: int, freq: int | list[int]) -> bool:
    """Whether (0-based) ``epoch`` validates under fit's ``validation_freq``."""
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return epoch + 1 in freq
