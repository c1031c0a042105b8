"""Preprocessing layers against torch and NumPy; adapt() computes Keras's statistics."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import kerasish as K
from kerasish import layers as L

IMG = torch.rand(2, 3, 9, 12) * 255


def nhwc(x):
    return x.movedim(1, -1)


def test_rescaling_maps_uint8_to_floats():
    x = torch.tensor([[0, 128, 255]], dtype=torch.uint8)
    out = L.Rescaling(1 / 255)(x)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, x.float() / 255)
    torch.testing.assert_close(L.Rescaling(1 / 127.5, offset=-1)(x), x.float() / 127.5 - 1)
    per_channel = L.Rescaling([1.0, 2.0, 3.0])(torch.ones(2, 4, 4, 3))
    torch.testing.assert_close(per_channel[0, 0, 0], torch.tensor([1.0, 2.0, 3.0]))


def test_normalization_adapt_matches_numpy():
    data = np.random.default_rng(0).normal(3, 2, size=(100, 4)).astype(np.float32)
    layer = L.Normalization()
    layer.adapt(data)
    torch.testing.assert_close(layer.mean, torch.from_numpy(data.mean(0)))
    torch.testing.assert_close(layer.variance, torch.from_numpy(data.var(0)))  # population
    x = torch.from_numpy(data[:5])
    ref = (x - torch.from_numpy(data.mean(0))) / torch.from_numpy(np.sqrt(data.var(0)))
    torch.testing.assert_close(layer(x), ref)


def test_normalization_adapts_over_batches_of_a_loader():
    data = torch.randn(90, 3) * torch.tensor([1.0, 5.0, 0.1]) + 7
    loader = DataLoader(TensorDataset(data, torch.zeros(90)), batch_size=16)
    layer = L.Normalization()
    layer.adapt(loader)
    torch.testing.assert_close(layer.mean, data.mean(0))
    torch.testing.assert_close(layer.variance, data.var(0, unbiased=False))
    first_two = L.Normalization()
    first_two.adapt(loader, steps=2)
    torch.testing.assert_close(first_two.mean, data[:32].mean(0))


def test_normalization_axes_images_and_invert():
    x = torch.rand(8, 5, 5, 3) * 255
    layer = L.Normalization(axis=-1)
    layer.adapt(x)
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2), unbiased=False)
    torch.testing.assert_close(layer(x), (x - mean) / var.sqrt())
    first = L.Normalization(axis=1)  # channels-first images
    first.adapt(x.movedim(-1, 1))
    torch.testing.assert_close(first.mean, mean)
    scalar = L.Normalization(axis=None)
    scalar.adapt(x)
    torch.testing.assert_close(scalar.mean, x.mean())
    inverse = L.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    torch.testing.assert_close(inverse(torch.tensor([[1.0, 1.0]])), torch.tensor([[3.0, 5.0]]))


def test_normalization_zero_variance_uses_keras_epsilon():
    layer = L.Normalization(mean=2.0, variance=0.0)
    torch.testing.assert_close(layer(torch.tensor([2.0, 3.0])), torch.tensor([0.0, 1e7]))


def test_normalization_before_adapt_passes_inputs_through_as_keras():
    # Keras 3.15.1: Sequential([Input((3,)), Normalization()]) builds; before adapt the layer
    # has mean 0 and variance 1 (model(x) == x); adapt then normalizes.
    x = torch.tensor([[1.0, 2.0, 3.0], [5.0, -2.0, 0.5]])
    torch.testing.assert_close(L.Normalization()(x), x)
    norm = L.Normalization()
    model = K.Sequential([K.Input((3,)), norm])
    torch.testing.assert_close(model(x), x)
    norm.adapt(x)
    torch.testing.assert_close(model(x).mean(0), torch.zeros(3), atol=1e-6, rtol=0)
    first = L.Normalization(axis=1)
    first(torch.ones(2, 3, 4, 4))
    assert tuple(first.mean.shape) == (3,) and float(first.variance.sum()) == 3.0


def test_normalization_weights_and_counts_match_keras():
    # Keras 3.15.1: an adapted Normalization over 3 features has 3 non-trainable weights
    # (mean, variance, count) and 7 params; one given mean= and variance= has none.
    adapted = L.Normalization()
    adapted.adapt(torch.rand(10, 3))
    model = K.Sequential([K.Input((3,)), adapted])
    assert [w.name for w in adapted.weights] == ["mean", "variance", "count"]
    assert len(adapted.non_trainable_weights) == 3 and model.count_params() == 7
    given = L.Normalization(mean=0.5, variance=2.0)
    assert K.Sequential([K.Input((3,)), given]).count_params() == 0
    assert given.weights == [] and list(given.state_dict()) == []
    with pytest.raises(ValueError, match="Expected a Normalization made without mean="):
        given.adapt(torch.rand(4, 3))
    # files written before: given statistics in the state dict, no count
    given.load_state_dict({"mean": torch.tensor(0.5), "variance": torch.tensor(2.0)})
    old = {k: v for k, v in adapted.state_dict().items() if k != "count"}
    fresh = L.Normalization()
    fresh.load_state_dict(old)
    torch.testing.assert_close(fresh.mean, adapted.mean)


def test_normalization_errors():
    with pytest.raises(ValueError, match=r"Expected `mean and variance` to be given together"):
        L.Normalization(mean=1.0)


def test_normalization_in_a_model_saves_its_adapted_statistics(tmp_path):
    norm = L.Normalization()
    norm.adapt(torch.randn(40, 3) * 3 + 1)
    model = K.Sequential([norm, L.Dense(2)])
    x = torch.randn(4, 3)
    expected = model(x)
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish")
    torch.testing.assert_close(loaded.layers[0].mean, norm.mean)
    assert torch.equal(loaded(x), expected)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic", "area"])
def test_resizing_matches_interpolate_in_both_layouts(interpolation):
    mode = {"nearest": "nearest-exact"}.get(interpolation, interpolation)
    corners = False if interpolation in ("bilinear", "bicubic") else None
    ref = F.interpolate(IMG, size=(4, 5), mode=mode, align_corners=corners)
    first = L.Resizing(4, 5, interpolation=interpolation, data_format="channels_first")
    last = L.Resizing(4, 5, interpolation=interpolation, data_format="channels_last")
    torch.testing.assert_close(first(IMG), ref)
    torch.testing.assert_close(last(nhwc(IMG)), nhwc(ref))
    torch.testing.assert_close(last(nhwc(IMG)[0]), nhwc(ref)[0])  # unbatched (H, W, C)


def test_resizing_crop_to_aspect_ratio_takes_the_centred_window():
    # a 9x12 image to 4x4: Keras's largest centred square is 9x9 at columns 1..9
    ref = F.interpolate(IMG[:, :, :, 1:10], size=(4, 4), mode="bilinear", align_corners=False)
    out = L.Resizing(4, 4, crop_to_aspect_ratio=True, data_format="channels_first")(IMG)
    torch.testing.assert_close(out, ref)


def test_center_crop():
    x = torch.arange(2 * 3 * 7 * 8.0).reshape(2, 3, 7, 8)
    torch.testing.assert_close(
        L.CenterCrop(3, 4, data_format="channels_first")(x), x[:, :, 2:5, 2:6]
    )
    out = L.CenterCrop(3, 4, data_format="channels_last")(nhwc(x))
    torch.testing.assert_close(out, nhwc(x[:, :, 2:5, 2:6]))
    small = L.CenterCrop(10, 10, data_format="channels_first")(x)
    ref = F.interpolate(x[:, :, :, :7], size=(10, 10), mode="bilinear", align_corners=False)
    torch.testing.assert_close(small, ref)


def test_image_layers_reject_other_ranks():
    with pytest.raises(ValueError, match=r"Received: x.shape=\(2, 3\)"):
        L.Resizing(2, 2)(torch.ones(2, 3))
