"""One data adapter: arrays | tensors | dicts | Dataset | DataLoader | generator -> batches.

Every source yields batches as ``(x, y, sample_weight)`` tuples (``y`` and ``sample_weight`` may
be None). In-memory arrays and tensors are batched by indexing, not per-sample ``__getitem__`` and
collate, and they consume the global torch RNG exactly as a shuffling ``DataLoader`` does, so a
seeded ``fit`` sees the same batches, in the same order, as a hand-written loop over
``DataLoader(TensorDataset(x, y), batch_size, shuffle=True)``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, Sampler, Subset

from kerasish import devices

__all__ = [
    "adapt",
    "split_validation",
    "ArraySource",
    "LoaderSource",
    "IteratorSource",
    "unpack",
    "first_dim",
    "CudaPrefetcher",
    "ShardSampler",
    "with_sampler",
]

Batch = tuple[Any, Any, Any]


def _draw_seed(generator: torch.Generator | None = None) -> int:
    # The same draw a DataLoader iterator and its RandomSampler make from the global RNG.
    return int(torch.empty((), dtype=torch.int64).random_(generator=generator).item())


def to_tensor(a: Any, name: str) -> Any:
    """Turn a NumPy array (float64 -> float32, as Keras does) or a tensor into a tensor.

    Lists, tuples and dicts are converted element by element; None stays None.
    """
    if a is None or isinstance(a, torch.Tensor):
        return a
    if isinstance(a, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(a))
        return t.float() if t.dtype == torch.float64 else t
    if isinstance(a, Mapping):
        return {k: to_tensor(v, f"{name}[{k!r}]") for k, v in a.items()}
    if isinstance(a, tuple | list):
        if a and all(isinstance(v, np.ndarray | torch.Tensor) for v in a):
            return type(a)(to_tensor(v, f"{name}[{i}]") for i, v in enumerate(a))
        return to_tensor(np.asarray(a), name)
    raise TypeError(
        f"Expected {name} to be a NumPy array, a torch tensor, or a list/tuple/dict "
        f"of them. Received: {name} of type {type(a).__name__}"
    )


def _leaves(a: Any) -> list[torch.Tensor]:
    if a is None:
        return []
    if isinstance(a, Mapping):
        return [t for v in a.values() for t in _leaves(v)]
    if isinstance(a, tuple | list):
        return [t for v in a for t in _leaves(v)]
    return [a]


def first_dim(x: Any) -> int:
    """The batch size of a nested batch: the first dimension of its first tensor."""
    if isinstance(x, torch.Tensor):
        return x.shape[0]
    leaves = _leaves(x)
    return int(leaves[0].shape[0]) if leaves else 0


def _index(a: Any, idx: Any) -> Any:
    if a is None:
        return None
    if isinstance(a, Mapping):
        return {k: _index(v, idx) for k, v in a.items()}
    if isinstance(a, tuple | list):
        return type(a)(_index(v, idx) for v in a)
    if isinstance(idx, torch.Tensor):
        return a.index_select(0, idx)  # about half the cost of a[idx]
    return a[idx]


def unpack(batch: Any) -> Batch:
    """Split one element from a DataLoader or generator into ``(x, y, sample_weight)``.

    A tuple/list of 1, 2 or 3 items is ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; a tensor
    or a dict is ``x`` alone.
    """
    if isinstance(batch, tuple | list):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
        raise ValueError(
            f"Expected each batch to be (x,), (x, y) or (x, y, sample_weight). "
            f"Received: a batch of {len(batch)} items"
        )
    return batch, None, None


class ArraySource:
    """Batches from in-memory tensors by indexing (no per-sample collate)."""

    def __init__(self, x: Any, y: Any, sample_weight: Any, batch_size: int, shuffle: bool):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size, self.shuffle = batch_size, shuffle
        self.num_samples = first_dim(x)
        self.sampler_state: dict[str, Any] = {}
        # Distributed sharding (set by kerasish.distribute): this rank's (rank, world_size),
        # whether shards are padded to equal length, and the shuffle seed shared by all ranks.
        self.shard: tuple[int, int] | None = None
        self.pad = True
        self.seed = 0
        self.epoch = 0

    def __len__(self) -> int:
        return math.ceil(self._indices_len() / self.batch_size)

    def _indices_len(self) -> int:
        if self.shard is None:
            return self.num_samples
        rank, world = self.shard
        if self.pad:
            return math.ceil(self.num_samples / world)
        return len(range(rank, self.num_samples, world))

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch a sharded source shuffles for (as ``DistributedSampler.set_epoch``)."""
        self.epoch = epoch

    def to(self, device: torch.device) -> ArraySource:
        """Keep the data on ``device`` (for data that fits there)."""
        self.x, self.y, self.sample_weight = (
            devices.move(a, device, non_blocking=False)
            for a in (self.x, self.y, self.sample_weight)
        )
        return self

    def order(self) -> torch.Tensor | None:
        """This epoch's sample order, drawing from the global RNG as a DataLoader would."""
        if self.shard is not None:
            return self._shard_order()
        _draw_seed()  # the DataLoader iterator's base seed
        perm = None
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(_draw_seed())
            perm = torch.randperm(self.num_samples, generator=g)
        return perm

    def _shard_order(self) -> torch.Tensor:
        """This rank's indices, as ``DistributedSampler`` picks them (no global RNG draw).

        Every rank permutes with the generator seeded ``seed + epoch`` (so the order is the
        same on all ranks and new each epoch), pads by repeating the order's first samples
        until it divides evenly (when ``pad``), and takes every ``world``-th index from
        ``rank``.
        """
        rank, world = self.shard  # type: ignore[misc]
        n = self.num_samples
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            perm = torch.randperm(n, generator=g)
        else:
            perm = torch.arange(n)
        if self.pad:
            total = self._indices_len() * world
            perm = perm.repeat(math.ceil(total / n))[:total]
        return perm[rank::world]

    def __iter__(self) -> Iterator[Batch]:
        return self.batches(self.order())

    def batches(self, perm: torch.Tensor | None, start: int = 0) -> Iterator[Batch]:
        """Yield batches for ``perm`` (None: in order), beginning at batch ``start``."""
        bs = self.batch_size
        n = self.num_samples if perm is None else len(perm)
        if perm is not None and _leaves(self.x)[0].device != perm.device:
            perm = perm.to(_leaves(self.x)[0].device)
        for i in range(start * bs, n, bs):
            idx = slice(i, i + bs) if perm is None else perm[i : i + bs]
            yield _index(self.x, idx), _index(self.y, idx), _index(self.sample_weight, idx)


