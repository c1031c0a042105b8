"""TensorBoard: Keras's TensorBoard callback written with ``torch.utils.tensorboard`` (no TensorFlow).

Layout of ``log_dir`` (as Keras writes it, so train and validation curves overlay):

- ``train/``: ``epoch_<key>`` scalars at step ``epoch`` (``epoch_loss``, ``epoch_accuracy``,
  ``epoch_learning_rate``, ``epoch_steps_per_second``), ``batch_<key>`` scalars at the global
  batch step, weight histograms ``<module>/<param>``, gradient histograms
  ``<module>/<param>_grad``, weight images ``<module>/<param>/image`` and the model graph;
- ``validation/``: ``epoch_<key>`` for the ``val_`` keys (prefix removed) and
  ``evaluation_<key>_vs_iterations`` at the global batch step;
- the directory itself: the hparams session (only when ``hparams`` is given);
- ``plugins/profile/``: the torch.profiler traces (``*.pt.trace.json``) of ``profile_batch``.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Mapping
from numbers import Real
from typing import Any

import torch

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.paths import check_writable
from kerasish.callbacks.reduce_lr_on_plateau import get_lr

__all__ = ["TensorBoard"]

_HPARAM_TYPES = (bool, int, float, str)


class TensorBoard(Callback):
    """Write TensorBoard logs: scalars, histograms, images, the graph, hparams and profiles.

    Scalars are written per epoch (step = the epoch index, ``initial_epoch`` included) and,
    when ``update_freq`` asks for it, per batch (step = the model's total number of training
    batches, so batch curves continue across repeated ``fit()`` calls, even with a new
    callback, as Keras's optimizer-iteration steps do). Writers are created on first use,
    flushed every epoch and closed at the end of training.

    Batch-level logging reads the running loss and metrics from the device (one host sync)
    every ``update_freq`` batches; with ``update_freq="epoch"`` nothing runs per batch.

    Args:
        log_dir: the directory of the logs; view them with
            ``kerasish tensorboard --logdir <parent of log_dir>``.
        histogram_freq: every how many epochs (0: never) to write histograms of the weights and
            of the gradients of the epoch's last batch (and images with ``write_images``).
            Written at epochs 0, f, 2f, ...
        write_graph: write the model's graph, traced on a real input batch (a failure to trace
            warns and training goes on).
        write_images: on histogram epochs, write weights as images: conv kernels as a grid
            (one row per output channel), matrices and vectors as one image.
        write_steps_per_second: write ``epoch_steps_per_second``.
        update_freq: "epoch", "batch", or an integer N: write ``batch_<key>`` scalars every N
            batches.
        profile_batch: 0 (off), a batch number, or ``(start, stop)``: profile these batches of
            each fit (counted from 1) with ``torch.profiler``; the trace, under
            ``log_dir/plugins/profile``, opens in TensorBoard's PyTorch profiler plugin or in
            Chrome's ``chrome://tracing``/Perfetto.
        hparams: a dict of hyperparameters for the HParams dashboard; the optimizer class,
            learning rate, batch size and epochs are added. ``{}`` logs just those; None logs
            none. The final values of every scalar show as the session's metrics.

    Raises:
        ValueError / TypeError: for a bad argument; ValueError at the start of ``fit`` when
            ``log_dir`` cannot be written.

    Example:
        >>> import os
        >>> tb = TensorBoard(log_dir="runs/exp1", histogram_freq=1, hparams={"dropout": 0.2})
        >>> history = model.fit(x, y, validation_split=0.1, epochs=2, callbacks=[tb], verbose=0)
        >>> # then: kerasish tensorboard --logdir runs
        >>> sorted(os.listdir("runs/exp1"))  # doctest: +ELLIPSIS
        ['events.out.tfevents...', 'train', 'validation']
    """

    rank_zero_only = True  # writes event files: rank 0 only in distributed training

    def __init__(
        self,
        log_dir: str | os.PathLike = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: str | int = "epoch",
        profile_batch: int | tuple[int, int] | str = 0,
        hparams: Mapping[str, Any] | None = None,
    ):
        super().__init__()
        if not isinstance(log_dir, str | os.PathLike):
            raise TypeError(f"Expected log_dir to be a path. Received: log_dir={log_dir!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = _check_histogram_freq(histogram_freq)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = _check_update_freq(update_freq)
        self.profile_range = _check_profile_batch(profile_batch)
        self.hparams = _check_hparams(hparams)
        self.profile_dir = os.path.join(self.log_dir, "plugins", "profile")
        self._writers: dict[str, Any] = {}
        self._batch_step = 0
        self._fit_batch = 0
        self._graph_written = False
        self._profiler: Any = None
        self._grad_handles: list[Any] = []
        self._grads: dict[str, torch.Tensor] = {}
        self._epoch_start = (0.0, 0)
        if self.update_freq == "epoch" and not self.profile_range:
            # an epoch-level TensorBoard is never called per batch
            self.skipped_hooks = frozenset({"on_train_batch_begin", "on_train_batch_end"})

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._batch_begin(batch)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._batch_end(batch, logs)

    # ------------------------------------------------------------------ writers
    def _writer(self, run: str) -> Any:
        """The SummaryWriter of ``log_dir/run`` ("" for ``log_dir`` itself), made on first use."""
        writer = self._writers.get(run)
        if writer is None:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(os.path.join(self.log_dir, run) if run else self.log_dir)
            self._writers[run] = writer
        return writer

    def _flush(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ------------------------------------------------------------------ train
    def state_dict(self) -> dict[str, Any]:
        """The step counters: batches logged (the batch-scalar step) and batches of this fit."""
        return {"batch_step": self._batch_step, "fit_batch": self._fit_batch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``: batch scalars of a resumed run continue at their step."""
        self._batch_step, self._fit_batch = int(state["batch_step"]), int(state["fit_batch"])

    def on_train_begin(self, logs: dict | None = None) -> None:
        check_writable(self.log_dir, "TensorBoard log_dir", is_dir=True)
        self._batch_step = self._batches_done()
        self._fit_batch = 0
        self._remove_grad_hooks()
        if self.write_graph and not self._graph_written:
            self._write_graph()
        if self.hparams is not None:
            self._write_session_start()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._stop_profiler()
        self._remove_grad_hooks()
        if self.hparams is not None:
            self._write_session_end()
        self._close()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = (time.time(), self._batches_done())
        if self._is_histogram_epoch(epoch):
            self._add_grad_hooks()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})  # a copy: the keys added here stay out of the fit's logs
        optimizer = getattr(self.model, "optimizer", None)
        if getattr(optimizer, "param_groups", None):  # Keras's _collect_learning_rate
            logs["learning_rate"] = get_lr(optimizer.param_groups[0])
        if self.write_steps_per_second:
            start, done = self._epoch_start
            steps = self._batches_done() - done
            logs["steps_per_second"] = steps / max(time.time() - start, 1e-9)
        self._write_epoch_scalars(epoch, logs)
        if self._is_histogram_epoch(epoch):
            self._write_histograms(epoch)
            if self.write_images:
                self._write_images(epoch)
        self._remove_grad_hooks()
        self._flush()

    def on_test_end(self, logs: dict | None = None) -> None:
        if self.params.get("mode") != "fit" or not logs:
            return
        step = self._batches_done()
        writer = self._writer("validation")
        for name, value in _scalars(logs).items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", value, step)

    def _batches_done(self) -> int:
        """The model's batches trained over all fits (this callback's count without a state)."""
        state = getattr(self.model, "train_state", None)
        return self._batch_step if state is None else int(state.train_counter)

    def _is_histogram_epoch(self, epoch: int) -> bool:
        return self.histogram_freq > 0 and epoch % self.histogram_freq == 0

    # ------------------------------------------------------------------ batches
    def _batch_begin(self, batch: int) -> None:
        self._fit_batch += 1
        if self.profile_range and self._fit_batch == self.profile_range[0]:
            self._start_profiler()

    def _batch_end(self, batch: int, logs: Any) -> None:
        self._batch_step += 1
        freq = self.update_freq
        if freq != "epoch" and logs and self._batch_step % freq == 0:
            values = logs.snapshot() if hasattr(logs, "snapshot") else logs
            writer = self._writer("train")
            for name, value in _scalars(values).items():
                writer.add_scalar(f"batch_{name}", value, self._batch_step)
        if self._profiler is not None and self._fit_batch >= self.profile_range[1]:
            self._stop_profiler()

    # ------------------------------------------------------------------ scalars
    def _write_epoch_scalars(self, epoch: int, logs: dict[str, Any]) -> None:
        scalars = _scalars(logs)
        train = {k: v for k, v in scalars.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in scalars.items() if k.startswith("val_")}
        for run, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(run)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", value, epoch)

    # ------------------------------------------------------------------ weights
    def _named_weights(self) -> list[tuple[str, torch.Tensor]]:
        return [(_tag(name), p) for name, p in self.model.named_parameters()]

    def _write_histograms(self, epoch: int) -> None:
        writer = self._writer("train")
        for tag, p in self._named_weights():
            writer.add_histogram(tag, p.detach().float(), epoch)
        for tag, grad in self._grads.items():
            writer.add_histogram(f"{tag}_grad", grad.detach().float(), epoch)
        self._grads = {}

    def _write_images(self, epoch: int) -> None:
        writer = self._writer("train")
        for tag, p in self._named_weights():
            image = _weight_image(p.detach())
            if image is not None:
                writer.add_image(f"{tag}/image", image, epoch, dataformats="CHW")

    def _add_grad_hooks(self) -> None:
        """Keep a reference to each parameter's gradient after every backward of the epoch.

        The optimizer step sets gradients to None, so the last batch's gradient tensors stay
        intact in ``self._grads`` for the epoch-end histograms (no copy, no sync).
        """
        self._remove_grad_hooks()
        grads = self._grads

        def keeper(tag: str) -> Any:
            def hook(param: torch.Tensor) -> None:
                grads[tag] = param.grad

            return hook

        for name, p in self.model.named_parameters():
            if p.requires_grad:
                self._grad_handles.append(p.register_post_accumulate_grad_hook(keeper(_tag(name))))

    def _remove_grad_hooks(self) -> None:
        for handle in self._grad_handles:
            handle.remove()
        self._grad_handles = []

    # ------------------------------------------------------------------ graph
    def _write_graph(self) -> None:
        self._graph_written = True
        x = getattr(self.model, "example_input", None)
        if x is None or isinstance(x, Mapping):
            warnings.warn(
                "TensorBoard could not write the model graph: it needs a tensor (or a tuple of "
                f"tensors) as input. Received: input of type {type(x).__name__}",
                stacklevel=2,
            )
            return
        args = tuple(x) if isinstance(x, list | tuple) else (x,)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                graph = _graph_def(self.model, args)
            self._writer("train").file_writer.add_graph(graph)
        except Exception as e:  # noqa: BLE001 - tracing any model may fail; never stop training
            warnings.warn(
                f"TensorBoard could not write the model graph ({type(e).__name__}: {e}); "
                f"training continues without it.",
                stacklevel=2,
            )

    # ------------------------------------------------------------------ hparams
    def _hparam_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            values["optimizer"] = type(optimizer).__name__
            lr = optimizer.param_groups[0]["lr"]
            values["learning_rate"] = float(lr.item() if torch.is_tensor(lr) else lr)
        for key in ("batch_size", "epochs"):
            if self.params.get(key) is not None:
                values[key] = int(self.params[key])
        values.update(self.hparams or {})
        return values

    def _write_session_start(self) -> None:
        from tensorboard.plugins.hparams import summary_v2

        summary = summary_v2.hparams_pb(self._hparam_values())
        self._writer("").file_writer.add_summary(summary)

    def _write_session_end(self) -> None:
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

        data = plugin_data_pb2.HParamsPluginData(
            session_end_info=plugin_data_pb2.SessionEndInfo(
                status=api_pb2.STATUS_SUCCESS, end_time_secs=time.time()
            )
        )
        summary = summary_pb2.Summary()
        summary.value.add(
            tag=metadata.SESSION_END_INFO_TAG,
            metadata=metadata.create_summary_metadata(data),
            tensor=metadata.NULL_TENSOR,
        )
        self._writer("").file_writer.add_summary(summary)

    # ------------------------------------------------------------------ profiler
    def _start_profiler(self) -> None:
        from torch.profiler import ProfilerActivity, profile, tensorboard_trace_handler

        activities = [ProfilerActivity.CPU]
        if getattr(self.model, "device", torch.device("cpu")).type == "cuda":
            activities.append(ProfilerActivity.CUDA)
        self._profiler = profile(
            activities=activities,
            on_trace_ready=tensorboard_trace_handler(self.profile_dir),
            record_shapes=True,
        )
        self._profiler.start()

    def _stop_profiler(self) -> None:
        if self._profiler is not None:
            profiler, self._profiler = self._profiler, None
            profiler.stop()


