"""Regularization layers: the identity in eval; in training, torch's noise with Keras's scales."""

import math

import pytest
import torch

from kerasish import layers as L


@pytest.mark.parametrize(
    "layer",
    [
        L.SpatialDropout1D(0.5),
        L.SpatialDropout2D(0.5),
        L.GaussianNoise(1.0),
        L.GaussianDropout(0.5),
    ],
    ids=lambda m: type(m).__name__,
)
def test_identity_in_eval(layer):
    x = torch.randn(2, 4, 6, 6) if "2D" in type(layer).__name__ else torch.randn(2, 5, 6)
    assert torch.equal(layer.eval()(x), x)


def test_spatial_dropout_1d_drops_whole_channels():
    x = torch.ones(64, 10, 8)
    torch.manual_seed(0)
    out = L.SpatialDropout1D(0.5)(x)
    torch.manual_seed(0)
    mask = torch.nn.functional.dropout(torch.ones(64, 1, 8), 0.5)  # the same draw, in torch
    torch.testing.assert_close(out, x * mask)
    assert set(out.unique().tolist()) == {0.0, 2.0}
    assert (out == out[:, :1]).all()  # one mask per sample and channel, shared by the steps


@pytest.mark.parametrize(
    ("data_format", "shape", "mask_shape"),
    [
        ("channels_first", (32, 6, 4, 4), (32, 6, 1, 1)),
        ("channels_last", (32, 4, 4, 6), (32, 1, 1, 6)),
    ],
)
def test_spatial_dropout_2d_drops_feature_maps(data_format, shape, mask_shape):
    x = torch.ones(shape)
    torch.manual_seed(1)
    out = L.SpatialDropout2D(0.25, data_format=data_format)(x)
    torch.manual_seed(1)
    mask = torch.nn.functional.dropout(torch.ones(mask_shape), 0.25)
    torch.testing.assert_close(out, x * mask)


def test_gaussian_noise_and_dropout_are_torch_draws_with_keras_scales():
    x = torch.randn(4, 5)
    torch.manual_seed(2)
    out = L.GaussianNoise(0.3)(x)
    torch.manual_seed(2)
    torch.testing.assert_close(out, x + torch.randn_like(x) * 0.3)
    torch.manual_seed(3)
    out = L.GaussianDropout(0.2)(x)
    torch.manual_seed(3)
    std = math.sqrt(0.2 / 0.8)  # Keras: stddev sqrt(rate / (1 - rate)), mean 1
    torch.testing.assert_close(out, x * (1 + torch.randn_like(x) * std))


def test_gaussian_dropout_statistics():
    out = L.GaussianDropout(0.5)(torch.ones(200_000))
    assert abs(out.mean().item() - 1.0) < 0.01 and abs(out.std().item() - 1.0) < 0.01


def test_argument_errors():
    with pytest.raises(ValueError, match=r"Received: rate=1.0"):
        L.SpatialDropout2D(1.0)
    with pytest.raises(ValueError, match=r"Received: stddev=-0.1"):
        L.GaussianNoise(-0.1)
