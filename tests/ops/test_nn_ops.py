"""kerasish.ops.nn against torch, NumPy and Keras 3's numbers (Keras 3.15.1 run, torch backend)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kerasish import config, ops

X = np.arange(1 * 5 * 5 * 2, dtype=np.float32).reshape(1, 5, 5, 2) / 10
K = (np.arange(3 * 3 * 2 * 3, dtype=np.float32).reshape(3, 3, 2, 3) - 27) / 20

# Keras 3.15.1 run, torch backend: keras.ops.<op>(X, ...) with the arguments in the test.
KERAS_CONV_SAME_S2 = [
    [[4.68, 4.94, 5.2], [7.5, 8.07, 8.64], [4.2, 4.7, 5.2]],
    [[9.36, 10.65, 11.94], [8.28, 10.485, 12.69], [0.0, 1.65, 3.3]],
    [[-9.0, -7.54, -6.08], [-21.66, -19.29, -16.92], [-21.0, -19.3, -17.6]],
]
KERAS_CONV_SAME_EVEN = [
    [1.28, 1.12, 0.96, 0.8, -0.8], [0.48, 0.32, 0.16, 0.0, -2.0],
    [-0.32, -0.48, -0.64, -0.8, -3.2], [-1.12, -1.28, -1.44, -1.6, -4.4],
    [-8.2, -8.6, -9.0, -9.4, -6.78],
]  # fmt: skip
KERAS_AVG_SAME = [[0.6, 0.9, 1.2], [2.1, 2.4, 2.7], [3.6, 3.9, 4.2]]
KERAS_MAX_SAME = [[1.2, 1.6, 1.8], [3.2, 3.6, 3.8], [4.2, 4.6, 4.8]]
KERAS_DEPTHWISE = [[5.52, 6.6, 7.68, 8.85], [5.16, 6.42, 7.68, 9.03], [4.8, 6.24, 7.68, 9.21]]


def _np_conv2d_same(x, k, stride):
    """A plain NumPy NHWC conv with TensorFlow's "same" padding (odd pixel after)."""
    n, h, w, _ = x.shape
    kh, kw, _, out = k.shape
    oh, ow = math.ceil(h / stride), math.ceil(w / stride)
    ph = max((oh - 1) * stride + kh - h, 0)
    pw = max((ow - 1) * stride + kw - w, 0)
    xp = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    y = np.zeros((n, oh, ow, out))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * stride : i * stride + kh, j * stride : j * stride + kw, :]
            y[:, i, j, :] = np.einsum("nhwc,hwco->no", patch, k)
    return y


def test_conv_same_matches_keras_and_numpy():
    out = ops.conv(X, K, strides=2, padding="same", data_format="channels_last")
    assert out.shape == (1, 3, 3, 3)
    np.testing.assert_allclose(out[0].numpy(), KERAS_CONV_SAME_S2, atol=1e-4)
    np.testing.assert_allclose(out.numpy(), _np_conv2d_same(X, K, 2), atol=1e-4)
    k1 = (np.arange(8, dtype=np.float32).reshape(2, 2, 2, 1) - 4) / 5
    even = ops.conv(X, k1, padding="same", data_format="channels_last")
    np.testing.assert_allclose(even[0, :, :, 0].numpy(), KERAS_CONV_SAME_EVEN, atol=1e-4)


def test_conv_valid_matches_torch_in_both_layouts():
    x = torch.randn(2, 3, 9, 8)
    weight = torch.randn(4, 3, 3, 2)  # torch (out, in, kh, kw)
    kernel = weight.permute(2, 3, 1, 0)  # Keras (kh, kw, in, out)
    ref = F.conv2d(x, weight, stride=(2, 1), dilation=(1, 2))
    first = ops.conv(x, kernel, strides=(2, 1), dilation_rate=(1, 2), data_format="channels_first")
    torch.testing.assert_close(first, ref)
    last = ops.conv(x.permute(0, 2, 3, 1), kernel, strides=(2, 1), dilation_rate=(1, 2),
                    data_format="channels_last")  # fmt: skip
    torch.testing.assert_close(last, ref.permute(0, 2, 3, 1))