# ---------------------------------------------------------------------- graph
class _Root:
    """What ``torch.utils.tensorboard``'s graph parser reads of a traced module: its name."""

    def __init__(self, model: torch.nn.Module):
        self.original_name = type(model).__name__

    def named_modules(self, prefix: str = "") -> Any:
        return iter(())


def _graph_def(model: torch.nn.Module, args: tuple) -> tuple[Any, Any]:
    """The (GraphDef, RunMetadata) TensorBoard shows, from one trace of ``model`` on ``args``.

    ``SummaryWriter.add_graph`` goes through ``torch.jit.trace``, which registers new
    TorchScript types in the process-wide compilation unit at every call (~0.3 MB per fit,
    never freed). The graph tracer used here makes no module types: the trace is freed with
    the graph. Nodes are grouped by module (``Dense[0]/Linear[linear]``) as with add_graph.
    """
    from torch.jit import _trace
    from torch.utils.tensorboard import _pytorch_graph as pg

    scopes = {m: f"{type(m).__name__}[{n.rsplit('.', 1)[-1]}]" for n, m in model.named_modules()}
    scopes.pop(model, None)
    saved_map, _trace._trace_module_map = _trace._trace_module_map, scopes
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            graph, _ = torch.jit._get_trace_graph(model, args)
    finally:
        _trace._trace_module_map = saved_map
        model.train(was_training)
    torch._C._jit_pass_inline(graph)
    state = {id(v): k for k, v in reversed(model.state_dict(keep_vars=True).items())}
    names = [f"x{i}" for i in range(len(args))] + [
        state[id(v)] for v in dict.fromkeys(model.state_dict(keep_vars=True).values())
    ]
    for value, name in zip(graph.inputs(), names):
        value.setDebugName(name.replace(".", "/"))
    nodes = pg.parse(graph, _Root(model), args)
    stats = pg.RunMetadata(
        step_stats=pg.StepStats(dev_stats=[pg.DeviceStepStats(device="/device:CPU:0")])
    )
    return pg.GraphDef(node=nodes, versions=pg.VersionDef(producer=22)), stats


