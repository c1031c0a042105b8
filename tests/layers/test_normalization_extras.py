"""GroupNormalization and UnitNormalization against torch."""

import pytest
import torch
import torch.nn.functional as F

import kerasish.config as kconfig
from kerasish import layers as L


def test_group_normalization_matches_torch_group_norm():
    x = torch.randn(2, 6, 4, 4)
    layer = L.GroupNormalization(groups=3, axis=1)
    out = layer(x)
    torch.testing.assert_close(out, F.group_norm(x, 3, eps=1e-3))  # scale 1, offset 0 at first
    with torch.no_grad():
        layer.affine.weight.uniform_()
        layer.affine.bias.uniform_()
    ref = F.group_norm(x, 3, layer.affine.weight, layer.affine.bias, eps=1e-3)
    torch.testing.assert_close(layer(x), ref)
    assert sum(p.numel() for p in layer.parameters()) == 12  # Keras: gamma and beta per channel


def test_group_normalization_channels_last_and_no_affine():
    x = torch.randn(2, 4, 4, 6)
    out = L.GroupNormalization(groups=2, axis=-1, center=False, scale=False)(x)
    ref = F.group_norm(x.movedim(-1, 1), 2, eps=1e-3).movedim(1, -1)
    torch.testing.assert_close(out, ref)
    kconfig.set_image_data_format("channels_last")
    try:
        assert L.GroupNormalization().axis == -1
    finally:
        kconfig.reload()
    expected = 1 if kconfig.image_data_format() == "channels_first" else -1
    assert L.GroupNormalization().axis == expected


def test_group_normalization_needs_divisible_channels():
    with pytest.raises(ValueError, match=r"divisible by groups=4\. Received: channels=6"):
        L.GroupNormalization(groups=4, axis=1)(torch.randn(2, 6, 3))


def test_unit_normalization():
    x = torch.randn(3, 4, 5)
    torch.testing.assert_close(L.UnitNormalization()(x), F.normalize(x, dim=-1))
    both = L.UnitNormalization(axis=(1, 2))(x)
    torch.testing.assert_close(
        both, (x.reshape(3, -1) / x.reshape(3, -1).norm(dim=1, keepdim=True)).reshape(3, 4, 5)
    )
    torch.testing.assert_close(L.UnitNormalization()(torch.zeros(1, 3)), torch.zeros(1, 3))
