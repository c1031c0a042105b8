"""The default steps as one function per loop, with their look-ups done once (Keras's
``make_train_function`` idea).

``train_step`` is built from public pieces a custom step reuses (``eager_forward_loss``,
``forward_batch``, ``compute_loss``, ``apply_gradients``, ``compute_metrics``), which costs
about ten Python calls and forty attribute look-ups a batch: on a small model that is a few
percent of the step. When a model overrides none of those pieces and its compile
configuration is the plain one (one loss, fp32, no gradient accumulation, clipping, loss
scaling, ``jit_compile``, per-output metrics or distributed wrapper), the loops call the
closure made here instead. It makes the same torch calls in the same order as the methods,
so weights and logs are identical (``tests/training/test_fused.py``); a batch that is not a
``(x, y, sample_weight)`` tuple, a recompile or a changed ``model.loss`` sends the batch
back to the methods, as does an optimizer rebuilt with no trainable weights left.

Not noticed until the next loop (``fit`` epoch, ``evaluate``, ``predict``): a piece assigned on
the instance (``model.compute_loss = fn``) after the loop started, including in the first
``on_train_batch_begin``; and an override of a private method (``_optimizer_step``). A
warning a loss raises with ``stacklevel=2`` names this module's line instead of
``steps.py``'s, so Python's default filter may show it once more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import Tensor

from kerasish import data as data_lib
from kerasish.training.steps import Steps, detach_outputs, output_logits

__all__ = ["fused_step"]

_PIECES = {
    "train_step": (
        "train_step",
        "eager_forward_loss",
        "forward_batch",
        "compute_loss",
        "apply_gradients",
        "compute_metrics",
    ),
    "test_step": (
        "test_step",
        "eager_forward_loss",
        "forward_batch",
        "compute_loss",
        "compute_metrics",
    ),
    "predict_step": ("predict_step", "forward_batch"),
}


def fused_step(model: Any, name: str) -> Callable[[Any], Any] | None:
    """The fused ``name`` ("train_step", "test_step" or "predict_step") of ``model`` for the
    loop now starting, or None when the model needs the methods (see the module docstring).

    Build it where the loop runs (inside the strategy's training context), once per loop.
    """
    if not _all_default(model, _PIECES[name]):
        return None
    state, cfg = model.train_state, model.compile_config
    if state.forward_module is not None or state.jit_fn is not None:
        return None
    if name == "predict_step":
        return _predict(model, cfg) if cfg is None or cfg.mixed_precision is None else None
    if not _plain_config(model, cfg):
        return None
    if name == "test_step":
        return _test(model, cfg)
    if state.accum_steps != 1 or state.scaler is not None or state.clipping is not None:
        return None
    if state.grad_check is not None or not state.trainable_params:
        return None
    return _train(model, cfg)


def _all_default(model: Any, names: tuple[str, ...]) -> bool:
    """True when each of ``names`` is ``Steps``'s own, on the class and on the instance."""
    for n in names:
        if getattr(getattr(model, n, None), "__func__", None) is not getattr(Steps, n):
            return False
    return True


def _plain_config(model: Any, cfg: Any) -> bool:
    loss = model.loss
    if cfg is None or cfg.mixed_precision is not None or cfg.loss_weights is not None:
        return False
    if loss is None or isinstance(loss, Mapping | list | tuple):
        return False
    metrics = (*cfg.metrics, *cfg.weighted_metrics)
    return all(getattr(m, "output_key", None) is None for m in metrics)


def _train(model: Any, cfg: Any) -> Callable[[Any], Any]:
    state, loss_fn = model.train_state, model.loss
    update = _metrics_update(model, cfg)

    def train_step(data: Any) -> Any:
        if (
            type(data) is not tuple
            or len(data) != 3
            or model.loss is not loss_fn
            or model.compile_config is not cfg
            or not state.trainable_params  # all frozen and the optimizer rebuilt mid-loop
        ):
            return model.train_step(data)
        x, y, sw = data
        y_pred, loss = _forward_loss(model, loss_fn, x, y, sw)
        if loss is None:
            model.apply_gradients(loss)  # raises the method's error
        loss.backward()
        state.micro_step += 1
        opt = model.optimizer
        opt.step()
        opt.zero_grad(set_to_none=True)
        if state.batch_schedule and model.lr_scheduler is not None:
            model.lr_scheduler.step()
        return update(x, y, y_pred, sw, loss)

    return train_step


def _test(model: Any, cfg: Any) -> Callable[[Any], Any]:
    loss_fn = model.loss
    update = _metrics_update(model, cfg)

    def test_step(data: Any) -> Any:
        if (
            type(data) is not tuple
            or len(data) != 3
            or model.loss is not loss_fn
            or model.compile_config is not cfg
        ):
            return model.test_step(data)
        x, y, sw = data
        y_pred, loss = _forward_loss(model, loss_fn, x, y, sw)
        return update(x, y, y_pred, sw, loss)

    return test_step


def _forward_loss(model: Any, loss_fn: Any, x: Any, y: Any, sw: Any) -> tuple[Any, Any]:
    """``eager_forward_loss`` at fp32 with one compiled loss and no loss weights (what
    ``forward_batch``, ``compute_loss`` and ``_compiled_loss`` do in that case)."""
    y_pred = model(x) if type(x) is Tensor else model.forward_batch(x)
    loss = loss_fn(y, y_pred if type(y_pred) is Tensor else output_logits(y_pred), sw)
    extra = model.losses
    return y_pred, (loss + sum(extra) if extra else loss)


def _predict(model: Any, cfg: Any) -> Callable[[Any], Any]:
    def predict_step(data: Any) -> Any:
        if type(data) is not tuple or len(data) != 3 or model.compile_config is not cfg:
            return model.predict_step(data)
        x = data[0]
        out = model(x) if type(x) is Tensor else model.forward_batch(x)
        return out if type(out) is Tensor else output_logits(out)

    return predict_step


def _metrics_update(model: Any, cfg: Any) -> Callable[..., Any]:
    """``compute_metrics`` for one loss and metrics without output keys."""
    state = model.train_state
    tracker, logs = state.loss_tracker, state.logs
    plain, weighted = cfg.metrics, cfg.weighted_metrics

    def update(x: Any, y: Any, y_pred: Any, sw: Any, loss: Any) -> Any:
        if loss is not None:
            t = x if y is None else y
            n = t.shape[0] if isinstance(t, Tensor) else data_lib.first_dim(t)
            tracker.add_batch(loss.detach() if loss.requires_grad else loss, n)
        if plain or weighted:
            if type(y_pred) is not Tensor:
                y_pred = output_logits(detach_outputs(y_pred))
            elif y_pred.requires_grad:
                y_pred = y_pred.detach()
            for m in plain:
                m.update_state(y, y_pred, None)
            for m in weighted:
                m.update_state(y, y_pred, sw)
        return logs

    return update