# ---------------------------------------------------------------------- helpers
def _tag(param_name: str) -> str:
    """``layers.1.conv.weight`` -> ``layers.1.conv/weight`` (TensorBoard groups by module)."""
    module, _, name = param_name.rpartition(".")
    return f"{module}/{name}" if module else name


def _scalars(logs: Mapping[str, Any]) -> dict[str, float]:
    """The numeric entries of logs as floats (strings and non-scalars are skipped)."""
    out = {}
    for key, value in logs.items():
        if torch.is_tensor(value) and value.numel() == 1:
            value = value.item()
        if isinstance(value, Real) and not isinstance(value, bool):
            out[key] = float(value)
    return out


def _weight_image(w: torch.Tensor) -> torch.Tensor | None:
    """A weight as a (3, H, W) image in [0, 1]: conv kernels as a grid, matrices as they are."""
    w = w.float().cpu()
    if w.dim() == 4:
        from torchvision.utils import make_grid

        out_ch, in_ch = w.shape[:2]
        cols = in_ch if in_ch > 1 else math.ceil(math.sqrt(out_ch))
        tiles = _unit(w).reshape(out_ch * in_ch, 1, *w.shape[2:])
        return make_grid(tiles, nrow=cols, padding=1, pad_value=0.5)
    if w.dim() in (1, 2, 3):
        m = w.reshape(w.shape[0], -1) if w.dim() > 1 else w[None]
        if m.shape[0] > m.shape[1]:
            m = m.t()
        return _unit(m)[None].expand(3, -1, -1)
    return None


