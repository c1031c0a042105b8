"""Augmentation layers: identity in eval; exact torch references for the fixed transforms."""

import pytest
import torch
import torch.nn.functional as F

import kerasish as K
from kerasish import layers as L

X = torch.rand(4, 3, 8, 8) * 255


def nhwc(x):
    return x.movedim(1, -1)


@pytest.mark.parametrize(
    "layer",
    [
        L.RandomFlip(),
        L.RandomRotation(0.3),
        L.RandomZoom(0.3),
        L.RandomTranslation(0.2, 0.2),
        L.RandomContrast(0.5),
    ],
    ids=lambda m: type(m).__name__,
)
def test_identity_in_eval_and_active_in_training(layer):
    assert torch.equal(layer.eval()(X), X)
    layer.train()
    outs = [layer(X) for _ in range(3)]
    assert all(o.shape == X.shape for o in outs)
    assert any(not torch.allclose(o, X) for o in outs)


def test_flip_gives_each_image_or_its_mirror():
    out = L.RandomFlip("horizontal", seed=0, data_format="channels_first")(X)
    for o, x in zip(out, X):
        assert torch.equal(o, x) or torch.equal(o, x.flip(-1))
    many = L.RandomFlip("vertical", seed=1)(X.repeat(8, 1, 1, 1))
    flipped = [torch.equal(o, x.flip(-2)) for o, x in zip(many, X.repeat(8, 1, 1, 1))]
    assert 0 < sum(flipped) < len(flipped)  # per image, not per batch


def test_seed_makes_the_draws_repeatable():
    a = L.RandomRotation(0.2, seed=7)(X)
    b = L.RandomRotation(0.2, seed=7)(X)
    assert torch.equal(a, b)


def test_rotation_by_a_quarter_turn_is_rot90_counter_clockwise():
    for data_format, x in (("channels_first", X), ("channels_last", nhwc(X))):
        layer = L.RandomRotation((0.25, 0.25), data_format=data_format)
        ref = torch.rot90(X, 1, dims=(2, 3))  # counter-clockwise, as Keras's positive factor
        out = layer(x)
        expected = ref if data_format == "channels_first" else nhwc(ref)
        torch.testing.assert_close(out, expected, atol=1e-3, rtol=1e-5)  # cos(pi/2) ~ 4e-8


def test_translation_by_whole_pixels_shifts_and_fills():
    layer = L.RandomTranslation((0.25, 0.25), (-0.125, -0.125), fill_mode="constant")
    out = layer(X)  # 2 pixels down, 1 pixel left, zeros where nothing comes in
    ref = torch.zeros_like(X)
    ref[:, :, 2:, :-1] = X[:, :, :-2, 1:]
    torch.testing.assert_close(out, ref)
    filled = L.RandomTranslation((0.25, 0.25), 0.0, fill_mode="constant", fill_value=5.0)(X)
    torch.testing.assert_close(filled[:, :, :2], torch.full_like(X[:, :, :2], 5.0))


def test_zoom_in_by_two_samples_the_centre():
    out = L.RandomZoom((-0.5, -0.5), interpolation="bilinear")(X)
    # the same map written with torch: output pixel p reads input point p / 2 around the centre
    theta = torch.tensor([[0.5, 0.0, 0.0], [0.0, 0.5, 0.0]]).expand(4, 2, 3)
    grid = F.affine_grid(theta, list(X.shape), align_corners=False)
    ref = F.grid_sample(X, grid, padding_mode="reflection", align_corners=False)
    torch.testing.assert_close(out, ref)
    # zooming in 2x on an 8x8 image shows its central 4x4 pixels, each twice as large
    nearest = L.RandomZoom((-0.5, -0.5), interpolation="nearest")(X)
    torch.testing.assert_close(
        nearest, X[:, :, 2:6, 2:6].repeat_interleave(2, 2).repeat_interleave(2, 3)
    )


def test_random_crop_in_training_and_inference():
    layer = L.RandomCrop(5, 6, seed=0)
    out = layer(X)
    windows = [X[:, :, t : t + 5, c : c + 6] for t in range(4) for c in range(3)]
    assert any(torch.equal(out, w) for w in windows)
    crop_h = int(8 * 5 / 6)  # Keras's window for an 8x8 image and a 5:6 target: 6x8
    top = (8 - crop_h) // 2
    ref = F.interpolate(
        X[:, :, top : top + crop_h, :], size=(5, 6), mode="bilinear", align_corners=False
    )
    torch.testing.assert_close(layer.eval()(X), ref)


def test_contrast_matches_the_formula_and_clips():
    layer = L.RandomContrast(
        (0.5, 0.5), value_range=(0, 255)
    )  # lower 0.5, upper 0.5: f in [0.5, 1.5]
    torch.manual_seed(4)
    out = layer(X)
    torch.manual_seed(4)
    f = (0.5 + torch.rand(4)).reshape(4, 1, 1, 1)
    mean = X.mean((2, 3), keepdim=True)
    torch.testing.assert_close(out, ((X - mean) * f + mean).clamp(0, 255))


def test_augmentation_runs_in_fit_and_not_in_predict():
    model = K.Sequential(
        [
            L.RandomFlip(),
            L.RandomRotation(0.1),
            L.Conv2D(2, 3),
            L.GlobalAveragePooling2D(),
            L.Dense(2),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    y = torch.randint(0, 2, (4,))
    model.fit(X / 255, y, epochs=1, batch_size=2, verbose=0)
    p1, p2 = model.predict(X / 255, verbose=0), model.predict(X / 255, verbose=0)
    assert torch.equal(torch.as_tensor(p1), torch.as_tensor(p2))


def test_argument_errors():
    with pytest.raises(ValueError, match=r"Received: mode='diagonal'"):
        L.RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"Received: fill_mode='wrap'"):
        L.RandomRotation(0.1, fill_mode="wrap")
    with pytest.raises(ValueError, match=r"Received: height_factor=\(-1.0, 0.0\)"):
        L.RandomZoom((-1.0, 0.0))
    with pytest.raises(ValueError, match=r"Received: factor=\(0.5, 0.1\)"):
        L.RandomRotation((0.5, 0.1))
