"""The training loop: compile/fit/evaluate/predict and train_step/test_step/predict_step.

``Trainer`` is mixed into ``kerasish.Model`` (an ``nn.Module``). ``fit`` is a handful of short
helpers: ``_check_fit`` -> ``_fit_sources`` -> ``_run_epochs`` -> ``_train_epoch`` ->
``train_step``. Per batch the loop does what a hand-written loop does (forward, loss,
backward, step, metric update on the device) and nothing else: no host sync, no hook that no
callback overrides, nothing allocated that could be made once.
"""

from __future__ import annotations

import contextlib
import itertools
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import torch

from kerasish import data as data_lib
from kerasish import devices, losses, optimizers
from kerasish import distribute as distribute_lib
from kerasish import metrics as metrics_lib
from kerasish.callbacks.callback_list import CallbackList
from kerasish.callbacks.history import History
from kerasish.callbacks.progbar import ProgbarLogger, resolve_verbose

__all__ = ["Trainer", "BatchLogs"]


class BatchLogs(Mapping):
    """The running loss and metrics, read from the device only when a key is read.

    One object serves a whole loop: no dict is built per batch, and nothing waits for the device
    unless a callback reads a value.
    """

    def __init__(self, tracked: list[metrics_lib.Metric]):
        self._tracked = {m.name: m for m in tracked}

    def __getitem__(self, key: str) -> float:
        return float(self._tracked[key].result())

    def __iter__(self) -> Iterator[str]:
        return iter(self._tracked)

    def __len__(self) -> int:
        return len(self._tracked)

    def snapshot(self) -> dict[str, float]:
        """Every value as a float (one host sync)."""
        values = [m.result() for m in self._tracked.values()]
        if not values:
            return {}
        floats = torch.stack([v.detach().float().reshape(()).cpu() for v in values]).tolist()
        return dict(zip(self._tracked, floats))


def _positive_int(value: Any, name: str, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"Expected {name} to be a positive integer. Received: {name}={value!r}")


