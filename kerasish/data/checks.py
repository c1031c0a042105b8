"""Data checks made once before training: class weights, sample weights, non-finite values, and
the input dtype cast a model needs.

Each check is one vectorised pass over in-memory tensors (no per-sample Python loop) and raises
``ValueError``/``TypeError`` in the "Expected …. Received: …" form, or warns.
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections.abc import Mapping
from typing import Any

import torch
from torch.utils.weak import WeakIdKeyDictionary

from kerasish import tree

__all__ = [
    "check_class_weight",
    "check_class_coverage",
    "check_finite_weights",
    "warn_non_finite",
    "labels_of",
    "cast_inputs",
    "needs_cast",
    "cast_batch",
]

# Rows per chunk when counting non-finite values, so the temporary mask stays small.
_CHUNK_ELEMENTS = 1 << 24


def check_class_weight(class_weight: Any) -> None:
    """Raise unless ``class_weight`` is a non-empty ``{class_index: weight}`` dict of
    non-negative integer keys and finite numeric weights.

    Example:
        >>> check_class_weight({0: 1.0, -1: 2.0})
        Traceback (most recent call last):
        ValueError: Expected class_weight keys to be class indices (integers >= 0). Received: keys [-1]
    """
    if not isinstance(class_weight, Mapping) or not class_weight:
        raise ValueError(
            f"Expected class_weight to be a dict {{class_index: weight}}. "
            f"Received: class_weight={class_weight!r}"
        )
    bad_keys = [k for k in class_weight if not _is_index(k)]
    if bad_keys:
        raise ValueError(
            f"Expected class_weight keys to be class indices (integers >= 0). "
            f"Received: keys {bad_keys!r}"
        )
    bad = {k: w for k, w in class_weight.items() if not _is_finite_number(w)}
    if bad:
        raise ValueError(f"Expected class_weight values to be finite numbers. Received: {bad!r}")


def _is_index(k: Any) -> bool:
    return isinstance(k, numbers.Integral) and not isinstance(k, bool) and int(k) >= 0


def _is_finite_number(w: Any) -> bool:
    if isinstance(w, torch.Tensor):
        return w.numel() == 1 and bool(torch.isfinite(w).all())
    return isinstance(w, numbers.Real) and not isinstance(w, bool) and math.isfinite(float(w))


def labels_of(y: torch.Tensor) -> torch.Tensor:
    """Class indices of targets: the argmax of one-hot/probability rows, else the labels.

    Example:
        >>> labels_of(torch.eye(3)[[2, 0]])
        tensor([2, 0])
    """
    if y.dim() > 1 and y.shape[-1] > 1:
        return y.argmax(-1).reshape(-1)
    return y.reshape(-1)


def check_class_coverage(class_weight: Mapping[int, float], y: Any, name: str) -> None:
    """Raise when ``y`` holds a class ``class_weight`` has no weight for (as Keras 2 did).

    Args:
        class_weight: a dict checked by ``check_class_weight``.
        y: the targets (labels, or one-hot rows); None or a structure skips the check.
        name: the data's name for the message ("x", "validation_data").

    Raises:
        ValueError: naming the classes without a weight.

    Example:
        >>> check_class_coverage({0: 1.0}, torch.tensor([0, 2, 2]), "x")
        Traceback (most recent call last):
        ValueError: Expected class_weight to have a weight for every class in the targets of x. Received: no weight for classes [2] (class_weight keys [0])
    """
    if not isinstance(y, torch.Tensor) or y.numel() == 0:
        return
    labels = labels_of(y)
    if labels.is_floating_point():
        if not bool((labels == labels.round()).all()):
            return  # probabilities or soft labels: the class-weight lookup rounds down
        labels = labels.long()
    present = torch.unique(labels).tolist()
    missing = sorted(set(present) - {int(k) for k in class_weight})
    if missing:
        raise ValueError(
            f"Expected class_weight to have a weight for every class in the targets of {name}. "
            f"Received: no weight for classes {missing[:20]} (class_weight keys "
            f"{sorted(int(k) for k in class_weight)[:20]})"
        )


def check_finite_weights(sample_weight: Any, name: str = "sample_weight") -> None:
    """Raise when a sample-weight tensor holds NaN or infinite values (counted in one pass).

    Example:
        >>> check_finite_weights(torch.tensor([1.0, float("nan")]))
        Traceback (most recent call last):
        ValueError: Expected finite sample_weight values. Received: 1 NaN/inf values in sample_weight
    """
    for path, t in _leaves(sample_weight, name):
        count = _non_finite(t)
        if count:
            raise ValueError(
                f"Expected finite sample_weight values. Received: {count} NaN/inf values in {path}"
            )


def warn_non_finite(data: Any, name: str) -> None:
    """Warn, naming the array and the count, when in-memory ``data`` holds NaN or inf.

    Keras trains on such data silently; the loss then turns NaN. Integer tensors are skipped.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as w:
        ...     warnings.simplefilter("always")
        ...     warn_non_finite(torch.tensor([1.0, float("inf")]), "x")
        >>> str(w[0].message)
        'Expected finite values in x. Received: 1 NaN/inf values in x (of 2); training will likely produce NaN losses'
    """
    for path, t in _leaves(data, name):
        count = _remembered_non_finite(t)
        if count:
            warnings.warn(
                f"Expected finite values in {name}. Received: {count} NaN/inf values in {path} "
                f"(of {t.numel()}); training will likely produce NaN losses",
                stacklevel=4,
            )


def _leaves(data: Any, name: str) -> list[tuple[str, torch.Tensor]]:
    if data is None:
        return []
    if isinstance(data, torch.Tensor):
        return [(name, data)]
    if isinstance(data, Mapping):
        return [p for k, v in data.items() for p in _leaves(v, f"{name}[{k!r}]")]
    if isinstance(data, list | tuple):
        return [p for i, v in enumerate(data) for p in _leaves(v, f"{name}[{i}]")]
    return []


# The counts of tensors already scanned, each with the tensor's version, keyed weakly by
# identity (an entry goes with its tensor), so a fit() called once per epoch on the same
# tensors reads them once. An entry holds while the tensor's version counter, storage and
# layout are unchanged; an in-place torch edit bumps the counter, an edit through a NumPy
# array sharing the memory does not (a missed warning then, never a missed error: sample
# weights are always scanned).
_SCANNED: WeakIdKeyDictionary = WeakIdKeyDictionary()


def _remembered_non_finite(t: torch.Tensor) -> int:
    """``_non_finite(t)``, from ``_SCANNED`` when ``t`` has not changed since its last scan."""
    try:
        # torch's in-place version counter: it has no public name (autograd reads it too)
        version = (t._version, t.data_ptr(), t.shape, t.stride(), t.dtype, t.device)
    except RuntimeError:  # no version counter (inference mode), storage or strides
        return _non_finite(t)
    hit = _SCANNED.get(t)
    if hit is not None and hit[0] == version:
        return hit[1]
    count = _non_finite(t)
    _SCANNED[t] = (version, count)
    return count


def _non_finite(t: torch.Tensor) -> int:
    """How many NaN/inf values a floating tensor holds (0 for other dtypes); chunked rows."""
    if not (t.is_floating_point() or t.is_complex()) or t.numel() == 0:
        return 0
    # Fast path: NaN and inf propagate into a sum, so a finite sum means none (one cheap
    # reduction, no mask, in float32 or wider: a fifth of a float64 sum's time); only a
    # suspicious sum (NaN/inf, or finite values summing past the dtype's range) pays for the
    # exact count.
    wide = t.is_complex() or t.dtype in (torch.float32, torch.float64)
    total = t.sum() if wide else t.sum(dtype=torch.float32)
    if bool(torch.isfinite(total)):
        return 0
    if t.dim() == 0 or t.numel() <= _CHUNK_ELEMENTS:
        return int((~torch.isfinite(t)).sum())
    rows = max(1, _CHUNK_ELEMENTS // max(1, t[0].numel()))
    return int(sum((~torch.isfinite(c)).sum() for c in t.split(rows)))


def cast_inputs(x: Any, dtype: torch.dtype, integers: bool) -> Any:
    """``x`` with floating leaves of another dtype (and, when ``integers``, integer leaves)
    cast to ``dtype``; bool and matching leaves are left as they are.

    Example:
        >>> cast_inputs({"a": torch.ones(1, dtype=torch.float64)}, torch.float32, False)["a"].dtype
        torch.float32
    """
    return tree.map_structure(functools.partial(_cast_leaf, dtype, integers), x)


def _cast_leaf(dtype: torch.dtype, integers: bool, leaf: Any) -> Any:
    if not isinstance(leaf, torch.Tensor) or leaf.dtype == dtype:
        return leaf
    if leaf.is_floating_point() or (integers and _is_integer(leaf)):
        return leaf.to(dtype)
    return leaf


def _is_integer(t: torch.Tensor) -> bool:
    return not t.is_floating_point() and not t.is_complex() and t.dtype != torch.bool


def needs_cast(x: Any, dtype: torch.dtype, integers: bool) -> bool:
    """Whether ``cast_inputs(x, dtype, integers)`` would change any leaf."""
    for t in tree.flatten(x):
        if isinstance(t, torch.Tensor) and t.dtype != dtype:
            if t.is_floating_point() or (integers and _is_integer(t)):
                return True
    return False


def cast_batch(cast: tuple[torch.dtype, bool], batch: Any) -> Any:
    """A Feed stage: ``(x, y, sw)`` with ``x`` cast by ``cast_inputs(x, *cast)``."""
    x, y, sw = batch
    return cast_inputs(x, *cast), y, sw