def test_conv_1d_3d_groups_and_default_format():
    x = torch.randn(2, 4, 10)
    weight = torch.randn(6, 2, 3)  # groups=2
    out = ops.conv(x, weight.permute(2, 1, 0), data_format="channels_first")
    torch.testing.assert_close(out, F.conv1d(x, weight, groups=2))
    x3 = torch.randn(1, 2, 5, 5, 5)
    w3 = torch.randn(3, 2, 2, 2, 2)
    torch.testing.assert_close(
        ops.conv(x3, w3.permute(2, 3, 4, 1, 0), data_format="channels_first"), F.conv3d(x3, w3)
    )
    before = config.image_data_format()
    try:
        config.set_image_data_format("channels_last")
        assert ops.conv(torch.ones(1, 6, 6, 2), torch.ones(3, 3, 2, 5)).shape == (1, 4, 4, 5)
        config.set_image_data_format("channels_first")
        assert ops.conv(torch.ones(1, 2, 6, 6), torch.ones(3, 3, 2, 5)).shape == (1, 5, 4, 4)
    finally:
        config.set_image_data_format(before)
    with pytest.raises(ValueError, match="padding"):
        ops.conv(x, weight.permute(2, 1, 0), padding="full", data_format="channels_first")


def test_depthwise_conv_matches_keras_and_torch():
    dk = (np.arange(36, dtype=np.float32).reshape(3, 3, 2, 2) - 18) / 10
    out = ops.depthwise_conv(X, dk, data_format="channels_last")
    np.testing.assert_allclose(out[0, 0].numpy(), KERAS_DEPTHWISE, atol=1e-4)
    x = torch.tensor(X).permute(0, 3, 1, 2)
    weight = torch.tensor(dk).permute(2, 3, 0, 1).reshape(4, 1, 3, 3)  # (in*mult, 1, kh, kw)
    torch.testing.assert_close(out.permute(0, 3, 1, 2), F.conv2d(x, weight, groups=2))


def test_pooling_matches_keras_and_torch():
    avg = ops.average_pool(X, 3, strides=2, padding="same", data_format="channels_last")
    np.testing.assert_allclose(avg[0, :, :, 0].numpy(), KERAS_AVG_SAME, atol=1e-5)
    mx = ops.max_pool(X, 2, strides=2, padding="same", data_format="channels_last")
    np.testing.assert_allclose(mx[0, :, :, 0].numpy(), KERAS_MAX_SAME, atol=1e-5)
    x = torch.randn(2, 3, 9, 7)
    torch.testing.assert_close(ops.max_pool(x, (3, 2), data_format="channels_first"),
                               F.max_pool2d(x, (3, 2)))  # fmt: skip
    torch.testing.assert_close(ops.average_pool(x, 2, strides=1, data_format="channels_first"),
                               F.avg_pool2d(x, 2, 1))  # fmt: skip
    x1 = torch.randn(2, 10, 3)  # (batch, steps, features)
    ref = F.max_pool1d(x1.transpose(1, 2), 2).transpose(1, 2)
    torch.testing.assert_close(ops.max_pool(x1, 2, data_format="channels_last"), ref)


def test_crossentropies_match_keras():
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], np.float32)
    o = np.array([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]], np.float32)
    np.testing.assert_allclose(ops.categorical_crossentropy(t, o).numpy(),
                               [0.3566749691963196, 1.2039728164672852], rtol=1e-6)  # fmt: skip
    np.testing.assert_allclose(ops.categorical_crossentropy(t, o, from_logits=True).numpy(),
                               [0.7679495811462402, 1.1330687999725342], rtol=1e-6)  # fmt: skip
    np.testing.assert_allclose(ops.sparse_categorical_crossentropy(np.array([1, 0]), o).numpy(),
                               [0.3566749691963196, 1.2039728164672852], rtol=1e-6)  # fmt: skip
    logits = torch.randn(4, 5)
    labels = torch.tensor([0, 4, 2, 1])
    torch.testing.assert_close(
        ops.sparse_categorical_crossentropy(labels[:, None], logits, from_logits=True),
        F.cross_entropy(logits, labels, reduction="none"),
    )
    bt, bo = np.array([0.0, 1.0, 1.0], np.float32), np.array([0.0, 0.8, 1.0], np.float32)
    np.testing.assert_allclose(ops.binary_crossentropy(bt, bo).numpy(),
                               [1.000000082740371e-07, 0.2231435328722, 1.1920928955078125e-07],
                               rtol=1e-4)  # fmt: skip
    bl = np.array([-1.0, 2.0, 0.0], np.float32)
    np.testing.assert_allclose(ops.binary_crossentropy(bt, bl, from_logits=True).numpy(),
                               [0.3132617473602295, 0.12692801654338837, 0.6931471824645996],
                               rtol=1e-6)  # fmt: skip
    with pytest.raises(ValueError, match="same shape"):
        ops.binary_crossentropy(bt, bo[:2])


