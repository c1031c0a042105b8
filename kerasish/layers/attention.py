"""MultiHeadAttention with Keras's arguments and weights, over ``F.scaled_dot_product_attention``.

``layer(query, value, key=None)`` on ``(N, T, dim)`` sequences: ``num_heads`` heads of size
``key_dim`` (``value_dim`` for the values), projected back to the query's size (or
``output_shape``). The four projections are lazy: their input sizes come from the first call.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter

from kerasish.layers.base import Layer
from kerasish.layers.checks import check, check_bool, check_fraction, check_positive_int

__all__ = ["MultiHeadAttention"]


class _LazyOutput(LazyModuleMixin, nn.Linear):
    """The output projection, whose size (the query's, by default) is known at the first call."""

    cls_to_become = None

    def __init__(self, out_features: int | None, bias: bool) -> None:
        super().__init__(0, 0, bias=bias)
        self.fixed_out = out_features
        self.weight = UninitializedParameter()
        if bias:
            self.bias = UninitializedParameter()

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, x: Tensor, query: Tensor) -> None:
        if self.has_uninitialized_params():
            out = self.fixed_out or query.shape[-1]
            with torch.no_grad():
                self.weight.materialize((out, x.shape[-1]))
                if self.bias is not None:
                    self.bias.materialize((out,))
                self.out_features, self.in_features = out, x.shape[-1]
                self.reset_parameters()
        self.out_features, self.in_features = self.weight.shape  # also after a lazy load

    def forward(self, x: Tensor, query: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)


class MultiHeadAttention(Layer):
    """Multi-head attention as Keras's: query/key/value projections, scaled dot products, and
    an output projection; the parameter count is Keras's.

    Args:
        num_heads: number of heads.
        key_dim: size of each head for queries and keys.
        value_dim: size of each head for values (``key_dim`` by default).
        dropout: dropout on the attention probabilities, in training.
        use_bias: whether the projections have biases.
        output_shape: the output size (the query's last size by default).

    Call arguments:
        query: ``(N, T, dim)``; value: ``(N, S, dim_v)`` (``query`` by default, self-attention,
        so the layer also works in a ``Sequential``; Keras requires it); key: ``(N, S, dim_k)``
        (``value`` by default); attention_mask: boolean ``(N, T, S)``, True where a query may attend;
        return_attention_scores: also return the ``(N, heads, T, S)`` probabilities;
        use_causal_mask: let step ``t`` attend only to steps ``<= t``.

    Example:
        >>> mha = MultiHeadAttention(num_heads=2, key_dim=4)
        >>> mha(torch.randn(2, 5, 8), torch.randn(2, 7, 8)).shape
        torch.Size([2, 5, 8])
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: int | None = None,
    ) -> None:
        super().__init__()
        self.num_heads = check_positive_int("num_heads", num_heads)
        self.key_dim = check_positive_int("key_dim", key_dim)
        self.value_dim = None if value_dim is None else check_positive_int("value_dim", value_dim)
        self.dropout = check_fraction("dropout", dropout)
        self.use_bias = check_bool("use_bias", use_bias)
        self.output_shape = (
            None if output_shape is None else check_positive_int("output_shape", output_shape)
        )
        heads_v = num_heads * (value_dim or key_dim)
        self.query_dense = nn.LazyLinear(num_heads * key_dim, bias=use_bias)
        self.key_dense = nn.LazyLinear(num_heads * key_dim, bias=use_bias)
        self.value_dense = nn.LazyLinear(heads_v, bias=use_bias)
        self.output_dense = _LazyOutput(self.output_shape, use_bias)

    def _heads(self, x: Tensor) -> Tensor:
        return x.reshape(*x.shape[:2], self.num_heads, -1).transpose(1, 2)  # (N, h, T, d)

    def forward(
        self,
        query: Tensor,
        value: Tensor | None = None,
        key: Tensor | None = None,
        attention_mask: Tensor | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        if not self._prepared:
            self._prepare_build(query)
        value = query if value is None else value
        key = value if key is None else key
        q = self._heads(self.query_dense(query))
        k = self._heads(self.key_dense(key))
        v = self._heads(self.value_dense(value))
        mask = self._mask(attention_mask, use_causal_mask, q.shape[2], k.shape[2], q.device)
        p = self.dropout if self.training else 0.0
        if return_attention_scores:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.key_dim)
            if mask is not None:
                scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
            probs = scores.softmax(-1)
            out = F.dropout(probs, p, self.training) @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        out = out.transpose(1, 2).reshape(*query.shape[:2], -1)
        out = self.output_dense(out, query)
        return (out, probs) if return_attention_scores else out

    @staticmethod
    def _mask(
        mask: Tensor | None, causal: bool, t: int, s: int, device: torch.device
    ) -> Tensor | None:
        if mask is not None:
            check(
                mask.ndim == 3,
                "a boolean mask (N, T, S)",
                "attention_mask.shape",
                tuple(mask.shape),
            )
            mask = mask.bool().unsqueeze(1)
        if causal:
            lower = torch.ones(t, s, dtype=torch.bool, device=device).tril()
            mask = lower if mask is None else mask & lower
        return mask

    def get_config(self) -> dict[str, Any]:
        return {
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self.output_shape,
        }
