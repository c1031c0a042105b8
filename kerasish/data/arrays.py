"""In-memory arrays: to tensors, their sample count and length checks, rows by index."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from kerasish import tree

__all__ = ["to_tensor", "is_arraylike", "first_dim", "take", "check_lengths", "nbytes"]


def to_tensor(a: Any, name: str) -> Any:
    """Turn a NumPy array (float64 -> float32, as Keras does) or a tensor into a tensor.

    Lists, tuples and dicts are converted element by element; None stays None. (Not a
    ``tree.map_structure``: a list of numbers is one array here, not a structure of numbers.)

    Example:
        >>> to_tensor(np.zeros(2), "x").dtype
        torch.float32
    """
    if a is None or isinstance(a, torch.Tensor):
        return a
    if isinstance(a, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(a))
        return t.float() if t.dtype == torch.float64 else t
    if isinstance(a, Mapping):
        return {k: to_tensor(v, f"{name}[{k!r}]") for k, v in a.items()}
    if isinstance(a, tuple | list):
        if a and all(isinstance(v, np.ndarray | torch.Tensor) for v in a):
            return type(a)(to_tensor(v, f"{name}[{i}]") for i, v in enumerate(a))
        return to_tensor(np.asarray(a), name)
    raise TypeError(
        f"Expected {name} to be a NumPy array, a torch tensor, or a list/tuple/dict "
        f"of them. Received: {name} of type {type(a).__name__}"
    )


def is_arraylike(a: Any) -> bool:
    """Whether ``a`` is in-memory data (arrays/tensors, or a non-empty list/tuple/dict of them).

    Example:
        >>> is_arraylike([np.zeros(2)]), is_arraylike(iter([]))
        (True, False)
    """
    if isinstance(a, np.ndarray | torch.Tensor):
        return True
    if isinstance(a, Mapping):
        return len(a) > 0 and all(is_arraylike(v) for v in a.values())
    if isinstance(a, tuple | list):
        return len(a) > 0 and all(
            isinstance(v, np.ndarray | torch.Tensor | int | float | list) for v in a
        )
    return False


def first_dim(x: Any) -> int:
    """The batch size of a nested batch: the first dimension of its first tensor (0 if none).

    Example:
        >>> first_dim({"a": torch.zeros(3, 2)})
        3
    """
    if isinstance(x, torch.Tensor):
        return x.shape[0]
    leaf = tree.first_leaf(x)
    return 0 if leaf is None else int(leaf.shape[0])


def take(a: Any, idx: Any) -> Any:
    """Rows ``idx`` (a slice, or an index tensor) of every tensor in the nested ``a``.

    Example:
        >>> take((torch.arange(4), None), torch.tensor([3, 0]))
        (tensor([3, 0]), None)
    """
    if isinstance(a, torch.Tensor):
        if isinstance(idx, torch.Tensor):
            return a.index_select(0, idx)  # about half the cost of a[idx]
        return a[idx]
    if a is None:
        return None
    return tree.map_structure(functools.partial(_take_leaf, idx), a)


def _take_leaf(idx: Any, a: Any) -> Any:
    if isinstance(a, torch.Tensor) and isinstance(idx, torch.Tensor):
        return a.index_select(0, idx)
    return a[idx]


def nbytes(*structures: Any) -> int:
    """The bytes the tensors of the nested ``structures`` take."""
    return sum(t.numel() * t.element_size() for t in tree.flatten(structures))


def check_lengths(x: Any, y: Any, sw: Any, name: str) -> None:
    """Check that ``x``, ``y`` and ``sample_weight`` hold one, equal, non-zero sample count.

    Raises:
        ValueError: naming the argument and the sizes received.
    """
    sizes = {name: _sizes(x), "y": _sizes(y), "sample_weight": _sizes(sw)}
    n = sizes[name]
    if len(n) > 1:
        raise ValueError(
            f"Expected all inputs in {name} to have the same number of samples. "
            f"Received: sizes {sorted(n)}"
        )
    if n == {0}:
        raise ValueError(f"Expected at least one sample. Received: {name} with 0 samples")
    for other in ("y", "sample_weight"):
        if sizes[other] and sizes[other] != n:
            raise ValueError(
                f"Expected {name} and {other} to have the same number of samples. "
                f"Received: {name}.shape[0]={next(iter(n))}, "
                f"{other}.shape[0]={sorted(sizes[other])[0]}"
            )


def _sizes(a: Any) -> set[int]:
    return {int(t.shape[0]) if t.dim() else 0 for t in tree.flatten(a)}
