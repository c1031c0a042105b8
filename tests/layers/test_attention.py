"""MultiHeadAttention against the attention written out in torch; Keras's parameter count."""

import math

import pytest
import torch

from kerasish import layers as L

Q, V = torch.randn(2, 5, 8), torch.randn(2, 7, 6)


def by_hand(layer, query, value, key=None, mask=None):
    key = value if key is None else key
    h = layer.num_heads

    def heads(x):
        return x.reshape(x.shape[0], x.shape[1], h, -1).transpose(1, 2)

    q = heads(query @ layer.query_dense.weight.T + layer.query_dense.bias)
    k = heads(key @ layer.key_dense.weight.T + layer.key_dense.bias)
    v = heads(value @ layer.value_dense.weight.T + layer.value_dense.bias)
    scores = q @ k.transpose(-2, -1) / math.sqrt(layer.key_dim)
    if mask is not None:
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
    probs = scores.softmax(-1)
    out = (probs @ v).transpose(1, 2).reshape(query.shape[0], query.shape[1], -1)
    return out @ layer.output_dense.weight.T + layer.output_dense.bias, probs


def test_matches_the_attention_by_hand_and_keras_s_count():
    layer = L.MultiHeadAttention(num_heads=2, key_dim=4).eval()
    out, scores = layer(Q, V, return_attention_scores=True)
    ref, ref_probs = by_hand(layer, Q, V)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(scores, ref_probs)
    torch.testing.assert_close(layer(Q, V), ref)  # the fused path gives the same numbers
    # Keras: query 8*8+8, key 6*8+8, value 6*8+8, output 8*8+8
    assert sum(p.numel() for p in layer.parameters()) == 72 + 56 + 56 + 72


def test_key_value_dim_output_shape_and_self_attention():
    layer = L.MultiHeadAttention(3, 2, value_dim=5, output_shape=4).eval()
    key = torch.randn(2, 7, 3)
    out = layer(Q, V, key)
    assert out.shape == (2, 5, 4) and layer.value_dense.out_features == 15
    torch.testing.assert_close(out, by_hand(layer, Q, V, key)[0])
    self_att = L.MultiHeadAttention(2, 4).eval()
    torch.testing.assert_close(self_att(Q), self_att(Q, Q))


def test_masks():
    layer = L.MultiHeadAttention(2, 4).eval()
    mask = torch.rand(2, 5, 7) > 0.3
    mask[..., 0] = True  # every query attends somewhere
    torch.testing.assert_close(layer(Q, V, attention_mask=mask), by_hand(layer, Q, V, mask=mask)[0])
    layer = L.MultiHeadAttention(2, 4).eval()
    x = torch.randn(2, 5, 8)
    causal = layer(x, x, use_causal_mask=True)
    lower = torch.ones(5, 5, dtype=torch.bool).tril().expand(2, 5, 5)
    torch.testing.assert_close(causal, by_hand(layer, x, x, mask=lower)[0])
    # step 0 ignores what comes after it
    changed = x.clone()
    changed[:, 1:] += 1
    torch.testing.assert_close(layer(changed, changed, use_causal_mask=True)[:, 0], causal[:, 0])


def test_dropout_only_in_training():
    layer = L.MultiHeadAttention(2, 4, dropout=0.5)
    layer(Q, V)
    layer.eval()
    torch.testing.assert_close(layer(Q, V), by_hand(layer, Q, V)[0])
    layer.train()
    assert not torch.allclose(layer(Q, V), layer(Q, V))


def test_errors():
    with pytest.raises(ValueError, match=r"Received: attention_mask.shape=\(5, 7\)"):
        L.MultiHeadAttention(2, 4)(Q, V, attention_mask=torch.ones(5, 7, dtype=torch.bool))
    with pytest.raises(TypeError, match=r"Expected `key_dim` to be an integer"):
        L.MultiHeadAttention(2, 4.0)