class Trainer:
    """compile/fit/evaluate/predict for an ``nn.Module`` (mixed into ``kerasish.Model``)."""

    def __getstate__(self) -> dict[str, Any]:
        # Copies and pickles leave the process group and the DDP wrapper behind.
        state = super().__getstate__()  # type: ignore[misc]
        state.pop("_dist_forward", None)
        if "_dist" in state:
            state["_dist"], state["_grad_check"] = None, None
        return state

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        *,
        device: Any = "auto",
        lr_scheduler: Any = None,
        scheduler_interval: str = "epoch",
        mixed_precision: str | None = None,
        jit_compile: bool | str = False,
        compile_mode: str | None = None,
        channels_last: bool = False,
        distribute: str | None = "auto",
    ) -> None:
        """Configure the model for training.

        Args:
            optimizer: a name ("adam", "sgd", ...), a ``kerasish.optimizers`` object, a torch
                optimizer class, or a torch optimizer instance over this model's parameters.
            loss: a Keras or PyTorch loss name, a ``kerasish.losses`` object, a torch loss
                module, or a callable ``loss(y_true, y_pred)``; a list/dict for several outputs.
            metrics: a list of names, ``kerasish.metrics`` objects, callables or torchmetrics
                metrics (a dict of lists for several named outputs).
            loss_weights: weights of the losses of several outputs (list or dict).
            device: "auto" (CUDA, then MPS, then CPU; ``KERASISH_DEVICE`` overrides), or a
                device.
            lr_scheduler: a ``torch.optim.lr_scheduler`` instance, or a callable
                ``optimizer -> scheduler`` (for optimizers kerasish builds).
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

        Raises:
            ValueError: for unknown names or inconsistent arguments, before anything changes.

        Example:
            >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
            ...               metrics=["accuracy"])
        """
        opt = optimizers.get(optimizer)
        if loss is None:
            warnings.warn(
                "compile() got no loss: fit() will need a train_step override.", stacklevel=2
            )
        loss_obj = self._resolve_loss(loss)
        metric_objs = self._resolve_metrics(metrics, loss_obj)
        if scheduler_interval not in ("epoch", "batch", "step"):
            raise ValueError(
                f"Expected scheduler_interval to be 'epoch' or 'batch'. Received: "
                f"scheduler_interval={scheduler_interval!r}"
            )
        if mixed_precision not in devices.PRECISIONS:
            raise ValueError(
                f"Expected mixed_precision to be None, 'bf16' or 'fp16'. Received: "
                f"mixed_precision={mixed_precision!r}"
            )
        if distribute not in ("auto", "ddp", "fsdp", None):
            raise ValueError(
                f"Expected distribute to be 'auto', 'ddp', 'fsdp' or None. "
                f"Received: distribute={distribute!r}"
            )
        device = devices.resolve(device)
        dist_state = distribute_lib.setup(distribute, device)
        self.device = device if dist_state is None else dist_state.device
        self._dist = dist_state
        self.to(self.device)
        if channels_last:
            self.to(memory_format=torch.channels_last)
        self._optimizer_spec = opt
        self.optimizer = opt if isinstance(opt, torch.optim.Optimizer) else None
        self.loss = loss_obj
        self._loss_weights = loss_weights
        self._metric_objs = metric_objs
        self._lr_scheduler_spec = lr_scheduler
        self.lr_scheduler = None
        self._scheduler_interval = "epoch" if scheduler_interval == "epoch" else "batch"
        self._precision = mixed_precision
        self._jit = jit_compile
        self._compile_mode = compile_mode
        self._channels_last = channels_last
        self._distribute = distribute
        self._compiled_fn = None
        self._scaler = None
        self._tracked = self._logs = self._loss_tracker = None  # rebuilt for the new metrics
        for lo in _flat_losses(loss_obj):
            if hasattr(lo, "to"):
                lo.to(self.device)  # e.g. a torch loss's class-weight buffer
        self._set_loss_activation()
        self.compiled = True

    def _resolve_loss(self, loss: Any) -> Any:
        if loss is None:
            return None
        if isinstance(loss, Mapping):
            return {k: losses.get(v) for k, v in loss.items()}
        if isinstance(loss, list | tuple):
            return [losses.get(v) for v in loss]
        return losses.get(loss)

    def _resolve_metrics(self, specs: Any, loss: Any) -> list[metrics_lib.Metric]:
        if specs is None:
            return []
        if isinstance(specs, Mapping):
            out = []
            for key, group in specs.items():
                group = group if isinstance(group, list | tuple) else [group]
                for spec in group:
                    m = metrics_lib.get(spec, loss=_pick(loss, key))
                    m.output_key = key
                    m.name = f"{key}_{m.name}"
                    out.append(m)
            return out
        if not isinstance(specs, list | tuple):
            raise TypeError(
                f"Expected metrics to be a list (or a dict per output). Received: metrics={specs!r}"
            )
        first = (
            next(iter(loss.values()))
            if isinstance(loss, Mapping)
            else (loss[0] if isinstance(loss, list | tuple) else loss)
        )
        return [metrics_lib.get(s, loss=first) for s in specs]

    def _set_loss_activation(self) -> None:
        """Tell crossentropy losses in "auto" mode what the model's last layer is."""
        from kerasish.models.inspect import output_activation

        act = output_activation(self)
        for lo in _flat_losses(self.loss):
            if getattr(lo, "from_logits", False) is None and act is not None:
                lo.from_logits = act not in ("softmax", "sigmoid")

    # ------------------------------------------------------------------ steps
    def forward_batch(self, x: Any) -> Any:
        """Call the model on ``x``: a dict as keyword arguments, a list/tuple as positional.

        While a distributed (DDP) training loop runs, the call goes through the
        ``DistributedDataParallel`` wrapper, which averages the gradients over the ranks; call
        this (not ``self(x)``) in an overridden ``train_step``.
        """
        call = self.__dict__.get("_dist_forward", self)
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
        keys = loss.keys() if isinstance(loss, Mapping) else range(len(loss))
        total = None
        for k in keys:
            w = 1.0 if self._loss_weights is None else self._loss_weights[k]
            term = loss[k](y[k], y_pred[k], sample_weight) * w
            total = term if total is None else total + term
        return total

    def compute_metrics(
        self,
        x: Any,
        y: Any,
        y_pred: Any,
        sample_weight: Any = None,
        loss: torch.Tensor | None = None,
    ) -> BatchLogs:
        """Update the loss tracker (when ``loss`` is given) and the metrics with a batch.

        Returns:
            The logs: a mapping whose values are read from the device only when accessed.
        """
        if loss is not None:
            self._loss_tracker.update_state(loss.detach(), sample_weight=data_lib.first_dim(x))
        for m in self._metric_objs:
            key = getattr(m, "output_key", None)
            if key is None:
                m.update_state(y, y_pred, sample_weight)
            else:
                m.update_state(y[key], y_pred[key], sample_weight)
        return self._logs

    @property
    def metrics(self) -> list[metrics_lib.Metric]:
        """The loss tracker and the compiled metrics (empty before the first fit/evaluate)."""
        return list(getattr(self, "_tracked", []))

    def train_step(self, data: tuple[Any, Any, Any]) -> Mapping[str, Any]:
        """One optimisation step on a batch ``(x, y, sample_weight)``; returns the logs.

        Override it for custom training (GANs, custom losses): compute the loss, call
        ``self.apply_gradients(loss)`` (or step your own optimizers), then return
        ``self.compute_metrics(x, y, y_pred, sample_weight, loss)`` or any mapping of logs.
        """
        x, y, sw = data
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
        with devices.autocast(self.device, self._precision):
            return self.forward_batch(data[0])

    def _forward_loss(self, x: Any, y: Any, sw: Any) -> tuple[Any, Any]:
        if self._compiled_fn is not None:
            return self._compiled_fn(x, y, sw)
        return self._eager_forward_loss(x, y, sw)

    def _eager_forward_loss(self, x: Any, y: Any, sw: Any) -> tuple[Any, Any]:
        if self._precision is None:
            y_pred = self.forward_batch(x)
            return y_pred, None if self.loss is None else self.compute_loss(x, y, y_pred, sw)
        with devices.autocast(self.device, self._precision):
            y_pred = self.forward_batch(x)
            loss = None if self.loss is None else self.compute_loss(x, y, y_pred, sw)
        return y_pred, loss

    def apply_gradients(self, loss: torch.Tensor) -> None:
        """Backward, then (every ``gradient_accumulation_steps`` batches) clip and step."""
        accum = self._accum_steps
        if accum > 1:
            loss = loss / accum
        if self._scaler is not None:
            self._scaler.scale(loss).backward()
        else:
            loss.backward()
        self._micro_step += 1
        if accum > 1 and self._micro_step % accum:
            return
        self._optimizer_step()

    def _optimizer_step(self) -> None:
        opt, scaler, clipping = self.optimizer, self._scaler, self._clipping
        if self._grad_check is not None:
            self._grad_check()
        if clipping is not None:
            if scaler is not None:
                scaler.unscale_(opt)
            optimizers.clip_gradients(self._trainable_params, clipping)
        if scaler is not None:
            scaler.step(opt)
            scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        if self.lr_scheduler is not None and self._scheduler_interval == "batch":
            self.lr_scheduler.step()

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
            verbose: "auto", 0 (silent), 1 (a progress bar per epoch) or 2 (a line per epoch).
            callbacks: ``kerasish.callbacks`` objects.
            validation_split: the fraction taken from the end (before shuffling) to validate on.
            validation_data: ``(x_val, y_val[, sample_weight])``, a Dataset, DataLoader or
                generator.
            shuffle: shuffle arrays and map-style Datasets every epoch.
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
            >>> history = model.fit(x, y, batch_size=64, epochs=5, validation_split=0.1)
        """
        self._check_fit(
            x,
            y,
            batch_size,
            epochs,
            validation_split,
            validation_data,
            initial_epoch,
            gradient_accumulation_steps,
            steps_per_epoch,
            validation_freq,
        )
        verbose = resolve_verbose(verbose)
        if data_on_device != "auto" and not isinstance(data_on_device, bool):
            raise ValueError(
                f"Expected data_on_device to be 'auto', True or False. Received: "
                f"data_on_device={data_on_device!r}"
            )
        loader_kw = self._loader_kwargs(
            num_workers, pin_memory, persistent_workers, prefetch_factor
        )
        train, val = self._fit_sources(
            x,
            y,
            sample_weight,
            batch_size or 32,
            shuffle,
            validation_split,
            validation_data,
            steps_per_epoch,
            validation_steps,
            loader_kw,
        )
        train, val = self._shard_fit_sources(train, val)
        self._class_weight = self._class_weight_table(class_weight)
        self._prepare(train, data_on_device, [val] if val is not None else [])
        self._accum_steps = gradient_accumulation_steps
        steps = _steps(train, steps_per_epoch)
        cbs = self._callback_list(
            callbacks,
            verbose,
            {
                "epochs": epochs,
                "steps": steps,
                "verbose": verbose,
                "mode": "fit",
                "batch_size": batch_size or 32,
            },
        )
        self.stop_training = False
        if cbs.on_train_begin:
            cbs.on_train_begin(None)
        logs = self._run_epochs(
            train,
            val,
            cbs,
            initial_epoch,
            epochs,
            steps_per_epoch,
            validation_steps,
            validation_freq,
        )
        if cbs.on_train_end:
            cbs.on_train_end(logs)
        return self.history

    def _check_fit(
        self,
        x,
        y,
        batch_size,
        epochs,
        validation_split,
        validation_data,
        initial_epoch,
        accum,
        steps_per_epoch,
        validation_freq,
    ) -> None:
        if not getattr(self, "compiled", False):
            raise RuntimeError(
                "Expected compile() to be called before fit(). Received: an uncompiled model"
            )
        if x is None:
            raise ValueError("Expected training data. Received: x=None")
        _positive_int(batch_size, "batch_size", allow_none=True)
        _positive_int(epochs, "epochs")
        _positive_int(accum, "gradient_accumulation_steps")
        _positive_int(steps_per_epoch, "steps_per_epoch", allow_none=True)
        if not isinstance(initial_epoch, int) or not 0 <= initial_epoch < epochs:
            raise ValueError(
                f"Expected 0 <= initial_epoch < epochs. Received: "
                f"initial_epoch={initial_epoch!r}, epochs={epochs}"
            )
        if not isinstance(validation_split, int | float) or not 0 <= validation_split < 1:
            raise ValueError(
                f"Expected validation_split in [0, 1). Received: "
                f"validation_split={validation_split!r}"
            )
        if not isinstance(validation_freq, int | list | tuple) or (
            isinstance(validation_freq, int) and validation_freq <= 0
        ):
            raise ValueError(
                f"Expected validation_freq to be a positive integer or a list of "
                f"epochs. Received: validation_freq={validation_freq!r}"
            )
        if y is None and data_lib._is_arraylike(x) and self._uses_default_loss():
            raise ValueError(
                "Expected targets y with array inputs (the compiled loss needs "
                "them). Received: y=None"
            )

    def _uses_default_loss(self) -> bool:
        return type(self).train_step is Trainer.train_step and self.loss is not None

    def _loader_kwargs(self, num_workers, pin_memory, persistent_workers, prefetch_factor):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"Expected num_workers >= 0. Received: num_workers={num_workers!r}")
        _positive_int(prefetch_factor, "prefetch_factor", allow_none=True)
        kw: dict[str, Any] = {
            "num_workers": num_workers,
            "pin_memory": (self.device.type == "cuda" if pin_memory is None else pin_memory),
        }
        if num_workers > 0:
            kw["persistent_workers"] = persistent_workers
            if prefetch_factor is not None:
                kw["prefetch_factor"] = prefetch_factor
        return kw

    def _fit_sources(
        self,
        x,
        y,
        sample_weight,
        batch_size,
        shuffle,
        validation_split,
        validation_data,
        steps_per_epoch,
        validation_steps,
        loader_kw,
    ):
        val_parts = None
        if validation_data is not None:
            val_parts = data_lib.unpack_validation(validation_data)
        elif validation_split:
            (x, y, sample_weight), val_parts = data_lib.split_validation(
                x, y, sample_weight, validation_split
            )
        train = data_lib.adapt(
            x,
            y,
            sample_weight,
            batch_size=batch_size,
            shuffle=shuffle,
            steps=steps_per_epoch,
            loader_kwargs=loader_kw,
        )
        val = None
        if val_parts is not None:
            vx, vy, vsw = val_parts
            val = data_lib.adapt(
                vx,
                vy,
                vsw,
                batch_size=batch_size,
                shuffle=False,
                steps=validation_steps,
                name="validation_data",
                loader_kwargs=loader_kw,
            )
        return train, val

    def _shard_fit_sources(self, train: Any, val: Any) -> tuple[Any, Any]:
        """Each rank's share of the data (a no-op in one process)."""
        dist_state = self.__dict__.get("_dist")
        if dist_state is None:
            return train, val
        dist_state.shared_seed()
        train, _ = dist_state.shard(train, "train")
        if val is not None:
            val, _ = dist_state.shard(val, "eval")
        return train, val

    def _class_weight_table(self, class_weight: Any) -> torch.Tensor | None:
        if class_weight is None:
            return None
        if not isinstance(class_weight, Mapping) or not class_weight:
            raise ValueError(
                f"Expected class_weight to be a dict {{class_index: weight}}. "
                f"Received: class_weight={class_weight!r}"
            )
        table = torch.ones(max(int(k) for k in class_weight) + 1)
        for k, w in class_weight.items():
            table[int(k)] = float(w)
        return table.to(self.device)

    def _callback_list(self, callbacks, verbose, params) -> CallbackList:
        cbs = list(callbacks or [])
        for cb in cbs:
            if not hasattr(cb, "on_epoch_end") and not hasattr(cb, "on_train_begin"):
                raise TypeError(
                    f"Expected callbacks to be kerasish.callbacks.Callback objects. "
                    f"Received: {cb!r}"
                )
        if params.get("mode") == "fit":
            self.history = History()
            cbs.insert(0, self.history)
        if verbose and not any(isinstance(cb, ProgbarLogger) for cb in cbs):
            cbs.append(ProgbarLogger(verbose))
        return CallbackList(cbs, model=self, params=params)

    # ------------------------------------------------------------------ preparing
    def _prepare(self, train: Any, data_on_device: Any, others: list) -> None:
        """Build lazy layers, check targets on a first batch, make optimizer/scaler/metrics."""
        first = data_lib.peek(train)
        x, y, sw = devices.move(first, self.device)
        with torch.no_grad():
            was_training = self.training
            self.eval()
            try:
                y_pred = self.forward_batch(x)
            finally:
                self.train(was_training)
        self._summary_input = x
        if self.loss is not None and self._uses_default_loss():
            if y is None:
                raise ValueError(
                    "Expected each batch to carry targets (x, y) for the compiled "
                    "loss. Received: batches without y"
                )
            for lo, yt, yp in _loss_pairs(self.loss, y, y_pred):
                losses.check_targets(lo, yt, yp)
        dist_state = self.__dict__.get("_dist")
        if dist_state is not None:
            dist_state.wrap(self, self.optimizer)
        self._make_optimizer()
        self._make_tracking()
        self._place_data([train, *others], data_on_device)

    def _make_optimizer(self) -> None:
        spec = self._optimizer_spec
        if self.optimizer is None:
            self.optimizer = spec.build(self.parameters())
        else:
            own = {id(p) for p in self.parameters()}
            held = [p for g in self.optimizer.param_groups for p in g["params"]]
            if not any(id(p) in own for p in held):
                raise ValueError(
                    "Expected the optimizer to hold this model's parameters. "
                    "Received: an optimizer over other tensors"
                )
        clipping = getattr(spec, "clipping", optimizers.Clipping())
        self._clipping = clipping if clipping else None
        self._trainable_params = [p for p in self.parameters() if p.requires_grad]
        self._grad_check = None
        dist_state = self.__dict__.get("_dist")
        if dist_state is not None and type(self).train_step is not Trainer.train_step:
            self._grad_check = dist_state.gradient_check(self._trainable_params)
        if self.lr_scheduler is None and self._lr_scheduler_spec is not None:
            sched = self._lr_scheduler_spec
            self.lr_scheduler = sched if hasattr(sched, "step") else sched(self.optimizer)
        if self._precision in ("fp16", "float16") and self._scaler is None:
            self._scaler = torch.amp.GradScaler(self.device.type)
        if self._jit and self._compiled_fn is None:
            self._compiled_fn = _JitFallback(self._eager_forward_loss, self._compile_mode)
        self._micro_step = 0

    def _make_tracking(self) -> None:
        if getattr(self, "_loss_tracker", None) is None:
            self._loss_tracker = metrics_lib.Mean(name="loss")
        tracked = ([self._loss_tracker] if self.loss is not None else []) + self._metric_objs
        for m in tracked:
            m.to(self.device)
        if self.__dict__.get("_dist") is not None:
            self._dist.local_metrics(tracked)
        self._logs = BatchLogs(tracked)
        self._tracked = tracked

    def _place_data(self, sources: list, data_on_device: Any) -> None:
        if self.device.type == "cpu":
            return
        for s in sources:
            if isinstance(s, data_lib.ArraySource) and _keep_on_device(s, data_on_device):
                s.to(self.device)

    # ------------------------------------------------------------------ epochs
    def _run_epochs(
        self,
        train,
        val,
        cbs,
        initial_epoch,
        epochs,
        steps_per_epoch,
        validation_steps,
        validation_freq,
    ) -> dict[str, float]:
        logs: dict[str, float] = {}
        # Set by a callback's on_train_begin (BackupAndRestore): {"epoch", "step",
        # "epoch_rng_state", "rng_state", "restore_metrics"}; see _epoch_batches.
        resume = self.__dict__.pop("_resume", None)
        if resume is not None:
            initial_epoch = resume["epoch"]
        for epoch in range(initial_epoch, epochs):
            self._epoch = epoch
            if cbs.on_epoch_begin:
                cbs.on_epoch_begin(epoch, None)
            logs = self._train_epoch(train, cbs, steps_per_epoch, resume)
            resume = None
            if val is not None and _should_validate(epoch, validation_freq):
                val_logs = self._test_loop(val, cbs, validation_steps)
                logs.update({f"val_{k}": v for k, v in val_logs.items()})
            self._end_epoch_schedules(logs)
            if cbs.on_epoch_end:
                cbs.on_epoch_end(epoch, logs)
            if self.__dict__.get("_dist") is not None:
                self.stop_training = self._dist.any(self.stop_training)
            if self.stop_training:
                break
            if getattr(train, "exhausted", False):
                data_lib.warn_exhausted()
                break
        return logs

    def _train_epoch(self, source, cbs, steps, resume=None) -> dict[str, float]:
        self.train()
        for m in self._tracked:
            m.reset_state()
        if resume is not None and resume.get("restore_metrics") is not None:
            resume["restore_metrics"]()  # the running means of a mid-epoch checkpoint
        begin, end = cbs.on_train_batch_begin, cbs.on_train_batch_end
        dist_state = self.__dict__.get("_dist")
        if dist_state is not None:
            end = dist_state.stop_agreement(cbs, end, self)
        step_fn = self.train_step
        logs: Mapping[str, Any] = self._logs
        it, start = self._epoch_batches(source, steps, resume)
        step = start - 1
        with _training_forward(dist_state, self):
            for step, batch in enumerate(it, start):
                if begin:
                    begin(step, None)
                logs = step_fn(batch)
                if end:
                    end(step, logs)
                if self.stop_training:
                    break
        self._train_counter = getattr(self, "_train_counter", 0) + step + 1 - start
        logs = self._final_logs(logs)
        if self.optimizer is not None:
            logs["learning_rate"] = float(self.optimizer.param_groups[0]["lr"])
        return logs

    def _epoch_batches(self, source, steps, resume) -> tuple[Iterator, int]:
        """This epoch's batches; when resuming, replay the epoch's order and skip done steps.

        ``self.epoch_rng_state`` is the torch RNG state before the epoch drew its order, kept
        so a checkpoint can resume mid-epoch exactly (see ``BackupAndRestore``).
        """
        if self.__dict__.get("_dist") is not None:
            self._dist.set_epoch(source, self._epoch)
        if resume is not None and resume.get("epoch_rng_state") is not None:
            torch.set_rng_state(resume["epoch_rng_state"])
        self.epoch_rng_state = torch.get_rng_state()
        it = iter(self._batches(source, steps))
        start = 0 if resume is None else resume.get("step", 0)
        for _ in range(start):
            next(it, None)
        if resume is not None and resume.get("rng_state") is not None:
            torch.set_rng_state(resume["rng_state"])
        return it, start

    def _end_epoch_schedules(self, logs: dict[str, float]) -> None:
        sched = self.lr_scheduler
        if sched is None or self._scheduler_interval != "epoch":
            return
        if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
            sched.step(logs.get("val_loss", logs.get("loss")))
        else:
            sched.step()

    def _batches(self, source: Any, steps: int | None) -> Any:
        it: Any = source
        if self.device.type == "cuda" and not _resident(source, self.device):
            it = data_lib.CudaPrefetcher(source, self.device)
        elif not _resident(source, self.device):
            it = (devices.move(b, self.device) for b in source)
        if self._class_weight is not None:
            it = (self._weigh(b) for b in it)
        if self._channels_last:
            it = (_to_channels_last(b) for b in it)
        if steps is not None and not isinstance(source, data_lib.IteratorSource):
            it = itertools.islice(it, steps)
        return it

    def _weigh(self, batch: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
        x, y, sw = batch
        labels = y.argmax(-1) if y.dim() > 1 and y.shape[-1] > 1 else y.reshape(-1).long()
        w = self._class_weight[labels.long()]
        return x, y, w if sw is None else sw * w

    # ------------------------------------------------------------------ evaluate / predict
    def _test_loop(self, source, cbs, steps) -> dict[str, float]:
        self.eval()
        for m in self._tracked:
            m.reset_state()
        begin, end = cbs.on_test_batch_begin, cbs.on_test_batch_end
        if cbs.on_test_begin:
            cbs.on_test_begin(None)
        logs: Mapping[str, Any] = self._logs
        dist_state = self.__dict__.get("_dist")
        most = None if dist_state is None else dist_state.eval_steps(source, steps)
        step, batch = -1, None
        with torch.no_grad():
            for step, batch in enumerate(self._batches(source, steps)):
                if begin:
                    begin(step, None)
                logs = self.test_step(batch)
                if end:
                    end(step, logs)
            for _ in range(0 if most is None or batch is None else most - step - 1):
                self.forward_batch(batch[0])  # FSDP: as many (collective) forwards as any rank
        out = self._final_logs(logs)
        if cbs.on_test_end:
            cbs.on_test_end(out)
        return out

    def _final_logs(self, logs: Mapping[str, Any]) -> dict[str, float]:
        """The loop's logs as floats; across ranks, metric states are summed first."""
        dist_state = self.__dict__.get("_dist")
        if logs is self._logs:
            if dist_state is not None:
                dist_state.reduce_metrics(self._tracked)
            return self._logs.snapshot()
        out = _floats(logs)
        return out if dist_state is None else dist_state.mean_logs(out)

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
            >>> model.evaluate(x_test, y_test, return_dict=True)
            {'loss': 0.12, 'accuracy': 0.97}
        """
        self._check_ready("evaluate")
        _positive_int(batch_size, "batch_size", allow_none=True)
        source = data_lib.adapt(x, y, sample_weight, batch_size=batch_size or 32, steps=steps)
        if self.__dict__.get("_dist") is not None:
            source, _ = self._dist.shard(source, "eval")
        self._class_weight = None
        if getattr(self, "_tracked", None) is None:
            self._prepare_eval(source)
        verbose = resolve_verbose(verbose)
        cbs = self._callback_list(
            callbacks,
            verbose,
            {"steps": _steps(source, steps), "verbose": verbose, "mode": "evaluate"},
        )
        logs = self._test_loop(source, cbs, steps)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _prepare_eval(self, source: Any) -> None:
        x, _, _ = devices.move(data_lib.peek(source), self.device)
        with torch.no_grad():
            self.eval()
            self.forward_batch(x)
        if self.__dict__.get("_dist") is not None and self._dist.ddp is None:
            self._dist.broadcast_module(self)  # evaluate before fit: rank 0's weights
        self._make_tracking()

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
            >>> probs = model.predict(x_test)
        """
        _positive_int(batch_size, "batch_size", allow_none=True)
        source = data_lib.adapt(x, batch_size=batch_size or 32, steps=steps)
        dist_state, n = self.__dict__.get("_dist"), None
        if dist_state is not None:
            source, n = dist_state.shard(source, "predict")
        if getattr(self, "device", None) is None:
            self.device = next((p.device for p in self.parameters()), torch.device("cpu"))
        self._precision = getattr(self, "_precision", None)
        self._class_weight = None
        self._channels_last = getattr(self, "_channels_last", False)
        verbose = resolve_verbose(verbose)
        cbs = self._callback_list(
            callbacks,
            verbose,
            {"steps": _steps(source, steps), "verbose": verbose, "mode": "predict"},
        )
        outputs = _concat(self._predict_loop(source, cbs, steps))
        if n is not None:
            outputs = dist_state.gather(outputs, n)
        return _to_numpy(outputs)

    def _predict_loop(self, source, cbs, steps) -> list[Any]:
        self.eval()
        outputs = []
        if cbs.on_predict_begin:
            cbs.on_predict_begin(None)
        begin, end = cbs.on_predict_batch_begin, cbs.on_predict_batch_end
        with torch.no_grad():
            for step, batch in enumerate(self._batches(source, steps)):
                if begin:
                    begin(step, None)
                out = self.predict_step(batch)
                outputs.append(out)
                if end:
                    end(step, {"outputs": out})
        if cbs.on_predict_end:
            cbs.on_predict_end(None)
        return outputs

    def _check_ready(self, what: str) -> None:
        if not getattr(self, "compiled", False):
            raise RuntimeError(
                f"Expected compile() to be called before {what}(). Received: an uncompiled model"
            )

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
        self._check_ready("train_on_batch")
        source = data_lib.adapt(
            x, y, sample_weight, batch_size=data_lib.first_dim(data_lib.to_tensor(x, "x")) or 1
        )
        self._class_weight = self._class_weight_table(class_weight)
        self._prepare(source, False, [])
        self._accum_steps = 1
        self.train()
        for m in self._tracked:
            m.reset_state()
        with _training_forward(self.__dict__.get("_dist"), self):
            for batch in self._batches(source, 1):
                self.train_step(batch)
        return _result(self._final_logs(self._logs), return_dict)

    def test_on_batch(
        self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False
    ) -> Any:
        """Loss and metrics of one batch."""
        self._check_ready("test_on_batch")
        logs = self.evaluate(
            x,
            y,
            batch_size=data_lib.first_dim(data_lib.to_tensor(x, "x")),
            sample_weight=sample_weight,
            verbose=0,
            return_dict=True,
        )
        return _result(logs, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """The model's output for one batch, as NumPy."""
        return self.predict(x, batch_size=data_lib.first_dim(data_lib.to_tensor(x, "x")), verbose=0)


# ---------------------------------------------------------------------- helpers
class _JitFallback:
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


def _training_forward(dist_state: Any, model: Any) -> Any:
    """Route forward_batch through the DDP wrapper (nothing to do in one process)."""
    if dist_state is None:
        return contextlib.nullcontext()
    return dist_state.training_forward(model)


def _pick(loss: Any, key: Any) -> Any:
    if isinstance(loss, Mapping | list | tuple):
        return loss[key]
    return loss


def _flat_losses(loss: Any) -> list[Any]:
    if loss is None:
        return []
    if isinstance(loss, Mapping):
        return list(loss.values())
    if isinstance(loss, list | tuple):
        return list(loss)
    return [loss]


def _loss_pairs(loss: Any, y: Any, y_pred: Any) -> list[tuple[Any, Any, Any]]:
    if isinstance(loss, Mapping):
        return [(loss[k], y[k], y_pred[k]) for k in loss]
    if isinstance(loss, list | tuple):
        return [(lo, y[i], y_pred[i]) for i, lo in enumerate(loss)]
    return [(loss, y, y_pred)]


def _steps(source: Any, steps: int | None) -> int | None:
    if steps is not None:
        return steps
    try:
        return len(source)
    except TypeError:
        return None


def _should_validate(epoch: int, freq: int | list[int]) -> bool:
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return epoch + 1 in freq


def _resident(source: Any, device: torch.device) -> bool:
    if not isinstance(source, data_lib.ArraySource):
        return False
    leaves = data_lib._leaves(source.x)
    return bool(leaves) and leaves[0].device.type == device.type


def _keep_on_device(source: Any, data_on_device: Any) -> bool:
    if data_on_device == "auto":
        size = sum(
            t.numel() * t.element_size()
            for t in data_lib._leaves([source.x, source.y, source.sample_weight])
        )
        return size < 2**30
    return bool(data_on_device)


def _to_channels_last(batch: tuple[Any, Any, Any]) -> tuple[Any, Any, Any]:
    x, y, sw = batch
    if isinstance(x, torch.Tensor) and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y, sw


def _floats(logs: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in logs.items()}


def _result(logs: dict[str, float], return_dict: bool) -> Any:
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _concat(outputs: list[Any]) -> Any:
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(outputs)
    if isinstance(first, Mapping):
        return {k: torch.cat([o[k] for o in outputs]) for k in first}
    if isinstance(first, tuple | list):
        return type(first)(torch.cat([o[i] for o in outputs]) for i in range(len(first)))
    raise TypeError(
        f"Expected predict_step to return tensors (or a tuple/dict of them). "
        f"Received: {type(first).__name__}"
    )


def _to_numpy(out: Any) -> Any:
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu()
        return (out.float() if out.dtype in (torch.bfloat16, torch.float16) else out).numpy()
    if isinstance(out, Mapping):
        return {k: _to_numpy(v) for k, v in out.items()}
    return type(out)(_to_numpy(v) for v in out)
