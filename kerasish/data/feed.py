"""Feed: one batch source as the loop iterates it, on the device, weighted, channels-last.

The per-batch work is chained once per epoch from C-level ``map``/``islice`` stages, so a batch
costs no host sync and no Python frame beyond the work itself; an in-memory source already on
the device is indexed there directly.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import torch

from kerasish import devices, tree
from kerasish.data.arrays import nbytes
from kerasish.data.checks import cast_batch, check_class_weight
from kerasish.data.cursor import PassCursor
from kerasish.data.prefetch import CudaPrefetcher
from kerasish.data.sources import ArraySource, Batch, IteratorSource, peek

__all__ = ["Feed", "class_weight_table", "weigh", "to_channels_last", "keep_on_device"]


class Feed:
    """The batches of one source, ready for a step (what ``make_sources``/``make_feed`` return).

    Args:
        source: an ``ArraySource``, ``LoaderSource`` or ``IteratorSource`` (``feed.source``).
        device: where the batches go.
        strategy: the distribution strategy (``set_epoch`` is called each epoch).
        class_weight: a table from ``class_weight_table`` (or None), multiplied into the
            sample weights.
        channels_last: make 4-D inputs channels-last.
        steps: the default batches per epoch (``steps_per_epoch``/``validation_steps``).

    Training epochs (``epoch(i, steps)``) of ``steps`` batches over finite data continue the
    pass the last epoch left, as Keras does (``data.cursor``); ``feed.state_dict()`` is that
    position, for checkpoints. Without ``steps`` each epoch is one fresh pass.

    ``feed.input_cast`` is None, or ``(dtype, integers)``: the cast of ``x`` the model needs
    (decided on the first batch by ``kerasish.training``; see ``data.checks.cast_inputs``).
    """

    def __init__(
        self,
        source: Any,
        *,
        device: torch.device,
        strategy: Any,
        class_weight: torch.Tensor | None = None,
        channels_last: bool = False,
        steps: int | None = None,
    ):
        self.source, self.device, self.strategy = source, device, strategy
        self.class_weight, self.channels_last = class_weight, channels_last
        self.default_steps = steps
        self.input_cast: tuple[torch.dtype, bool] | None = None
        self.cursor: PassCursor | None = None

    @property
    def exhausted(self) -> bool:
        """Whether a one-shot generator ran out of batches."""
        return getattr(self.source, "exhausted", False)

    def steps(self, steps: int | None = None) -> int | None:
        """Batches per epoch: ``steps`` (or the feed's default) if set, else the length, else None."""
        steps = self.default_steps if steps is None else steps
        if steps is not None:
            return steps
        try:
            return len(self.source)
        except TypeError:
            return None

    def samples(self) -> int | None:
        """The number of samples of in-memory data (None for loaders and generators)."""
        return getattr(self.source, "num_samples", None)

    def epoch(self, epoch: int | None, steps: int | None = None) -> Iterator[Batch]:
        """This epoch's batches (``steps`` at most); the shuffle order is drawn from the RNG now.

        ``epoch`` goes to ``strategy.set_epoch`` (a sharded order new each epoch); None skips
        that (evaluation and prediction keep their order, and start from the first batch).
        With ``steps`` over finite data, a training epoch continues the last epoch's pass.
        """
        steps = self.default_steps if steps is None else steps
        if epoch is not None and steps is not None and self._finite():
            if self.cursor is None:
                self.cursor = PassCursor(self.source, self._stages, self.strategy.set_epoch)
            return self.cursor.epoch(epoch, steps)
        if epoch is not None:
            self.strategy.set_epoch(self.source, epoch)
        return iter(self.batches(steps))

    def _finite(self) -> bool:
        if isinstance(self.source, IteratorSource):
            return False
        try:
            return len(self.source) > 0
        except TypeError:
            return False

    def state_dict(self, epoch_start: bool = False) -> dict[str, Any] | None:
        """The position in the data across epochs of ``steps_per_epoch`` (None: each epoch
        is a fresh pass), for a checkpoint; see ``PassCursor.state_dict``."""
        return None if self.cursor is None else self.cursor.state_dict(epoch_start)

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        """Make the next training epoch continue from ``state`` (from ``state_dict``)."""
        if state is None:
            return
        if self.cursor is None:
            self.cursor = PassCursor(self.source, self._stages, self.strategy.set_epoch)
        self.cursor.load_state_dict(state)

    def batches(self, steps: int | None = None) -> Iterable[Batch]:
        """``(x, y, sample_weight)`` batches on the device, at most ``steps`` (not generators)."""
        steps = self.default_steps if steps is None else steps
        it = self._stages(self.source)
        if steps is not None and not isinstance(self.source, IteratorSource):
            it = itertools.islice(it, steps)
        return it

    def _stages(self, it: Any) -> Any:
        """The per-batch stages over raw batches: device move, input cast, weights, layout."""
        device = self.device
        if not self.resident():
            if device.type == "cuda":
                it = CudaPrefetcher(it, device)
            else:
                it = map(functools.partial(devices.move, device=device), it)
        if self.input_cast is not None:
            it = map(functools.partial(cast_batch, self.input_cast), it)
        if self.class_weight is not None:
            it = map(functools.partial(weigh, self.class_weight), it)
        if self.channels_last:
            it = map(to_channels_last, it)
        return it

    def peek(self) -> Batch:
        """The first (up to 2) samples on the device, without consuming batches or RNG draws."""
        return devices.move(peek(self.source), self.device)

    def resident(self) -> bool:
        """Whether the source is in-memory data already on the feed's device type."""
        if not isinstance(self.source, ArraySource):
            return False
        leaf = tree.first_leaf(self.source.x)
        return leaf is not None and leaf.device.type == self.device.type

    def place(self, data_on_device: bool | str = "auto") -> Feed:
        """Keep in-memory data on an accelerator ("auto": when it takes under 1 GiB)."""
        source = self.source
        if self.device.type != "cpu" and isinstance(source, ArraySource):
            if keep_on_device(source, data_on_device):
                source.to(self.device)
        return self


def keep_on_device(source: ArraySource, data_on_device: bool | str) -> bool:
    """Whether to move ``source``'s arrays to the device: "auto" below 1 GiB, else as told."""
    if data_on_device == "auto":
        return nbytes(source.x, source.y, source.sample_weight) < 2**30
    return bool(data_on_device)


def class_weight_table(
    class_weight: Mapping[int, float] | None, device: torch.device
) -> torch.Tensor | None:
    """``{class_index: weight}`` as a lookup tensor on ``device``.

    Classes below the largest key that are not named weigh 1 in the table; ``make_sources``
    rejects targets holding a class without a weight (``data.checks.check_class_coverage``).

    Raises:
        ValueError: when ``class_weight`` is not a non-empty dict of integer keys >= 0 and
            finite weights.

    Example:
        >>> class_weight_table({2: 3.0}, torch.device("cpu"))
        tensor([1., 1., 3.])
    """
    if class_weight is None:
        return None
    check_class_weight(class_weight)
    table = torch.ones(max(int(k) for k in class_weight) + 1)
    for k, w in class_weight.items():
        table[int(k)] = float(w)
    return table.to(device)


def weigh(table: torch.Tensor, batch: Batch) -> Batch:
    """Multiply each sample's class weight (labels or one-hot ``y``) into ``sample_weight``."""
    x, y, sw = batch
    labels = y.argmax(-1) if y.dim() > 1 and y.shape[-1] > 1 else y.reshape(-1).long()
    w = table[labels.long()]
    return x, y, w if sw is None else sw * w


def to_channels_last(batch: Batch) -> Batch:
    """The batch with a 4-D tensor ``x`` in channels-last memory format."""
    x, y, sw = batch
    if isinstance(x, torch.Tensor) and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x, y, sw
