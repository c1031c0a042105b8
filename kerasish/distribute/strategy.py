"""The strategy object of ``fit``: ``SingleProcess`` (free no-ops) or ``Distributed`` (DDP/FSDP).

``compile`` makes one with ``setup(distribute, device)`` (``model.strategy``) and the loop calls
it unconditionally; the single-process methods return their input or nothing, so one process
pays no collective, no host sync and no allocation for them.

Copies and pickles of a ``Distributed`` strategy leave the process group and the DDP wrapper
behind: they are ``SingleProcess`` strategies on the same device (as copies of a model always
were local objects).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from kerasish.distribute import collectives, env, fsdp, sharding

__all__ = ["setup", "SingleProcess", "Distributed", "Strategy", "GradientCheck"]

MODES = ("auto", "ddp", "fsdp", None)
# One reusable, reentrant context: returning it allocates nothing per batch.
_NULL = contextlib.nullcontext()


def setup(distribute: str | None, device: torch.device) -> Strategy:
    """The strategy for ``compile(distribute=...)``: ``Distributed`` when launched, else one process.

    "auto" distributes (with DDP) when more than one process was launched; "ddp" and "fsdp"
    require a launch (torchrun, ``launch`` or an initialised process group); None never
    distributes.

    Args:
        distribute: "auto", "ddp", "fsdp" or None.
        device: the resolved device asked for (a rank trains on ``device_for_rank(device)``).

    Raises:
        ValueError: for another ``distribute``, or "ddp"/"fsdp" without a launch.

    Example:
        >>> setup(None, torch.device("cpu"))
        SingleProcess(device=cpu)
    """
    if distribute not in MODES:
        raise ValueError(
            f"Expected distribute to be 'auto', 'ddp', 'fsdp' or None. "
            f"Received: distribute={distribute!r}"
        )
    if distribute is None:
        return SingleProcess(device)
    if distribute == "auto":
        if env.get_world_size() <= 1:
            return SingleProcess(device)
        distribute = "ddp"
    elif not (dist.is_available() and dist.is_initialized()) and "WORLD_SIZE" not in os.environ:
        raise ValueError(
            f"Expected a distributed launch (torchrun, kerasish.distribute.launch or an "
            f"initialised process group) for distribute={distribute!r}; use "
            f"distribute='auto' to also run in one process. Received: no WORLD_SIZE in "
            f"the environment"
        )
    device = env.device_for_rank(device)
    env.initialize(device=device)
    return Distributed(distribute, device)


class SingleProcess:
    """One process: every method is a no-op that returns its input (or None).

    Attributes:
        device: the device the model trains on.
        is_distributed: False.
        rank, world: 0 and 1.
        ddp: None (no wrapper).
        mode: None.

    Example:
        >>> s = SingleProcess(torch.device("cpu"))
        >>> s.any(False), s.mean_logs({"loss": 1.0}), s.shard("source", "train")
        (False, {'loss': 1.0}, ('source', None))
    """

    is_distributed = False
    rank, world = 0, 1
    ddp: nn.Module | None = None
    mode: str | None = None

    def __init__(self, device: torch.device | str):
        self.device = torch.device(device)

    def __repr__(self) -> str:
        return f"SingleProcess(device={self.device})"

    def shared_seed(self) -> int:
        """0: nothing to share (and no random number drawn)."""
        return 0

    def shard(self, source: Any, role: str) -> tuple[Any, int | None]:
        """``(source, None)``: one process takes all the data."""
        return source, None

    def set_epoch(self, source: Any, epoch: int) -> None:
        """Nothing: the source shuffles on its own."""

    def wrap(self, model: nn.Module, optimizer: torch.optim.Optimizer | None) -> None:
        """Nothing to wrap."""

    def gradient_check(self, params: list[torch.Tensor]) -> Callable[[], None] | None:
        """None: no check before the optimizer step."""
        return None

    def local_metrics(self, metrics: list[Any]) -> None:
        """Nothing: metrics are local already."""

    def reduce_metrics(self, metrics: list[Any]) -> None:
        """Nothing to reduce."""

    def mean_logs(self, logs: dict[str, float]) -> dict[str, float]:
        """``logs`` as they are."""
        return logs

    def any(self, flag: bool) -> bool:
        """``flag`` as it is."""
        return flag

    def stop_agreement(self, callbacks: Any, end: Callable | None, model: Any) -> Callable | None:
        """``end`` as it is: one process agrees with itself."""
        return end

    def eval_steps(self, source: Any, steps: int | None) -> int | None:
        """None: no extra forwards to run."""
        return None

    def gather(self, outputs: Any, n: int | None) -> Any:
        """``outputs`` as they are."""
        return outputs

    def broadcast_module(self, model: nn.Module) -> None:
        """Nothing: the weights are already the only ones."""

    def training_forward(self, model: Any) -> contextlib.AbstractContextManager:
        """A context that does nothing (``forward_batch`` calls the model itself)."""
        return _NULL

    def no_sync(self, model: Any, sync: bool) -> contextlib.AbstractContextManager:
        """A context that does nothing (no gradient all-reduce to skip)."""
        return _NULL


class Distributed:
    """What ``fit`` needs across ranks: the DDP wrapper or FSDP sharding, the seed, collectives.

    Args:
        mode: "ddp" or "fsdp".
        device: this rank's device (collectives use tensors there).

    Attributes:
        is_distributed: True.
        rank, world: this rank and the number of ranks.
        ddp: the ``DistributedDataParallel`` wrapper ``wrap`` made (None before, and for FSDP).
        seed: the shuffle seed of the current ``fit`` (from ``shared_seed``).
    """

    is_distributed = True

    def __init__(self, mode: str, device: torch.device):
        self.mode, self.device = mode, device
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.ddp: nn.Module | None = None
        self.ddp_key: tuple[int, ...] = ()  # the trainable parameters ddp was made for
        self.ddp_called = False
        self.seed = 0
        env.track(self)

    def __repr__(self) -> str:
        return f"Distributed(mode={self.mode!r}, rank={self.rank}, world={self.world})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # No process group handle, DDP wrapper or reducer travels: a copy is one process.
        return (SingleProcess, (self.device,))

    # ---------------------------------------------------------------- wrapping
    def wrap(self, model: nn.Module, optimizer: torch.optim.Optimizer | None) -> None:
        """DDP-wrap (kept in ``self.ddp``, not registered on the model) or fully_shard.

        A new wrapper is made only when the trainable parameters changed (e.g. unfreezing).
        """
        if self.mode == "fsdp":
            fsdp.fully_shard(model, optimizer)
            return
        trainable = tuple(id(p) for p in model.parameters() if p.requires_grad)
        if not trainable or (self.ddp is not None and trainable == self.ddp_key):
            self.ddp = self.ddp if trainable else None
            return
        from torch.nn.parallel import DistributedDataParallel

        self.ddp = None  # frees the old reducer (and its gradient hooks) first
        ids = [self.device.index] if self.device.type == "cuda" else None
        self.ddp = DistributedDataParallel(model, device_ids=ids)
        self.ddp.register_forward_pre_hook(self.mark_ddp_call)
        self.ddp_key = trainable

    def mark_ddp_call(self, module: nn.Module, args: Any) -> None:
        """Forward pre-hook on the wrapper: the step went through DDP."""
        self.ddp_called = True

    @contextlib.contextmanager
    def training_forward(self, model: Any) -> Iterator[None]:
        """Route ``model.forward_batch`` through the DDP wrapper while a training loop runs.

        Sets ``model.train_state.forward_module`` to the wrapper, and back to None after.
        """
        if self.ddp is None:
            yield
            return
        state = model.train_state
        state.forward_module = self.ddp
        try:
            yield
        finally:
            state.forward_module = None

    def no_sync(self, model: Any, sync: bool) -> contextlib.AbstractContextManager:
        """DDP's ``no_sync()`` when ``sync`` is False (an accumulation micro-step), else nothing.

        Wrap the micro-step's forward and backward in it: the gradients then accumulate
        locally and are all-reduced once, by the backward of the step that syncs.
        """
        if sync or self.ddp is None:
            return _NULL
        return self.ddp.no_sync()

    def gradient_check(self, params: list[torch.Tensor]) -> GradientCheck:
        """A check run before each optimizer step for overridden ``train_step``s.

        A ``train_step`` that calls ``self(x)`` instead of ``self.forward_batch(x)`` bypasses
        DDP; its gradients are then averaged here (slower, no overlap), with one warning.
        """
        return GradientCheck(self, params)

    def broadcast_module(self, model: nn.Module) -> None:
        """Copy rank 0's parameters and buffers to every rank (an FSDP model is left alone)."""
        fsdp.broadcast_module(model)

    # ---------------------------------------------------------------- data
    def shared_seed(self) -> int:
        """A shuffle seed drawn on rank 0 and broadcast (every rank draws, to keep RNGs even)."""
        seed = torch.randint(0, 2**62, (1,), dtype=torch.int64).to(self.device)
        dist.broadcast(seed, src=0)
        self.seed = int(seed.item())
        return self.seed

    def shard(self, source: Any, role: str) -> tuple[Any, int | None]:
        """This rank's share of ``source`` for ``role``; see ``sharding.shard``."""
        return sharding.shard(source, role, self.rank, self.world, self.seed)

    def set_epoch(self, source: Any, epoch: int) -> None:
        """Give the epoch to the sampler (a new permutation per epoch, the same on all ranks)."""
        sharding.set_epoch(source, epoch)

    def eval_steps(self, source: Any, steps: int | None) -> int | None:
        """For FSDP (whose forward is collective): the most evaluation batches of any rank."""
        if self.mode != "fsdp":
            return None
        try:
            local = len(source)
        except TypeError:
            return None
        local = local if steps is None else min(local, steps)
        return collectives.max_over_ranks(local, self.device)

    # ---------------------------------------------------------------- reductions
    def local_metrics(self, metrics: list[Any]) -> None:
        """Make torchmetrics compute locally; ``reduce_metrics`` syncs them at the end."""
        collectives.local_metrics(metrics)

    def reduce_metrics(self, metrics: list[Any]) -> None:
        """Sum every metric's state tensors and counts over the ranks (one all_reduce)."""
        collectives.reduce_metrics(metrics, self.device)

    def mean_logs(self, logs: dict[str, float]) -> dict[str, float]:
        """Average plain float logs (from an overridden step) over the ranks."""
        return collectives.mean_logs(logs, self.device, self.world)

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is True on any rank."""
        return collectives.any_rank(flag, self.device)

    def all_reduce_mean(self, tensors: list[torch.Tensor]) -> None:
        """Average tensors over the ranks in place (one flat all_reduce)."""
        collectives.all_reduce_mean(tensors, self.world)

    def gather(self, outputs: Any, n: int | None) -> Any:
        """Every rank's predictions, back in input order (padded duplicates dropped)."""
        if n is None:
            return outputs
        return collectives.gather(outputs, n, self.world)

    def stop_agreement(self, callbacks: Any, end: Callable | None, model: Any) -> Callable | None:
        """Wrap the batch-end hook so a batch-level ``stop_training`` stops every rank.

        Only when a callback that runs on every rank overrides a training batch hook (such
        as ``TerminateOnNaN``): that costs one tiny all_reduce per batch; otherwise ``end``
        is returned as is and the flag is agreed on at the end of the epoch.

        Args:
            callbacks: the ``CallbackList`` (its ``overrides(cb, hook)`` tells who steers).
            end: the batch-end dispatcher (or None).
            model: the model whose ``stop_training`` is agreed on.
        """
        if not any(_steers_batches(callbacks, cb) for cb in callbacks):
            return end

        def end_and_agree(step: int, logs: Any) -> None:
            if end is not None:
                end(step, logs)
            model.stop_training = self.any(model.stop_training)

        return end_and_agree


