"""The process group: torchrun's environment, ranks, devices, initialisation and teardown.

Everything here works in one process too (rank 0 of 1), so scripts can call it unguarded.
"""

from __future__ import annotations

import atexit
import datetime
import gc
import os
import warnings
import weakref
from typing import Any

import torch
import torch.distributed as dist

from kerasish import devices

__all__ = [
    "is_distributed",
    "get_rank",
    "get_world_size",
    "get_local_rank",
    "is_main_process",
    "device_for_rank",
    "initialize",
    "barrier",
    "destroy",
    "track",
    "warn_once",
]

_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
_WARNED: set[str] = set()
_TRACKED: weakref.WeakSet = weakref.WeakSet()  # strategies whose DDP wrappers go first at exit
_AT_EXIT: list = []


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
        >>> if is_main_process():  # True in a single process
        ...     print("written by rank", get_rank())
        written by rank 0
    """
    return get_rank() == 0


def device_for_rank(device: torch.device | str = "auto") -> torch.device:
    """The device this rank trains on: ``cuda:LOCAL_RANK`` for CUDA, else ``device``.

    An explicit CUDA index (``"cuda:1"``) is kept. MPS cannot run collectives.

    Raises:
        ValueError: for MPS, or when LOCAL_RANK names a GPU this machine lacks.
    """
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
        Under torchrun, before ``compile()``, to choose the timeout (not run as a doctest: it
        needs torchrun's environment).

        >>> initialize(timeout_s=120)  # doctest: +SKIP
        True
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
    atexit.register(destroy)
    return True


def barrier() -> None:
    """Wait for every rank (nothing to do in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def track(strategy: Any) -> None:
    """Drop ``strategy.ddp`` at exit (or at ``destroy``), before the process group goes."""
    if not _AT_EXIT:
        _AT_EXIT.append(atexit.register(_release))
    _TRACKED.add(strategy)


def _release() -> None:
    for strategy in list(_TRACKED):
        strategy.ddp = None
    gc.collect()


def destroy() -> None:
    """Drop the DDP wrappers, collect them, then destroy the process group (if any).

    A group (or a DDP reducer holding it) left to the interpreter's teardown can abort the
    process ("terminate called without an active exception" from Gloo's threads), turning a
    finished run into a failed one.
    """
    _release()
    if dist.is_initialized():
        dist.destroy_process_group()


def warn_once(key: str, message: str) -> None:
    """Warn with ``message`` the first time ``key`` is seen in this process."""
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, stacklevel=3)
