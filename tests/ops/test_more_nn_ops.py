"""kerasish.ops' normalization, attention and extra activations against torch and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kerasish import ops


def test_layer_and_rms_normalization_match_torch():
    x = torch.randn(2, 3, 8, dtype=torch.float64)
    g, b = torch.randn(8, dtype=torch.float64), torch.randn(8, dtype=torch.float64)
    torch.testing.assert_close(ops.layer_normalization(x, g, b), F.layer_norm(x, (8,), g, b, 1e-7))
    torch.testing.assert_close(ops.rms_normalization(x, g), F.rms_norm(x, (8,), g, 1e-7))
    g2 = torch.randn(3, 8, dtype=torch.float64)
    torch.testing.assert_close(ops.layer_normalization(x, g2, axis=(1, 2), epsilon=1e-3),
                               F.layer_norm(x, (3, 8), g2, None, 1e-3))  # fmt: skip
    # A non-trailing axis, against NumPy.
    xn = x.numpy()
    mean, var = xn.mean(1, keepdims=True), xn.var(1, keepdims=True)
    g1 = np.arange(3.0)
    ref = (xn - mean) / np.sqrt(var + 1e-7) * g1[None, :, None]
    np.testing.assert_allclose(ops.layer_normalization(x, g1, axis=1).numpy(), ref, rtol=1e-10)
    half = ops.layer_normalization(torch.randn(4, 16).half())
    assert half.dtype == torch.float16


@pytest.mark.parametrize("is_causal", [False, True])
def test_dot_product_attention_matches_sdpa(is_causal):
    q = torch.randn(2, 5, 4, 8)  # Keras layout (B, T, N, H)
    k, v = (
        torch.randn(2, 7 if not is_causal else 5, 4, 8),
        torch.randn(2, 7 if not is_causal else 5, 4, 8),
    )
    ref = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2),
                                         is_causal=is_causal).transpose(1, 2)  # fmt: skip
    torch.testing.assert_close(ops.dot_product_attention(q, k, v, is_causal=is_causal), ref,
                               atol=1e-5, rtol=1e-5)  # fmt: skip


def test_dot_product_attention_mask_bias_groups_scale():
    q, k, v = torch.randn(1, 3, 4, 8), torch.randn(1, 6, 2, 8), torch.randn(1, 6, 2, 8)
    mask = torch.rand(1, 1, 3, 6) > 0.3
    mask[..., 0] = True
    bias = torch.randn(1, 4, 3, 6)
    kk, vv = k.repeat_interleave(2, dim=2), v.repeat_interleave(2, dim=2)
    attn_mask = bias.masked_fill(~mask, float("-inf"))
    ref = F.scaled_dot_product_attention(q.transpose(1, 2), kk.transpose(1, 2), vv.transpose(1, 2),
                                         attn_mask=attn_mask, scale=0.3).transpose(1, 2)  # fmt: skip
    out = ops.dot_product_attention(q, k, v, bias=bias, mask=mask, scale=0.3)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    q3 = torch.randn(2, 4, 8)
    ref3 = F.scaled_dot_product_attention(q3, q3, q3)
    torch.testing.assert_close(ops.dot_product_attention(q3, q3, q3), ref3, atol=1e-5, rtol=1e-5)


def test_extra_activations_and_psnr():
    x = np.linspace(-3, 3, 25)
    t = torch.tensor(x)
    np.testing.assert_allclose(ops.hard_shrink(t).numpy(), np.where(np.abs(x) > 0.5, x, 0))
    ref = np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))
    np.testing.assert_allclose(ops.soft_shrink(t).numpy(), ref, atol=1e-12)
    np.testing.assert_allclose(ops.squareplus(t, b=2).numpy(), (x + np.sqrt(x**2 + 2)) / 2)
    ref = np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x))  # Keras's sparse_plus
    np.testing.assert_allclose(ops.sparse_plus(t).numpy(), ref)
    np.testing.assert_allclose(ops.threshold(t, 0.2, -5.0).numpy(), np.where(x > 0.2, x, -5.0))
    a, b = np.random.default_rng(0).random((2, 3, 8, 8))
    ref = 20 * np.log10(1.0) - 10 * np.log10(np.mean((a - b) ** 2))
    np.testing.assert_allclose(ops.psnr(torch.tensor(a), torch.tensor(b), 1.0).item(), ref)
    with pytest.raises(ValueError, match="same shape"):
        ops.psnr(torch.zeros(2), torch.zeros(3), 1.0)


def test_switch_scan_map_dtype():
    assert ops.switch(0, [lambda x: x + 1, lambda x: x * 10], 2) == 3
    assert ops.switch(-3, [lambda: "a", lambda: "b"]) == "a"
    xs = torch.tensor([1.0, 2.0, 3.0, 4.0])
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), torch.tensor(0.0), xs)
    assert carry.item() == 10.0 and ys.tolist() == [0.0, 2.0, 9.0, 24.0]
    carry, ys = ops.scan(lambda c, x: (c + x, c), torch.tensor(0.0), xs, reverse=True)
    assert ys.tolist() == [9.0, 7.0, 4.0, 0.0]  # jax.lax.scan's reverse: outputs in xs order
    carry, ys = ops.scan(lambda c, _: (c * 2, None), 1, length=5)
    assert carry == 32 and ys is None
    torch.testing.assert_close(ops.map(lambda r: r.max(), torch.eye(3)), torch.ones(3))
    assert ops.dtype(torch.zeros(1)) == "float32" and ops.dtype(np.zeros(1, np.int16)) == "int16"
