"""Hugging Face ``datasets``: a ``datasets.Dataset`` (or one split of a ``DatasetDict``) as the
data of ``fit``/``evaluate``/``predict``, batched by kerasish.

The choice: pass the dataset itself as ``x`` (``model.fit(ds["train"], batch_size=16)``), or
``K.data.from_hf(ds, collate_fn=DataCollatorWithPadding(tokenizer))`` when the rows need a
collator (token ids of different lengths padded per batch). Either way the dataset is read as
map-style rows: ``batch_size`` and ``shuffle`` apply as for arrays (through a ``DataLoader``
kerasish builds, so ``num_workers`` and the other loader options apply too), and
``validation_split`` takes its last rows. A ``DataLoader`` built by the user over the dataset
also works as it is.

Each batch is a dict of tensors, given to the model's ``forward`` as keyword arguments. The
``labels`` (or ``label``) column is split off as the targets ``y``: compiled losses and metrics
read it, and with ``compile(loss=None)`` the training step hands it back to the model as
``labels=`` (a Hugging Face model then returns its own loss). Columns that cannot become
tensors (strings, images, ...) are dropped with a warning naming them, unless ``columns``
chooses the columns (a ``collate_fn`` may then tokenize text itself).

A streamed ``datasets.IterableDataset`` is read in its own order (shuffle it with its
``shuffle(buffer_size=...)``). ``datasets`` is never imported: the objects are recognised by their attributes (``features``,
``column_names``, ``with_format``). Install the extra with ``pip install "kerasish[hf]"``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch.utils.data import DataLoader, Dataset, IterableDataset, default_collate

from kerasish.data.sources import LoaderSource

__all__ = ["HFData", "from_hf", "is_hf_dataset", "is_hf_dataset_dict", "hf_source"]

LABEL_COLUMNS = ("labels", "label")
_NUMERIC = ("bool", "int", "uint", "float", "bfloat")


def is_hf_dataset(x: Any) -> bool:
    """Whether ``x`` looks like a Hugging Face ``datasets.Dataset`` (duck-typed).

    Example:
        >>> is_hf_dataset(np.zeros(2))
        False
    """
    return not isinstance(x, Mapping) and all(
        hasattr(x, a) for a in ("features", "column_names", "with_format")
    )


def is_hf_dataset_dict(x: Any) -> bool:
    """Whether ``x`` looks like a ``datasets.DatasetDict`` (a dict of splits)."""
    return isinstance(x, Mapping) and len(x) > 0 and all(is_hf_dataset(v) for v in x.values())


class HFData:
    """A Hugging Face dataset with how to batch it (what ``from_hf`` returns; pass it as ``x``).

    Attributes:
        dataset: the ``datasets.Dataset``.
        collate_fn: ``list of row dicts -> dict of tensors`` (e.g. a transformers
            ``DataCollatorWithPadding``), or None for torch's ``default_collate``.
        columns: the columns to read (None: every column that can become a tensor).
        label_columns: the column names split off as the targets, the first one present.
    """

    def __init__(
        self,
        dataset: Any,
        collate_fn: Callable | None = None,
        columns: Sequence[str] | None = None,
        label_columns: Sequence[str] = LABEL_COLUMNS,
    ):
        if not is_hf_dataset(dataset):
            raise TypeError(
                "Expected a Hugging Face datasets.Dataset (one split of a DatasetDict). "
                f"Received: dataset of type {type(dataset).__name__}"
            )
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"Expected collate_fn to be callable. Received: {collate_fn!r}")
        unknown = sorted(set(columns or ()) - set(dataset.column_names))
        if unknown:
            raise ValueError(
                f"Expected columns of the dataset {dataset.column_names}. Received: "
                f"columns={list(columns)} (unknown: {unknown})"  # type: ignore[arg-type]
            )
        self.dataset, self.collate_fn = dataset, collate_fn
        self.columns = None if columns is None else list(columns)
        self.label_columns = tuple(label_columns)

    def __len__(self) -> int:
        return len(self.dataset)


def from_hf(
    dataset: Any,
    *,
    collate_fn: Callable | None = None,
    columns: Sequence[str] | None = None,
    label_columns: Sequence[str] = LABEL_COLUMNS,
) -> HFData:
    """A Hugging Face dataset for ``fit``/``evaluate``/``predict``, batched with ``collate_fn``.

    Args:
        dataset: a ``datasets.Dataset`` (e.g. ``dataset_dict["train"]``), any format.
        collate_fn: turns a list of rows (dicts) into a batch dict of tensors, such as
            ``transformers.DataCollatorWithPadding(tokenizer)``; None stacks the rows with
            torch's ``default_collate`` (columns of equal length per row).
        columns: the columns to read; None keeps those that can become tensors (strings and
            other objects are dropped with a warning).
        label_columns: names of the targets column; the first present is split off as ``y``.

    Returns:
        An ``HFData`` to pass as ``x`` (with ``batch_size``, ``shuffle``, ...).

    Raises:
        TypeError / ValueError: for an object that is not a dataset, or unknown columns.

    Example:
        >>> import pytest
        >>> datasets = pytest.importorskip("datasets")
        >>> ds = datasets.Dataset.from_dict({"x": [[0.0, 1.0]] * 8, "label": [0, 1] * 4})
        >>> clf = K.Sequential([nn.Linear(2, 2)])
        >>> clf.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        >>> clf.predict(from_hf(ds), batch_size=4, verbose=0).shape
        (8, 2)
    """
    return HFData(dataset, collate_fn, columns, label_columns)


def hf_source(
    x: Any, batch_size: int, shuffle: bool | str, name: str, loader_kwargs: Any
) -> LoaderSource:
    """A ``LoaderSource`` over the rows of an ``HFData`` or a ``datasets.Dataset``.

    Raises:
        ValueError: for an empty dataset, a whole ``DatasetDict``, or no usable columns.

    A streamed ``IterableDataset`` is read in its own order (``shuffle`` does not apply; give
    ``steps_per_epoch`` when it has no end).
    """
    if is_hf_dataset_dict(x):
        raise ValueError(
            f"Expected one split of the DatasetDict as {name}, e.g. {name}=dataset['train']. "
            f"Received: a DatasetDict with splits {list(x)}"
        )
    data = x if isinstance(x, HFData) else HFData(x)
    ds, kw = data.dataset, dict(loader_kwargs or {})
    fmt = None if data.collate_fn is not None else "torch"
    collate = _Collate(data.collate_fn, data.label_columns, name)
    if not hasattr(ds, "__len__"):  # a streamed IterableDataset: in its own order
        columns = data.columns or (_tensor_columns(ds, name) if ds.features else None)
        stream = ds if columns is None else ds.select_columns(columns)
        rows: Dataset = _Stream(stream.with_format(fmt))
        return LoaderSource(DataLoader(rows, batch_size=batch_size, collate_fn=collate, **kw))
    if len(ds) == 0:
        raise ValueError(f"Expected a non-empty Dataset. Received: {name} with 0 rows")
    columns = data.columns or _tensor_columns(ds, name)
    rows = _Rows(ds.with_format(fmt, columns=columns))
    loader = DataLoader(
        rows, batch_size=batch_size, shuffle=bool(shuffle), collate_fn=collate, **kw
    )
    return LoaderSource(loader, owned=True)


def _tensor_columns(dataset: Any, name: str) -> list[str]:
    """The columns whose features are numbers (or lists/arrays of them); warn about the rest."""
    keep = [c for c, f in dataset.features.items() if _numeric(f)]
    dropped = [c for c in dataset.column_names if c not in keep]
    if not keep:
        raise ValueError(
            f"Expected a dataset with numeric columns (token ids, features, labels). "
            f"Received: {name} with columns {dataset.column_names} of features "
            f"{dict(dataset.features)}; tokenize text with dataset.map(...) first"
        )
    if dropped:
        warnings.warn(
            f"Dropped the columns {dropped} of {name}: they cannot become tensors (strings "
            f"or other objects). Kept: {keep}. Tokenize text with dataset.map(...), or choose "
            "columns with K.data.from_hf(dataset, columns=..., collate_fn=...).",
            UserWarning,
            stacklevel=5,
        )
    return keep


def _numeric(feature: Any) -> bool:
    while hasattr(feature, "feature"):  # Sequence / List / LargeList of ...
        feature = feature.feature
    if isinstance(feature, Mapping | list):  # a dict of features, or [feature]
        return False
    dtype = str(getattr(feature, "dtype", ""))
    return dtype.startswith(_NUMERIC)


class _Rows(Dataset):
    """The rows of a (formatted) Hugging Face dataset as a map-style torch Dataset."""

    def __init__(self, dataset: Any):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(index)]


class _Stream(IterableDataset):
    """The rows of a streamed Hugging Face ``IterableDataset`` as a torch IterableDataset."""

    def __init__(self, dataset: Any):
        self.dataset = dataset

    def __iter__(self) -> Any:
        return iter(self.dataset)


class _Collate:
    """Rows -> ``(x, y)``: the rows collated (by the user's collator or ``default_collate``),
    the first label column present split off as ``y``."""

    def __init__(self, collate_fn: Callable | None, label_columns: tuple[str, ...], name: str):
        self.collate_fn, self.label_columns, self.name = collate_fn, label_columns, name

    def __call__(self, rows: list[Any]) -> Any:
        try:
            batch = (self.collate_fn or default_collate)(rows)
        except RuntimeError as e:
            raise ValueError(
                f"Expected rows of {self.name} that stack into a batch. Received: {e}. Columns "
                "of different lengths per row (token ids) need padding: pass "
                "K.data.from_hf(dataset, collate_fn=transformers.DataCollatorWithPadding("
                "tokenizer)), or pad them in dataset.map(...)"
            ) from e
        if not isinstance(batch, Mapping):
            return batch
        x = {k: v for k, v in batch.items()}
        label = next((k for k in self.label_columns if k in x), None)
        if label is None:
            return x
        y = x.pop(label)
        return x, y

    def __repr__(self) -> str:
        return f"_Collate({self.collate_fn!r})"