def _steers_batches(callbacks: Any, cb: Any) -> bool:
    """Whether ``cb``'s batch hooks may set ``stop_training`` (then every rank agrees on it
    after each batch); a callback that never does says ``steers_training = False``."""
    if getattr(cb, "rank_zero_only", False) or not getattr(cb, "steers_training", True):
        return False
    return callbacks.overrides(cb, "on_train_batch_end") or callbacks.overrides(
        cb, "on_train_batch_begin"
    )


class GradientCheck:
    """Before each optimizer step: average the gradients when the step bypassed DDP.

    Args:
        strategy: the ``Distributed`` strategy (its wrapper's pre-hook sets ``ddp_called``).
        params: the trainable parameters.
    """

    def __init__(self, strategy: Distributed, params: list[torch.Tensor]):
        self.strategy, self.params = strategy, params

    def __call__(self) -> None:
        strategy = self.strategy
        if strategy.ddp_called or strategy.ddp is None:
            strategy.ddp_called = False
            return
        env.warn_once(
            "bypass",
            "train_step called the model directly, bypassing DistributedDataParallel; "
            "kerasish averages the gradients before each step instead (slower; buffers "
            "such as BatchNorm statistics stay per rank). Call self.forward_batch(x) "
            "in train_step to use DDP.",
        )
        strategy.all_reduce_mean([p.grad for p in self.params if p.grad is not None])

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_no_check, ())  # a copy is one process: it needs no check


def _no_check() -> None:
    return None


Strategy = SingleProcess | Distributed
