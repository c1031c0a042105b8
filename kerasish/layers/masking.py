"""Masking: marks the time steps whose features all equal ``mask_value`` as padding."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from kerasish.layers.api import mark_masking
from kerasish.layers.base import Layer
from kerasish.layers.checks import check

__all__ = ["Masking"]


class Masking(Layer):
    """Masks the steps of ``(N, T, features)`` input whose features all equal ``mask_value``.

    As Keras: the output is the input with masked steps zeroed, and it carries the mask
    ``(N, T)`` (True where a step is kept), which the next layers that take a mask receive:
    ``LSTM``, ``GRU`` and ``SimpleRNN`` skip masked steps (carrying their state over them).

    Args:
        mask_value: the padding value.

    Example:
        >>> x = torch.tensor([[[1.0], [0.0], [2.0]]])
        >>> layer = Masking(0.0)
        >>> layer.compute_mask(x)
        tensor([[ True, False,  True]])
        >>> LSTM(2)(layer(x)).shape
        torch.Size([1, 2])
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0) -> None:
        super().__init__()
        ok = isinstance(mask_value, int | float) and not isinstance(mask_value, bool)
        check(ok, "a number", "mask_value", mask_value, TypeError)
        self.mask_value = float(mask_value)
        mark_masking()

    def forward(self, x: Tensor) -> Tensor:
        keep = self.compute_mask(x)
        return x * keep.unsqueeze(-1).to(x.dtype)

    def compute_mask(self, inputs: Tensor, mask: Any = None) -> Tensor:
        """True at the steps with any feature different from ``mask_value``."""
        return (inputs != self.mask_value).any(dim=-1)

    def get_config(self) -> dict[str, Any]:
        return {"mask_value": self.mask_value}