class LoaderSource:
    """Batches from a DataLoader (the user's, used as is, or one built over a Dataset).

    ``owned`` is True for loaders kerasish built (distributed sharding rebuilds them silently).
    """

    def __init__(self, loader: DataLoader, owned: bool = False):
        self.loader = loader
        self.owned = owned
        self.num_samples = None

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Batch]:
        return (unpack(b) for b in self.loader)


class IteratorSource:
    """Batches from a generator or any iterable of batches.

    A one-shot iterator is consumed across epochs; when it runs out, training stops with a
    warning, as in Keras.
    """

    def __init__(self, iterable: Iterable, steps: int | None):
        self.iterable, self.steps = iterable, steps
        self.reiterable = not isinstance(iterable, Iterator)
        self._it: Iterator | None = None
        self.exhausted = False
        self.num_samples = None

    def __len__(self) -> int:
        if self.steps is not None:
            return self.steps
        if hasattr(self.iterable, "__len__"):
            return len(self.iterable)
        raise TypeError("length unknown")

    def __iter__(self) -> Iterator[Batch]:
        if self.reiterable:
            return (unpack(b) for b in self.iterable)
        if self._it is None:
            self._it = iter(self.iterable)
        return self._one_epoch()

    def peek(self) -> Batch:
        """The first batch; a one-shot iterator yields it again next."""
        if self.reiterable:
            return unpack(next(iter(self.iterable)))
        if self._it is None:
            self._it = iter(self.iterable)
        try:
            first = next(self._it)
        except StopIteration:
            raise ValueError(
                "Expected a generator that yields batches. Received: an empty generator"
            ) from None
        self._it = itertools.chain([first], self._it)
        return unpack(first)

    def _one_epoch(self) -> Iterator[Batch]:
        for count, b in enumerate(self._it):
            yield unpack(b)
            if self.steps is not None and count + 1 >= self.steps:
                return
        self.exhausted = True


def _is_arraylike(a: Any) -> bool:
    if isinstance(a, np.ndarray | torch.Tensor):
        return True
    if isinstance(a, Mapping):
        return len(a) > 0 and all(_is_arraylike(v) for v in a.values())
    if isinstance(a, tuple | list):
        return len(a) > 0 and all(
            isinstance(v, np.ndarray | torch.Tensor | int | float | list) for v in a
        )
    return False


