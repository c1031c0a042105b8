"""Recurrent layers: LSTM, GRU and SimpleRNN over lazy one-layer batch-first torch RNNs.

Without a mask the whole sequence goes to torch's fused RNN; with one (from ``Masking``,
``Embedding(mask_zero=True)`` or ``mask=``), a ``(N, T)`` boolean tensor, True where a step
counts, the steps run one by one and masked steps are skipped as Keras skips them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_bool, check_fraction, check_positive_int

__all__ = ["LSTM", "GRU", "SimpleRNN"]


class _LazyRNNMixin(LazyModuleMixin):
    """Lazy batch-first one-layer torch RNN: ``weight_ih_l0`` waits for the feature size."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__(1, hidden_size, batch_first=True)
        self.weight_ih_l0 = UninitializedParameter()

    def flatten_parameters(self) -> None:
        if not self.has_uninitialized_params():
            super().flatten_parameters()

    def initialize_parameters(self, x: Tensor, *args: Any) -> None:
        if self.has_uninitialized_params():
            with torch.no_grad():
                self.weight_ih_l0.materialize((self.weight_hh_l0.shape[0], x.shape[-1]))
                bound = 1.0 / math.sqrt(self.hidden_size)
                self.weight_ih_l0.uniform_(-bound, bound)  # torch's RNN initialization
        self.input_size = self.weight_ih_l0.shape[1]  # also after a lazy state-dict load


class _LazyLSTM(_LazyRNNMixin, nn.LSTM):
    cls_to_become = nn.LSTM


class _LazyGRU(_LazyRNNMixin, nn.GRU):
    cls_to_become = nn.GRU


class _LazySimpleRNN(_LazyRNNMixin, nn.RNN):
    cls_to_become = nn.RNN


class _RNN(Layer):
    """Shared body of LSTM and GRU over a lazy one-layer batch-first torch RNN."""

    _lazy_rnn: type[nn.Module] = _LazyLSTM
    _num_states = 2

    def __init__(
        self,
        units: int,
        *,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.units = check_positive_int("units", units)
        self.return_sequences = check_bool("return_sequences", return_sequences)
        self.return_state = check_bool("return_state", return_state)
        self.go_backwards = check_bool("go_backwards", go_backwards)
        self.dropout = check_fraction("dropout", dropout)
        self.rnn = self._lazy_rnn(units)

    def forward(
        self,
        x: Tensor,
        initial_state: Tensor | Sequence[Tensor] | None = None,
        mask: Tensor | None = None,
    ) -> Tensor | tuple[Tensor, ...]:
        if not self._prepared:
            self._prepare_build(x)
        if self.dropout and self.training:  # one mask per sequence, as Keras
            x = x * F.dropout(x.new_ones(x.shape[0], 1, x.shape[2]), self.dropout)
        if self.go_backwards:
            x = x.flip(1)
            mask = None if mask is None else mask.flip(1)
        if mask is None:
            out, state = self.rnn(x, self._torch_state(initial_state))
        else:
            out, state = self._masked_steps(x, mask, self._torch_state(initial_state))
        output = out if self.return_sequences else out[:, -1]
        if not self.return_state:
            return output
        states = state if isinstance(state, tuple) else (state,)
        return (output, *(s[0] for s in states))

    def _masked_steps(self, x: Tensor, mask: Tensor, state: Any) -> tuple[Tensor, Any]:
        """Step by step, as Keras: a masked step keeps the state and repeats the last output
        (zeros before the first kept step), so the last output is the last kept step's."""
        n, steps = x.shape[:2]
        if state is None:
            zeros = x.new_zeros(1, n, self.units)
            state = (zeros, zeros) if self._num_states > 1 else zeros
        mask = mask.to(torch.bool).reshape(n, steps)
        last = x.new_zeros(n, self.units)
        outputs = []
        for t in range(steps):
            out, new = self.rnn(x[:, t : t + 1], state)
            keep = mask[:, t : t + 1]
            if self._num_states > 1:
                state = tuple(torch.where(keep, a, b) for a, b in zip(new, state))
            else:
                state = torch.where(keep, new, state)
            last = torch.where(keep, out[:, 0], last)
            outputs.append(last)
        return torch.stack(outputs, 1), state

    def compute_mask(self, inputs: Tensor, mask: Tensor | None = None) -> Any:
        """The input mask for the returned sequence (``return_sequences``), else None."""
        if mask is None or not self.return_sequences:
            return None
        return [mask] + [None] * self._num_states if self.return_state else mask

    def _torch_state(self, initial_state: Tensor | Sequence[Tensor] | None) -> Any:
        """Keras states ``[h, (c)]`` of shape (N, units) to torch's (1, N, units)."""
        if initial_state is None:
            return None
        states = [initial_state] if isinstance(initial_state, Tensor) else list(initial_state)
        expected = f"a list of {self._num_states} tensors of shape (batch, units)"
        check(len(states) == self._num_states, expected, "initial_state", initial_state)
        torch_states = tuple(s.unsqueeze(0) for s in states)
        return torch_states if self._num_states > 1 else torch_states[0]

    def get_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "dropout": self.dropout,
        }


