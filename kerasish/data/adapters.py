"""adapt(): any supported input (arrays | tensors | dicts | Dataset | DataLoader | generator)
-> a batch source."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch.utils.data import DataLoader, Dataset, IterableDataset

from kerasish.data.arrays import check_lengths, is_arraylike, to_tensor
from kerasish.data.checks import check_finite_weights
from kerasish.data.hf import HFData, hf_source, is_hf_dataset, is_hf_dataset_dict
from kerasish.data.py_dataset import PyDatasetSource, is_py_dataset
from kerasish.data.sources import ArraySource, IteratorSource, LoaderSource

__all__ = ["adapt", "check_batch_size", "yields_batches"]

DEFAULT_BATCH_SIZE = 32


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
        x: arrays/tensors (or a list/tuple/dict of them), a ``Dataset``, a ``DataLoader``, a
            ``PyDataset``, a Hugging Face ``datasets.Dataset`` (or ``data.from_hf(...)``), or a
            generator/iterable of batches.
        y: targets when ``x`` is array-like; must be None otherwise.
        sample_weight: per-sample weights when ``x`` is array-like.
        batch_size: batch size for arrays and Datasets.
        shuffle: shuffle arrays and map-style Datasets each epoch (True, False, or "batch":
            arrays are shuffled in batch-sized chunks, as Keras does for HDF5 data).
        steps: the number of batches an epoch takes from a generator (None: until exhausted).
        name: the argument's name, for error messages.
        loader_kwargs: extra ``DataLoader`` options for Datasets (num_workers, pin_memory, ...).

    Returns:
        An ``ArraySource``, ``LoaderSource``, ``PyDatasetSource`` or ``IteratorSource``.

    Raises:
        ValueError / TypeError: with the argument's name, for empty or mismatched data, or
            NaN/inf sample weights.

    Example:
        >>> import numpy as np
        >>> len(adapt(np.zeros((10, 2)), np.zeros(10), batch_size=4))
        3
    """
    if yields_batches(x):
        _check_yields_targets(y, sample_weight, name)
    if is_py_dataset(x):
        return PyDatasetSource(x, shuffle, name)
    if isinstance(x, HFData) or is_hf_dataset(x) or is_hf_dataset_dict(x):
        return hf_source(x, batch_size, shuffle, name, loader_kwargs)
    if isinstance(x, DataLoader):
        return LoaderSource(x)
    if isinstance(x, Dataset):
        return _dataset_source(x, batch_size, shuffle, name, loader_kwargs)
    if x is None or not is_arraylike(x):
        if x is not None and isinstance(x, Iterable) and not isinstance(x, str | bytes):
            return IteratorSource(x, steps)
        raise TypeError(
            f"Expected {name} to be arrays/tensors (or a list/tuple/dict of them), a "
            f"Dataset, a DataLoader or a generator of batches. Received: {name} of "
            f"type {type(x).__name__}"
        )
    x, y, sw = (to_tensor(a, n) for a, n in ((x, name), (y, "y"), (sample_weight, "sample_weight")))
    check_lengths(x, y, sw, name)
    check_finite_weights(sw, "sample_weight" if name == "x" else f"the sample_weight of {name}")
    return ArraySource(x, y, sw, batch_size, shuffle)


def yields_batches(x: Any) -> bool:
    """Whether ``x`` yields its own targets (a Dataset, DataLoader, PyDataset, Hugging Face
    dataset or generator), so ``y`` and ``sample_weight`` must be None.

    Example:
        >>> yields_batches(np.zeros(2)), yields_batches(iter([]))
        (False, True)
    """
    if isinstance(x, DataLoader | Dataset | HFData) or is_py_dataset(x) or is_hf_dataset(x):
        return True
    if is_hf_dataset_dict(x):
        return True
    return not is_arraylike(x) and isinstance(x, Iterable) and not isinstance(x, str | bytes)


def check_batch_size(x: Any, batch_size: int | None, name: str = "x") -> None:
    """Raise when ``batch_size`` is given for a ``PyDataset`` (it makes its own batches).

    ``fit``/``evaluate``/``predict`` pass their default (32) when the user gave None, so 32
    cannot be told from "not given" here and is let through.

    Raises:
        ValueError: naming the value.
    """
    if batch_size is None or not is_py_dataset(x):
        return
    raise ValueError(
        f"Expected batch_size=None when {name} is a PyDataset (its __getitem__ returns whole "
        f"batches). Received: batch_size={batch_size!r}"
    )


def _check_yields_targets(y: Any, sample_weight: Any, name: str) -> None:
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


def _dataset_source(
    x: Dataset, batch_size: int, shuffle: bool, name: str, loader_kwargs: Any
) -> LoaderSource:
    if not isinstance(x, IterableDataset) and len(x) == 0:  # type: ignore[arg-type]
        raise ValueError(f"Expected a non-empty Dataset. Received: {name} with 0 samples")
    kw = dict(loader_kwargs or {})
    shuffle = bool(shuffle) and not isinstance(x, IterableDataset)  # "batch": as True
    loader = DataLoader(x, batch_size=batch_size, shuffle=shuffle, **kw)
    return LoaderSource(loader, owned=True)
