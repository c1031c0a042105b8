"""Keras's dataset helpers over torch: ``text_dataset_from_directory`` and ``split_dataset``.

``text_dataset_from_directory`` reads ``.txt`` files from one subfolder per class (labels in
the subfolders' alphabetical order, as Keras) into a ``DataLoader`` of ``(texts, labels)``
batches: ``texts`` a list of str, ``labels`` int64 indices, float32 one-hot rows
("categorical") or float32 ``(n, 1)`` ("binary"). ``split_dataset`` splits a Dataset or
arrays into two ``torch.utils.data.Subset`` objects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

__all__ = ["TextFiles", "text_dataset_from_directory", "split_dataset"]

_LABEL_MODES = ("int", "categorical", "binary", None)


class TextFiles(Dataset):
    """Text files and their labels: item ``i`` is ``(text, label)`` (the text alone when
    ``labels`` is None), the text cut to ``max_length`` characters.

    Args:
        paths: the files.
        labels: the label tensor (one row per file), or None.
        max_length: the characters kept of each text, or None.
    """

    def __init__(self, paths: list[str], labels: torch.Tensor | None, max_length: int | None):
        self.paths, self.labels, self.max_length = paths, labels, max_length

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Any:
        text = Path(self.paths[i]).read_text(encoding="utf-8")
        if self.max_length is not None:
            text = text[: self.max_length]
        return text if self.labels is None else (text, self.labels[i])


def text_dataset_from_directory(
    directory: Any,
    labels: Any = "inferred",
    label_mode: str | None = "int",
    class_names: list[str] | None = None,
    batch_size: int | None = 32,
    max_length: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> Any:
    """Batches of ``(texts, labels)`` from a folder of ``.txt`` files, as Keras's.

    Args:
        directory: the folder; with ``labels="inferred"``, one subfolder per class.
        labels: "inferred", None (texts only) or a list of int labels (sorted file order).
        label_mode: "int", "categorical", "binary" or None.
        class_names: the subfolders to use, in label order (default: all, sorted).
        batch_size: texts per batch (None: single texts).
        max_length: the characters kept of each text.
        shuffle: shuffle the files (once, from ``seed``) and each epoch's order.
        seed: the shuffle's and the split's seed.
        validation_split: the fraction held out for validation.
        subset: "training", "validation" or "both" (with ``validation_split``).
        follow_links: follow symlinked subfolders.
        verbose: print how many files were found and used.

    Returns:
        A ``DataLoader`` with ``class_names``; a list ``[train, val]`` for ``subset="both"``.

    Raises:
        ValueError: for bad arguments or a folder without text files.

    Example:
        >>> for i, name in enumerate(["neg", "pos"] * 2):
        ...     os.makedirs(f"reviews/{name}", exist_ok=True)
        ...     _ = open(f"reviews/{name}/{i}.txt", "w").write(f"text {i}")
        >>> ds = text_dataset_from_directory("reviews", batch_size=4, shuffle=False)
        Found 4 files belonging to 2 classes.
        >>> texts, labels = next(iter(ds))
        >>> list(texts), labels.tolist(), ds.class_names
        (['text 0', 'text 2', 'text 1', 'text 3'], [0, 0, 1, 1], ['neg', 'pos'])
    """
    _check_args(labels, label_mode, class_names, validation_split, subset, shuffle, seed)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    seed = np.random.randint(1_000_000) if seed is None else seed
    paths, targets, names = _index(Path(directory), labels, class_names, follow_links)
    if verbose:
        print(f"Found {len(paths)} files belonging to {len(names)} classes.")
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(
            f"Expected exactly 2 class_names with label_mode='binary'. Received: "
            f"class_names={names}"
        )
    if shuffle:
        order = np.random.RandomState(seed).permutation(len(paths))
        paths, targets = [paths[i] for i in order], targets[order]
    parts = ("training", "validation") if subset == "both" else (subset,)
    loaders = [
        _loader(paths, targets, names, part, validation_split, directory, label_mode,
                max_length, batch_size, shuffle, seed, verbose)
        for part in parts
    ]  # fmt: skip
    return loaders if subset == "both" else loaders[0]


def _loader(
    paths: list[str], targets: np.ndarray, names: list[str], part: str | None,
    split: float | None, directory: Any, label_mode: str | None, max_length: int | None,
    batch_size: int | None, shuffle: bool, seed: int, verbose: bool,
) -> DataLoader:  # fmt: skip
    """The DataLoader of one subset (shuffled each epoch unless it validates)."""
    p, t = _subset(paths, targets, split, part, verbose)
    if not p:
        raise ValueError(f"Expected .txt files in {directory}. Received: none for {part!r}")
    data = TextFiles(p, _encode(t, label_mode, len(names)), max_length)
    again = shuffle and part != "validation"
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(data, batch_size=batch_size, shuffle=again, generator=gen)
    loader.class_names = names
    return loader


def _check_args(
    labels: Any, label_mode: Any, class_names: Any, split: Any, subset: Any, shuffle: Any, seed: Any
) -> None:
    if labels not in ("inferred", None) and not isinstance(labels, list | tuple):
        raise ValueError(
            f"Expected labels 'inferred', None or a list of int labels. Received: labels={labels!r}"
        )
    if labels != "inferred" and class_names:
        raise ValueError(
            "Expected class_names only with labels='inferred'. Received: "
            f"labels={labels!r}, class_names={class_names!r}"
        )
    if label_mode not in _LABEL_MODES:
        raise ValueError(
            "Expected label_mode 'int', 'categorical', 'binary' or None. Received: "
            f"label_mode={label_mode!r}"
        )
    if split is not None and not 0 < split < 1:
        raise ValueError(f"Expected validation_split in (0, 1). Received: {split!r}")
    if (split is None) != (subset is None) or subset not in (
        None,
        "training",
        "validation",
        "both",
    ):
        raise ValueError(
            "Expected validation_split and subset ('training', 'validation' or 'both') "
            f"together. Received: validation_split={split!r}, subset={subset!r}"
        )
    if split and shuffle and seed is None:
        raise ValueError(
            "Expected a seed with validation_split and shuffle=True, so the subsets do not "
            "overlap. Received: seed=None"
        )


def _index(
    root: Path, labels: Any, class_names: Any, follow_links: bool
) -> tuple[list[str], np.ndarray, list[str]]:
    """Files (sorted per class) and their int labels, as Keras's ``index_directory``."""
    if labels != "inferred":
        paths = sorted(_txt_files(root, follow_links))
        given = np.zeros(len(paths), "int64") if labels is None else np.asarray(labels, "int64")
        if len(given) != len(paths):
            raise ValueError(
                f"Expected as many labels as .txt files ({len(paths)}). Received: "
                f"{len(given)} labels"
            )
        return paths, given, []
    subdirs = sorted(d.name for d in root.iterdir() if d.is_dir())
    names = list(class_names) if class_names else subdirs
    missing = set(names) - set(subdirs)
    if missing:
        raise ValueError(f"Expected class_names among {subdirs}. Received: {sorted(missing)}")
    paths, targets = [], []
    for i, name in enumerate(names):
        found = sorted(_txt_files(root / name, follow_links))
        paths += found
        targets += [i] * len(found)
    return paths, np.asarray(targets, "int64"), names


