"""Many processes, one script: torchrun detection, process group, DDP/FSDP, sharding, reductions.

The same training script runs in one process (``python train.py``) and under
``torchrun --nproc_per_node=N train.py``; ``compile(distribute="auto")`` (the default) notices
torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), initialises the process
group when the user has not (NCCL on CUDA, Gloo on CPU, with a timeout), puts each rank on its
local GPU, and ``fit`` then:

- wraps the network in ``DistributedDataParallel`` once its lazy layers are built (DDP
  broadcasts rank 0's parameters, so every rank starts from the same weights), or shards it
  with FSDP2's ``fully_shard`` for ``distribute="fsdp"`` (CPU/Gloo and CUDA/NCCL);
- shards the data: arrays by index and Datasets with a ``DistributedSampler``, with one shuffle
  seed broadcast from rank 0 per ``fit`` and the epoch added to it, so every rank draws the same
  permutation and takes every ``world_size``-th sample of it. Training shards are padded by
  repeating the first samples of the epoch's order (``DistributedSampler``'s default), so every
  rank runs the same number of steps; at most ``world_size - 1`` samples per epoch are seen
  twice. (To drop the remainder instead, pass a ``DataLoader`` with
  ``DistributedSampler(drop_last=True)``.) ``batch_size`` is per rank: the global batch is
  ``batch_size * world_size``;
- all-reduces the metric states (sums and counts) at the end of each epoch and evaluation, so
  the logs and ``History`` of every rank hold the global values and callbacks such as
  ``EarlyStopping`` decide the same on every rank. Validation and ``evaluate`` are sharded
  without padding; ``predict`` gathers every rank's outputs back into input order on every rank;
- runs callbacks with ``rank_zero_only = True`` (the progress bar, log and checkpoint writers)
  on rank 0 only.

``evaluate`` and ``predict`` are collective under distribution: call them on every rank (and
print on rank 0 with ``is_main_process()``).

Example:
    >>> from kerasish import distribute
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")  # "auto"
    >>> model.fit(x, y, epochs=5)                # torchrun --nproc_per_node=2 train.py
    >>> if distribute.is_main_process():
    ...     print(model.evaluate(x_test, y_test))
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import gc
import os
import pickle
import socket
import tempfile
import time
import traceback
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import (
    DataLoader,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
)

from kerasish import data as data_lib
from kerasish import metrics as metrics_lib

__all__ = [
    "initialize",
    "is_distributed",
    "get_rank",
    "get_world_size",
    "get_local_rank",
    "is_main_process",
    "device_for_rank",
    "barrier",
    "launch",
    "full_state_dict",
    "load_full_state_dict",
    "DistributedState",
]

_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_WARNED: set[str] = set()
_STATES: weakref.WeakSet = weakref.WeakSet()  # released at exit, before the process group
_STATES_AT_EXIT: list = []


# ---------------------------------------------------------------------- environment
def is_distributed() -> bool:
    """True when a process group with more than one process is initialised."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_rank() -> int:
    """This process's rank: the process group's, else torchrun's ``RANK``, else 0."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return int(os.environ.get("RANK", "0"))


def get_world_size() -> int:
    """The number of processes: the process group's, else torchrun's ``WORLD_SIZE``, else 1."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return int(os.environ.get("WORLD_SIZE", "1"))


