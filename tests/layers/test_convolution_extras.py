"""Conv3D, transposed, depthwise and separable convolutions, 3-D pooling: torch references,
Keras's output sizes and parameter counts, both layouts."""

import pytest
import torch
import torch.nn.functional as F

from kerasish import layers as L


def n_params(layer):
    return sum(p.numel() for p in layer.parameters())


def test_conv3d_matches_torch_and_keras_count():
    x = torch.randn(2, 3, 5, 6, 7)
    layer = L.Conv3D(4, 3, data_format="channels_first")
    out = layer(x)
    torch.testing.assert_close(out, F.conv3d(x, layer.conv.weight, layer.conv.bias))
    assert n_params(layer) == 3 * 3 * 3 * 3 * 4 + 4  # Keras: k^3 * C * filters + filters
    last = L.Conv3D(4, 3, data_format="channels_last")
    last(x.movedim(1, -1))
    last.load_state_dict(layer.state_dict())
    torch.testing.assert_close(last(x.movedim(1, -1)), out.movedim(1, -1))


# Keras's conv-transpose lengths: valid L*s + max(k - s, 0), same L*s
@pytest.mark.parametrize(("kernel", "stride"), [(3, 2), (4, 2), (3, 1), (2, 1), (1, 3), (5, 3)])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_conv2d_transpose_sizes_are_keras_s(kernel, stride, padding):
    out = L.Conv2DTranspose(2, kernel, strides=stride, padding=padding)(torch.randn(1, 3, 5, 6))
    expect = [n * stride + (max(kernel - stride, 0) if padding == "valid" else 0) for n in (5, 6)]
    assert list(out.shape[2:]) == expect


def test_conv2d_transpose_values_against_torch():
    x = torch.randn(2, 3, 5, 5)
    valid = L.Conv2DTranspose(4, 3, strides=2, data_format="channels_first")
    out = valid(x)
    ref = F.conv_transpose2d(x, valid.conv.weight, valid.conv.bias, stride=2)
    torch.testing.assert_close(out, ref)
    assert n_params(valid) == 3 * 3 * 3 * 4 + 4
    same = L.Conv2DTranspose(4, 4, strides=2, padding="same", data_format="channels_first")
    out = same(x)
    full = F.conv_transpose2d(x, same.conv.weight, same.conv.bias, stride=2)  # 12 x 12
    torch.testing.assert_close(out, full[:, :, 1:11, 1:11])  # TF crops 2 = 1 + 1
    odd = L.Conv2DTranspose(4, 3, strides=1, padding="same", data_format="channels_first")
    out = odd(x)
    ref = F.conv_transpose2d(x, odd.conv.weight, odd.conv.bias, padding=1)
    torch.testing.assert_close(out, ref)


def test_conv2d_transpose_channels_last_and_1d_3d():
    x = torch.randn(2, 3, 5, 5)
    first = L.Conv2DTranspose(4, 3, strides=2, padding="same", data_format="channels_first")
    last = L.Conv2DTranspose(4, 3, strides=2, padding="same", data_format="channels_last")
    out = first(x)
    last(x.movedim(1, -1))
    last.load_state_dict(first.state_dict())
    torch.testing.assert_close(last(x.movedim(1, -1)), out.movedim(1, -1))
    seq = L.Conv1DTranspose(2, 3, strides=2, data_format="channels_last")(torch.randn(2, 5, 3))
    assert seq.shape == (2, 11, 2)
    vol = L.Conv3DTranspose(2, 2, strides=2, data_format="channels_first")
    assert vol(torch.randn(1, 3, 2, 3, 4)).shape == (1, 2, 4, 6, 8)


def test_depthwise_conv2d_matches_grouped_torch_conv_and_keras_count():
    x = torch.randn(2, 4, 8, 8)
    layer = L.DepthwiseConv2D(3, depth_multiplier=2, data_format="channels_first")
    out = layer(x)
    assert layer.conv.groups == 4 and tuple(layer.conv.weight.shape) == (8, 1, 3, 3)
    torch.testing.assert_close(out, F.conv2d(x, layer.conv.weight, layer.conv.bias, groups=4))
    assert n_params(layer) == 3 * 3 * 4 * 2 + 8  # Keras: k*k*C*multiplier + C*multiplier
    strided = L.DepthwiseConv2D(3, strides=2, padding="same", data_format="channels_first")
    out = strided(x)
    ref = F.conv2d(F.pad(x, (0, 1, 0, 1)), strided.conv.weight, strided.conv.bias, 2, groups=4)
    torch.testing.assert_close(out, ref)  # TF's 'same': the odd pixel at the bottom/right


def test_separable_conv2d_is_depthwise_then_pointwise():
    x = torch.randn(2, 4, 9, 9)
    layer = L.SeparableConv2D(
        6, 3, depth_multiplier=2, padding="same", data_format="channels_first"
    )
    out = layer(x)
    depthwise, pointwise = layer.conv
    mid = F.conv2d(x, depthwise.weight, None, padding=1, groups=4)
    torch.testing.assert_close(out, F.conv2d(mid, pointwise.weight, pointwise.bias))
    assert depthwise.bias is None
    assert n_params(layer) == 3 * 3 * 4 * 2 + 4 * 2 * 6 + 6  # Keras's three weights


def test_separable_and_depthwise_1d_channels_last():
    x = torch.randn(2, 7, 3)  # (N, steps, features)
    sep = L.SeparableConv1D(5, 3, data_format="channels_last")
    out = sep(x)
    depthwise, pointwise = sep.conv
    mid = F.conv1d(x.transpose(1, 2), depthwise.weight, groups=3)
    ref = F.conv1d(mid, pointwise.weight, pointwise.bias).transpose(1, 2)
    torch.testing.assert_close(out, ref)
    dw = L.DepthwiseConv1D(3, data_format="channels_last")
    assert dw(x).shape == (2, 5, 3)


def test_depthwise_loads_weights_before_its_first_call():
    built = L.DepthwiseConv2D(3, depth_multiplier=3)
    x = torch.randn(1, 2, 6, 6)
    expected = built(x)
    fresh = L.DepthwiseConv2D(3, depth_multiplier=3)
    fresh.load_state_dict(built.state_dict())
    torch.testing.assert_close(fresh(x), expected)
    assert fresh.conv.groups == 2


@pytest.mark.parametrize(
    ("layer", "ref"),
    [
        (L.MaxPooling3D(data_format="channels_first"), lambda x: F.max_pool3d(x, 2)),
        (
            L.AveragePooling3D((1, 2, 2), data_format="channels_first"),
            lambda x: F.avg_pool3d(x, (1, 2, 2)),
        ),
        (L.GlobalAveragePooling3D(data_format="channels_first"), lambda x: x.mean((2, 3, 4))),
        (L.GlobalMaxPooling3D(data_format="channels_first"), lambda x: x.amax((2, 3, 4))),
    ],
    ids=lambda v: type(v).__name__,
)
def test_pooling_3d(layer, ref):
    x = torch.randn(2, 3, 4, 6, 6)
    torch.testing.assert_close(layer(x), ref(x))
    twin = type(layer).from_config({**layer.get_config(), "data_format": "channels_last"})
    out = twin(x.movedim(1, -1))
    expected = ref(x)
    torch.testing.assert_close(out, expected.movedim(1, -1) if expected.ndim > 2 else expected)
