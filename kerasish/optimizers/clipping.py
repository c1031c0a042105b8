"""Keras's gradient clipping (``clipnorm``, ``clipvalue``, ``global_clipnorm``) over torch
gradients: the settings a recipe holds and the function the trainer and ``apply`` call."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Clipping", "clip_gradients"]


@dataclass(frozen=True)
class Clipping:
    """Keras-style gradient clipping settings."""

    clipnorm: float | None = None
    clipvalue: float | None = None
    global_clipnorm: float | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.clipnorm, self.clipvalue, self.global_clipnorm))


def clip_gradients(params: list[torch.Tensor], clipping: Clipping) -> None:
    """Apply Keras's clipvalue, clipnorm (per tensor) and global_clipnorm to ``params``' grads."""
    grads = [p for p in params if p.grad is not None]
    if clipping.clipvalue is not None:
        torch.nn.utils.clip_grad_value_(grads, clipping.clipvalue)
    if clipping.clipnorm is not None:
        for p in grads:
            torch.nn.utils.clip_grad_norm_([p], clipping.clipnorm, foreach=True)
    if clipping.global_clipnorm is not None:
        torch.nn.utils.clip_grad_norm_(grads, clipping.global_clipnorm, foreach=True)
