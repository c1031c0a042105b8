"""Regularization layers active only in training: SpatialDropout1D/2D, GaussianNoise/Dropout.

Like ``Dropout``, each is the identity in eval mode (``model.eval()``, ``evaluate``,
``predict``) and draws new noise per batch in training.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_fraction
from kerasish.layers.layout import resolve_data_format

__all__ = ["SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout"]


class SpatialDropout1D(Layer):
    """Drops whole feature channels of ``(N, steps, features)`` sequences (one mask per sample).

    Args:
        rate: fraction of the channels to drop, in [0, 1); the rest are scaled by 1/(1-rate).

    Example:
        >>> SpatialDropout1D(0.5).eval()(torch.ones(2, 3, 4)).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = check_fraction("rate", rate)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.rate == 0.0:
            return x
        mask = F.dropout(x.new_ones(x.shape[0], 1, x.shape[2]), self.rate)
        return x * mask

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate}


class SpatialDropout2D(Layer):
    """Drops whole channels (feature maps) of images, one mask per sample.

    Args:
        rate: fraction of the channels to drop, in [0, 1); the rest are scaled by 1/(1-rate).
        data_format: ``"channels_first"`` or ``"channels_last"``; ``None`` means
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> SpatialDropout2D(0.5).eval()(torch.ones(2, 3, 4, 4)).shape
        torch.Size([2, 3, 4, 4])
    """

    def __init__(self, rate: float, data_format: str | None = None) -> None:
        super().__init__()
        self.rate = check_fraction("rate", rate)
        self.data_format = resolve_data_format(data_format)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.rate == 0.0:
            return x
        n, c = x.shape[0], x.shape[1 if self.data_format == "channels_first" else -1]
        shape = (n, c, 1, 1) if self.data_format == "channels_first" else (n, 1, 1, c)
        return x * F.dropout(x.new_ones(shape), self.rate)

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "data_format": self.data_format}


class GaussianNoise(Layer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` in training.

    Args:
        stddev: the noise's standard deviation (non-negative).
        seed: accepted for Keras compatibility; the noise comes from torch's global generator
            (seed it with ``torch.manual_seed``).

    Example:
        >>> GaussianNoise(0.1).eval()(torch.ones(2))
        tensor([1., 1.])
    """

    def __init__(self, stddev: float, seed: int | None = None) -> None:
        super().__init__()
        self.stddev = _non_negative("stddev", stddev)
        self.seed = seed

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.stddev == 0.0:
            return x
        return x + torch.randn_like(x) * self.stddev

    def get_config(self) -> dict[str, Any]:
        return {"stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies by Gaussian noise of mean 1 and std ``sqrt(rate / (1 - rate))`` in training.

    Args:
        rate: the drop probability it stands in for, in [0, 1).
        seed: accepted for Keras compatibility; the noise comes from torch's global generator.

    Example:
        >>> GaussianDropout(0.2).eval()(torch.ones(2))
        tensor([1., 1.])
    """

    def __init__(self, rate: float, seed: int | None = None) -> None:
        super().__init__()
        self.rate = check_fraction("rate", rate)
        self.seed = seed

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.rate == 0.0:
            return x
        std = math.sqrt(self.rate / (1.0 - self.rate))
        return x * (1.0 + torch.randn_like(x) * std)

    def get_config(self) -> dict[str, Any]:
        return {"rate": self.rate, "seed": self.seed}


def _non_negative(name: str, value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    check(ok, "a non-negative number", name, value)
    return float(value)
