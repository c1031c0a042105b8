"""Models: ``Model`` (an nn.Module with compile/fit/...), ``Sequential`` and wrapping."""

from kerasish.models.model import Model
from kerasish.models.sequential import Sequential

__all__ = ["Model", "Sequential"]
