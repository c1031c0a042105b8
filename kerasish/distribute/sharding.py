"""This rank's share of a data source: arrays by index, DataLoaders with a DistributedSampler.

Training shards are padded to equal length (every rank runs the same number of steps);
evaluation shards are not; prediction shards are padded and later trimmed by ``gather``.
"""

from __future__ import annotations

from typing import Any

from torch.utils.data import (
    DataLoader,
    DistributedSampler,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
)

from kerasish import data as data_lib
from kerasish.distribute.env import warn_once

__all__ = ["shard", "set_epoch"]


def shard(source: Any, role: str, rank: int, world: int, seed: int) -> tuple[Any, int | None]:
    """This rank's share of ``source`` for ``role`` ("train", "eval" or "predict").

    Args:
        source: a ``data.ArraySource``, ``data.LoaderSource`` or another (iterator) source.
        role: what the data is for.
        rank: this process's rank.
        world: the number of processes.
        seed: the shuffle seed shared by every rank.

    Returns:
        ``(source, n)``: ``n`` is the sample count ``gather`` trims to for "predict" (None
        when the source was not sharded, or for other roles).
    """
    if isinstance(source, data_lib.ArraySource):
        return _shard_arrays(source, role, rank, world, seed)
    if isinstance(source, data_lib.LoaderSource):
        return _shard_loader(source, role, rank, world, seed)
    warn_once(
        "generator",
        "Each rank iterates its own generator: yield this rank's share of the data, and "
        "the same number of batches on every rank (set steps_per_epoch), or the ranks "
        "will wait for each other forever.",
    )
    return source, None


def _shard_arrays(
    source: data_lib.ArraySource, role: str, rank: int, world: int, seed: int
) -> tuple[Any, int | None]:
    n = source.num_samples
    if role == "eval" and n < world:
        return source, None  # every rank evaluates all: the reduced means are the same
    source.shard, source.seed = (rank, world), seed
    source.pad = role != "eval"
    if role == "predict":
        source.shuffle = False
    return source, n if role == "predict" else None


def _shard_loader(
    source: data_lib.LoaderSource, role: str, rank: int, world: int, seed: int
) -> tuple[Any, int | None]:
    loader = source.loader
    if isinstance(loader.sampler, DistributedSampler) and role != "predict":
        return source, None
    if not _rebuildable(loader):
        warn_once(
            f"loader-{role}",
            f"Each rank iterates the whole {role} DataLoader: it has no DistributedSampler "
            f"and kerasish cannot add one (an IterableDataset or a custom sampler). Shard "
            f"it per rank yourself, with the same number of batches on every rank.",
        )
        return source, None
    n = len(loader.dataset)
    if role == "eval" and n < world:
        return source, None
    if not source.owned:
        warn_once(
            "rebuilt",
            "kerasish rebuilt your DataLoader with a DistributedSampler so each rank gets "
            "its share of the data (training shards padded to equal length). Pass a "
            "DataLoader with a DistributedSampler to choose this yourself.",
        )
    sampler = _sampler(loader, n, role, rank, world, seed)
    rebuilt = data_lib.LoaderSource(data_lib.with_sampler(loader, sampler), owned=True)
    return rebuilt, n if role == "predict" else None


def _sampler(loader: DataLoader, n: int, role: str, rank: int, world: int, seed: int) -> Any:
    if role == "eval":
        return data_lib.ShardSampler(n, rank, world)
    shuffle = role == "train" and isinstance(loader.sampler, RandomSampler)
    return DistributedSampler(loader.dataset, world, rank, shuffle=shuffle, seed=seed)


def _rebuildable(loader: DataLoader) -> bool:
    return (
        not isinstance(loader.dataset, IterableDataset)
        and loader.batch_size is not None
        and isinstance(loader.sampler, SequentialSampler | RandomSampler | DistributedSampler)
        and not getattr(loader.sampler, "replacement", False)
    )


def set_epoch(source: Any, epoch: int) -> None:
    """Give the epoch to the sampler (a new permutation per epoch, the same on all ranks)."""
    if isinstance(source, data_lib.ArraySource):
        source.set_epoch(epoch)
    elif isinstance(source, data_lib.LoaderSource):
        sampler_set_epoch = getattr(source.loader.sampler, "set_epoch", None)
        if sampler_set_epoch is not None:
            sampler_set_epoch(epoch)
