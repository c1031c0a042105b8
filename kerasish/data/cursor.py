"""PassCursor: the position in a finite source across epochs of ``steps_per_epoch`` batches.

With ``steps_per_epoch`` set over finite data (arrays, Datasets, DataLoaders, PyDatasets), an
epoch takes up to that many batches from the current pass over the data and the next epoch
continues where it stopped, as Keras 3's ``EpochIterator`` does: an epoch never crosses the end
of a pass, so 10 batches with ``steps_per_epoch=9`` give epochs of 9, 1, 9, 1 batches. A new
pass (a new shuffle order) starts only when the last pass is used up, and an epoch cut short by
the end of a pass warns with Keras's "Your input ran out of data" message.

The position is ``state_dict()``-able (the torch RNG state the pass drew its order from, the
batches of it done), so a checkpoint resumes mid-pass exactly.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch

__all__ = ["PassCursor", "RAN_OUT"]

RAN_OUT = (
    "Your input ran out of data; interrupting training. Make sure that your dataset or "
    "generator can generate at least `steps_per_epoch * epochs` batches."
)


class PassCursor:
    """Epochs of at most ``steps`` batches, each continuing the pass the last one left.

    Args:
        source: a finite batch source with ``len`` (re-iterable: each ``iter`` is one pass).
        stages: ``iterator of raw batches -> iterator of ready batches`` (device moves, casts).
        set_epoch: ``(source, epoch)``, called when a pass starts (a sharded order per pass).

    Example:
        >>> cursor = PassCursor([1, 2, 3, 4], iter, lambda source, epoch: None)
        >>> [list(cursor.epoch(0, 3)) for _ in range(2)]  # the 2nd epoch warns: 1 batch, not 3
        [[1, 2, 3], [4]]
    """

    def __init__(self, source: Any, stages: Callable[[Iterator], Iterator], set_epoch: Any):
        self.source, self.stages, self.set_epoch = source, stages, set_epoch
        self.offset = 0  # batches of the current pass done
        self.pass_epoch = 0  # the epoch that started the current pass
        self.rng_state: torch.Tensor | None = None  # torch RNG state the pass drew from
        self._pass: Iterator | None = None
        self._epoch_start: dict[str, Any] = self._position()
        self._pending: dict[str, Any] | None = None

    def epoch(self, epoch: int, steps: int) -> Iterator[Any]:
        """This epoch's batches: up to ``steps`` from the current (or a new) pass."""
        if self._pass is None:
            self._open(epoch)
        self._epoch_start = self._position()
        return self._take(steps)

    def _open(self, epoch: int) -> None:
        pending, self._pending = self._pending, None
        if pending is None or not pending["offset"]:
            self.set_epoch(self.source, epoch)
            self.pass_epoch, self.offset = epoch, 0
            self.rng_state = torch.get_rng_state()
            self._pass = self.stages(iter(self.source))  # draws this pass's order now
            return
        # Resuming mid-pass: redraw the pass's order from its RNG state, skip what was done,
        # and leave the RNG as it was (a pass already under way draws nothing).
        now = torch.get_rng_state()
        torch.set_rng_state(pending["rng_state"])
        self.set_epoch(self.source, pending["pass_epoch"])
        raw = iter(self.source)
        next(itertools.islice(raw, pending["offset"] - 1, None), None)
        torch.set_rng_state(now)
        self.pass_epoch, self.offset = pending["pass_epoch"], pending["offset"]
        self.rng_state = pending["rng_state"]
        self._pass = self.stages(raw)

    def _take(self, steps: int) -> Iterator[Any]:
        total, taken = len(self.source), 0
        for batch in self._pass:  # type: ignore[union-attr]
            taken += 1
            self.offset += 1
            end = self.offset >= total
            if end:
                self._close()
            yield batch
            if end or taken >= steps:
                break
        else:  # the pass ended before its length said
            self._close()
        if taken < steps:
            warnings.warn(RAN_OUT, UserWarning, stacklevel=2)

    def _close(self) -> None:
        self._pass, self.offset, self.rng_state = None, 0, None

    def _position(self) -> dict[str, Any]:
        return {"offset": self.offset, "pass_epoch": self.pass_epoch, "rng_state": self.rng_state}

    def state_dict(self, epoch_start: bool = False) -> dict[str, Any]:
        """Where the data is: ``offset`` (batches of the pass done), ``pass_epoch`` and the
        ``rng_state`` the pass drew its order from (None at a pass boundary).

        Args:
            epoch_start: where the last epoch began (for a mid-epoch checkpoint, whose resume
                replays the epoch from its start and skips the batches done), instead of now.
        """
        state = self._epoch_start if epoch_start else self._position()
        rng = state["rng_state"]
        return {**state, "rng_state": None if rng is None else rng.clone()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue, at the next ``epoch``, from what ``state_dict`` returned."""
        self._close()
        self._pending = dict(state)
