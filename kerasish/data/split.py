"""Validation data: split off the last fraction (as Keras does) or unpack validation_data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, Subset

from kerasish.data.arrays import (
    check_lengths,
    first_dim,
    is_arraylike,
    is_pandas,
    take,
    to_tensor,
)
from kerasish.data.hf import HFData, is_hf_dataset

__all__ = ["split_validation", "unpack_validation"]


def split_validation(
    x: Any, y: Any, sample_weight: Any, validation_split: float
) -> tuple[tuple[Any, Any, Any], tuple[Any, Any, Any]]:
    """Split off the last ``validation_split`` fraction, before any shuffling, as Keras does.

    Works for arrays/tensors, map-style Datasets and Hugging Face datasets.

    Returns:
        ``((x, y, sample_weight), (x_val, y_val, sample_weight_val))``.

    Raises:
        ValueError: for a DataLoader, a generator or an IterableDataset, or a split that
            leaves either part empty.

    Example:
        >>> import numpy as np
        >>> (x, _, _), (xv, _, _) = split_validation(np.zeros((10, 1)), None, None, 0.2)
        >>> len(x), len(xv)
        (8, 2)
    """
    if isinstance(x, HFData) or is_hf_dataset(x):
        return _split_hf(x, validation_split)
    if isinstance(x, DataLoader) or (
        isinstance(x, Iterable) and not is_arraylike(x) and not isinstance(x, Dataset)
    ):
        raise ValueError(
            f"Expected arrays, tensors or a map-style Dataset with "
            f"validation_split; use validation_data with a DataLoader or "
            f"generator. Received: validation_split={validation_split} with x of "
            f"type {type(x).__name__}"
        )
    if isinstance(x, Dataset):
        return _split_dataset(x, validation_split)
    x, y, sw = (
        to_tensor(a, nm) for a, nm in ((x, "x"), (y, "y"), (sample_weight, "sample_weight"))
    )
    check_lengths(x, y, sw, "x")
    cut = _cut(first_dim(x), validation_split)
    head, tail = slice(0, cut), slice(cut, None)
    return (
        (take(x, head), take(y, head), take(sw, head)),
        (take(x, tail), take(y, tail), take(sw, tail)),
    )


def _split_dataset(x: Dataset, validation_split: float) -> tuple[Any, Any]:
    if isinstance(x, IterableDataset):
        raise ValueError(
            "Expected a map-style Dataset with validation_split. Received: x is an IterableDataset"
        )
    n = len(x)  # type: ignore[arg-type]
    cut = _cut(n, validation_split)
    return (Subset(x, range(cut)), None, None), (Subset(x, range(cut, n)), None, None)


def _split_hf(x: Any, validation_split: float) -> tuple[Any, Any]:
    data = x if isinstance(x, HFData) else HFData(x)
    n = len(data.dataset)
    cut = _cut(n, validation_split)
    parts = (data.dataset.select(range(cut)), data.dataset.select(range(cut, n)))
    head, tail = (HFData(p, data.collate_fn, data.columns, data.label_columns) for p in parts)
    return (head, None, None), (tail, None, None)


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
    """Split ``validation_data`` as Keras does: ``(x, y)``, ``(x, y, sw)`` or a loader-like.

    Raises:
        ValueError: for a tuple/list of arrays of another length, such as ``(x_val,)``.

    Example:
        >>> import numpy as np
        >>> [v is None for v in unpack_validation((np.zeros(2), np.zeros(2)))]
        [False, False, True]
    """
    if isinstance(validation_data, tuple | list) and validation_data:
        first = validation_data[0]
        if len(validation_data) in (2, 3) and (is_arraylike(first) or isinstance(first, Mapping)):
            return tuple(validation_data) + (None,) * (3 - len(validation_data))
        if isinstance(first, np.ndarray | torch.Tensor) or is_pandas(first):  # not (x, y) batches
            raise ValueError(
                "Expected validation_data to be (x_val, y_val) or (x_val, y_val, "
                "sample_weight_val), or a Dataset, DataLoader or generator. Received: "
                f"a {type(validation_data).__name__} of {len(validation_data)} item(s)"
            )
    return validation_data, None, None
