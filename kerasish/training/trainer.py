"""Trainer: compile/fit/evaluate/predict and the *_on_batch calls.

``Trainer`` is mixed into ``kerasish.Model`` (an ``nn.Module``). Its public methods check
their arguments, ask ``kerasish.data`` for feeds (batches placed, weighted and sharded),
build the callbacks, and hand over to ``kerasish.training.loop``. The per-batch work, the
steps users override, is in ``kerasish.training.steps``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any

import torch

from kerasish import data as data_lib
from kerasish import devices, optimizers, tree
from kerasish import distribute as distribute_lib
from kerasish.callbacks.callback_list import CallbackList
from kerasish.callbacks.history import History
from kerasish.callbacks.progbar import ProgbarLogger, resolve_verbose
from kerasish.callbacks.swap_ema_weights import SwapEMAWeights
from kerasish.layers.inspect import output_activation
from kerasish.training import checks, loop, validate
from kerasish.training.compile import (
    CompileConfig,
    flat_losses,
    is_named_scheduler,
    make_compile_config,
)
from kerasish.training.state import BatchLogs, LossTracker
from kerasish.training.steps import JitFallback, Steps

__all__ = ["Trainer"]


class Trainer(Steps):
    """compile/fit/evaluate/predict for an ``nn.Module`` (mixed into ``kerasish.Model``)."""

    example_input: Any = None
    optimizer: Any = None
    lr_scheduler: Any = None
    strategy: Any = None
    _compile_config: CompileConfig | None = None

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        weighted_metrics: Any = None,
        *,
        device: Any = "auto",
        lr_scheduler: Any = None,
        scheduler_interval: str = "epoch",
        mixed_precision: str | None = None,
        jit_compile: bool | str = False,
        compile_mode: str | None = None,
        channels_last: bool = False,
        distribute: str | None = "auto",
        ema: float | None = None,
    ) -> None:
        """Configure the model for training.

        Args:
            optimizer: a name ("adam", "sgd", ...), a ``kerasish.optimizers`` object, a torch
                optimizer class, or a torch optimizer instance over this model's parameters.
            loss: a Keras or PyTorch loss name, a ``kerasish.losses`` object, a torch loss
                module, or a callable ``loss(y_true, y_pred)``; a list/dict for several outputs.
            metrics: a list of names, ``kerasish.metrics`` objects, callables or torchmetrics
                metrics (a dict of lists for several named outputs); sample and class
                weights do not weigh them.
            loss_weights: a number scaling the loss, or the weights of the losses of several
                outputs (a list as long as the losses, or a dict of output names).
            weighted_metrics: metrics as ``metrics`` that sample and class weights weigh
                (logged as ``weighted_<name>`` when ``metrics`` has the name too).
            device: "auto" (CUDA, then MPS, then CPU; ``KERASISH_DEVICE`` overrides), or a
                device.
            lr_scheduler: a ``torch.optim.lr_scheduler`` instance, a callable
                ``optimizer -> scheduler`` (for optimizers kerasish builds), or a name in
                ``kerasish.optimizers.SCHEDULER_NAMES`` (built by
                ``kerasish.optimizers.scheduler_from_name`` at fit start, for fit's epochs).
            scheduler_interval: "epoch" (default) or "batch": when the scheduler steps.
            mixed_precision: None, "bf16" or "fp16" (autocast for forward and loss; fp16 adds
                a GradScaler).
            jit_compile: True (or "auto") to ``torch.compile`` the forward and loss.
            compile_mode: ``torch.compile``'s mode ("default", "reduce-overhead", ...).
            channels_last: store conv weights and image batches channels-last.
            distribute: "auto" (DDP when launched with torchrun or
                ``kerasish.distribute.launch``, else one process), "ddp", "fsdp" (FSDP2
                ``fully_shard``; both need a launch) or None (never distribute). See
                ``kerasish.distribute`` for what changes across ranks.
            ema: a decay (e.g. 0.999): fit keeps an exponential moving average of the weights
                with ``kerasish.callbacks.SwapEMAWeights(decay=ema)`` unless one is given.

        Raises:
            ValueError: for unknown names or inconsistent arguments, before anything changes.

        Example:
            >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
            ...               metrics=["accuracy"])
        """
        config = make_compile_config(
            optimizer,
            loss,
            metrics,
            loss_weights,
            lr_scheduler=lr_scheduler,
            scheduler_interval=scheduler_interval,
            mixed_precision=mixed_precision,
            jit_compile=jit_compile,
            compile_mode=compile_mode,
            channels_last=channels_last,
            distribute=distribute,
            weighted_metrics=weighted_metrics,
            ema=ema,
            warn_no_loss=type(self).train_step is Steps.train_step,  # a GAN's needs none
        )
        self.strategy = distribute_lib.setup(distribute, devices.resolve(device))
        self.device = self.strategy.device
        self.to(self.device)
        if channels_last:
            self.to(memory_format=torch.channels_last)
        self.compile_config = config
        opt = config.optimizer
        self.optimizer = opt if isinstance(opt, torch.optim.Optimizer) else None
        self.lr_scheduler = None
        self.train_state.scaler = None
        self.train_state.metrics, self.train_state.logs = [], None  # rebuilt for the new metrics
        self.train_state.loss_tracker = None
        for lo in flat_losses(config.loss):
            if hasattr(lo, "to"):
                lo.to(self.device)  # e.g. a torch loss's class-weight buffer
        self._set_loss_activation()
        self.compiled = True

    @property
    def compile_config(self) -> CompileConfig | None:
        """What ``compile`` was given, resolved (None before ``compile``). Assigning a changed
        copy (``cfg.replace(optimizer=recipe)``) makes the next ``fit`` build a fresh optimizer
        and scheduler when the recipe changed."""
        return self._compile_config

    @compile_config.setter
    def compile_config(self, config: CompileConfig) -> None:
        if not isinstance(config, CompileConfig):
            raise TypeError(
                f"Expected a CompileConfig (model.compile_config.replace(...)). "
                f"Received: compile_config={config!r}"
            )
        old, self._compile_config = self._compile_config, config
        self.loss = config.loss
        self.train_state.jit_fn = None
        if old is not None and old.optimizer is not config.optimizer:
            opt = config.optimizer
            self.optimizer = opt if isinstance(opt, torch.optim.Optimizer) else None
            self.lr_scheduler = None

    def _set_loss_activation(self) -> None:
        """Tell crossentropy losses in "auto" mode what the model's last layer is."""
        act = output_activation(self)
        for lo in flat_losses(self.loss):
            if getattr(lo, "from_logits", False) is None and act is not None:
                lo.from_logits = act not in ("softmax", "sigmoid")

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: int | str = "auto",
        callbacks: list | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: Mapping[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_freq: int | list[int] = 1,
        *,
        gradient_accumulation_steps: int = 1,
        num_workers: int = 0,
        pin_memory: bool | None = None,
        persistent_workers: bool = False,
        prefetch_factor: int | None = None,
        data_on_device: bool | str = "auto",
    ) -> History:
        """Train the model; arguments and semantics as Keras's ``Model.fit``.

        Args:
            x: arrays/tensors (list/tuple/dict of them for several inputs), a ``Dataset``
                yielding ``(x, y)`` or ``(x, y, sample_weight)``, a ``DataLoader`` (used as is),
                or a generator of such batches.
            y: targets when ``x`` is array-like.
            batch_size: samples per batch for arrays and Datasets (default 32).
            epochs: the epoch index to stop at (training runs from ``initial_epoch``).
            verbose: "auto", 0 (silent), 1 (a progress bar per epoch), 2 (a line per epoch)
                or "plot" (the bars and a ``K.callbacks.LivePlot`` of the curves).
            callbacks: ``kerasish.callbacks`` objects (a list, or one callback).
            validation_split: the fraction taken from the end (before shuffling) to validate on.
            validation_data: ``(x_val, y_val[, sample_weight])``, a Dataset, DataLoader or
                generator.
            shuffle: shuffle arrays and map-style Datasets every epoch (True, False, or
                "batch": in batch-sized chunks, as Keras).
            class_weight: ``{class_index: weight}``, multiplied into the sample weights.
            sample_weight: per-sample weights for arrays.
            initial_epoch: the epoch to start from (for resuming).
            steps_per_epoch: batches per epoch (required for endless generators).
            validation_steps: batches per validation.
            validation_freq: validate every N epochs, or on the listed (1-based) epochs.
            gradient_accumulation_steps: step the optimizer every N batches (the gradient of
                N batches of size B equals that of one batch of N*B when the loss is a mean).
            num_workers, pin_memory, persistent_workers, prefetch_factor: ``DataLoader``
                options for Datasets kerasish batches.
            data_on_device: keep in-memory arrays on the GPU ("auto": when they take < 1 GiB).

        Returns:
            A ``History``; also ``model.history``.

        Raises:
            ValueError / TypeError: for bad arguments or data, before any training step.

        Example:
            >>> history = model.fit(x, y, batch_size=64, epochs=5, validation_split=0.1, verbose=0)
            >>> history.epoch, sorted(history.history)
            ([0, 1, 2, 3, 4], ['accuracy', 'loss', 'val_accuracy', 'val_loss'])
        """
        args = dict(locals())
        checks.check_fit_args(self, x, y, args)
        verbose = resolve_verbose(verbose)
        loader_kw = data_lib.loader_kwargs(
            num_workers, pin_memory, persistent_workers, prefetch_factor, self.device
        )
        train, val = data_lib.make_sources(
            x,
            y,
            sample_weight,
            batch_size=batch_size,  # None: 32, or a PyDataset's own batches
            shuffle=shuffle,
            validation_split=validation_split,
            validation_data=validation_data,
            steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps,
            class_weight=class_weight,
            loader_kwargs=loader_kw,
            device=self.device,
            channels_last=self.compile_config.channels_last,
            data_on_device=data_on_device,
            strategy=self.strategy,
        )
        validate.check_validation_source(val, args, loop.should_validate)
        check = _prepare(self, train, val, class_weight, defer=True)
        self.train_state.accum_steps = gradient_accumulation_steps
        self.train_state.train_feed = train
        params = {"epochs": epochs, "steps": train.steps(steps_per_epoch), "verbose": verbose}
        _named_scheduler(self, epochs, params["steps"])
        cbs = _callback_list(
            self,
            _with_ema(self, checks.callback_list(callbacks)),
            verbose,
            {**params, "mode": "fit", "batch_size": batch_size or 32, "samples": train.samples()},
        )
        self.stop_training = False
        if cbs.on_train_begin:
            cbs.on_train_begin(None)
        logs = loop.run_epochs(self, train, val, cbs, args, check)
        if cbs.on_train_end:
            cbs.on_train_end(logs)
        return self.history

    # ------------------------------------------------------------------ preparing
    def build_optimizer(self, param_groups: Any = None) -> None:
        """Build the torch optimizer from the compiled recipe, with its scaler, clipping and
        LR scheduler (``fit`` calls it; saving calls it before loading optimizer state).

        Args:
            param_groups: parameters or param groups for a new optimizer (default: all of the
                model's parameters). Ignored when ``model.optimizer`` already exists.

        Raises:
            ValueError: when a given torch optimizer holds none of this model's parameters.
        """
        cfg, state = self.compile_config, self.train_state
        state.trainable_params = [p for p in self.parameters() if p.requires_grad]
        if not state.trainable_params:
            warnings.warn(
                "The model does not have any trainable weights. Training runs without "
                "gradient steps (the loss is still reported).",
                stacklevel=4,
            )
        if self.optimizer is None and any(True for _ in self.parameters()):
            groups = self.parameters() if param_groups is None else param_groups
            self.optimizer = cfg.optimizer.build(groups)
        elif self.optimizer is not None:
            _check_owns(self, self.optimizer)
        clipping = getattr(cfg.optimizer, "clipping", optimizers.Clipping())
        state.clipping = clipping if clipping else None
        custom_step = type(self).train_step is not Steps.train_step
        state.grad_check = (
            self.strategy.gradient_check(state.trainable_params) if custom_step else None
        )
        if self.lr_scheduler is None and _scheduler_object(cfg.lr_scheduler):
            sched = cfg.lr_scheduler
            self.lr_scheduler = sched if hasattr(sched, "step") else sched(self.optimizer)
        if not is_named_scheduler(cfg.lr_scheduler):  # a named one keeps its own interval
            state.batch_schedule = cfg.scheduler_interval != "epoch"
        if cfg.mixed_precision in ("fp16", "float16") and state.scaler is None:
            state.scaler = torch.amp.GradScaler(self.device.type)
        if cfg.jit_compile and state.jit_fn is None:
            state.jit_fn = JitFallback(self.eager_forward_loss, cfg.compile_mode)
        state.micro_step = 0

    # ------------------------------------------------------------------ evaluate / predict
    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: list | None = None,
        return_dict: bool = False,
    ) -> float | list[float] | dict[str, float]:
        """Loss and metrics on data, as Keras's ``Model.evaluate``.

        Returns:
            The loss (a float) when there are no metrics, else ``[loss, *metrics]``; a dict
            when ``return_dict=True``.

        Example:
            >>> sorted(model.evaluate(x_test, y_test, return_dict=True, verbose=0))
            ['accuracy', 'loss']
        """
        checks.check_compiled(self, "evaluate")
        checks.positive_int(batch_size, "batch_size", allow_none=True)
        checks.positive_int(steps, "steps", allow_none=True)
        callbacks = checks.callback_list(callbacks)
        feed, _ = _feed(self, x, y, sample_weight, batch_size, steps, "eval")
        check = _first_check(self, feed, targets=True)
        if self.train_state.logs is None:
            _prepare_eval(self, feed)
        verbose = resolve_verbose(verbose)
        params = {"steps": feed.steps(steps), "verbose": verbose, "mode": "evaluate"}
        cbs = _callback_list(self, callbacks, verbose, params)
        logs = loop.test_loop(self, feed, cbs, steps, check)
        return _result(logs, return_dict)

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: int | str = "auto",
        steps: int | None = None,
        callbacks: list | None = None,
    ) -> Any:
        """The model's outputs as NumPy arrays joined over batches (tuple/dict when several).

        Example:
            >>> probs = model.predict(x_test, verbose=0)
            >>> probs.shape
            (32, 10)
        """
        checks.positive_int(batch_size, "batch_size", allow_none=True)
        checks.positive_int(steps, "steps", allow_none=True)
        callbacks = checks.callback_list(callbacks)
        if getattr(self, "device", None) is None:
            self.device = next((p.device for p in self.parameters()), torch.device("cpu"))
        if getattr(self, "strategy", None) is None:
            self.strategy = distribute_lib.setup(None, self.device)
        feed, n = _feed(self, x, None, None, batch_size, steps, "predict")
        check = _first_check(self, feed, targets=False)
        verbose = resolve_verbose(verbose)
        params = {"steps": feed.steps(steps), "verbose": verbose, "mode": "predict"}
        cbs = _callback_list(self, callbacks, verbose, params)
        outputs = _concat(loop.predict_loop(self, feed, cbs, steps, check))
        if n is not None:
            outputs = self.strategy.gather(outputs, n)
        return tree.map_structure(_to_numpy, outputs)

    # ------------------------------------------------------------------ on_batch
    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: Mapping[int, float] | None = None,
        return_dict: bool = False,
    ) -> Any:
        """One training step on one batch; metrics are reset first (Keras 2's default)."""
        checks.check_compiled(self, "train_on_batch")
        cfg = self.compile_config
        feed, _ = data_lib.make_feed(
            x,
            y,
            sample_weight,
            batch_size=_batch_len(x),
            device=self.device,
            strategy=self.strategy,
            role="train_on_batch",
            channels_last=cfg.channels_last,
            class_weight=class_weight,
        )
        _prepare(self, feed, class_weight=class_weight)
        self.train_state.accum_steps = 1
        self.train()
        loop.reset_metrics(self)
        with self.strategy.training_forward(self):
            for batch in feed.epoch(None, 1):
                self.train_step(
                    batch if type(self).train_step is Steps.train_step else loop.pack_batch(batch)
                )
        return _result(loop.final_logs(self, self.train_state.logs), return_dict)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """Loss and metrics of one batch."""
        checks.check_compiled(self, "test_on_batch")
        logs = self.evaluate(
            x, y, batch_size=_batch_len(x), sample_weight=sample_weight, verbose=0, return_dict=True
        )
        return _result(logs, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """The model's output for one batch, as NumPy."""
        return self.predict(x, batch_size=_batch_len(x), verbose=0)


# ---------------------------------------------------------------------- helpers
def _prepare(
    model: Any, feed: Any, val: Any = None, class_weight: Any = None, *, defer: bool = False
) -> Any:
    """Check the feeds' first batches (``training.validate``), then make the optimizer,
    scaler and metrics. With ``defer``, the training feed's forward checks run in its first
    real step: the ``FirstStep`` returned (None when a forward is needed now: it builds lazy
    layers)."""
    check = None
    if defer:
        check = validate.first_step_check(model, feed, "x", class_weight=class_weight)
    if check is None:
        model.example_input, _ = validate.check_feed(model, feed, "x", class_weight=class_weight)
    else:
        model.example_input = check.x
        if model.optimizer is None:
            check.undo = functools.partial(_drop_optimizer, model)
    if val is not None:
        validate.check_feed(model, val, "validation_data")  # class_weight: training only
    model.strategy.wrap(model, model.optimizer)
    model.build_optimizer()
    _make_tracking(model)
    return check


def _callback_list(model: Any, callbacks: Any, verbose: Any, params: dict) -> CallbackList:
    cbs = checks.callback_list(callbacks)
    if params.get("mode") == "fit":
        model.history = History()
        cbs.insert(0, model.history)
    if verbose and not any(isinstance(cb, ProgbarLogger) for cb in cbs):
        cbs.append(ProgbarLogger(verbose))
    return CallbackList(cbs, model=model, params=params, rank=model.strategy.rank)


def _make_tracking(model: Any) -> None:
    state = model.train_state
    if state.loss_tracker is None:
        state.loss_tracker = LossTracker(name="loss")
    cfg = model.compile_config
    own_loss = type(model).train_step is Steps.train_step  # loss=None: the model's own loss
    tracked = [state.loss_tracker] if model.loss is not None or own_loss else []
    tracked += [*cfg.metrics, *cfg.weighted_metrics]
    for m in tracked:
        m.to(model.device)
    model.strategy.local_metrics(tracked)
    model.train_state.logs = BatchLogs(tracked)
    model.train_state.metrics = tracked


def _scheduler_object(sched: Any) -> bool:
    """A scheduler or scheduler factory given to compile (not None, not a name)."""
    return sched is not None and not is_named_scheduler(sched)


def _named_scheduler(model: Any, epochs: int, steps: int | None) -> None:
    """Build ``compile(lr_scheduler="<name>" or (name, kwargs))`` for this fit (once, as
    other schedulers)."""
    name = model.compile_config.lr_scheduler
    if not is_named_scheduler(name) or model.lr_scheduler is not None or model.optimizer is None:
        return
    sched, interval = optimizers.scheduler_from_name(
        name, model.optimizer, epochs=epochs, steps_per_epoch=steps
    )
    model.lr_scheduler = sched
    model.train_state.batch_schedule = interval != "epoch"


def _with_ema(model: Any, cbs: list[Any]) -> list[Any]:
    """``compile(ema=decay)``: the callbacks with a ``SwapEMAWeights(decay)`` when none is
    among them."""
    decay = model.compile_config.ema
    if decay is None:
        return cbs
    if any(isinstance(cb, SwapEMAWeights) for cb in cbs):
        return cbs
    state = model.train_state
    if state.ema_callback is None or state.ema_callback.decay != decay:
        state.ema_callback = SwapEMAWeights(decay=decay)  # kept: later fits go on averaging
    # first, so callbacks after it (ModelCheckpoint) see the EMA weights, as in Keras
    return [state.ema_callback, *cbs]


def _feed(model: Any, x: Any, y: Any, sw: Any, batch_size: Any, steps: Any, role: str) -> tuple:
    cfg = model.compile_config
    return data_lib.make_feed(
        x,
        y,
        sw,
        batch_size=batch_size,
        steps=steps,
        device=model.device,
        strategy=model.strategy,
        role=role,
        channels_last=False if cfg is None else cfg.channels_last,
    )


def _first_check(model: Any, feed: Any, targets: bool) -> Any:
    """The ``FirstStep`` of an evaluate/predict loop, or None after checking now."""
    check = validate.first_step_check(model, feed, "x", targets=targets)
    if check is None:
        validate.check_feed(model, feed, "x", targets=targets)
    return check


def _drop_optimizer(model: Any) -> None:
    """Undo a fit's optimizer build (its first step failed: nothing changed)."""
    model.optimizer = model.lr_scheduler = None
    model.train_state.scaler = model.train_state.jit_fn = None


def _prepare_eval(model: Any, feed: Any) -> None:
    if model.strategy.is_distributed and model.strategy.ddp is None:
        model.strategy.broadcast_module(model)  # evaluate before fit: rank 0's weights
    _make_tracking(model)


def _check_owns(model: Any, optimizer: torch.optim.Optimizer) -> None:
    own = {id(p) for p in model.parameters()}
    held = [p for g in optimizer.param_groups for p in g["params"]]
    if not any(id(p) in own for p in held):
        raise ValueError(
            "Expected the optimizer to hold this model's parameters. "
            "Received: an optimizer over other tensors"
        )


def _batch_len(x: Any) -> int:
    return data_lib.first_dim(data_lib.to_tensor(x, "x")) or 1


def _result(logs: dict[str, float], return_dict: bool) -> Any:
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _concat(outputs: list[Any]) -> Any:
    first = outputs[0]
    if not isinstance(first, torch.Tensor | Mapping | tuple | list):
        raise TypeError(
            f"Expected predict_step to return tensors (or a tuple/dict of them). "
            f"Received: {type(first).__name__}"
        )
    return tree.map_structure(lambda *parts: torch.cat(parts), *outputs)


def _to_numpy(out: torch.Tensor) -> Any:
    out = out.detach().cpu()
    return (out.float() if out.dtype in (torch.bfloat16, torch.float16) else out).numpy()
