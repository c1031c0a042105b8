"""The per-batch steps: forward, loss, backward, optimizer step and metric update.

``Steps`` is the part of ``Trainer`` that runs once per batch, and the part users override:
``train_step`` / ``test_step`` / ``predict_step``, with ``compute_loss``,
``compute_metrics`` and ``apply_gradients`` as the pieces a custom ``train_step`` reuses.
Everything stays on the device; the live objects it uses (loss tracker, clipping, scaler,
the compiled function) are on ``model.train_state``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch

from kerasish import data as data_lib
from kerasish import devices, optimizers, tree
from kerasish import metrics as metrics_lib
from kerasish.training.state import BatchLogs

__all__ = ["Steps", "JitFallback"]


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
        if isinstance(x, Mapping):
            return call(**x)
        if isinstance(x, list | tuple):
            return call(*x)
        return call(x)

    def compute_loss(
        self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None
    ) -> torch.Tensor:
        """The loss of a batch (override for custom losses); weighted sum over outputs."""
        loss = self.loss
        if not isinstance(loss, Mapping | list | tuple):
            return loss(y, y_pred, sample_weight)
        weights = self.compile_config.loss_weights
        keys = loss.keys() if isinstance(loss, Mapping) else range(len(loss))
        total = None
        for k in keys:
            w = 1.0 if weights is None else weights[k]
            term = loss[k](y[k], y_pred[k], sample_weight) * w
            total = term if total is None else total + term
        return total

    def compute_metrics(
        self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None, loss: Any = None
    ) -> BatchLogs:
        """Update the loss tracker (when ``loss`` is given) and the metrics with a batch.

        The metrics see ``y_pred`` detached from the autograd graph (a view, no copy), so no
        metric state keeps a batch's graph alive.

        Returns:
            The logs: a mapping whose values are read from the device only when accessed.
        """
        state = self.train_state
        if loss is not None:
            n = data_lib.first_dim(x if y is None else y)  # samples in the batch
            state.loss_tracker.update_state(loss.detach(), sample_weight=n)
        compiled = self.compile_config.metrics
        if compiled:
            y_pred = y_pred.detach() if isinstance(y_pred, torch.Tensor) else _detach(y_pred)
        for m in compiled:
            key = getattr(m, "output_key", None)
            if key is None:
                m.update_state(y, y_pred, sample_weight)
            else:
                m.update_state(y[key], y_pred[key], sample_weight)
        return state.logs

    @property
    def metrics(self) -> list[metrics_lib.Metric]:
        """The loss tracker and the compiled metrics (empty before the first fit/evaluate)."""
        return list(self.train_state.metrics)

    def train_step(self, data: tuple[Any, Any, Any]) -> Mapping[str, Any]:
        """One optimisation step on a batch ``(x, y, sample_weight)``; returns the logs.

        Override it for custom training (GANs, custom losses): compute the loss, call
        ``self.apply_gradients(loss)`` (or step your own optimizers), then return
        ``self.compute_metrics(x, y, y_pred, sample_weight, loss)`` or any mapping of logs.
        """
        x, y, sw = data
        if self.train_state.accum_steps > 1:
            state = self.train_state
            with self.strategy.no_sync(self, (state.micro_step + 1) % state.accum_steps == 0):
                y_pred, loss = self._forward_loss(x, y, sw)
                self.apply_gradients(loss)
        else:
            y_pred, loss = self._forward_loss(x, y, sw)
            self.apply_gradients(loss)
        return self.compute_metrics(x, y, y_pred, sw, loss)

    def test_step(self, data: tuple[Any, Any, Any]) -> Mapping[str, Any]:
        """Loss and metrics of one batch, without gradients; returns the logs."""
        x, y, sw = data
        y_pred, loss = self._forward_loss(x, y, sw)
        return self.compute_metrics(x, y, y_pred, sw, loss)

    def predict_step(self, data: tuple[Any, Any, Any]) -> Any:
        """The model's output for one batch."""
        with devices.autocast(self.device, self._precision()):
            return self.forward_batch(data[0])

    def _precision(self) -> str | None:
        return None if self.compile_config is None else self.compile_config.mixed_precision

    def _forward_loss(self, x: Any, y: Any, sw: Any) -> tuple[Any, Any]:
        jit_fn = self.train_state.jit_fn
        if jit_fn is not None:
            return jit_fn(x, y, sw)
        return self.eager_forward_loss(x, y, sw)

    def eager_forward_loss(self, x: Any, y: Any, sw: Any) -> tuple[Any, Any]:
        """``(y_pred, loss)`` of a batch, under autocast when mixed precision is on (what
        ``jit_compile`` compiles)."""
        precision = self.compile_config.mixed_precision
        if precision is None:
            y_pred = self.forward_batch(x)
            return y_pred, None if self.loss is None else self.compute_loss(x, y, y_pred, sw)
        with devices.autocast(self.device, precision):
            y_pred = self.forward_batch(x)
            loss = None if self.loss is None else self.compute_loss(x, y, y_pred, sw)
        return y_pred, loss

    def apply_gradients(self, loss: torch.Tensor) -> None:
        """Backward, then (every ``gradient_accumulation_steps`` batches) clip and step."""
        state = self.train_state
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


def _detach(y_pred: Any) -> Any:
    return tree.map_structure(lambda t: t.detach() if isinstance(t, torch.Tensor) else t, y_pred)