def get_local_rank() -> int:
    """This process's rank on its machine (torchrun's ``LOCAL_RANK``; 0 when not launched)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main_process() -> bool:
    """True on rank 0 (and in a single process): the one that prints and writes files.

    Example:
        >>> if is_main_process():
        ...     print("accuracy", acc)
    """
    return get_rank() == 0


def device_for_rank(device: torch.device | str = "auto") -> torch.device:
    """The device this rank trains on: ``cuda:LOCAL_RANK`` for CUDA, else ``device``.

    An explicit CUDA index (``"cuda:1"``) is kept. MPS cannot run collectives.

    Raises:
        ValueError: for MPS, or when LOCAL_RANK names a GPU this machine lacks.
    """
    from kerasish import devices

    device = devices.resolve(device)
    if device.type == "mps":
        raise ValueError(
            "Expected a CPU or CUDA device for distributed training (MPS has no "
            "collectives). Received: device=mps"
        )
    if device.type != "cuda" or device.index is not None:
        return device
    local, count = get_local_rank(), torch.cuda.device_count()
    if local >= count:
        raise ValueError(
            f"Expected LOCAL_RANK < the number of GPUs ({count}); start at most {count} "
            f"processes per machine. Received: LOCAL_RANK={local}"
        )
    return torch.device("cuda", local)


def initialize(backend: str | None = None, *, timeout_s: float = 600.0, device: Any = None) -> bool:
    """Initialise the default process group from torchrun's environment, unless it already is.

    Args:
        backend: None picks NCCL for CUDA (with Gloo for CPU tensors) and Gloo for CPU.
        timeout_s: how long a collective may wait for the other ranks before failing (the
            backstop when a rank dies without the others noticing).
        device: the device this rank trains on (None: ``device_for_rank("auto")``).

    Returns:
        True when this call initialised the group, False when it was already initialised.

    Raises:
        ValueError: when torchrun's variables (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)
            are missing.

    Example:
        >>> initialize(timeout_s=120)   # before compile(), to choose the timeout
    """
    if not dist.is_available():
        raise RuntimeError("Expected a torch build with torch.distributed. Received: none")
    if dist.is_initialized():
        return False
    missing = [v for v in _ENV if v not in os.environ]
    if missing:
        raise ValueError(
            "Expected torchrun's environment (launch with torchrun or "
            "kerasish.distribute.launch). Received: missing " + ", ".join(missing)
        )
    device = device_for_rank("auto" if device is None else device)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if backend is None:
        backend = "cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    atexit.register(_destroy)
    return True


def _release() -> None:
    for state in list(_STATES):
        state.ddp = None
    gc.collect()


def _destroy() -> None:
    # A group (or a DDP reducer holding it) left to the interpreter's teardown can abort the
    # process ("terminate called without an active exception" from Gloo's threads), turning a
    # finished run into a failed one. So: drop our DDP wrappers, collect them, then destroy.
    _release()
    if dist.is_initialized():
        dist.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (nothing to do in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def setup(distribute: str | None, device: torch.device) -> DistributedState | None:
    """The trainer's distributed state for ``compile(distribute=...)``; None for one process.

    "auto" distributes (with DDP) when more than one process was launched; "ddp" and "fsdp"
    require a launch (torchrun, ``launch`` or an initialised process group).
    """
    if distribute is None:
        return None
    if distribute == "auto":
        if get_world_size() <= 1:
            return None
        distribute = "ddp"
    elif not (dist.is_available() and dist.is_initialized()) and "WORLD_SIZE" not in os.environ:
        raise ValueError(
            f"Expected a distributed launch (torchrun, kerasish.distribute.launch or an "
            f"initialised process group) for distribute={distribute!r}; use "
            f"distribute='auto' to also run in one process. Received: no WORLD_SIZE in "
            f"the environment"
        )
    device = device_for_rank(device)
    initialize(device=device)
    return DistributedState(distribute, device)


# ---------------------------------------------------------------------- trainer state
class DistributedState:
    """What ``fit`` needs across ranks: the wrapper, the shared seed, and the collectives.

    Made by ``compile`` (``model._dist``); None in a single process, so nothing here runs then.

    Args:
        mode: "ddp" or "fsdp".
        device: this rank's device (collectives use tensors there).
    """

    def __init__(self, mode: str, device: torch.device):
        self.mode, self.device = mode, device
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.ddp: nn.Module | None = None
        self._ddp_key: tuple[int, ...] = ()
        self.ddp_called = False
        self.seed = 0
        if not _STATES_AT_EXIT:
            _STATES_AT_EXIT.append(atexit.register(_release))
        _STATES.add(self)

    # ---------------------------------------------------------------- wrapping
    def wrap(self, model: nn.Module, optimizer: torch.optim.Optimizer | None) -> None:
        """DDP-wrap (kept in ``self.ddp``, not registered on the model) or fully_shard."""
        if self.mode == "fsdp":
            _fully_shard(model, optimizer)
            return
        trainable = tuple(id(p) for p in model.parameters() if p.requires_grad)
        if not trainable or (self.ddp is not None and trainable == self._ddp_key):
            self.ddp = self.ddp if trainable else None
            return
        from torch.nn.parallel import DistributedDataParallel

        self.ddp = None  # frees the old reducer (and its gradient hooks) first
        ids = [self.device.index] if self.device.type == "cuda" else None
        self.ddp = DistributedDataParallel(model, device_ids=ids)
        self.ddp.register_forward_pre_hook(self._mark_ddp_call)
        self._ddp_key = trainable

    def _mark_ddp_call(self, module: nn.Module, args: Any) -> None:
        self.ddp_called = True

    @contextlib.contextmanager
    def training_forward(self, model: nn.Module) -> Iterator[None]:
        """Route ``model.forward_batch`` through the DDP wrapper while a training loop runs."""
        if self.ddp is None:
            yield
            return
        model.__dict__["_dist_forward"] = self.ddp
        try:
            yield
        finally:
            model.__dict__.pop("_dist_forward", None)

    def gradient_check(self, params: list[torch.Tensor]) -> Callable[[], None]:
        """A check run before each optimizer step for overridden ``train_step``s.

        A ``train_step`` that calls ``self(x)`` instead of ``self.forward_batch(x)`` bypasses
        DDP; its gradients are then averaged here (slower, no overlap), with one warning.
        """

        def check() -> None:
            if self.ddp_called or self.ddp is None:
                self.ddp_called = False
                return
            _warn_once(
                "bypass",
                "train_step called the model directly, bypassing DistributedDataParallel; "
                "kerasish averages the gradients before each step instead (slower; buffers "
                "such as BatchNorm statistics stay per rank). Call self.forward_batch(x) "
                "in train_step to use DDP.",
            )
            self.all_reduce_mean([p.grad for p in params if p.grad is not None])

        return check

    @staticmethod
    def broadcast_module(model: nn.Module) -> None:
        """Copy rank 0's parameters and buffers to every rank (an FSDP model is left alone)."""
        if _is_fsdp(model):
            return
        with torch.no_grad():
            for t in [*model.parameters(), *model.buffers()]:
                dist.broadcast(t.data, src=0)

    # ---------------------------------------------------------------- data
    def shared_seed(self) -> int:
        """A shuffle seed drawn on rank 0 and broadcast (every rank draws, to keep RNGs even)."""
        seed = torch.randint(0, 2**62, (1,), dtype=torch.int64).to(self.device)
        dist.broadcast(seed, src=0)
        self.seed = int(seed.item())
        return self.seed

    def shard(self, source: Any, role: str) -> tuple[Any, int | None]:
        """This rank's share of ``source`` for ``role`` ("train", "eval" or "predict").

        Returns:
            ``(source, n)``: ``n`` is the sample count ``gather`` trims to for "predict" (None
            when the source was not sharded).
        """
        if isinstance(source, data_lib.ArraySource):
            return self._shard_arrays(source, role)
        if isinstance(source, data_lib.LoaderSource):
            return self._shard_loader(source, role)
        _warn_once(
            "generator",
            "Each rank iterates its own generator: yield this rank's share of the data, and "
            "the same number of batches on every rank (set steps_per_epoch), or the ranks "
            "will wait for each other forever.",
        )
        return source, None

    def _shard_arrays(self, source: data_lib.ArraySource, role: str) -> tuple[Any, int | None]:
        n = source.num_samples
        if role == "eval" and n < self.world:
            return source, None  # every rank evaluates all: the reduced means are the same
        source.shard, source.seed = (self.rank, self.world), self.seed
        source.pad = role != "eval"
        if role == "predict":
            source.shuffle = False
        return source, n if role == "predict" else None

    def _shard_loader(self, source: data_lib.LoaderSource, role: str) -> tuple[Any, int | None]:
        loader = source.loader
        if isinstance(loader.sampler, DistributedSampler) and role != "predict":
            return source, None
        if not _rebuildable(loader):
            _warn_once(
                f"loader-{role}",
                f"Each rank iterates the whole {role} DataLoader: it has no DistributedSampler "
                f"and kerasish cannot add one (an IterableDataset or a custom sampler). Shard "
                f"it per rank yourself, with the same number of batches on every rank.",
            )
            return source, None
        n = len(loader.dataset)
        if role == "eval" and n < self.world:
            return source, None
        if not source.owned:
            _warn_once(
                "rebuilt",
                "kerasish rebuilt your DataLoader with a DistributedSampler so each rank gets "
                "its share of the data (training shards padded to equal length). Pass a "
                "DataLoader with a DistributedSampler to choose this yourself.",
            )
        sampler = self._sampler(loader, n, role)
        rebuilt = data_lib.LoaderSource(data_lib.with_sampler(loader, sampler), owned=True)
        return rebuilt, n if role == "predict" else None

    def _sampler(self, loader: DataLoader, n: int, role: str) -> Any:
        if role == "eval":
            return data_lib.ShardSampler(n, self.rank, self.world)
        shuffle = role == "train" and isinstance(loader.sampler, RandomSampler)
        return DistributedSampler(
            loader.dataset, self.world, self.rank, shuffle=shuffle, seed=self.seed
        )

    @staticmethod
    def set_epoch(source: Any, epoch: int) -> None:
        """Give the epoch to the sampler (a new permutation per epoch, the same on all ranks)."""
        if isinstance(source, data_lib.ArraySource):
            source.set_epoch(epoch)
        elif isinstance(source, data_lib.LoaderSource):
            set_epoch = getattr(source.loader.sampler, "set_epoch", None)
            if set_epoch is not None:
                set_epoch(epoch)

    # ---------------------------------------------------------------- reductions
    def local_metrics(self, metrics: list[metrics_lib.Metric]) -> None:
        """Make torchmetrics compute locally; ``reduce_metrics`` syncs them at the end."""
        for m in metrics:
            if isinstance(m, metrics_lib.TorchMetricsAdapter):
                m.metric.sync_on_compute = False
                m.metric._to_sync = False

    def reduce_metrics(self, metrics: list[metrics_lib.Metric]) -> None:
        """Sum every metric's state tensors and counts over the ranks (one all_reduce)."""
        slots: list[tuple[Any, str]] = []
        for m in metrics:
            _state_slots(m, slots)
        if slots:
            values = [getattr(obj, name) for obj, name in slots]
            flat = torch.cat(
                [
                    torch.as_tensor(v, dtype=torch.float64, device=self.device).reshape(-1)
                    for v in values
                ]
            )
            dist.all_reduce(flat)
            _write_back(slots, values, flat)
        for m in metrics:
            if isinstance(m, metrics_lib.TorchMetricsAdapter):
                m.metric._computed = None
                m.metric.sync()

    def mean_logs(self, logs: dict[str, float]) -> dict[str, float]:
        """Average plain float logs (from an overridden step) over the ranks."""
        if not logs:
            return logs
        t = torch.tensor(list(logs.values()), dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return dict(zip(logs, (t / self.world).tolist()))

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on any rank."""
        t = torch.tensor([int(bool(flag))], dtype=torch.int32, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def all_reduce_mean(self, tensors: list[torch.Tensor]) -> None:
        """Average tensors over the ranks in place (one flat all_reduce)."""
        if not tensors:
            return
        flat = torch.cat([t.reshape(-1) for t in tensors])
        dist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for t in tensors:
            t.copy_(flat[offset : offset + t.numel()].view_as(t))
            offset += t.numel()

    def stop_agreement(self, callbacks: Any, end: Callable | None, model: Any) -> Callable | None:
        """Wrap the batch-end hook so a batch-level ``stop_training`` stops every rank.

        Only when a callback that runs on every rank overrides a training batch hook (such
        as ``TerminateOnNaN``): that costs one tiny all_reduce per batch; otherwise ``end``
        is returned as is and the flag is agreed on at the end of the epoch.
        """
        if not any(_steers_batches(cb) for cb in callbacks.callbacks):
            return end

        def end_and_agree(step: int, logs: Any) -> None:
            if end is not None:
                end(step, logs)
            model.stop_training = self.any(model.stop_training)

        return end_and_agree

    def eval_steps(self, source: Any, steps: int | None) -> int | None:
        """For FSDP (whose forward is collective): the most evaluation batches of any rank."""
        if self.mode != "fsdp":
            return None
        try:
            local = len(source)
        except TypeError:
            return None
        local = local if steps is None else min(local, steps)
        t = torch.tensor([local], dtype=torch.int64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return int(t.item())

    def gather(self, outputs: Any, n: int) -> Any:
        """Every rank's predictions, back in input order (padded duplicates dropped)."""
        if isinstance(outputs, torch.Tensor):
            parts = [torch.empty_like(outputs) for _ in range(self.world)]
            dist.all_gather(parts, outputs.contiguous())
            joined = torch.stack(parts, 1).reshape(-1, *outputs.shape[1:])
            return joined[:n]
        if isinstance(outputs, Mapping):
            return {k: self.gather(v, n) for k, v in outputs.items()}
        return type(outputs)(self.gather(v, n) for v in outputs)


def _steers_batches(cb: Any) -> bool:
    from kerasish.callbacks.callback_list import _overrides

    if getattr(cb, "rank_zero_only", False):
        return False
    return _overrides(cb, "on_train_batch_end") or _overrides(cb, "on_train_batch_begin")


def _state_slots(m: metrics_lib.Metric, slots: list[tuple[Any, str]]) -> None:
    if isinstance(m, metrics_lib.TorchMetricsAdapter):
        return
    slots.extend((m, name) for name in getattr(m, "_initial", {}))
    if isinstance(m, metrics_lib.Mean):
        slots.append((m, "count"))
    for value in vars(m).values():
        if isinstance(value, metrics_lib.Metric):
            _state_slots(value, slots)


def _write_back(slots: list[tuple[Any, str]], values: list[Any], flat: torch.Tensor) -> None:
    host = flat.cpu() if any(not isinstance(v, torch.Tensor) for v in values) else None
    offset = 0
    for (obj, name), v in zip(slots, values):
        size = v.numel() if isinstance(v, torch.Tensor) else 1
        chunk = flat[offset : offset + size]
        if isinstance(v, torch.Tensor):
            v.copy_(chunk.view_as(v).to(v.dtype))
        else:
            setattr(obj, name, float(host[offset]))
        offset += size


def _rebuildable(loader: DataLoader) -> bool:
    return (
        not isinstance(loader.dataset, IterableDataset)
        and loader.batch_size is not None
        and isinstance(loader.sampler, SequentialSampler | RandomSampler | DistributedSampler)
        and not getattr(loader.sampler, "replacement", False)
    )


def _warn_once(key: str, message: str) -> None:
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, stacklevel=3)


