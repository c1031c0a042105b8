"""Keras's sequence helpers: ``pad_sequences`` and ``timeseries_dataset_from_array``.

``timeseries_dataset_from_array`` returns a ``torch.utils.data.DataLoader`` over sliding
windows (``fit`` takes it as is); windows and targets are Keras's, batch by batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

__all__ = ["pad_sequences", "timeseries_dataset_from_array", "TimeseriesWindows"]


def pad_sequences(
    sequences: Sequence[Any],
    maxlen: int | None = None,
    dtype: Any = "int32",
    padding: str = "pre",
    truncating: str = "pre",
    value: Any = 0.0,
) -> np.ndarray:
    """Pad (and truncate) sequences to one length, as ``keras.utils.pad_sequences``.

    Args:
        sequences: a list of sequences (lists or arrays, optionally of equal-shape items).
        maxlen: the length (default: the longest sequence's).
        dtype: the output's dtype (``object`` for strings).
        padding: "pre" or "post": where the padding goes.
        truncating: "pre" or "post": which end of long sequences is cut.
        value: the padding value.

    Returns:
        A NumPy array ``(len(sequences), maxlen, ...)``.

    Raises:
        ValueError: for a non-iterable, an unknown padding/truncating, or mismatched shapes.

    Example:
        >>> pad_sequences([[1, 2, 3], [4]], maxlen=2, padding="post")
        array([[2, 3],
               [4, 0]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"Expected `sequences` to be a list. Received: sequences={sequences!r}")
    for name, v in (("padding", padding), ("truncating", truncating)):
        if v not in ("pre", "post"):
            raise ValueError(f"Expected {name} to be 'pre' or 'post'. Received: {name}={v!r}")
    lengths, sample_shape = _lengths(sequences)
    if maxlen is None:
        maxlen = int(np.max(lengths)) if lengths else 0
    is_str = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_str:
        raise ValueError(
            f"Expected dtype=object for string padding values. Received: dtype={dtype!r}, "
            f"value={value!r}"
        )
    x = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for idx, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        trunc = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(
                f"Expected every item of shape {sample_shape}. Received: shape "
                f"{trunc.shape[1:]} in the sequence at position {idx}"
            )
        if padding == "post":
            x[idx, : len(trunc)] = trunc
        else:
            x[idx, -len(trunc) :] = trunc
    return x


def _lengths(sequences: Sequence[Any]) -> tuple[list[int], tuple[int, ...]]:
    lengths, sample_shape = [], None
    for s in sequences:
        try:
            lengths.append(len(s))
        except TypeError as e:
            raise ValueError(
                f"Expected `sequences` to be a list of iterables. Received: an item {s!r}"
            ) from e
        if sample_shape is None and len(s):
            sample_shape = np.asarray(s).shape[1:]
    return lengths, sample_shape or ()


class TimeseriesWindows(Dataset):
    """The windows of ``timeseries_dataset_from_array``: item ``i`` is
    ``data[start + p_i : ... : sampling_rate]`` (``sequence_length`` steps) and its target.

    Args:
        data: the series (array-like, time on axis 0).
        targets: ``targets[start + p_i]`` for window ``i``, or None.
        positions: the windows' start offsets ``p_i`` from ``start``.
        start: the first index of the series used.
        sequence_length, sampling_rate: the windows' steps and spacing.
    """

    def __init__(
        self,
        data: Any,
        targets: Any,
        positions: np.ndarray,
        start: int,
        sequence_length: int,
        sampling_rate: int,
    ):
        self.data = torch.as_tensor(np.asarray(data))
        self.targets = None if targets is None else torch.as_tensor(np.asarray(targets))
        self.positions = positions
        self.start = start
        self.offsets = torch.arange(0, sequence_length * sampling_rate, sampling_rate)

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, i: int) -> Any:
        pos = self.start + int(self.positions[i])
        window = self.data[pos + self.offsets]
        return window if self.targets is None else (window, self.targets[pos])


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
) -> DataLoader:
    """Sliding windows over a series as batches ``(windows, targets)``, as Keras's.

    Window ``i`` holds ``data[s + i * sequence_stride + j * sampling_rate]`` for ``j`` in
    ``range(sequence_length)`` with ``s = start_index``; its target is
    ``targets[s + i * sequence_stride]``. Windows end before ``end_index``.

    Args:
        data: the series (time on axis 0).
        targets: per-step targets, or None (batches are then the windows alone).
        sequence_length: steps per window.
        sequence_stride: steps between window starts.
        sampling_rate: steps between the samples of a window.
        batch_size: windows per batch (None: single windows).
        shuffle: shuffle the windows (again every epoch), from ``seed``.
        seed: the shuffle's seed.
        start_index, end_index: the part of ``data`` used (``end_index`` excluded).

    Returns:
        A ``DataLoader`` (``fit(ds)`` takes it).

    Raises:
        ValueError: for the bad indices and rates Keras rejects.

    Example:
        >>> ds = timeseries_dataset_from_array(np.arange(10), None, sequence_length=3,
        ...                                    batch_size=4)
        >>> next(iter(ds)).tolist()
        [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
    """
    n = len(data)
    _check_indices(start_index, end_index, n)
    for name, v in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if v <= 0 or v >= n:
            raise ValueError(
                f"Expected `{name}` to be > 0 and lower than the length of the data ({n}). "
                f"Received: {name}={v}"
            )
    start = start_index or 0
    end = n if end_index is None else end_index
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride)
    generator = None
    if shuffle:
        seed = np.random.randint(1_000_000) if seed is None else seed
        np.random.RandomState(seed).shuffle(positions)  # Keras's first shuffle
        generator = torch.Generator().manual_seed(seed)  # then a new order every epoch
    windows = TimeseriesWindows(data, targets, positions, start, sequence_length, sampling_rate)
    return DataLoader(windows, batch_size=batch_size, shuffle=shuffle, generator=generator)


def _check_indices(start_index: int | None, end_index: int | None, n: int) -> None:
    if start_index and not 0 <= start_index < n:
        raise ValueError(
            f"Expected `start_index` in [0, {n}) (the length of the data). "
            f"Received: start_index={start_index}"
        )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                "Expected `end_index` higher than `start_index`. Received: "
                f"start_index={start_index}, end_index={end_index}"
            )
        if not 0 < end_index < n:
            raise ValueError(
                f"Expected `end_index` in (0, {n}) (the length of the data). "
                f"Received: end_index={end_index}"
            )