def _unit(w: torch.Tensor) -> torch.Tensor:
    lo, hi = w.min(), w.max()
    return (w - lo) / (hi - lo) if hi > lo else torch.zeros_like(w)


def _check_histogram_freq(histogram_freq: Any) -> int:
    if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int):
        raise TypeError(
            f"Expected histogram_freq to be an integer. Received: histogram_freq={histogram_freq!r}"
        )
    if histogram_freq < 0:
        raise ValueError(
            f"Expected histogram_freq >= 0. Received: histogram_freq={histogram_freq!r}"
        )
    return histogram_freq


def _check_update_freq(update_freq: Any) -> str | int:
    if update_freq == "batch":
        return 1
    if update_freq == "epoch":
        return "epoch"
    if isinstance(update_freq, int) and not isinstance(update_freq, bool) and update_freq > 0:
        return update_freq
    raise ValueError(
        f"Expected update_freq to be 'epoch', 'batch' or a positive integer. Received: "
        f"update_freq={update_freq!r}"
    )


def _check_profile_batch(profile_batch: Any) -> tuple[int, int] | None:
    """0 -> None; n -> (n, n); (start, stop) or "start,stop" -> (start, stop)."""
    value = profile_batch
    if isinstance(value, str):
        try:
            value = tuple(int(v) for v in value.split(","))
        except ValueError:
            value = None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return (value, value) if value else None
    if (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        and 0 < value[0] <= value[1]
    ):
        return int(value[0]), int(value[1])
    raise ValueError(
        f"Expected profile_batch to be 0, a positive batch number or a pair (start, stop) with "
        f"0 < start <= stop. Received: profile_batch={profile_batch!r}"
    )


def _check_hparams(hparams: Any) -> dict[str, Any] | None:
    """Validate the user's hparams; numbers, strings and bools stay, other values become str."""
    if hparams is None:
        return None
    if not isinstance(hparams, Mapping) or not all(isinstance(k, str) for k in hparams):
        raise TypeError(
            f"Expected hparams to be a dict with string keys. Received: hparams={hparams!r}"
        )
    out = {}
    for key, value in hparams.items():
        if value is None:
            continue
        if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            value = value.item()
        out[key] = value if isinstance(value, _HPARAM_TYPES) else str(value)
    return out
