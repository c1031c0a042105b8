"""launch(): run a function in N local processes with torchrun's environment (notebooks, tests)."""

from __future__ import annotations

import os
import pickle
import socket
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch.distributed as dist

from kerasish.distribute import env

__all__ = ["launch"]


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
        Not run as a doctest, since it starts processes. With "spawn", ``train`` must be
        importable by the children: define it in a module of your project, not at the prompt.
        Both ranks return the same losses: every rank's History holds the global values.

        >>> def train(epochs):  # doctest: +SKIP
        ...     model = K.Sequential([nn.Flatten(), nn.Linear(64, 10)])
        ...     model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        ...     return model.fit(x, y, epochs=epochs, verbose=0).history["loss"]
        >>> losses = launch(train, 2, 3)  # doctest: +SKIP
        >>> losses[0] == losses[1]  # doctest: +SKIP
        True
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
        env.destroy()


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
