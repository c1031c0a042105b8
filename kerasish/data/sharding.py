"""Per-rank shares of a DataLoader: ShardSampler (unpadded evaluation) and with_sampler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from torch.utils.data import DataLoader, Sampler

__all__ = ["ShardSampler", "with_sampler"]


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