class LSTM(_RNN):
    """Long short-term memory over batch-first ``(N, T, F)`` input; ``F`` inferred at first call.

    Wraps a one-layer ``nn.LSTM`` (cuDNN on GPU), so the activations are torch's and
    Keras's defaults: ``tanh`` and ``sigmoid`` for the gates; weights use torch's
    initialization. ``layer(x, initial_state=[h, c])`` starts from given states.

    Args:
        units: size of the hidden state (positive).
        return_sequences: return every step ``(N, T, units)`` instead of the last ``(N, units)``.
        return_state: also return the final states: ``(output, h, c)``, each state ``(N, units)``.
        go_backwards: read the sequence backwards (a returned sequence is in reading order).
        dropout: fraction of input features dropped in training, one mask per sequence.

    Example:
        >>> out, h, c = LSTM(8, return_sequences=True, return_state=True)(torch.randn(2, 5, 3))
        >>> out.shape, h.shape, c.shape
        (torch.Size([2, 5, 8]), torch.Size([2, 8]), torch.Size([2, 8]))
    """

    _lazy_rnn = _LazyLSTM
    _num_states = 2


class GRU(_RNN):
    """Gated recurrent unit over batch-first ``(N, T, F)`` input; ``F`` inferred at first call.

    Wraps a one-layer ``nn.GRU``, which is Keras's ``reset_after=True`` variant with
    ``tanh``/``sigmoid`` activations; weights use torch's initialization.
    ``layer(x, initial_state=h)`` starts from a given state.

    Args:
        units: size of the hidden state (positive).
        return_sequences: return every step ``(N, T, units)`` instead of the last ``(N, units)``.
        return_state: also return the final state: ``(output, h)`` with ``h`` ``(N, units)``.
        go_backwards: read the sequence backwards (a returned sequence is in reading order).
        dropout: fraction of input features dropped in training, one mask per sequence.

    Example:
        >>> GRU(8)(torch.randn(2, 5, 3)).shape
        torch.Size([2, 8])
    """

    _lazy_rnn = _LazyGRU
    _num_states = 1


class SimpleRNN(_RNN):
    """Fully-connected RNN, ``h = tanh(W x + U h + b)``, over batch-first ``(N, T, F)`` input.

    Wraps a one-layer ``nn.RNN`` (tanh). torch keeps two bias vectors (``b_ih``, ``b_hh``)
    where Keras keeps one, so it has ``units`` more parameters than Keras reports; the
    function is the same. ``layer(x, initial_state=h)`` starts from a given state.

    Args:
        units: size of the hidden state (positive).
        return_sequences: return every step ``(N, T, units)`` instead of the last ``(N, units)``.
        return_state: also return the final state: ``(output, h)``.
        go_backwards: read the sequence backwards.
        dropout: fraction of input features dropped in training, one mask per sequence.

    Example:
        >>> SimpleRNN(4)(torch.randn(2, 5, 3)).shape
        torch.Size([2, 4])
    """

    _lazy_rnn = _LazySimpleRNN
    _num_states = 1