# ---------------------------------------------------------------------- FSDP
def _is_fsdp(model: nn.Module) -> bool:
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def _fsdp_units(model: nn.Module) -> list[nn.Module]:
    """The blocks to shard one by one: the children below the chain of single containers."""
    root = model
    while True:
        children = [c for c in root.children() if any(True for _ in c.parameters())]
        if len(children) != 1:
            return children
        root = children[0]


def _fully_shard(model: nn.Module, optimizer: torch.optim.Optimizer | None) -> None:
    from torch.distributed.fsdp import fully_shard

    if _is_fsdp(model):
        return
    names = {id(p): n for n, p in model.named_parameters()}
    DistributedState.broadcast_module(model)  # the shards then come from one set of weights
    for unit in _fsdp_units(model):
        if not _is_fsdp(unit):
            fully_shard(unit)
    fully_shard(model)
    if optimizer is not None:
        _remap_optimizer(optimizer, names, dict(model.named_parameters()))


def _remap_optimizer(opt: torch.optim.Optimizer, names: dict[int, str], new: dict) -> None:
    """Point an optimizer built before ``fully_shard`` at the sharded parameters, in place."""
    if opt.state:
        raise ValueError(
            "Expected an optimizer that has not stepped yet with distribute='fsdp' "
            "(fully_shard replaces the parameters). Received: an optimizer with state"
        )
    for group in opt.param_groups:
        group["params"] = [new[names[id(p)]] if id(p) in names else p for p in group["params"]]