def _txt_files(folder: Path, follow_links: bool) -> list[str]:
    out = []
    for dirpath, _, files in os.walk(folder, followlinks=follow_links):
        out += [os.path.join(dirpath, f) for f in files if f.lower().endswith(".txt")]
    return out


def _subset(
    paths: list[str], targets: np.ndarray, split: float | None, part: str | None, verbose: bool
) -> tuple[list[str], np.ndarray]:
    """Keras's split: the last ``int(split * n)`` files validate, the others train."""
    if not split:
        return paths, targets
    n_val = int(split * len(paths))
    if part == "training":
        p, t = paths[: len(paths) - n_val], targets[: len(paths) - n_val]
    else:
        p, t = paths[len(paths) - n_val :], targets[len(paths) - n_val :]
    if verbose:
        print(f"Using {len(p)} files for {part}.")
    return p, t


def _encode(targets: np.ndarray, label_mode: str | None, classes: int) -> torch.Tensor | None:
    if label_mode is None:
        return None
    t = torch.as_tensor(targets)
    if label_mode == "categorical":
        return torch.nn.functional.one_hot(t, classes).float()
    if label_mode == "binary":
        return t.float().reshape(-1, 1)
    return t


def split_dataset(
    dataset: Any,
    left_size: int | float | None = None,
    right_size: int | float | None = None,
    shuffle: bool = False,
    seed: int | None = None,
) -> tuple[Subset, Subset]:
    """Split a Dataset, an array or a tuple of arrays in two, as ``keras.utils.split_dataset``.

    Sizes are counts (int) or fractions (float in (0, 1)); a missing one is the rest.
    Without ``shuffle`` the left part is the first samples, in order.

    Args:
        dataset: a ``torch.utils.data.Dataset``, an array, or a list/tuple of arrays.
        left_size: the left part's size.
        right_size: the right part's size.
        shuffle: shuffle before splitting.
        seed: the shuffle's seed.

    Returns:
        ``(left, right)`` as ``torch.utils.data.Subset`` objects.

    Raises:
        TypeError / ValueError: for other inputs, or sizes Keras rejects.

    Example:
        >>> left, right = split_dataset(np.arange(10), left_size=0.8)
        >>> len(left), len(right), int(right[0][0])
        (8, 2, 8)
    """
    if left_size is None and right_size is None:
        raise ValueError(
            "Expected left_size or right_size. Received: left_size=None and right_size=None"
        )
    dataset = _as_dataset(dataset)
    n = len(dataset)
    left, right = _sizes(left_size, right_size, n)
    if shuffle:
        gen = torch.Generator()
        gen.manual_seed(seed) if seed is not None else gen.seed()
        order = torch.randperm(n, generator=gen).tolist()
    else:
        order = list(range(n))
    return Subset(dataset, order[:left]), Subset(dataset, order[left : left + right])


