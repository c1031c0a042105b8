"""CudaPrefetcher: copy the next batch to the GPU on a side stream while this one trains."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch

from kerasish import devices, tree
from kerasish.data.sources import Batch

__all__ = ["CudaPrefetcher"]


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
            for t in tree.flatten(batch):
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
