"""Sequential: a plain stack of modules, each fed the previous one's output.

``get_config()``/``from_config()`` describe it by its name and its layers (the modules
themselves; ``kerasish.saving`` describes those), and it is registered as
``"kerasish.models>Sequential"``, so model files rebuild it (see ``kerasish.saving``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import nn

from kerasish.layers.core import Input as InputLayer
from kerasish.models.input import KerasTensor, adjust_input
from kerasish.models.model import Model
from kerasish.saving import register_keras_serializable

__all__ = ["Sequential"]


@register_keras_serializable(package="kerasish.models")
class Sequential(Model):
    """A linear stack of ``nn.Module`` layers (torch modules or ``kerasish.layers``).

    Args:
        layers: the layers, in order. A first ``layers.Input(shape)``, or a first layer given
            ``input_shape=``/``input_dim=``, builds the model at once. As in Keras, a first
            ``Input`` casts integer inputs to its dtype (uint8 images to float32) and adjusts
            a rank one off (``(N,)`` into ``Input((1,))`` is ``(N, 1)``; see
            ``kerasish.models.input.adjust_input``).
        name: the model's name (Keras's automatic ``sequential``, ``sequential_1``, ... when
            None).

    Example:
        >>> model = Sequential([nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)])
        >>> model.add(nn.Softmax(dim=-1))
    """

    #: The first ``Input`` layer's dtype (None without one) and rank with the batch's
    #: dimension: the forward casts to it and adjusts the rank as Keras does (``adjust_input``)
    _input_dtype: torch.dtype | None = None
    _input_rank: int = 0
    _input_expand: bool = False

    def __init__(self, layers: Iterable[nn.Module] | None = None, name: str | None = None):
        super().__init__(name=name)
        self.layers = nn.ModuleList()
        self._constructing = True
        for layer in layers or []:
            self.add(layer)
        self._constructing = False
        self._build_from_input_layer()

    def add(self, layer: nn.Module) -> None:
        """Append a layer.

        A ``K.Input(shape)`` (a KerasTensor) becomes an ``Input`` layer of that shape, as in
        Keras's ``Sequential([keras.Input((4,)), ...])``.

        Raises:
            TypeError: when ``layer`` is not an ``nn.Module``.
        """
        if isinstance(layer, KerasTensor):
            layer = InputLayer(tuple(layer.shape)[1:], dtype=layer.dtype)
        if not isinstance(layer, nn.Module):
            raise TypeError(
                f"Expected an nn.Module (a torch module or a kerasish layer). "
                f"Received: layer of type {type(layer).__name__}"
            )
        self.layers.append(layer)
        self._refresh_input_dtype()
        if not self._constructing:
            self._build_from_input_layer()

    def _build_from_input_layer(self) -> None:
        """Build at once from a first ``Input(shape)`` or a first layer given Keras's
        ``input_shape=``/``input_dim=`` (its ``batch_input_shape``)."""
        first = self.layers[0] if len(self.layers) else None
        shape = getattr(first, "shape", None)
        if type(first).__name__ == "Input" and shape is not None:
            self.build((None, *shape))
            return
        batch_shape = getattr(first, "batch_input_shape", None)
        if isinstance(batch_shape, tuple) and not self.built:
            self.build((None, *batch_shape[1:]))

    def pop(self) -> nn.Module:
        """Remove and return the last layer.

        Raises:
            IndexError: when the model has no layers.
        """
        if not len(self.layers):
            raise IndexError(
                "Expected a Sequential with layers to pop. Received: an empty Sequential"
            )
        last = self.layers[-1]
        del self.layers[len(self.layers) - 1]
        self._refresh_input_dtype()
        return last

    def _refresh_input_dtype(self) -> None:
        first = self.layers[0] if len(self.layers) else None
        if isinstance(first, InputLayer):
            self._input_dtype = first.dtype or torch.get_default_dtype()
            self._input_rank = len(first.shape) + 1
            self._input_expand = bool(first.shape) and first.shape[-1] == 1
        else:
            self._input_dtype = None

    def get_config(self) -> dict[str, Any]:
        """``{"name": ..., "layers": [the modules]}``, what ``from_config`` rebuilds from.

        Example:
            >>> Sequential([nn.Linear(2, 1)], name="tiny").get_config()["name"]
            'tiny'
        """
        return {"name": self.name, "layers": list(self.layers)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        """A ``Sequential`` of ``config["layers"]`` named ``config.get("name")``.

        Example:
            >>> model = Sequential.from_config({"name": None, "layers": [nn.Linear(2, 1)]})
        """
        return cls(config["layers"], name=config.get("name"))

    def forward(self, x: Any) -> Any:
        dtype, rank = self._input_dtype, self._input_rank
        if dtype is not None and (
            getattr(x, "ndim", rank) != rank or getattr(x, "dtype", dtype) is not dtype
        ):
            x = adjust_input(x, dtype, rank, self._input_expand)
        for layer in self._modules["layers"]._modules.values():  # the ModuleList's, directly
            x = layer(x)
        return x

    def __getitem__(self, index: int) -> nn.Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)
