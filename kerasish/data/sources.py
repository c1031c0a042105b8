"""Batch sources: in-memory arrays, DataLoaders and generators, each yielding (x, y, sw).

In-memory arrays and tensors are batched by indexing, not per-sample ``__getitem__`` and
collate, and they consume the global torch RNG exactly as a shuffling ``DataLoader`` does, so a
seeded ``fit`` sees the same batches, in the same order, as a hand-written loop over
``DataLoader(TensorDataset(x, y), batch_size, shuffle=True)``.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, IterableDataset

from kerasish import devices, tree
from kerasish.data.arrays import first_dim, take
from kerasish.data.cursor import RAN_OUT

__all__ = [
    "Batch",
    "unpack",
    "ArraySource",
    "LoaderSource",
    "IteratorSource",
    "peek",
    "warn_exhausted",
]

Batch = tuple[Any, Any, Any]


def _draw_seed(generator: torch.Generator | None = None) -> int:
    # The same draw a DataLoader iterator and its RandomSampler make from the global RNG.
    return int(torch.empty((), dtype=torch.int64).random_(generator=generator).item())


def unpack(batch: Any) -> Batch:
    """Split one element from a DataLoader or generator into ``(x, y, sample_weight)``.

    A tuple/list of 1, 2 or 3 items is ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; a tensor
    or a dict is ``x`` alone.

    Example:
        >>> unpack([1, 2])
        (1, 2, None)
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
    """Batches from in-memory tensors by indexing (no per-sample collate).

    ``shuffle`` is True (a new sample order each epoch), False, or "batch" (batch-sized chunks
    in a new order each epoch, as Keras's ``shuffle="batch"``).
    """

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

    @property
    def device(self) -> torch.device:
        """Where the data is (the device of the first tensor of ``x``)."""
        return tree.first_leaf(self.x).device

    def order(self) -> torch.Tensor | None:
        """This epoch's sample order, drawing from the global RNG as a DataLoader would."""
        if self.shard is not None:
            return self._shard_order()
        _draw_seed()  # the DataLoader iterator's base seed
        perm = None
        if self.shuffle == "batch":
            g = torch.Generator()
            g.manual_seed(_draw_seed())
            perm = _batch_shuffle(self.num_samples, self.batch_size, g)
        elif self.shuffle:
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
        if perm is not None and self.device != perm.device:
            perm = perm.to(self.device)
        x, y, sw = self.x, self.y, self.sample_weight
        starts = range(start * bs, n, bs)
        if type(x) is torch.Tensor and sw is None and (y is None or type(y) is torch.Tensor):
            return _tensor_batches(x, y, perm, starts)  # the common case, without take's dispatch
        return self._taken(x, y, sw, perm, starts)

    @staticmethod
    def _taken(x: Any, y: Any, sw: Any, perm: Any, starts: range) -> Iterator[Batch]:
        bs = starts.step
        for i in starts:
            idx = slice(i, i + bs) if perm is None else perm[i : i + bs]
            yield take(x, idx), take(y, idx), take(sw, idx)


def _tensor_batches(x: Any, y: Any, perm: Any, starts: range) -> Iterator[Batch]:
    """``(x, y, None)`` batches of one input tensor and one target tensor (or None): slices
    in order (views), ``index_select`` rows for a permutation, as ``take`` gives them."""
    bs = starts.step
    if perm is None:
        if y is None:
            return ((x[i : i + bs], None, None) for i in starts)
        return ((x[i : i + bs], y[i : i + bs], None) for i in starts)
    chunks = (perm[i : i + bs] for i in starts)
    if y is None:
        return ((x.index_select(0, idx), None, None) for idx in chunks)
    return ((x.index_select(0, idx), y.index_select(0, idx), None) for idx in chunks)


def _batch_shuffle(n: int, batch_size: int, g: torch.Generator) -> torch.Tensor:
    """Indices in batch-sized chunks, the chunks in a random order (Keras's shuffle="batch")."""
    chunks = torch.arange(n).split(batch_size)
    return torch.cat([chunks[i] for i in torch.randperm(len(chunks), generator=g).tolist()])


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
    warning. With ``replay`` (validation with ``validation_steps``), the first epoch's batches
    of a one-shot iterator are kept and every later epoch replays them, so each validation sees
    the same batches, as Keras documents. A re-iterable (a list) starts again each epoch.
    """

    def __init__(self, iterable: Iterable, steps: int | None):
        self.iterable, self.steps = iterable, steps
        self.reiterable = not isinstance(iterable, Iterator)
        self._it: Iterator | None = None
        self.exhausted = False
        self.num_samples = None
        self.replay = False
        self._kept: list[Batch] | None = None

    def __len__(self) -> int:
        if self.steps is not None:
            return self.steps
        if hasattr(self.iterable, "__len__"):
            return len(self.iterable)
        raise TypeError("length unknown")

    def __iter__(self) -> Iterator[Batch]:
        if self.reiterable:
            it = (unpack(b) for b in self.iterable)
            return it if self.steps is None else itertools.islice(it, self.steps)
        if self._kept is not None:
            return iter(self._kept)
        if self._it is None:
            self._it = iter(self.iterable)
        return self._keep() if self.replay else self._one_epoch()

    def peek(self) -> Batch:
        """The first batch; a one-shot iterator yields it again next."""
        if self.reiterable:
            return unpack(next(iter(self.iterable)))
        if self._kept:
            return self._kept[0]
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
        for count, b in enumerate(self._it):  # type: ignore[arg-type]
            yield unpack(b)
            if self.steps is not None and count + 1 >= self.steps:
                return
        self.exhausted = True

    def _keep(self) -> Iterator[Batch]:
        kept: list[Batch] = []
        for batch in self._one_epoch():
            kept.append(batch)
            yield batch
        self._kept = kept


def peek(source: Any, n: int = 2) -> Batch:
    """A small first batch (up to ``n`` samples) without disturbing the epoch's RNG draws.

    Arrays are sliced and map-style Datasets are collated from their first items, so peeking
    draws nothing from the random number generators; a generator's first batch is kept and
    yielded again by the next epoch. Array heads are copies, so keeping the peeked batch (as
    ``model.example_input``) does not keep the whole data set alive.
    """
    if isinstance(source, ArraySource):  # copies: a view would keep all the data alive
        return tree.map_structure(torch.clone, _head((source.x, source.y, source.sample_weight), n))
    if isinstance(source, LoaderSource):
        ds = source.loader.dataset
        if not isinstance(ds, IterableDataset) and source.loader.batch_size is not None:
            items = [ds[i] for i in range(min(n, len(ds)))]
            return _head(unpack(source.loader.collate_fn(items)), n)
        return _head(next(iter(source)), n)
    if callable(getattr(source, "peek", None)):  # generators, PyDatasets
        return _head(source.peek(), n)
    return _head(next(iter(source)), n)


def _head(batch: Batch, n: int) -> Batch:
    head = slice(0, n)
    return tuple(take(a, head) for a in batch)  # type: ignore[return-value]


def warn_exhausted() -> None:
    """Warn that a one-shot generator ran out of data (training stops), in Keras's words."""
    warnings.warn(RAN_OUT, UserWarning, stacklevel=3)
