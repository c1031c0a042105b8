"""Layer wrappers: TimeDistributed (a layer applied to every step) and Bidirectional (an RNN
read both ways)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from kerasish.layers.base import Layer
from kerasish.layers.checks import check

__all__ = ["TimeDistributed", "Bidirectional", "serialize", "deserialize"]


class TimeDistributed(Layer):
    """Applies ``layer`` to every step of ``(N, T, ...)`` input, with the same weights.

    The steps are folded into the batch, ``(N * T, ...)``, so the layer runs once.

    Args:
        layer: any module taking ``(batch, ...)`` input.

    Example:
        >>> TimeDistributed(Dense(4))(torch.randn(2, 5, 3)).shape
        torch.Size([2, 5, 4])
    """

    supports_masking = True

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        check(isinstance(layer, nn.Module), "an nn.Module", "layer", layer, TypeError)
        self.layer = layer

    def forward(self, x: Tensor) -> Tensor:
        check(x.ndim >= 3, "input of rank >= 3 (N, T, ...)", "x.shape", tuple(x.shape))
        n, t = x.shape[:2]
        y = self.layer(x.reshape(n * t, *x.shape[2:]))
        return y.reshape(n, t, *y.shape[1:])

    def get_config(self) -> dict[str, Any]:
        return {"layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeDistributed:
        return cls(**{**config, "layer": deserialize(config["layer"])})

    def __repr__(self) -> str:
        return f"TimeDistributed({self.layer!r})"


_MERGES = ("concat", "sum", "mul", "ave", None)


def serialize(layer: nn.Module | None) -> Any:
    """A kerasish layer as Keras's JSON-able ``{"class_name", "config"}``; other modules as
    they are (``kerasish.saving`` describes those)."""
    from kerasish.layers import LAYERS  # the registry is built after this module is loaded

    if layer is not None and LAYERS.get(type(layer).__name__) is type(layer):
        return {"class_name": type(layer).__name__, "config": layer.get_config()}
    return layer


def deserialize(value: Any) -> Any:
    """The layer :func:`serialize` described."""
    from kerasish.layers import LAYERS

    if isinstance(value, dict) and set(value) == {"class_name", "config"}:
        name = value["class_name"]
        check(name in LAYERS, f"a kerasish layer among {sorted(LAYERS)}", "class_name", name)
        return LAYERS[name].from_config(value["config"])
    return value


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the outputs.

    As Keras: the backward copy is built from the layer's config with ``go_backwards``
    flipped (its own weights); with ``return_sequences`` its outputs are put back in reading
    order before merging; with ``return_state`` the states of both directions follow the
    output, forward first.

    Args:
        layer: an ``LSTM``, ``GRU`` or ``SimpleRNN``.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"``, or None for the
            list ``[forward, backward]``.
        backward_layer: the backward layer, instead of a copy of ``layer``.

    Example:
        >>> Bidirectional(LSTM(8))(torch.randn(2, 5, 3)).shape
        torch.Size([2, 16])
    """

    def __init__(
        self, layer: Layer, merge_mode: str | None = "concat", backward_layer: Layer | None = None
    ) -> None:
        super().__init__()
        ok = isinstance(layer, Layer) and hasattr(layer, "go_backwards")
        check(ok, "a kerasish recurrent layer (LSTM, GRU, SimpleRNN)", "layer", layer, TypeError)
        check(merge_mode in _MERGES, f"one of {_MERGES}", "merge_mode", merge_mode)
        self.forward_layer = layer
        if backward_layer is None:
            config = {**layer.get_config(), "go_backwards": not layer.go_backwards}
            backward_layer = type(layer).from_config(config)
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Any:
        if mask is None:
            fw, bw = self.forward_layer(x), self.backward_layer(x)
        else:
            fw, bw = self.forward_layer(x, mask=mask), self.backward_layer(x, mask=mask)
        states: list[Tensor] = []
        if self.forward_layer.return_state:
            fw, *fw_states = fw
            bw, *bw_states = bw
            states = [*fw_states, *bw_states]
        if self.forward_layer.return_sequences:
            bw = bw.flip(1)
        out = self._merge(fw, bw)
        if not states:
            return out
        return [*out, *states] if self.merge_mode is None else (out, *states)

    def _merge(self, fw: Tensor, bw: Tensor) -> Any:
        if self.merge_mode == "concat":
            return torch.cat([fw, bw], dim=-1)
        if self.merge_mode == "sum":
            return fw + bw
        if self.merge_mode == "mul":
            return fw * bw
        if self.merge_mode == "ave":
            return (fw + bw) / 2
        return [fw, bw]

    def get_config(self) -> dict[str, Any]:
        return {
            "layer": serialize(self.forward_layer),
            "merge_mode": self.merge_mode,
            "backward_layer": serialize(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        layers = {k: deserialize(config[k]) for k in ("layer", "backward_layer") if k in config}
        return cls(**{**config, **layers})

    def __repr__(self) -> str:
        merge = "" if self.merge_mode == "concat" else f", merge_mode={self.merge_mode!r}"
        return f"Bidirectional({self.forward_layer!r}{merge})"
