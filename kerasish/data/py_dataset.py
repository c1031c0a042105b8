"""PyDataset: Keras 3's ``keras.utils.PyDataset`` (batches by index, thread or process workers)
and the batch source that feeds one to ``fit``/``evaluate``/``predict``.

A ``PyDataset`` returns whole batches from ``__getitem__(index)`` (``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)``, or ``x`` alone); ``__len__`` (or ``num_batches``) is the number of
batches, None for an endless one. ``workers``, ``use_multiprocessing`` and ``max_queue_size``
say how ``fit`` reads it: with ``workers > 1`` (or ``use_multiprocessing``) a pool of threads
(or forked processes) computes up to ``max_queue_size`` batches ahead, in order. As in Keras,
``fit(shuffle=True)`` shuffles the order of the batch indices each pass (drawn from torch's
global RNG, so ``torch.manual_seed`` fixes it and a checkpoint replays it), and
``on_epoch_end()`` is called after each pass over the batches.
"""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
import multiprocessing
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from kerasish.data.arrays import to_tensor

__all__ = ["PyDataset", "PyDatasetSource", "is_py_dataset"]


class PyDataset:
    """Base class for a dataset of whole batches, read in parallel by ``fit`` (Keras 3's API).

    Implement ``__getitem__(index)`` (a batch) and ``__len__`` (the number of batches), or a
    ``num_batches`` property (None: endless; give ``fit`` a ``steps_per_epoch``); optionally
    ``on_epoch_begin()`` / ``on_epoch_end()``. Pass it as ``x`` without ``y`` and without
    ``batch_size``.

    Args:
        workers: threads (or processes) that compute batches; 1 reads them in the loop.
        use_multiprocessing: use forked processes instead of threads (the dataset must be
            picklable; ``__getitem__`` then runs in the workers).
        max_queue_size: the most batches computed ahead.

    Example:
        >>> class Squares(PyDataset):
        ...     def __init__(self, **kwargs):
        ...         super().__init__(**kwargs)
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, index):
        ...         x = np.full((8, 1), index, "float32")
        ...         return x, x**2
        >>> reg = K.Sequential([nn.Linear(1, 1)])
        >>> reg.compile(optimizer="sgd", loss="mse")
        >>> reg.fit(Squares(workers=2), epochs=2, verbose=0).epoch
        [0, 1]
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self) -> None:
        missing = [
            n
            for n in ("_workers", "_use_multiprocessing", "_max_queue_size")
            if not hasattr(self, n)
        ]
        if not missing:
            return
        self._workers = getattr(self, "_workers", 1)
        self._use_multiprocessing = getattr(self, "_use_multiprocessing", False)
        self._max_queue_size = getattr(self, "_max_queue_size", 10)
        warnings.warn(
            "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
            "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
            "`max_queue_size`. Do not pass these arguments to `fit()`, as they will be ignored.",
            stacklevel=3,
        )

    @property
    def workers(self) -> int:
        """Threads (or processes) computing batches."""
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        """Whether the workers are processes."""
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        """The most batches computed ahead."""
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        """The batch at position ``index``."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[Any]:
        n = self.num_batches
        for index in itertools.count() if n is None else range(n):
            yield self[index]

    @property
    def num_batches(self) -> int | None:
        """The number of batches (``len(self)``), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)  # type: ignore[arg-type]
        raise NotImplementedError(
            "You need to implement the `num_batches` property:\n\n"
            "@property\ndef num_batches(self):\n  return ..."
        )

    def on_epoch_begin(self) -> None:
        """Called before each pass over the batches."""

    def on_epoch_end(self) -> None:
        """Called after each pass over the batches."""


def is_py_dataset(x: Any) -> bool:
    """Whether ``x`` is a ``PyDataset`` (kerasish's, or one with Keras's API by name)."""
    if isinstance(x, PyDataset):
        return True
    if isinstance(x, torch.Tensor | np.ndarray | list | tuple | dict):
        return False  # the usual arrays, at one check
    return any(
        c.__name__ in ("PyDataset", "Sequence") and "keras" in c.__module__ for c in type(x).__mro__
    )


class PyDatasetSource:
    """The batch source of a ``PyDataset``: ``(x, y, sample_weight)`` tensors, one pass per
    ``iter``. An endless dataset continues across ``iter`` calls (training epochs), or starts
    at batch 0 each time with ``restart`` (validation and evaluation: the same first batches
    every time, as Keras documents for ``validation_steps``)."""

    def __init__(self, dataset: Any, shuffle: bool | str = False, name: str = "x"):
        self.dataset, self.name = dataset, name
        self.num_batches = dataset.num_batches
        self.shuffle = bool(shuffle) and self.num_batches is not None
        self.num_samples = None
        self._endless: Iterator | None = None
        self.restart = False  # an endless dataset: start at batch 0 on each iter (evaluation)
        if self.num_batches == 0:
            raise ValueError(f"Expected a PyDataset with batches. Received: {name} with len 0")

    def __len__(self) -> int:
        if self.num_batches is None:
            raise TypeError("an endless PyDataset has no length")
        return self.num_batches

    def __iter__(self) -> Iterator[Any]:
        if self.num_batches is None:
            if self._endless is None or self.restart:
                self._endless = self._batches(itertools.count())
            return self._endless
        order = range(self.num_batches)
        if self.shuffle:  # drawn now, from the global torch RNG
            order = torch.randperm(self.num_batches).tolist()
        return self._batches(order)

    def peek(self) -> Any:
        """The first batch, read without starting a pass or drawing from the RNG."""
        return standardize(self.dataset[0], self.name)

    def _batches(self, order: Any) -> Iterator[Any]:
        ds = self.dataset
        ds.on_epoch_begin()
        parallel = ds.workers > 1 or (ds.workers > 0 and ds.use_multiprocessing)
        it = _parallel(ds, order) if parallel else (ds[i] for i in order)
        for batch in it:
            yield standardize(batch, self.name)
        ds.on_epoch_end()


def standardize(batch: Any, name: str = "x") -> tuple[Any, Any, Any]:
    """A ``PyDataset`` batch as ``(x, y, sample_weight)`` tensors (as Keras's adapter reads it).

    Raises:
        ValueError: for a tuple of another length, or a value of another type.

    Example:
        >>> [None if a is None else a.dtype for a in standardize((np.zeros(2), np.ones(2)))]
        [torch.float32, torch.float32, None]
    """
    if isinstance(batch, Mapping | np.ndarray | torch.Tensor):
        batch = (batch,)
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
        raise ValueError(
            "Expected PyDataset.__getitem__() to return (inputs,), (inputs, targets) or "
            "(inputs, targets, sample_weights), or a dict of inputs. Received: "
            f"{str(batch)[:100]}... of type {type(batch).__name__} from {name}"
        )
    x, y, sw = (*batch, None, None)[:3]
    return to_tensor(x, name), to_tensor(y, "y"), to_tensor(sw, "sample_weight")


_WORKER_DATASET: Any = None


def _init_worker(dataset: Any) -> None:
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _worker_item(index: int) -> Any:
    return _WORKER_DATASET[index]


def _parallel(ds: Any, order: Any) -> Iterator[Any]:
    """``ds[i]`` for ``i`` in ``order``, in order, computed by a pool up to a queue ahead."""
    workers, ahead = max(1, ds.workers), max(1, ds.max_queue_size)
    if ds.use_multiprocessing:
        pool: Any = concurrent.futures.ProcessPoolExecutor(
            workers, multiprocessing.get_context("fork"), _init_worker, (ds,)
        )
        fn: Any = _worker_item
    else:
        pool, fn = concurrent.futures.ThreadPoolExecutor(workers), ds.__getitem__
    indices = iter(order)
    pending: collections.deque = collections.deque(
        pool.submit(fn, i) for i in itertools.islice(indices, ahead)
    )
    try:
        while pending:
            batch = pending.popleft().result()
            for i in itertools.islice(indices, 1):
                pending.append(pool.submit(fn, i))
            yield batch
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