def adapt(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    steps: int | None = None,
    name: str = "x",
    loader_kwargs: Mapping[str, Any] | None = None,
) -> Any:
    """Turn any supported input into a batch source.

    Args:
        x: arrays/tensors (or a list/tuple/dict of them), a ``Dataset``, a ``DataLoader``, or a
            generator/iterable of batches.
        y: targets when ``x`` is array-like; must be None otherwise.
        sample_weight: per-sample weights when ``x`` is array-like.
        batch_size: batch size for arrays and Datasets.
        shuffle: shuffle arrays and map-style Datasets each epoch.
        steps: the number of batches an epoch takes from a generator (None: until exhausted).
        name: the argument's name, for error messages.
        loader_kwargs: extra ``DataLoader`` options for Datasets (num_workers, pin_memory, ...).

    Returns:
        An ``ArraySource``, ``LoaderSource`` or ``IteratorSource``.

    Raises:
        ValueError / TypeError: with the argument's name, for empty or mismatched data.
    """
    if isinstance(x, DataLoader | Dataset) or (
        not _is_arraylike(x) and x is not None and isinstance(x, Iterable)
    ):
        if y is not None:
            raise ValueError(
                f"Expected y=None when {name} is a Dataset, DataLoader or "
                f"generator (it yields the targets). Received: y of type "
                f"{type(y).__name__}"
            )
        if sample_weight is not None:
            raise ValueError(
                f"Expected sample_weight=None when {name} is a Dataset, DataLoader "
                f"or generator: yield (x, y, sample_weight) instead. Received: "
                f"sample_weight of type {type(sample_weight).__name__}"
            )
    if isinstance(x, DataLoader):
        return LoaderSource(x)
    if isinstance(x, Dataset):
        if not isinstance(x, IterableDataset) and len(x) == 0:
            raise ValueError(f"Expected a non-empty Dataset. Received: {name} with 0 samples")
        kw = dict(loader_kwargs or {})
        shuffle = shuffle and not isinstance(x, IterableDataset)
        loader = DataLoader(x, batch_size=batch_size, shuffle=shuffle, **kw)
        return LoaderSource(loader, owned=True)
    if x is None or not _is_arraylike(x):
        if x is not None and isinstance(x, Iterable) and not isinstance(x, str | bytes):
            return IteratorSource(x, steps)
        raise TypeError(
            f"Expected {name} to be arrays/tensors (or a list/tuple/dict of them), a "
            f"Dataset, a DataLoader or a generator of batches. Received: {name} of "
            f"type {type(x).__name__}"
        )
    x, y, sw = (to_tensor(a, n) for a, n in ((x, name), (y, "y"), (sample_weight, "sample_weight")))
    _check_lengths(x, y, sw, name)
    return ArraySource(x, y, sw, batch_size, shuffle)


def _check_lengths(x: Any, y: Any, sw: Any, name: str) -> None:
    sizes = {
        f"{name}": {int(t.shape[0]) if t.dim() else 0 for t in _leaves(x)},
        "y": {int(t.shape[0]) if t.dim() else 0 for t in _leaves(y)},
        "sample_weight": {int(t.shape[0]) if t.dim() else 0 for t in _leaves(sw)},
    }
    n = sizes[name]
    if len(n) > 1:
        raise ValueError(
            f"Expected all inputs in {name} to have the same number of samples. "
            f"Received: sizes {sorted(n)}"
        )
    if n == {0}:
        raise ValueError(f"Expected at least one sample. Received: {name} with 0 samples")
    for other in ("y", "sample_weight"):
        if sizes[other] and sizes[other] != n:
            raise ValueError(
                f"Expected {name} and {other} to have the same number of samples. "
                f"Received: {name}.shape[0]={next(iter(n))}, "
                f"{other}.shape[0]={sorted(sizes[other])[0]}"
            )


def split_validation(
    x: Any, y: Any, sample_weight: Any, validation_split: float
) -> tuple[tuple[Any, Any, Any], tuple[Any, Any, Any]]:
    """Split off the last ``validation_split`` fraction, before any shuffling, as Keras does.

    Works for arrays/tensors and map-style Datasets.

    Returns:
        ``((x, y, sample_weight), (x_val, y_val, sample_weight_val))``.
    """
    if isinstance(x, DataLoader) or (
        isinstance(x, Iterable) and not _is_arraylike(x) and not isinstance(x, Dataset)
    ):
        raise ValueError(
            f"Expected arrays, tensors or a map-style Dataset with "
            f"validation_split; use validation_data with a DataLoader or "
            f"generator. Received: validation_split={validation_split} with x of "
            f"type {type(x).__name__}"
        )
    if isinstance(x, Dataset):
        if isinstance(x, IterableDataset):
            raise ValueError(
                "Expected a map-style Dataset with validation_split. Received: x "
                "is an IterableDataset"
            )
        n = len(x)
        cut = _cut(n, validation_split)
        return (Subset(x, range(cut)), None, None), (Subset(x, range(cut, n)), None, None)
    x, y, sw = (
        to_tensor(a, nm) for a, nm in ((x, "x"), (y, "y"), (sample_weight, "sample_weight"))
    )
    _check_lengths(x, y, sw, "x")
    cut = _cut(first_dim(x), validation_split)
    head, tail = slice(0, cut), slice(cut, None)
    return (
        (_index(x, head), _index(y, head), _index(sw, head)),
        (_index(x, tail), _index(y, tail), _index(sw, tail)),
    )


