"""Keras's array helpers: ``to_categorical`` (one-hot) and ``normalize`` (Lp rows)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["to_categorical", "normalize"]


def to_categorical(x: Any, num_classes: int | None = None) -> Any:
    """One-hot encode class indices, as ``keras.utils.to_categorical``.

    A trailing axis of size 1 is dropped first, so ``(n, 1)`` labels give ``(n, num_classes)``.

    Args:
        x: class indices (array-like of ints, or a torch tensor).
        num_classes: the number of classes (default: ``max(x) + 1``).

    Returns:
        A float64 NumPy array (Keras's dtype) shaped ``x.shape + (num_classes,)``; a float32
        tensor for a tensor input.

    Raises:
        ValueError: for negative indices or indices ``>= num_classes``.

    Example:
        >>> to_categorical([0, 2, 1], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]])
    """
    if isinstance(x, torch.Tensor):
        if x.ndim > 1 and x.shape[-1] == 1:
            x = x.reshape(x.shape[:-1])
        n = int(x.max()) + 1 if num_classes is None else num_classes
        _check_labels(int(x.min()), int(x.max()), n)
        return torch.nn.functional.one_hot(x.long(), n).float()
    x = np.array(x, dtype="int64")
    shape = x.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = tuple(shape[:-1])
    x = x.reshape(-1)
    n = int(np.max(x)) + 1 if not num_classes else int(num_classes)
    if x.size:
        _check_labels(int(x.min()), int(x.max()), n)
    categorical = np.zeros((x.shape[0], n))
    categorical[np.arange(x.shape[0]), x] = 1
    return categorical.reshape(shape + (n,))


def _check_labels(low: int, high: int, num_classes: int) -> None:
    if low < 0 or high >= num_classes:
        raise ValueError(
            f"Expected class indices in [0, {num_classes}). Received: indices from {low} to {high}"
        )


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """Divide ``x`` by its ``order``-norm along ``axis`` (zero norms left as 1), as Keras.

    Args:
        x: a NumPy array (or a torch tensor).
        axis: the axis to normalize along.
        order: the norm's order (2 for L2).

    Returns:
        The normalized array (a tensor for a tensor input).

    Example:
        >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
        array([[0.6, 0.8],
               [0. , 0. ]])
    """
    if isinstance(x, torch.Tensor):
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis or -1)