def test_one_hot_moments_batch_norm_normalize():
    np.testing.assert_array_equal(
        ops.one_hot(np.array([0, 2, -1]), 3).numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
    )  # fmt: skip  Keras run
    assert ops.one_hot(torch.tensor([[1, 0]]), 3, axis=1).shape == (1, 3, 2)
    assert ops.one_hot(torch.tensor([1]), 2, dtype="int32").dtype == torch.int32
    np.testing.assert_array_equal(ops.multi_hot(np.array([[0, 2], [1, 1]]), 3).numpy(),
                                  [[1, 0, 1], [0, 1, 0]])  # fmt: skip
    mean, var = ops.moments(np.array([[1.0, 2.0], [3.0, 6.0]], np.float32), axes=[0])
    assert mean.tolist() == [2.0, 4.0] and var.tolist() == [1.0, 4.0]  # Keras run
    half_mean, _ = ops.moments(torch.full((10_000,), 0.1, dtype=torch.float16), axes=0)
    assert half_mean.dtype == torch.float16
    out = ops.batch_normalization(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), np.array([2.0, 3.0]),
                                  np.array([1.0, 4.0]), axis=-1, offset=np.array([0.5, 0.0]),
                                  scale=np.array([2.0, 1.0]))  # fmt: skip
    np.testing.assert_allclose(
        out.numpy(), [[-1.499001, -0.499938], [2.499001, 0.499938]], atol=1e-6
    )  # fmt: skip  Keras run
    x = torch.randn(2, 3, 4, 5)
    ref = F.batch_norm(x, torch.ones(3), torch.full((3,), 2.0), eps=1e-3)
    torch.testing.assert_close(
        ops.batch_normalization(x, torch.ones(3), torch.full((3,), 2.0), axis=1), ref
    )
    np.testing.assert_allclose(
        ops.normalize(np.array([[3.0, 4.0], [0.0, 0.0]])).numpy(), [[0.6, 0.8], [0.0, 0.0]]
    )  # fmt: skip  Keras run
    torch.testing.assert_close(ops.normalize(x, axis=1), F.normalize(x, dim=1, eps=1e-7))


ACTIVATIONS = [
    ("relu", F.relu), ("relu6", F.relu6), ("sigmoid", torch.sigmoid), ("softplus", F.softplus),
    ("softsign", F.softsign), ("silu", F.silu), ("swish", F.silu), ("log_sigmoid", F.logsigmoid),
    ("hard_sigmoid", lambda x: F.relu6(x + 3) / 6), ("hard_silu", lambda x: x * F.relu6(x + 3) / 6),
    ("selu", F.selu), ("elu", F.elu), ("celu", F.celu), ("mish", F.mish),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2)), ("gelu", lambda x: F.gelu(x, approximate="tanh")),
    ("softmax", lambda x: torch.softmax(x, -1)), ("log_softmax", lambda x: torch.log_softmax(x, -1)),
    ("glu", lambda x: F.glu(x, -1)), ("hard_tanh", F.hardtanh), ("tanh_shrink", F.tanhshrink),
]  # fmt: skip


@pytest.mark.parametrize("name,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_match_torch(name, ref):
    x = torch.linspace(-6, 6, 24, dtype=torch.float64).reshape(2, 12)
    torch.testing.assert_close(getattr(ops, name)(x), ref(x))


def test_gelu_default_is_keras_ops_approximate():
    # keras.ops.gelu([1.0]) = 0.8411920070648193 (Keras 3.15.1 run): the tanh form.
    assert ops.gelu(torch.tensor([1.0])).item() == pytest.approx(0.8411920070648193, rel=1e-6)
    assert ops.nn.softmax is ops.softmax