def _cut(n: int, validation_split: float) -> int:
    cut = int(n * (1.0 - validation_split))
    if cut == 0 or cut == n:
        raise ValueError(
            f"Expected validation_split to leave samples for both training and "
            f"validation. Received: validation_split={validation_split} with "
            f"{n} samples"
        )
    return cut


def unpack_validation(validation_data: Any) -> tuple[Any, Any, Any]:
    """Split ``validation_data`` as Keras does: ``(x, y)``, ``(x, y, sw)`` or a loader-like."""
    if isinstance(validation_data, tuple | list) and len(validation_data) in (2, 3):
        if _is_arraylike(validation_data[0]) or isinstance(validation_data[0], Mapping):
            return tuple(validation_data) + (None,) * (3 - len(validation_data))
    return validation_data, None, None


class ShardSampler(Sampler[int]):
    """Every ``world``-th index from ``rank``, in order and unpadded (sharded evaluation).

    Ranks may get one sample more than others; evaluation sums and counts are reduced over
    the ranks, so the global metrics come out exact.

    Example:
        >>> list(ShardSampler(5, rank=1, world=2))
        [1, 3]
    """

    def __init__(self, num_samples: int, rank: int, world: int):
        self.num_samples, self.rank, self.world = num_samples, rank, world

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.num_samples, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.num_samples, self.world))


def with_sampler(loader: DataLoader, sampler: Sampler) -> DataLoader:
    """A copy of a map-style ``loader`` (same batching, workers, collate) drawing from ``sampler``."""
    kw: dict[str, Any] = {
        "batch_size": loader.batch_size,
        "num_workers": loader.num_workers,
        "collate_fn": loader.collate_fn,
        "pin_memory": loader.pin_memory,
        "drop_last": loader.drop_last,
        "timeout": loader.timeout,
        "worker_init_fn": loader.worker_init_fn,
        "multiprocessing_context": loader.multiprocessing_context,
        "generator": loader.generator,
        "persistent_workers": loader.persistent_workers,
    }
    if loader.num_workers > 0:
        kw["prefetch_factor"] = loader.prefetch_factor
    return DataLoader(loader.dataset, sampler=sampler, **kw)


class CudaPrefetcher:
    """Copy the next batch to the GPU on a side stream while the current one trains."""

    def __init__(self, source: Iterable[Batch], device: torch.device):
        self.source, self.device = source, device
        self.stream = torch.cuda.Stream(device)

    def __len__(self) -> int:
        return len(self.source)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Batch]:
        it = iter(self.source)
        nxt = self._load(it)
        while nxt is not None:
            torch.cuda.current_stream(self.device).wait_stream(self.stream)
            batch = nxt
            for t in _leaves(list(batch)):
                t.record_stream(torch.cuda.current_stream(self.device))
            nxt = self._load(it)
            yield batch

    def _load(self, it: Iterator[Batch]) -> Batch | None:
        try:
            batch = next(it)
        except StopIteration:
            return None
        with torch.cuda.stream(self.stream):
            return devices.move(devices.pin(batch), self.device)


def peek(source: Any, n: int = 2) -> Batch:
    """A small first batch (up to ``n`` samples) without disturbing the epoch's RNG draws.

    Arrays are sliced and map-style Datasets are collated from their first items, so peeking
    draws nothing from the random number generators; a generator's first batch is kept and
    yielded again by the next epoch.
    """
    if isinstance(source, ArraySource):
        head = slice(0, n)
        return _index(source.x, head), _index(source.y, head), _index(source.sample_weight, head)
    if isinstance(source, LoaderSource):
        ds = source.loader.dataset
        if not isinstance(ds, IterableDataset) and source.loader.batch_size is not None:
            items = [ds[i] for i in range(min(n, len(ds)))]
            return _head(unpack(source.loader.collate_fn(items)), n)
        return _head(next(iter(source)), n)
    if isinstance(source, IteratorSource):
        return _head(source.peek(), n)
    return _head(next(iter(source)), n)


def _head(batch: Batch, n: int) -> Batch:
    head = slice(0, n)
    return tuple(_index(a, head) for a in batch)  # type: ignore[return-value]


def warn_exhausted() -> None:
    warnings.warn(
        "Your input ran out of data; interrupting training. Make sure the generator "
        "can produce steps_per_epoch * epochs batches.",
        stacklevel=3,
    )
