"""Reshaping layers against the same computation written in torch, in both layouts."""

import pytest
import torch
import torch.nn.functional as F

from kerasish import layers as L

IMG = torch.randn(2, 3, 5, 6)  # (N, C, H, W)
SEQ = torch.randn(2, 4, 3)  # (N, steps, features)


def nhwc(x):
    return x.movedim(1, -1)


def test_permute_and_repeat_vector():
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(L.Permute((3, 1, 2))(x), x.permute(0, 3, 1, 2))
    v = torch.randn(2, 5)
    out = L.RepeatVector(3)(v)
    assert out.shape == (2, 3, 5)
    torch.testing.assert_close(out, torch.stack([v, v, v], dim=1))


def test_upsampling1d_repeats_steps():
    out = L.UpSampling1D(3)(SEQ)
    torch.testing.assert_close(
        out, F.interpolate(SEQ.transpose(1, 2), scale_factor=3).transpose(1, 2)
    )


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
@pytest.mark.parametrize("size", [2, (2, 3)])
def test_upsampling2d_matches_interpolate_in_both_layouts(interpolation, size):
    factor = (size, size) if isinstance(size, int) else size
    corners = False if interpolation == "bilinear" else None
    ref = F.interpolate(IMG, scale_factor=factor, mode=interpolation, align_corners=corners)
    first = L.UpSampling2D(size, data_format="channels_first", interpolation=interpolation)
    last = L.UpSampling2D(size, data_format="channels_last", interpolation=interpolation)
    torch.testing.assert_close(first(IMG), ref)
    torch.testing.assert_close(last(nhwc(IMG)), nhwc(ref))


def test_zero_padding_1d_and_2d():
    torch.testing.assert_close(L.ZeroPadding1D((1, 2))(SEQ), F.pad(SEQ, (0, 0, 1, 2)))
    torch.testing.assert_close(L.ZeroPadding1D(1)(SEQ).shape, (2, 6, 3))
    for padding, pads in [
        (1, (1, 1, 1, 1)),
        ((1, 2), (2, 2, 1, 1)),
        (((0, 1), (2, 3)), (2, 3, 0, 1)),
    ]:
        ref = F.pad(IMG, pads)
        torch.testing.assert_close(L.ZeroPadding2D(padding, data_format="channels_first")(IMG), ref)
        out = L.ZeroPadding2D(padding, data_format="channels_last")(nhwc(IMG))
        torch.testing.assert_close(out, nhwc(ref))


def test_cropping_1d_and_2d():
    torch.testing.assert_close(L.Cropping1D((1, 2))(torch.randn(2, 6, 3)).shape, (2, 3, 3))
    x = torch.randn(2, 6, 3)
    torch.testing.assert_close(L.Cropping1D(1)(x), x[:, 1:5])
    ref = IMG[:, :, 1:4, 2:5]
    torch.testing.assert_close(
        L.Cropping2D(((1, 1), (2, 1)), data_format="channels_first")(IMG), ref
    )
    out = L.Cropping2D(((1, 1), (2, 1)), data_format="channels_last")(nhwc(IMG))
    torch.testing.assert_close(out, nhwc(ref))
    torch.testing.assert_close(
        L.Cropping2D(1, data_format="channels_first")(IMG), IMG[:, :, 1:4, 1:5]
    )


def test_cropping_and_padding_are_inverse():
    pad = L.ZeroPadding2D(((1, 2), (3, 0)), data_format="channels_first")
    crop = L.Cropping2D(((1, 2), (3, 0)), data_format="channels_first")
    torch.testing.assert_close(crop(pad(IMG)), IMG)


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: L.Permute((1, 3)), r"Expected `dims` to be a permutation of 1\.\.n"),
        (lambda: L.RepeatVector(0), r"Expected `n` to be a positive integer"),
        (lambda: L.UpSampling2D(interpolation="area"), r"Received: interpolation='area'"),
        (lambda: L.ZeroPadding2D(((1,), (2, 3))), r"Expected `padding` to be a non-negative"),
        (lambda: L.Cropping1D(-1), r"Received: cropping=-1"),
        (lambda: L.UpSampling2D(data_format="nhwc"), r"Received: data_format='nhwc'"),
    ],
)
def test_argument_errors(make, pattern):
    with pytest.raises((ValueError, TypeError), match=pattern):
        make()


def test_repeat_vector_rank_error():
    with pytest.raises(ValueError, match=r"Received: x.shape=\(2, 3, 4\)"):
        L.RepeatVector(2)(torch.ones(2, 3, 4))
