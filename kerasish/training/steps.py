"""The per-batch steps: forward, loss, backward, optimizer step and metric update.

``Steps`` is the part of ``Trainer`` that runs once per batch, and the part users override:
``train_step`` / ``test_step`` / ``predict_step``, with ``compute_loss``,
``compute_metrics`` and ``apply_gradients`` as the pieces a custom ``train_step`` reuses.
Everything stays on the device; the live objects it uses (loss tracker, clipping, scaler,
the compiled function) are on ``model.train_state``.

A step receives its batch as the user gave it (``(x, y)``, or ``(x, y, sample_weight)`` with
weights; ``unpack_x_y_sample_weight`` splits either). A model output such as a Hugging Face
``ModelOutput`` (a mapping or object with ``logits``/``loss``) is read by duck typing: with
``compile(loss=None)`` the step trains on its ``loss`` (the targets go to the model as
``labels=``); compiled losses and metrics, and ``predict``, see its ``logits``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch

from kerasish import data as data_lib
from kerasish import devices, optimizers, tree
from kerasish import metrics as metrics_lib
from kerasish.training.compile import named_outputs
from kerasish.training.state import BatchLogs
from kerasish.utils import unpack_x_y_sample_weight

__all__ = [
    "Steps",
    "JitFallback",
    "unpack_x_y_sample_weight",
    "output_logits",
    "output_loss",
    "detach_outputs",
]


def output_logits(y_pred: Any) -> Any:
    """The ``logits`` of a model output that has them (a Hugging Face ``ModelOutput``, or a
    mapping with a "logits" key); any other output as it is.

    Example:
        >>> output_logits({"logits": 1, "loss": 2}), output_logits((3, 4))
        (1, (3, 4))
    """
    if isinstance(y_pred, torch.Tensor):
        return y_pred
    if isinstance(y_pred, Mapping):
        return y_pred["logits"] if "logits" in y_pred else y_pred
    logits = getattr(y_pred, "logits", None)
    return y_pred if logits is None else logits


def output_loss(y_pred: Any) -> Any:
    """The ``loss`` a model output carries (a mapping's "loss" key, or a ``.loss``), or None.

    Example:
        >>> output_loss({"logits": 1, "loss": 2}), output_loss(torch.zeros(2))
        (2, None)
    """
    if isinstance(y_pred, torch.Tensor):
        return None
    if isinstance(y_pred, Mapping):
        return y_pred.get("loss")
    return getattr(y_pred, "loss", None)


class Steps:
    """The per-batch methods of ``Trainer`` (mixed into ``kerasish.Model``)."""

    def has_default_steps(self) -> bool:
        """True when neither ``train_step`` nor ``test_step`` is overridden (the logs then
        hold exactly the loss and the compiled metrics)."""
        cls = type(self)
        return cls.train_step is Steps.train_step and cls.test_step is Steps.test_step

    def uses_compiled_loss(self) -> bool:
        """True when the default ``train_step`` trains on the compiled loss."""
        return type(self).train_step is Steps.train_step and self.loss is not None

    # ------------------------------------------------------------------ steps
    def forward_batch(self, x: Any) -> Any:
        """Call the model on ``x``: a dict as keyword arguments, a list/tuple as positional.

        While a distributed (DDP) training loop runs, the call goes through the
        ``DistributedDataParallel`` wrapper, which averages the gradients over the ranks; call
        this (not ``self(x)``) in an overridden ``train_step``.
        """
        call = self.train_state.forward_module
        if call is None:
            call = self
        if type(x) is torch.Tensor:
            return call(x)
        if isinstance(x, Mapping):
            return call(**x)
        if isinstance(x, list | tuple):
            return call(*x)
        return call(x)

    def compute_loss(
        self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None
    ) -> torch.Tensor:
        """The loss of a batch (override for custom losses): the compiled losses' weighted sum
        over the outputs, plus ``sum(self.losses)`` when layers added any (``add_loss``,
        weight and activity regularizers), as Keras's ``compute_loss``."""
        total = _compiled_loss(self, y, y_pred, sample_weight)
        extra = self.losses  # [] after one flag check while nothing uses add_loss/regularizers
        return total + sum(extra) if extra else total

    def compute_metrics(
        self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None, loss: Any = None
    ) -> BatchLogs:
        """Update the loss tracker (when ``loss`` is given) and the metrics with a batch.

        ``compile``'s ``metrics`` ignore ``sample_weight``; its ``weighted_metrics`` are
        weighed by it (sample and class weights), as Keras's. The metrics see ``y_pred``
        detached from the autograd graph (a view, no copy), so no metric state keeps a
        batch's graph alive; a Hugging Face style output is read as its ``logits``.

        Returns:
            The logs: a mapping whose values are read from the device only when accessed.
        """
        state = self.train_state
        if loss is not None:
            t = x if y is None else y
            n = t.shape[0] if isinstance(t, torch.Tensor) else data_lib.first_dim(t)
            detached = loss.detach() if loss.requires_grad else loss  # no view under no_grad
            state.loss_tracker.add_batch(detached, n)  # n: samples in the batch
        cfg = self.compile_config
        plain, weighted = cfg.metrics, cfg.weighted_metrics
        if plain or weighted:
            if not isinstance(y_pred, torch.Tensor):
                y_pred = detach_outputs(y_pred)
            elif y_pred.requires_grad:
                y_pred = y_pred.detach()
            if isinstance(self.loss, Mapping):
                y, y_pred = named_outputs(self, y), named_outputs(self, y_pred)
            for m in plain:
                _update(m, y, y_pred, None)
            for m in weighted:
                _update(m, y, y_pred, sample_weight)
        return state.logs

    @property
    def metrics(self) -> list[metrics_lib.Metric]:
        """The loss tracker and the compiled metrics (empty before the first fit/evaluate)."""
        return list(self.train_state.metrics)

    def train_step(self, data: Any) -> Mapping[str, Any]:
        """One optimisation step on a batch ``(x, y)`` or ``(x, y, sample_weight)``; returns
        the logs.

        Override it for custom training (GANs, custom losses): split the batch with
        ``kerasish.training.unpack_x_y_sample_weight(data)``, compute the loss, call
        ``self.apply_gradients(loss)`` (or step your own optimizers), then return
        ``self.compute_metrics(x, y, y_pred, sample_weight, loss)`` or any mapping of logs.
        The logs returned are a mutable mapping: ``logs["name"] = value`` adds a log.
        """
        x, y, sw = (
            data if type(data) is tuple and len(data) == 3 else unpack_x_y_sample_weight(data)
        )
        if self.train_state.accum_steps > 1:
            state = self.train_state
            with self.strategy.no_sync(self, (state.micro_step + 1) % state.accum_steps == 0):
                y_pred, loss = (self.train_state.jit_fn or self.eager_forward_loss)(x, y, sw)
                self.apply_gradients(loss)
        else:
            y_pred, loss = (self.train_state.jit_fn or self.eager_forward_loss)(x, y, sw)
            self.apply_gradients(loss)
        return self.compute_metrics(x, y, y_pred, sw, loss)

    def test_step(self, data: Any) -> Mapping[str, Any]:
        """Loss and metrics of one batch, without gradients; returns the logs."""
        x, y, sw = (
            data if type(data) is tuple and len(data) == 3 else unpack_x_y_sample_weight(data)
        )
        y_pred, loss = (self.train_state.jit_fn or self.eager_forward_loss)(x, y, sw)
        return self.compute_metrics(x, y, y_pred, sw, loss)

    def predict_step(self, data: Any) -> Any:
        """The model's output for one batch (a Hugging Face style output's ``logits``)."""
        x = (
            data[0]
            if type(data) is tuple and 0 < len(data) <= 3
            else unpack_x_y_sample_weight(data)[0]
        )
        cfg = self.compile_config
        precision = None if cfg is None else cfg.mixed_precision
        if precision is None:
            out = self.forward_batch(x)
        else:
            with devices.autocast(self.device, precision):
                out = self.forward_batch(x)
        return out if isinstance(out, torch.Tensor) else output_logits(out)

    def eager_forward_loss(self, x: Any, y: Any, sw: Any) -> tuple[Any, Any]:
        """``(y_pred, loss)`` of a batch, under autocast when mixed precision is on (what
        ``jit_compile`` compiles)."""
        precision = self.compile_config.mixed_precision
        if self.loss is None:
            return self._own_loss(x, y, precision)
        if precision is None:
            y_pred = self.forward_batch(x)
            return y_pred, self.compute_loss(x, y, y_pred, sw)
        with devices.autocast(self.device, precision):
            y_pred = self.forward_batch(x)
            loss = self.compute_loss(x, y, y_pred, sw)
        return y_pred, loss

    def _own_loss(self, x: Any, y: Any, precision: str | None) -> tuple[Any, Any]:
        """``compile(loss=None)``: the model's own loss (a Hugging Face style output's
        ``loss``; targets go in as ``labels=``) and its ``logits`` for the metrics."""
        if y is not None and isinstance(x, Mapping):
            x = {**x, "labels": y}
        with devices.autocast(self.device, precision):
            out = self.forward_batch(x)
        return output_logits(out), output_loss(out)

    def apply_gradients(self, loss: torch.Tensor) -> None:
        """Backward, then (every ``gradient_accumulation_steps`` batches) clip and step.

        A model with no trainable weights (frozen, or none at all) only counts the step.

        Raises:
            ValueError: when ``loss`` is None (no compiled loss and no loss from the model).
        """
        state = self.train_state
        if loss is None:
            raise _no_loss_error()
        if not state.trainable_params:
            state.micro_step += 1
            return
        accum = state.accum_steps
        if accum > 1:
            loss = loss / accum
        if state.scaler is not None:
            state.scaler.scale(loss).backward()
        else:
            loss.backward()
        state.micro_step += 1
        if accum > 1 and state.micro_step % accum:
            return
        self._optimizer_step()

    def _optimizer_step(self) -> None:
        state = self.train_state
        opt, scaler, clipping = self.optimizer, state.scaler, state.clipping
        if state.grad_check is not None:
            state.grad_check()
        if clipping is not None:
            if scaler is not None:
                scaler.unscale_(opt)
            optimizers.clip_gradients(state.trainable_params, clipping)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        if self.lr_scheduler is not None and state.batch_schedule:
            self.lr_scheduler.step()


class JitFallback:
    """``torch.compile`` of forward+loss that falls back to eager, with a warning, on failure."""

    def __init__(self, fn: Callable, mode: str | None):
        self.eager = fn
        self.compiled: Callable | None = torch.compile(fn, mode=mode)

    def __call__(self, *args: Any) -> Any:
        if self.compiled is None:
            return self.eager(*args)
        try:
            return self.compiled(*args)
        except Exception as e:  # noqa: BLE001 - any compiler failure falls back
            warnings.warn(
                f"torch.compile failed ({type(e).__name__}: {e}); training continues "
                f"in eager mode.",
                stacklevel=2,
            )
            self.compiled = None
            return self.eager(*args)


def _update(m: Any, y: Any, y_pred: Any, sample_weight: Any) -> None:
    key = getattr(m, "output_key", None)
    if key is None:
        if not isinstance(y_pred, torch.Tensor):
            y_pred = output_logits(y_pred)
        m.update_state(y, y_pred, sample_weight)
    else:
        m.update_state(y[key], y_pred[key], sample_weight)


def _no_loss_error() -> ValueError:
    return ValueError(
        "Expected a loss to train on: compile(loss=...), or a model whose output carries "
        "one (a mapping with 'loss' or an object with .loss, e.g. a Hugging Face model "
        "called with labels=). Received: loss=None"
    )


def detach_outputs(y_pred: Any) -> Any:
    """``y_pred`` with each tensor in it detached (a view, no copy)."""
    return tree.map_structure(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, y_pred)


def _compiled_loss(model: Any, y: Any, y_pred: Any, sample_weight: Any) -> torch.Tensor:
    """The compiled losses of a batch, weighted by ``loss_weights`` and summed over outputs."""
    loss = model.loss
    weights = model.compile_config.loss_weights
    if not isinstance(loss, Mapping | list | tuple):
        if not isinstance(y_pred, torch.Tensor):
            y_pred = output_logits(y_pred)
        value = loss(y, y_pred, sample_weight)
        return value if weights is None else value * weights
    if isinstance(loss, Mapping):  # losses by output name: a list of outputs gets its names
        y, y_pred = named_outputs(model, y), named_outputs(model, y_pred)
    keys = loss.keys() if isinstance(loss, Mapping) else range(len(loss))
    total = None
    for k in keys:
        w = 1.0 if weights is None else weights[k]
        term = loss[k](y[k], y_pred[k], sample_weight) * w
        total = term if total is None else total + term
    return total
