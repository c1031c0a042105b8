"""make_sources / make_feed: fit's, evaluate's and predict's data arguments -> Feeds.

The work the trainer did between its arguments and its loop: validation split, adapting,
sharding through the strategy, the class-weight table, DataLoader options and device placement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from kerasish.data.adapters import adapt, check_batch_size
from kerasish.data.checks import check_class_coverage, check_class_weight, warn_non_finite
from kerasish.data.feed import Feed, class_weight_table
from kerasish.data.py_dataset import PyDatasetSource
from kerasish.data.sources import ArraySource, IteratorSource
from kerasish.data.split import split_validation, unpack_validation

__all__ = ["make_sources", "make_feed", "loader_kwargs", "check_arrays"]

ROLES = ("train", "eval", "predict", "train_on_batch")


def make_sources(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    batch_size: int | None,
    shuffle: bool = True,
    validation_split: float = 0.0,
    validation_data: Any = None,
    steps_per_epoch: int | None = None,
    validation_steps: int | None = None,
    class_weight: Mapping[int, float] | None = None,
    loader_kwargs: Mapping[str, Any] | None = None,
    device: torch.device,
    channels_last: bool = False,
    data_on_device: bool | str = "auto",
    strategy: Any,
) -> tuple[Feed, Feed | None]:
    """The training and validation feeds of one ``fit`` call (arguments as ``Model.fit``).

    Validation data is ``validation_data`` or the last ``validation_split`` of ``x`` (taken
    before shuffling); both feeds are sharded by ``strategy`` ("train" / "eval") and, for
    in-memory data, placed on ``device`` per ``data_on_device``. ``class_weight`` weighs the
    training batches only (as in Keras, ``val_loss`` equals ``evaluate`` on the validation
    data). With ``validation_steps``, every validation takes the same first batches (a one-shot
    generator's are kept and replayed), as Keras documents.

    Returns:
        ``(train, val)``; ``val`` is None without validation data.

    In-memory data is checked in one pass per array: NaN/inf in x or y warn, NaN/inf sample
    weights raise, and ``class_weight`` must name every class in the targets.

    Raises:
        ValueError / TypeError: for bad data, class weights or ``data_on_device``.
    """
    if data_on_device != "auto" and not isinstance(data_on_device, bool):
        raise ValueError(
            f"Expected data_on_device to be 'auto', True or False. Received: "
            f"data_on_device={data_on_device!r}"
        )
    check_batch_size(x, batch_size)
    if validation_data is not None:
        check_batch_size(validation_data, batch_size, "validation_data")
    train_parts, val_parts = _fit_parts(x, y, sample_weight, validation_split, validation_data)
    common = {"batch_size": batch_size or 32, "loader_kwargs": loader_kwargs}
    train = adapt(*train_parts, shuffle=shuffle, steps=steps_per_epoch, **common)
    val = _validation_source(val_parts, validation_steps, common)
    check_arrays(train, class_weight, "x")
    strategy.shared_seed()
    train, _ = strategy.shard(train, "train")
    if val is not None:
        val, _ = strategy.shard(val, "eval")
    table = class_weight_table(class_weight, device)
    feed = {"device": device, "strategy": strategy, "class_weight": table}
    feed["channels_last"] = channels_last
    train_feed = Feed(train, steps=steps_per_epoch, **feed).place(data_on_device)
    if val is None:
        return train_feed, None
    feed["class_weight"] = None
    return train_feed, Feed(val, steps=validation_steps, **feed).place(data_on_device)


def check_arrays(source: Any, class_weight: Mapping[int, float] | None, name: str) -> None:
    """For in-memory data: warn about NaN/inf in x and y, and check ``class_weight`` names
    every class of y (one pass over each array; other sources are checked on a batch)."""
    if not isinstance(source, ArraySource):
        return
    warn_non_finite(source.x, name)
    warn_non_finite(source.y, "y" if name == "x" else f"the targets of {name}")
    if class_weight is not None:
        check_class_weight(class_weight)
        check_class_coverage(class_weight, source.y, name)


def _validation_source(parts: Any, validation_steps: int | None, common: dict) -> Any:
    """The validation source: the same first batches every epoch, as Keras documents."""
    if parts is None:
        return None
    val = adapt(*parts, steps=validation_steps, name="validation_data", **common)
    check_arrays(val, None, "validation_data")  # class_weight weighs training only, as Keras
    if isinstance(val, IteratorSource) and validation_steps is not None:
        val.replay = True  # a one-shot generator's first batches are kept and replayed
    if isinstance(val, PyDatasetSource):
        val.restart = True  # an endless PyDataset starts at batch 0 each time
    return val


def _fit_parts(x: Any, y: Any, sw: Any, validation_split: float, validation_data: Any) -> Any:
    if validation_data is not None:
        return (x, y, sw), unpack_validation(validation_data)
    if validation_split:
        return split_validation(x, y, sw, validation_split)
    return (x, y, sw), None


def make_feed(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    *,
    batch_size: int | None,
    steps: int | None = None,
    device: torch.device,
    strategy: Any,
    role: str = "eval",
    channels_last: bool = False,
    class_weight: Mapping[int, float] | None = None,
) -> tuple[Feed, int | None]:
    """The feed of one ``evaluate``/``predict``/``*_on_batch`` call (in order, unshuffled).

    Args:
        role: how ``strategy`` shards the data: "eval", "predict" or "train";
            "train_on_batch" keeps this process's data as it is.

    Returns:
        ``(feed, n)``: ``n`` is the sample count to gather predictions to (None unless sharded
        for "predict").

    Raises:
        ValueError / TypeError: for bad data, class weights or role.
    """
    if role not in ROLES:
        raise ValueError(f"Expected role to be one of {ROLES}. Received: role={role!r}")
    check_batch_size(x, batch_size)
    source = adapt(x, y, sample_weight, batch_size=batch_size or 32, steps=steps)
    if isinstance(source, PyDatasetSource):
        source.restart = True
    if class_weight is not None:
        check_class_weight(class_weight)
        if isinstance(source, ArraySource):
            check_class_coverage(class_weight, source.y, "x")
    n = None
    if role != "train_on_batch":
        source, n = strategy.shard(source, role)
    table = class_weight_table(class_weight, device)
    feed = Feed(
        source,
        device=device,
        strategy=strategy,
        class_weight=table,
        channels_last=channels_last,
        steps=steps,
    )
    return feed, n


def loader_kwargs(
    num_workers: int,
    pin_memory: bool | None,
    persistent_workers: bool,
    prefetch_factor: int | None,
    device: torch.device,
) -> dict[str, Any]:
    """``DataLoader`` options for the Datasets kerasish batches (pin memory for CUDA by default).

    Raises:
        ValueError: for a negative ``num_workers`` or a non-positive ``prefetch_factor``.

    Example:
        >>> loader_kwargs(0, None, False, None, torch.device("cpu"))
        {'num_workers': 0, 'pin_memory': False}
    """
    if not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"Expected num_workers >= 0. Received: num_workers={num_workers!r}")
    if prefetch_factor is not None and (
        isinstance(prefetch_factor, bool)
        or not isinstance(prefetch_factor, int | np.integer)
        or prefetch_factor <= 0
    ):
        raise ValueError(
            f"Expected prefetch_factor to be a positive integer. Received: "
            f"prefetch_factor={prefetch_factor!r}"
        )
    kw: dict[str, Any] = {
        "num_workers": num_workers,
        "pin_memory": device.type == "cuda" if pin_memory is None else pin_memory,
    }
    if num_workers > 0:
        kw["persistent_workers"] = persistent_workers
        if prefetch_factor is not None:
            kw["prefetch_factor"] = prefetch_factor
    return kw
