"""In-memory arrays: to tensors, their sample count and length checks, rows by index."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from kerasish import tree

__all__ = [
    "to_tensor",
    "is_arraylike",
    "is_pandas",
    "pandas_to_numpy",
    "first_dim",
    "take",
    "check_lengths",
    "nbytes",
]


def to_tensor(a: Any, name: str) -> Any:
    """Turn a NumPy array (float64 -> float32, as Keras does), a pandas DataFrame/Series or a
    tensor into a tensor.

    Lists, tuples and dicts are converted element by element; None stays None. (Not a
    ``tree.map_structure``: a list of numbers is one array here, not a structure of numbers.)
    pandas data is converted as Keras does (``pandas_to_numpy``). A read-only array (a pandas
    column, a read-only memory map) is copied, once, so torch never shares memory it must not
    write; a writable array is shared unless float64 or non-contiguous.

    Example:
        >>> to_tensor(np.zeros(2), "x").dtype
        torch.float32
    """
    if a is None or isinstance(a, torch.Tensor):
        return a
    if is_pandas(a):
        a = pandas_to_numpy(a, name)
    if isinstance(a, np.ndarray):
        return _numpy_to_tensor(a, name)
    if isinstance(a, Mapping):
        return {k: to_tensor(v, f"{name}[{k!r}]") for k, v in a.items()}
    if isinstance(a, tuple | list):
        if a and all(isinstance(v, np.ndarray | torch.Tensor) or is_pandas(v) for v in a):
            return type(a)(to_tensor(v, f"{name}[{i}]") for i, v in enumerate(a))
        return to_tensor(np.asarray(a), name)
    raise TypeError(
        f"Expected {name} to be a NumPy array, a torch tensor, a pandas DataFrame/Series, or a "
        f"list/tuple/dict of them. Received: {name} of type {type(a).__name__}"
    )


def _numpy_to_tensor(a: np.ndarray, name: str) -> torch.Tensor:
    if a.dtype == np.float64:  # one pass: the float32 copy is contiguous and writable
        return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
    if a.dtype == object:
        raise TypeError(
            f"Expected {name} to hold numbers or booleans. Received: {name} of dtype object "
            f"(shape {a.shape})"
        )
    if not a.flags.writeable:  # torch.from_numpy would share (and warn about) read-only memory
        return torch.from_numpy(np.array(a, order="C"))
    return torch.from_numpy(np.ascontiguousarray(a))


def is_pandas(a: Any) -> bool:
    """Whether ``a`` is a pandas DataFrame or Series (told without importing pandas).

    Example:
        >>> is_pandas(np.zeros(2))
        False
    """
    module = type(a).__module__
    return (
        (module == "pandas" or module.startswith("pandas."))
        and type(a).__name__ in ("DataFrame", "Series")
        and hasattr(a, "to_numpy")
    )


def pandas_to_numpy(a: Any, name: str = "x") -> np.ndarray:
    """A pandas DataFrame as a 2-D array, a Series as an ``(n, 1)`` array, as Keras does.

    Numeric and bool columns convert to their common NumPy dtype (``np.result_type``: bool with
    float columns gives floats); a nullable column (``Int64``, ``Float64``, ``boolean``)
    converts to its NumPy dtype when it holds no missing values (missing ones in a float
    column become NaN).

    Raises:
        TypeError: for columns that are not numbers or booleans (strings, objects,
            categories, missing values in an integer column), naming them and their dtypes.

    Example:
        >>> import pandas as pd
        >>> pandas_to_numpy(pd.Series([1.0, 2.0])).shape
        (2, 1)
    """
    series = type(a).__name__ == "Series"
    dtypes = {a.name: a.dtype} if series else dict(zip(a.columns, a.dtypes, strict=True))
    kinds = {col: _numpy_dtype(d) for col, d in dtypes.items()}
    bad = {col: str(dtypes[col]) for col, d in kinds.items() if d is None}
    out = None
    if not bad and kinds:
        dtype = np.result_type(*kinds.values())
        # One dtype of NumPy columns: a view, no copy (to_tensor makes the one float32 copy).
        nullable = any(not isinstance(d, np.dtype) for d in dtypes.values())
        try:
            if nullable and dtype.kind in "fc":
                out = a.to_numpy(dtype=dtype, na_value=np.nan)
            else:
                out = a.to_numpy(dtype=dtype)
        except (TypeError, ValueError):  # missing values in an integer/bool column
            missing = a.isna().any()
            missing = {a.name: missing} if series else missing.to_dict()
            bad = {c: f"{dtypes[c]} with missing values" for c, m in missing.items() if m}
    if out is None:
        raise TypeError(
            f"Expected {name} (a pandas {type(a).__name__}) to hold numeric or bool columns "
            f"(it is converted with to_numpy, as Keras does). Received: column dtypes "
            f"{_head(bad or {c: str(d) for c, d in dtypes.items()})}"
        )
    return out[:, None] if out.ndim == 1 else out


def _numpy_dtype(dtype: Any) -> np.dtype | None:
    """The NumPy dtype a pandas column converts to (None: not numbers or booleans)."""
    numpy_dtype = getattr(dtype, "numpy_dtype", dtype)  # nullable Int64 -> int64
    try:
        numpy_dtype = np.dtype(numpy_dtype)
    except TypeError:
        return None
    return numpy_dtype if numpy_dtype.kind in "biufc" else None


def _head(columns: dict[Any, str], n: int = 10) -> str:
    items = [f"{k!r}: {v}" for k, v in list(columns.items())[:n]]
    more = f", ... ({len(columns) - n} more)" if len(columns) > n else ""
    return "{" + ", ".join(items) + more + "}"


def is_arraylike(a: Any) -> bool:
    """Whether ``a`` is in-memory data (arrays/tensors/pandas data, or a non-empty
    list/tuple/dict of them).

    Example:
        >>> is_arraylike([np.zeros(2)]), is_arraylike(iter([]))
        (True, False)
    """
    if isinstance(a, np.ndarray | torch.Tensor) or is_pandas(a):
        return True
    if isinstance(a, Mapping):
        return len(a) > 0 and all(is_arraylike(v) for v in a.values())
    if isinstance(a, tuple | list):
        return len(a) > 0 and all(
            isinstance(v, np.ndarray | torch.Tensor | int | float | list) or is_pandas(v) for v in a
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
