"""Seeding, freezing and notebook detection (``kerasish.utils`` re-exports them)."""

from __future__ import annotations

import os
import random
import sys
from typing import Any

import numpy as np
import torch
from torch import nn

from kerasish.layers.naming import reset_names

__all__ = [
    "set_random_seed",
    "freeze",
    "unfreeze",
    "image_dataset_from_directory",
    "in_notebook",
    "unpack_x_y_sample_weight",
    "clear_session",
]


def image_dataset_from_directory(*args: Any, **kwargs: Any) -> Any:
    """Keras's ``image_dataset_from_directory``; see ``kerasish.image``."""
    from kerasish.image import image_dataset_from_directory as build

    return build(*args, **kwargs)


def set_random_seed(seed: int) -> None:
    """Seed Python's, NumPy's and torch's (CPU and CUDA) random number generators.

    Two seeded ``fit`` calls on CPU then give identical weights.

    Raises:
        ValueError: when ``seed`` is not a non-negative integer.

    Example:
        >>> set_random_seed(42)
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"Expected seed to be a non-negative integer. Received: seed={seed!r}")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def freeze(module: nn.Module) -> nn.Module:
    """Freeze every parameter of ``module`` (any nn.Module); returns it.

    Frozen BatchNorm layers run in inference mode while a kerasish model trains.
    """
    module.requires_grad_(False)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Unfreeze every parameter of ``module``; returns it."""
    module.requires_grad_(True)
    return module


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (a notebook), not a terminal.

    Example:
        >>> in_notebook()
        False
    """
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """Split a batch into ``(x, y, sample_weight)``, as ``keras.utils.unpack_x_y_sample_weight``.

    Args:
        data: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` (a list counts as a
            tuple).

    Returns:
        ``(x, y, sample_weight)`` with None for the parts not given.

    Raises:
        ValueError: for a tuple of more than 3 items.

    Example:
        >>> unpack_x_y_sample_weight((1, 2))
        (1, 2, None)
        >>> unpack_x_y_sample_weight(5)
        (5, None, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError(
        f"Expected data in the format x, (x,), (x, y) or (x, y, sample_weight). "
        f"Received: a tuple of {len(data)} items: data={data!r}"
    )


def clear_session(free_memory: bool = True) -> None:
    """Keras's ``clear_session``: restart the automatic layer names (``dense``, ``dense_1``...).

    Args:
        free_memory: also run the garbage collector and release PyTorch's cached CUDA memory.

    Example:
        >>> _ = K.layers.Dense(2)
        >>> clear_session()
        >>> K.layers.Dense(2).name
        'dense'
    """
    reset_names()
    if free_memory:
        import gc

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