def full_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's whole state dict, also for an FSDP-sharded model (for saving).

    For FSDP this is collective (call it on every rank): rank 0 gets the full tensors on the
    CPU, the other ranks an empty dict. Otherwise it is ``model.state_dict()``.

    Example:
        >>> sd = full_state_dict(model)
        >>> if is_main_process():
        ...     torch.save(sd, "model.pt")
    """
    if not _is_fsdp(model):
        return model.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_model_state_dict(model, options=options)


def load_full_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Load a whole state dict, also into an FSDP-sharded model (each rank keeps its shard).

    For FSDP this is collective: rank 0 passes the full dict, the others may pass ``{}``.

    Example:
        >>> load_full_state_dict(model, torch.load("model.pt") if is_main_process() else {})
    """
    if not _is_fsdp(model):
        model.load_state_dict(state_dict)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

    options = StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
    set_model_state_dict(model, dict(state_dict), options=options)


# ---------------------------------------------------------------------- launcher
def launch(fn: Callable[..., Any], nprocs: int, *args: Any, start_method: str = "spawn") -> list:
    """Run ``fn(*args)`` in ``nprocs`` local processes, as torchrun would (for notebooks, tests).

    Each process gets ``MASTER_ADDR=127.0.0.1``, a free ``MASTER_PORT``, ``RANK``,
    ``LOCAL_RANK`` and ``WORLD_SIZE``, so ``compile()`` distributes it. ``fn`` must be
    importable by the children (defined in a module, not in ``__main__`` of a notebook, with
    "spawn"; ``start_method="fork"`` lifts that on Linux when CUDA is not yet initialised).

    Args:
        fn: the function each process runs.
        nprocs: how many processes.
        *args: passed to ``fn`` (picklable).
        start_method: "spawn" (default), "fork" or "forkserver".

    Returns:
        Each rank's return value (picklable), in rank order.

    Raises:
        RuntimeError: when a rank fails, with the first failing rank's traceback; the other
            ranks are stopped.

    Example:
        >>> def train(epochs):
        ...     model = build(); model.compile(optimizer="sgd", loss="mse")
        ...     return model.fit(x, y, epochs=epochs, verbose=0).history
        >>> histories = launch(train, 2, 3)
    """
    if not callable(fn):
        raise TypeError(f"Expected fn to be callable. Received: fn={fn!r}")
    if isinstance(nprocs, bool) or not isinstance(nprocs, int) or nprocs < 1:
        raise ValueError(f"Expected nprocs to be a positive integer. Received: nprocs={nprocs!r}")
    import torch.multiprocessing as mp
    from torch.multiprocessing.spawn import ProcessException

    with tempfile.TemporaryDirectory(prefix="kerasish-launch-") as tmp:
        try:
            mp.start_processes(
                _launched,
                args=(fn, nprocs, _free_port(), tmp, args),
                nprocs=nprocs,
                start_method=start_method,
            )
        except ProcessException as e:
            raise RuntimeError(_failure_message(tmp, nprocs, e)) from None
        return [_read_result(tmp, rank) for rank in range(nprocs)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launched(rank: int, fn: Callable, nprocs: int, port: int, tmp: str, args: tuple) -> None:
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(nprocs),
        LOCAL_WORLD_SIZE=str(nprocs),
    )
    try:
        result = fn(*args)
    except BaseException:
        with open(os.path.join(tmp, f"error-{rank}.txt"), "w") as f:
            f.write(f"{time.time()}\n{traceback.format_exc()}")
        raise
    with open(os.path.join(tmp, f"result-{rank}.pkl"), "wb") as f:
        pickle.dump(result, f)
    if dist.is_initialized():
        dist.barrier()
        _destroy()


def _failure_message(tmp: str, nprocs: int, error: Exception) -> str:
    errors = []
    for rank in range(nprocs):
        path = os.path.join(tmp, f"error-{rank}.txt")
        if os.path.exists(path):
            with open(path) as f:
                stamp, _, text = f.read().partition("\n")
            errors.append((float(stamp), rank, text))
    if not errors:
        return f"kerasish.distribute.launch: a process failed: {error}"
    _, rank, text = min(errors)
    others = [r for _, r, _ in sorted(errors) if r != rank]
    also = f" (then rank(s) {others} failed too)" if others else ""
    return f"kerasish.distribute.launch: rank {rank} of {nprocs} failed first{also}:\n{text}"


def _read_result(tmp: str, rank: int) -> Any:
    path = os.path.join(tmp, f"result-{rank}.pkl")
    with open(path, "rb") as f:
        return pickle.load(f)  # written by our own child process just now
