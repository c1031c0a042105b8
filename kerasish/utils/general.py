"""Utilities: seeding and freezing helpers."""

from __future__ import annotations

import os
import random
import sys
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = [
    "set_random_seed",
    "freeze",
    "unfreeze",
    "image_dataset_from_directory",
    "in_notebook",
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
