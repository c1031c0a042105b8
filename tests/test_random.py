"""kerasish.random: distributions (vs. their formulas), seeds, dropout, shuffle, categorical."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from kerasish import random as R


def test_normal_and_uniform_statistics():
    x = R.normal((200_000,), mean=2.0, stddev=3.0, dtype="float64", seed=0)
    assert x.dtype == torch.float64
    assert x.mean().item() == pytest.approx(2.0, abs=0.03)
    assert x.std().item() == pytest.approx(3.0, rel=0.01)
    u = R.uniform((200_000,), minval=-1.0, maxval=3.0, seed=0)
    assert u.dtype == torch.get_default_dtype()
    assert u.min().item() >= -1.0 and u.max().item() < 3.0
    assert u.std().item() == pytest.approx(4 / math.sqrt(12), rel=0.01)


def test_truncated_normal():
    x = R.truncated_normal((200_000,), mean=1.0, stddev=2.0, seed=0, dtype="float64")
    assert (x - 1.0).abs().max().item() <= 4.0
    # A normal cut at 2 std keeps std 0.8796 * stddev (Keras's VarianceScaling constant).
    assert x.std().item() == pytest.approx(2.0 * 0.87962566103423978, rel=0.01)


def test_randint():
    x = R.randint((10_000,), 3, 7, seed=1)
    assert x.dtype == torch.int32  # Keras's default dtype
    assert sorted(x.unique().tolist()) == [3, 4, 5, 6]
    assert R.randint((4,), 0, 5, dtype="int64", seed=1).dtype == torch.int64


def test_int_seed_is_stateless_and_seed_generator_advances():
    assert torch.equal(R.normal((5,), seed=3), R.normal((5,), seed=3))
    assert not torch.equal(R.normal((5,), seed=3), R.normal((5,), seed=4))
    gen = R.SeedGenerator(42)
    a, b = R.uniform((5,), seed=gen), R.uniform((5,), seed=gen)
    assert not torch.equal(a, b)
    gen2 = R.SeedGenerator(42)
    assert torch.equal(a, R.uniform((5,), seed=gen2)) and torch.equal(b, R.uniform((5,), seed=gen2))
    torch.manual_seed(0)
    c = R.normal((5,))
    torch.manual_seed(0)
    assert torch.equal(c, R.normal((5,)))  # None: torch's global generator
    assert R.SeedGenerator(7).get_config() == {"seed": 7}
    with pytest.raises(TypeError, match="seed"):
        R.normal((2,), seed=1.5)
    with pytest.raises(TypeError, match="seed"):
        R.SeedGenerator("a")
    with pytest.raises(ValueError, match="floating"):
        R.normal((2,), dtype="int32")


def test_dropout():
    x = torch.ones(100_000)
    out = R.dropout(x, 0.3, seed=0)
    kept = out != 0
    assert kept.double().mean().item() == pytest.approx(0.7, abs=0.01)
    torch.testing.assert_close(out[kept], torch.full_like(out[kept], 1 / 0.7))
    assert torch.equal(out, R.dropout(x, 0.3, seed=0))
    # noise_shape: one mask per (batch, feature), shared over the middle axis; None = input's.
    y = R.dropout(torch.ones(8, 5, 6), 0.5, noise_shape=(None, 1, 6), seed=1)
    assert torch.equal(y, y[:, :1, :].expand(8, 5, 6))
    assert torch.equal(R.dropout(x, 0.0, seed=0), x)
    with pytest.raises(ValueError, match="rate"):
        R.dropout(x, 1.0)


def test_shuffle():
    x = torch.arange(20).reshape(4, 5)
    s = R.shuffle(x, axis=1, seed=0)
    assert torch.equal(s.sort(dim=1).values, x)
    assert torch.equal(s[:, :1] - s[0, 0], x[:, :1] - x[0, 0])  # whole columns move
    assert torch.equal(s, R.shuffle(x, axis=1, seed=0))
    assert torch.equal(R.shuffle(np.arange(6), seed=2).sort().values, torch.arange(6))


def test_categorical():
    probs = np.array([0.2, 0.5, 0.3])
    logits = torch.tensor(np.log(probs))[None].repeat(2, 1)
    out = R.categorical(logits, 50_000, seed=0)
    assert out.shape == (2, 50_000) and out.dtype == torch.int32
    freq = torch.bincount(out[0].long(), minlength=3).double() / 50_000
    np.testing.assert_allclose(freq.numpy(), probs, atol=0.01)
    assert torch.equal(out, R.categorical(logits, 50_000, seed=0))
    with pytest.raises(ValueError, match="rank 2"):
        R.categorical(torch.zeros(3), 2)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_draws_are_on_device_and_seeded():
    a = R.normal((4,), seed=1, device="cuda")
    assert a.device.type == "cuda" and torch.equal(a, R.normal((4,), seed=1, device="cuda"))
    out = R.dropout(torch.ones(100, device="cuda"), 0.5, seed=3)
    assert out.device.type == "cuda"
