"""Where tensors live: resolve("auto") -> torch.device, move/pin nested batches, autocast."""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Any

import torch

from kerasish import tree

__all__ = ["resolve", "move", "pin", "autocast", "PRECISIONS"]

PRECISIONS = {
    None: None,
    "fp32": None,
    "float32": None,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "fp16": torch.float16,
    "float16": torch.float16,
}


def resolve(device: str | torch.device | None = "auto") -> torch.device:
    """Return the device to train on.

    "auto" (or None) picks the ``KERASISH_DEVICE`` environment variable when set, else CUDA,
    then Apple MPS, then CPU. Anything else is passed to ``torch.device``.

    Args:
        device: "auto", None, a device string such as "cuda:1", or a ``torch.device``.

    Returns:
        The ``torch.device``.

    Raises:
        ValueError: when the string is not a device torch knows, or names an absent device.

    Example:
        >>> resolve("cpu")
        device(type='cpu')
    """
    if device is None or device == "auto":
        device = os.environ.get("KERASISH_DEVICE") or _best_available()
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise TypeError(
            f"Expected device to be 'auto', a string or torch.device. Received: device={device!r}"
        )
    try:
        resolved = torch.device(device)
    except RuntimeError as e:
        raise ValueError(
            f"Expected a device such as 'auto', 'cpu', 'cuda' or 'cuda:0'. "
            f"Received: device={device!r}"
        ) from e
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"Expected an available device; CUDA is not available here. Received: device={device!r}"
        )
    return resolved


def _best_available() -> str:
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def move(batch: Any, device: torch.device, non_blocking: bool = True) -> Any:
    """Move every tensor in a nested batch (tuple, list, dict) to ``device``.

    NumPy arrays are turned into tensors on the way. Tensors already on the device are returned
    as they are, so moving costs nothing on CPU.

    Example:
        >>> move({"a": torch.ones(2)}, torch.device("cpu"))["a"].device.type
        'cpu'
    """
    if isinstance(batch, torch.Tensor):
        return batch if batch.device == device else batch.to(device, non_blocking=non_blocking)
    return tree.map_structure(functools.partial(_move_leaf, device, non_blocking), batch)


def _move_leaf(device: torch.device, non_blocking: bool, leaf: Any) -> Any:
    if isinstance(leaf, torch.Tensor):
        return leaf if leaf.device == device else leaf.to(device, non_blocking=non_blocking)
    if type(leaf).__module__ == "numpy" and hasattr(leaf, "dtype"):
        return _move_leaf(device, non_blocking, torch.as_tensor(leaf))
    return leaf


def pin(batch: Any) -> Any:
    """Page-lock the CPU tensors of a nested batch so copies to CUDA can overlap compute."""
    return tree.map_structure(_pin_leaf, batch)


def _pin_leaf(leaf: Any) -> Any:
    if isinstance(leaf, torch.Tensor) and leaf.device.type == "cpu":
        return leaf.pin_memory()
    return leaf


def autocast(device: torch.device, precision: str | None):
    """A context manager for the forward pass and loss under ``precision`` ("bf16"/"fp16")."""
    dtype = PRECISIONS[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)
