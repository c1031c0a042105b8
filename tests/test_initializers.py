"""kerasish.initializers against Keras's formulas (keras.io/api/layers/initializers) and torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from kerasish import initializers as I
from kerasish.random import SeedGenerator

SHAPE = (400, 600)  # Keras Dense kernel (in, out): fan_in 400, fan_out 600


def _std(fan: float, scale: float = 1.0) -> float:
    return math.sqrt(scale / fan)


# (initializer, expected mean, expected std) - the formulas of Keras's docs:
# Glorot: std sqrt(2 / (in + out)); He: sqrt(2 / in); LeCun: sqrt(1 / in); the truncated ones
# keep that std after the cut (VarianceScaling divides by 0.8796...); uniform(a, b): (b-a)/sqrt(12).
STATS = [
    (I.GlorotUniform(seed=1), 0.0, _std((400 + 600) / 2)),
    (I.GlorotNormal(seed=1), 0.0, _std((400 + 600) / 2)),
    (I.HeUniform(seed=1), 0.0, _std(400, 2.0)),
    (I.HeNormal(seed=1), 0.0, _std(400, 2.0)),
    (I.LecunUniform(seed=1), 0.0, _std(400)),
    (I.LecunNormal(seed=1), 0.0, _std(400)),
    (I.VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=1), 0.0, _std(600, 3.0)),
    (I.VarianceScaling(3.0, "fan_out", "uniform", seed=1), 0.0, _std(600, 3.0)),
    (I.RandomNormal(1.0, 0.5, seed=1), 1.0, 0.5),
    (I.RandomUniform(-1.0, 3.0, seed=1), 1.0, 4.0 / math.sqrt(12)),
    # A unit normal cut at +-2 has std 0.8796... (Keras's constant in VarianceScaling).
    (I.TruncatedNormal(0.5, 2.0, seed=1), 0.5, 2.0 * 0.87962566103423978),
]


@pytest.mark.parametrize("init,mean,std", STATS, ids=lambda v: repr(v)[:40])
def test_statistics_match_keras_formulas(init, mean, std):
    values = init(SHAPE).double()
    assert values.shape == SHAPE and values.dtype == torch.float64
    assert abs(values.mean().item() - mean) < 0.01 * max(std, 1.0)
    assert values.std().item() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("name,limit", [("glorot_uniform", math.sqrt(6 / 1000)),
                                        ("he_uniform", math.sqrt(6 / 400)),
                                        ("lecun_uniform", math.sqrt(3 / 400))])  # fmt: skip
def test_uniform_limits(name, limit):
    values = I.get(name)(SHAPE)
    assert values.abs().max().item() <= limit
    assert values.abs().max().item() > 0.99 * limit


def test_truncated_normal_is_cut_at_two_std():
    values = I.TruncatedNormal(0.0, 1.0, seed=0)((100_000,))
    assert values.abs().max().item() <= 2.0
    std = 1.0 / 0.87962566103423978 * math.sqrt(1 / 400)  # he/lecun: cut at 2 pre-cut stds
    assert I.LecunNormal(seed=0)(SHAPE).abs().max().item() <= 2 * std + 1e-6


def test_compute_fans_matches_keras():
    # keras/src/initializers/random_initializers.py::compute_fans
    assert I.compute_fans(()) == (1, 1)
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans((3, 5)) == (3, 5)
    assert I.compute_fans((3, 3, 16, 32)) == (144, 288)
    assert I.compute_fans((5, 4, 8)) == (20, 40)


def test_seeds():
    a = I.GlorotUniform(seed=3)((4, 5))
    assert torch.equal(a, I.GlorotUniform(seed=3)((4, 5)))
    init = I.GlorotUniform(seed=3)
    assert torch.equal(init((4, 5)), init((4, 5)))  # an int seed: same values every call
    assert not torch.equal(a, I.GlorotUniform(seed=4)((4, 5)))
    gen_init = I.RandomNormal(seed=SeedGenerator(5))
    first, second = gen_init((6,)), gen_init((6,))
    assert not torch.equal(first, second)
    again = I.RandomNormal(seed=SeedGenerator(5))
    assert torch.equal(first, again((6,))) and torch.equal(second, again((6,)))
    torch.manual_seed(0)
    c = I.HeNormal()((4, 5))
    torch.manual_seed(0)
    assert torch.equal(c, I.HeNormal()((4, 5)))  # seed=None follows torch's global RNG
    with pytest.raises(TypeError, match="seed"):
        I.RandomNormal(seed="x")


def test_constants_exact():
    assert torch.equal(I.Zeros()((2, 3)), torch.zeros(2, 3))
    assert torch.equal(I.Ones()((2, 3), dtype="float64"), torch.ones(2, 3, dtype=torch.float64))
    assert torch.equal(I.Constant(2.5)((3,)), torch.full((3,), 2.5))
    assert torch.equal(I.Constant([1.0, 2.0])((2, 2)), torch.tensor([[1.0, 2.0], [1.0, 2.0]]))
    assert torch.equal(I.Identity(3.0)((2, 3)), 3.0 * torch.eye(2, 3))
    with pytest.raises(ValueError, match="2-D"):
        I.Identity()((2, 2, 2))


@pytest.mark.parametrize("shape", [(6, 6), (8, 3), (3, 8), (3, 3, 4, 5)])
def test_orthogonal(shape):
    q = I.Orthogonal(gain=2.0, seed=0)(shape, dtype="float64")
    flat = q.reshape(-1, shape[-1]).numpy() / 2.0
    small = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=1e-10)
    with pytest.raises(ValueError, match="rank at least 2"):
        I.Orthogonal()((3,))


def test_get_serialize_deserialize():
    assert isinstance(I.get("glorot_uniform"), I.GlorotUniform)
    assert isinstance(I.get("GlorotUniform"), I.GlorotUniform)
    assert isinstance(I.get("zeros"), I.Zeros) and isinstance(I.get("he_normal"), I.HeNormal)
    assert I.get(None) is None
    assert isinstance(I.get(I.Ones), I.Ones)
    fn = lambda shape, dtype=None: torch.zeros(shape)  # noqa: E731
    assert I.get(fn) is fn
    # The dict Keras 3.15.1 (torch backend) gives for serialize(VarianceScaling(...)), minus
    # its module name and its new input_axes/output_axes.
    keras_config = {"module": "keras.initializers", "class_name": "VarianceScaling",
                    "config": {"scale": 2.0, "mode": "fan_out", "distribution": "uniform",
                               "seed": 7}, "registered_name": None}  # fmt: skip
    init = I.get(keras_config)
    assert (init.scale, init.mode, init.distribution, init.seed) == (2.0, "fan_out", "uniform", 7)
    assert I.serialize(init)["config"] == keras_config["config"]
    assert I.deserialize(I.serialize(init)).get_config() == init.get_config()
    assert I.serialize(I.GlorotUniform(seed=1))["config"] == {"seed": 1}
    assert I.serialize(I.Orthogonal())["config"] == {"seed": None, "gain": 1.0}
    with pytest.raises(ValueError, match="Could not interpret initializer"):
        I.get("glorot")
    with pytest.raises(ValueError, match="Could not interpret initializer"):
        I.get(3)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan")
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=0.0)


def test_normal_distribution_is_truncated_normal():
    # Keras maps distribution="normal" to "truncated_normal".
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"


def test_fill_linear_uses_keras_fans():
    linear = nn.Linear(400, 600)  # torch weight (600, 400); Keras kernel (400, 600)
    I.fill_(linear.weight, I.HeUniform(seed=0))
    limit = math.sqrt(6 / 400)  # fan_in = 400, the input size
    assert linear.weight.abs().max().item() <= limit
    assert linear.weight.abs().max().item() > 0.99 * limit
    # The values are the Keras kernel's, transposed.
    assert torch.equal(linear.weight.detach(), I.HeUniform(seed=0)((400, 600)).T)


def test_fill_conv_uses_keras_layout():
    conv = nn.Conv2d(16, 32, 3)  # torch (32, 16, 3, 3); Keras (3, 3, 16, 32)
    I.fill_(conv.weight, I.GlorotUniform(seed=0))
    keras_values = I.GlorotUniform(seed=0)((3, 3, 16, 32))
    assert torch.equal(conv.weight.detach(), keras_values.permute(3, 2, 0, 1))
    assert torch.equal(I.fill_(torch.empty(5), "ones"), torch.ones(5))
    # An explicit keras_shape equal to the tensor's shape is copied as is.
    t = I.fill_(torch.empty(4, 6), I.Identity(), keras_shape=(4, 6))
    assert torch.equal(t, torch.eye(4, 6))
    with pytest.raises(ValueError, match="keras_shape"):
        I.fill_(torch.empty(4, 6), "zeros", keras_shape=(5, 5))


def test_layout_helpers():
    assert I.keras_shape_of((32, 16)) == (16, 32)
    assert I.keras_shape_of((32, 16, 3, 5)) == (3, 5, 16, 32)
    assert I.keras_shape_of((7,)) == (7,)
    x = torch.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    assert I.to_torch_layout(x).shape == (5, 4, 2, 3)
    assert torch.equal(I.to_torch_layout(x)[1, 2, 0, 1], x[0, 1, 2, 1])