def _as_dataset(data: Any) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if isinstance(data, np.ndarray | torch.Tensor):
        return TensorDataset(torch.as_tensor(data))
    if isinstance(data, list | tuple) and data and all(hasattr(a, "shape") for a in data):
        return TensorDataset(*(torch.as_tensor(np.asarray(a)) for a in data))
    raise TypeError(
        "Expected a torch.utils.data.Dataset, an array or a list/tuple of arrays. "
        f"Received: dataset={type(data).__name__}"
    )


def _sizes(left: Any, right: Any, n: int) -> tuple[int, int]:
    """Keras's ``_rescale_dataset_split_sizes``."""
    for name, v in (("left_size", left), ("right_size", right)):
        if v is not None and type(v) not in (int, float):
            raise TypeError(f"Expected {name} to be an int, a float or None. Received: {v!r}")
        if (type(v) is int and not 0 < v < n) or (type(v) is float and not 0 < v < 1):
            raise ValueError(
                f"Expected {name} to be a positive integer smaller than {n}, or a float in "
                f"(0, 1). Received: {name}={v}"
            )
    if type(left) is float and type(right) is float and left + right > 1:
        raise ValueError(f"Expected left_size + right_size <= 1. Received: {left} + {right}")
    left = round(left * n) if type(left) is float else left
    right = round(right * n) if type(right) is float else right
    left = n - right if left is None else left
    right = n - left if right is None else right
    if left + right > n or not left or not right:
        raise ValueError(
            f"Expected two non-empty parts of at most {n} samples. Received: "
            f"left_size={left}, right_size={right}"
        )
    return int(left), int(right)
