"""Many processes, one script: the public face of torchrun/DDP/FSDP support (re-exports).

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
- with ``gradient_accumulation_steps=N``, skips DDP's gradient all-reduce on the first N - 1
  micro-steps (``no_sync()``), as hand-written DDP loops do;
- runs callbacks with ``rank_zero_only = True`` (the progress bar, log and checkpoint writers)
  on rank 0 only.

``evaluate`` and ``predict`` are collective under distribution: call them on every rank (and
print on rank 0 with ``is_main_process()``).

The package: ``env`` (the process group and ranks), ``strategy`` (``setup`` and the
``SingleProcess``/``Distributed`` strategy objects the loop calls), ``sharding`` (each rank's
share of the data), ``collectives`` (metric reductions, gathers), ``fsdp`` (sharding a
network, full state dicts), ``launcher`` (``launch``).

Example:
    The same lines run in one process and under ``torchrun --nproc_per_node=2 train.py``:

    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")  # distribute="auto"
    >>> history = model.fit(x, y, epochs=2, verbose=0)
    >>> results = model.evaluate(x_test, y_test, verbose=0)  # collective: on every rank
    >>> if K.distribute.is_main_process():
    ...     print(f"test loss {results:.2f}")  # doctest: +ELLIPSIS
    test loss ...
"""

from __future__ import annotations

from kerasish.distribute.env import (
    barrier,
    device_for_rank,
    get_local_rank,
    get_rank,
    get_world_size,
    initialize,
    is_distributed,
    is_main_process,
)
from kerasish.distribute.fsdp import (
    full_optimizer_state_dict,
    full_state_dict,
    is_fsdp,
    load_full_optimizer_state_dict,
    load_full_state_dict,
)
from kerasish.distribute.launcher import launch
from kerasish.distribute.strategy import Distributed, SingleProcess, Strategy, setup

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
    "full_optimizer_state_dict",
    "load_full_optimizer_state_dict",
    "is_fsdp",
    "setup",
    "Strategy",
    "SingleProcess",
    "Distributed",
    "DistributedState",
]

#: The former name of ``Distributed``.
DistributedState = Distributed
