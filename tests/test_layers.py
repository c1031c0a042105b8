"""Tests for kerasish.layers: shapes, laziness, Keras semantics, configs and argument errors."""

import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parameter import UninitializedParameter

from kerasish import layers
from tests.layers import cases as added


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def has_uninitialized(module: nn.Module) -> bool:
    return any(isinstance(p, UninitializedParameter) for p in module.parameters())


def assert_built(module: nn.Module) -> None:
    params = list(module.parameters())
    assert params, "expected the layer to own parameters"
    assert not has_uninitialized(module)
    assert all(type(p) is nn.Parameter for p in params)


def shapes(out):
    if isinstance(out, tuple):
        return tuple(tuple(o.shape) for o in out)
    return tuple(out.shape)


# ------------------------------------------------------------------------- activations

X_ACT = torch.linspace(-4.0, 4.0, 24).reshape(3, 8)

ACTIVATION_REFERENCES = {
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softmax": lambda x: torch.softmax(x, dim=-1),
    "log_softmax": lambda x: torch.log_softmax(x, dim=-1),
    "gelu": F.gelu,
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "silu": F.silu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
    "relu6": F.relu6,
    "hard_sigmoid": lambda x: F.relu6(x + 3.0) / 6.0,
    "exponential": torch.exp,
    "linear": lambda x: x,
}


@pytest.mark.parametrize("name", sorted(ACTIVATION_REFERENCES))
def test_activation_names_compute_keras_functions(name):
    module = layers.get_activation(name)
    assert isinstance(module, nn.Module)
    torch.testing.assert_close(module(X_ACT), ACTIVATION_REFERENCES[name](X_ACT))


def test_get_activation_none_module_class_and_callable():
    assert isinstance(layers.get_activation(None), nn.Identity)
    relu = nn.ReLU()
    assert layers.get_activation(relu) is relu
    assert isinstance(layers.get_activation(nn.Tanh), nn.Tanh)
    wrapped = layers.get_activation(torch.abs)
    assert isinstance(wrapped, nn.Module)
    torch.testing.assert_close(wrapped(X_ACT), X_ACT.abs())


def test_get_activation_unknown_name_lists_the_accepted_ones():
    with pytest.raises(ValueError, match=r"Could not interpret activation identifier\.") as info:
        layers.get_activation("foo")
    message = str(info.value)
    assert "'relu'" in message and "'softmax'" in message
    assert message.endswith("Received: activation='foo'")


def test_get_activation_rejects_non_callables():
    with pytest.raises(TypeError, match=r"Expected `activation`.*Received: activation=42"):
        layers.get_activation(42)


def test_activation_layer():
    layer = layers.Activation("tanh")
    assert isinstance(layer.activation, nn.Tanh)
    torch.testing.assert_close(layer(X_ACT), torch.tanh(X_ACT))
    assert repr(layer) == "Activation('tanh')"


# ------------------------------------------------------------------------- Dense


@pytest.mark.parametrize(
    ("in_shape", "out_shape"), [((4, 10), (4, 16)), ((2, 5, 10), (2, 5, 16)), ((10,), (16,))]
)
def test_dense_shapes_on_last_axis(in_shape, out_shape):
    assert layers.Dense(16)(torch.randn(in_shape)).shape == out_shape


def test_dense_is_lazy_until_first_call():
    layer = layers.Dense(16)
    assert isinstance(layer.linear.weight, UninitializedParameter)
    assert isinstance(layer.linear.bias, UninitializedParameter)
    assert not layer.built
    layer(torch.randn(3, 10))
    assert_built(layer)
    assert layer.built
    assert layer.linear.in_features == 10
    assert layer.linear.weight.shape == (16, 10)


def test_dense_builds_in_the_input_dtype():
    layer = layers.Dense(2)
    out = layer(torch.randn(3, 4, dtype=torch.float64))
    assert out.dtype == torch.float64
    assert layer.linear.weight.dtype == torch.float64


def test_dense_keeps_float32_weights_when_built_under_autocast():
    layer = layers.Dense(2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        layer(torch.randn(3, 4, dtype=torch.bfloat16))
    assert layer.linear.weight.dtype == torch.float32


def test_dense_softmax_rows_sum_to_one():
    out = layers.Dense(5, activation="softmax")(torch.randn(8, 3) * 10)
    assert (out > 0).all()
    torch.testing.assert_close(out.sum(dim=1), torch.ones(8))


def test_dense_activation_attribute_and_effect():
    layer = layers.Dense(6, activation="relu")
    assert isinstance(layer.activation, nn.ReLU)
    assert (layer(torch.randn(20, 3)) >= 0).all()
    assert isinstance(layers.Dense(6).activation, nn.Identity)


def test_dense_without_bias():
    layer = layers.Dense(3, use_bias=False)
    assert layer.linear.bias is None
    assert torch.equal(layer(torch.zeros(2, 4)), torch.zeros(2, 3))


def test_dense_repr_is_keras_like():
    assert repr(layers.Dense(128, activation="relu")) == "Dense(128, activation='relu')"
    assert repr(layers.Dense(4)) == "Dense(4)"
    assert repr(layers.Dense(4, use_bias=False)) == "Dense(4, use_bias=False)"


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        (
            {"units": 0},
            ValueError,
            r"Expected `units` to be a positive integer\. Received: units=0",
        ),
        ({"units": -3}, ValueError, r"Received: units=-3"),
        ({"units": "8"}, TypeError, r"Expected `units` to be an integer\. Received: units='8'"),
        ({"units": 2.0}, TypeError, r"Received: units=2\.0"),
        ({"units": 2, "use_bias": "yes"}, TypeError, r"Received: use_bias='yes'"),
        ({"units": 2, "activation": "foo"}, ValueError, r"Received: activation='foo'"),
    ],
)
def test_dense_argument_errors(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        layers.Dense(**kwargs)


# ------------------------------------------------------------------------- convolutions


@pytest.mark.parametrize(
    ("kwargs", "in_hw", "out_hw"),
    [
        ({"kernel_size": 3}, (10, 10), (8, 8)),
        ({"kernel_size": 3, "padding": "same"}, (10, 9), (10, 9)),
        ({"kernel_size": 3, "strides": 2, "padding": "same"}, (10, 9), (5, 5)),
        ({"kernel_size": 3, "strides": 2, "padding": "same"}, (7, 7), (4, 4)),
        ({"kernel_size": 5, "strides": 3, "padding": "same"}, (10, 10), (4, 4)),
        ({"kernel_size": 3, "strides": 2}, (10, 10), (4, 4)),
        ({"kernel_size": 3, "dilation_rate": 2}, (10, 10), (6, 6)),
        ({"kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (10, 10), (10, 10)),
        ({"kernel_size": (1, 3)}, (10, 10), (10, 8)),
        ({"kernel_size": 2, "padding": "SAME"}, (10, 10), (10, 10)),
        ({"kernel_size": 3, "strides": (2, 1), "padding": "same"}, (9, 9), (5, 9)),
    ],
)
def test_conv2d_output_shapes(kwargs, in_hw, out_hw):
    out = layers.Conv2D(8, **kwargs)(torch.randn(2, 3, *in_hw))
    assert out.shape == (2, 8, *out_hw)


@pytest.mark.parametrize("size", [7, 8, 9, 16, 31])
def test_conv2d_same_stride2_gives_ceil_half(size):
    out = layers.Conv2D(4, 3, strides=2, padding="same")(torch.randn(1, 2, size, size))
    assert out.shape[2:] == (math.ceil(size / 2), math.ceil(size / 2))


@pytest.mark.parametrize(
    ("kernel", "strides", "size", "pads"),
    [
        (3, 2, 8, (0, 1, 0, 1)),  # odd total: the extra row/column goes bottom/right
        (3, 2, 9, (1, 1, 1, 1)),
        (2, 1, 6, (0, 1, 0, 1)),  # even kernel, stride 1
        (3, 1, 6, (1, 1, 1, 1)),
        (4, 2, 6, (1, 1, 1, 1)),
    ],
)
def test_conv2d_same_pads_like_tensorflow(kernel, strides, size, pads):
    layer = layers.Conv2D(3, kernel, strides=strides, padding="same")
    x = torch.randn(2, 2, size, size)
    out = layer(x)
    expected = F.conv2d(F.pad(x, pads), layer.conv.weight, layer.conv.bias, stride=strides)
    torch.testing.assert_close(out, expected)


def test_conv2d_is_lazy_over_channels():
    layer = layers.Conv2D(8, 3, activation="relu")
    assert has_uninitialized(layer)
    assert not layer.built
    out = layer(torch.randn(2, 5, 6, 6))
    assert_built(layer)
    assert layer.conv.in_channels == 5
    assert layer.conv.weight.shape == (8, 5, 3, 3)
    assert isinstance(layer.activation, nn.ReLU)
    assert (out >= 0).all()


def test_conv2d_repr():
    layer = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")
    assert repr(layer) == "Conv2D(32, 3, strides=2, padding='same', activation='relu')"
    assert repr(layers.Conv2D(4, (1, 3))) == "Conv2D(4, (1, 3))"


@pytest.mark.parametrize(
    ("kwargs", "length", "out_length"),
    [
        ({"kernel_size": 3}, 11, 9),
        ({"kernel_size": 3, "padding": "same"}, 11, 11),
        ({"kernel_size": 3, "strides": 2, "padding": "same"}, 11, 6),
        ({"kernel_size": 4, "strides": 2, "padding": "same"}, 10, 5),
        ({"kernel_size": 3, "dilation_rate": 3}, 11, 5),
    ],
)
def test_conv1d_output_shapes(kwargs, length, out_length):
    layer = layers.Conv1D(6, **kwargs)
    assert layer(torch.randn(2, 4, length)).shape == (2, 6, out_length)
    assert layer.conv.in_channels == 4


def test_conv1d_same_stride2_pads_like_tensorflow():
    layer = layers.Conv1D(2, 3, strides=2, padding="same")
    x = torch.randn(1, 3, 8)
    out = layer(x)
    expected = F.conv1d(F.pad(x, (0, 1)), layer.conv.weight, layer.conv.bias, stride=2)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (
            lambda: layers.Conv2D(8, 3, padding="full"),
            ValueError,
            r"Expected `padding` to be one of 'valid', 'same'\. Received: padding='full'",
        ),
        (lambda: layers.Conv2D(0, 3), ValueError, r"Received: filters=0"),
        (lambda: layers.Conv2D(8, (3,)), ValueError, r"Received: kernel_size=\(3,\)"),
        (lambda: layers.Conv2D(8, 3, strides=0), ValueError, r"Received: strides=0"),
        (lambda: layers.Conv1D(8, (3, 3)), ValueError, r"Received: kernel_size=\(3, 3\)"),
        (lambda: layers.Conv1D(8, 3, dilation_rate=-1), ValueError, r"dilation_rate=-1"),
    ],
)
def test_conv_argument_errors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


# ------------------------------------------------------------------------- pooling


@pytest.mark.parametrize(
    ("layer", "in_hw", "out_hw"),
    [
        (layers.MaxPooling2D(), (8, 8), (4, 4)),
        (layers.MaxPooling2D(), (7, 7), (3, 3)),
        (layers.MaxPooling2D(padding="same"), (7, 7), (4, 4)),
        (layers.MaxPooling2D(3, 1, padding="same"), (5, 6), (5, 6)),
        (layers.MaxPooling2D((2, 3)), (8, 9), (4, 3)),
        (layers.AveragePooling2D(), (8, 8), (4, 4)),
        (layers.AveragePooling2D(3, strides=2), (9, 9), (4, 4)),
        (layers.AveragePooling2D(3, strides=2, padding="same"), (9, 8), (5, 4)),
    ],
)
def test_pooling2d_output_shapes(layer, in_hw, out_hw):
    assert layer(torch.randn(2, 3, *in_hw)).shape == (2, 3, *out_hw)


def test_pooling2d_valid_matches_torch():
    x = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(layers.MaxPooling2D()(x), F.max_pool2d(x, 2))
    torch.testing.assert_close(layers.AveragePooling2D()(x), F.avg_pool2d(x, 2))


def test_max_pooling_same_never_picks_the_padding():
    out = layers.MaxPooling2D(padding="same")(-torch.ones(1, 1, 7, 7))
    assert torch.equal(out, -torch.ones(1, 1, 4, 4))


def test_average_pooling_same_excludes_the_padding():
    x = torch.arange(9.0).reshape(1, 1, 3, 3)
    out = layers.AveragePooling2D(padding="same")(x)
    expected = torch.tensor([[[[2.0, 3.5], [6.5, 8.0]]]])  # Keras/TensorFlow values
    torch.testing.assert_close(out, expected)
    ones = layers.AveragePooling2D(3, strides=2, padding="same")(torch.ones(1, 2, 8, 8))
    torch.testing.assert_close(ones, torch.ones(1, 2, 4, 4))


def test_pooling1d():
    x = torch.randn(2, 3, 9)
    assert layers.MaxPooling1D()(x).shape == (2, 3, 4)
    assert layers.MaxPooling1D(2, padding="same")(x).shape == (2, 3, 5)
    assert layers.AveragePooling1D(3, strides=1)(x).shape == (2, 3, 7)
    torch.testing.assert_close(layers.MaxPooling1D(3)(x), F.max_pool1d(x, 3))
    out = layers.AveragePooling1D(2, padding="same")(torch.tensor([[[0.0, 1.0, 2.0]]]))
    torch.testing.assert_close(out, torch.tensor([[[0.5, 2.0]]]))


def test_pooling_strides_default_to_pool_size():
    layer = layers.MaxPooling2D(3)
    assert layer.strides == (3, 3)
    assert layer.get_config() == {
        "pool_size": (3, 3),
        "strides": None,
        "padding": "valid",
        "data_format": "channels_first",
    }
    assert repr(layers.MaxPooling2D()) == "MaxPooling2D()"


@pytest.mark.parametrize(
    ("make", "pattern"),
    [
        (lambda: layers.MaxPooling2D(0), r"Received: pool_size=0"),
        (lambda: layers.MaxPooling2D(2, (1, 1, 1)), r"Received: strides=\(1, 1, 1\)"),
        (lambda: layers.AveragePooling1D(padding="causal"), r"Received: padding='causal'"),
    ],
)
def test_pooling_argument_errors(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_global_pooling_2d():
    x = torch.randn(2, 3, 4, 5)
    torch.testing.assert_close(layers.GlobalAveragePooling2D()(x), x.mean(dim=(2, 3)))
    torch.testing.assert_close(layers.GlobalMaxPooling2D()(x), x.amax(dim=(2, 3)))
    assert layers.GlobalAveragePooling2D(keepdims=True)(x).shape == (2, 3, 1, 1)
    assert layers.GlobalMaxPooling2D(keepdims=True)(x).shape == (2, 3, 1, 1)
    channels_last = layers.GlobalAveragePooling2D(data_format="channels_last")(x)
    torch.testing.assert_close(channels_last, x.mean(dim=(1, 2)))


def test_global_pooling_1d():
    x = torch.randn(2, 3, 5)
    torch.testing.assert_close(layers.GlobalAveragePooling1D()(x), x.mean(dim=2))
    torch.testing.assert_close(layers.GlobalMaxPooling1D()(x), x.amax(dim=2))
    steps_first = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
    torch.testing.assert_close(steps_first, x.mean(dim=1))
    assert layers.GlobalAveragePooling1D(keepdims=True)(x).shape == (2, 3, 1)


def test_global_pooling_argument_errors():
    with pytest.raises(ValueError, match=r"Received: data_format='nhwc'"):
        layers.GlobalAveragePooling2D(data_format="nhwc")
    with pytest.raises(TypeError, match=r"Received: keepdims=1"):
        layers.GlobalMaxPooling1D(keepdims=1)


# ------------------------------------------------------------------------- reshaping, dropout


def test_flatten_keeps_the_batch_axis():
    x = torch.randn(2, 3, 4, 5)
    out = layers.Flatten()(x)
    assert out.shape == (2, 60)
    assert torch.equal(out, x.reshape(2, -1))
    assert layers.Flatten()(torch.randn(2, 7)).shape == (2, 7)
    assert layers.Flatten()(torch.randn(4)).shape == (4, 1)


def test_reshape_excludes_the_batch_axis():
    x = torch.randn(2, 12)
    assert layers.Reshape((4, 3))(x).shape == (2, 4, 3)
    assert layers.Reshape((4, -1))(x).shape == (2, 4, 3)
    assert layers.Reshape([-1])(torch.randn(2, 3, 4)).shape == (2, 12)


@pytest.mark.parametrize("target_shape", [(-1, -1), (0, 3), (2, -2), "abc", 12])
def test_reshape_argument_errors(target_shape):
    with pytest.raises(ValueError, match=r"Expected `target_shape`.*Received: target_shape="):
        layers.Reshape(target_shape)


def test_dropout_train_and_eval():
    layer = layers.Dropout(0.5)
    x = torch.ones(100, 100)
    out = layer(x)
    assert set(out.unique().tolist()) <= {0.0, 2.0}
    assert 0.45 < (out == 0).float().mean().item() < 0.55
    layer.eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(layers.Dropout(0.0)(x), x)


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "0.5"])
def test_dropout_rate_errors(rate):
    with pytest.raises(ValueError, match=r"Expected `rate` to be a float in \[0, 1\)\. Received"):
        layers.Dropout(rate)


# ------------------------------------------------------------------------- normalization


@pytest.mark.parametrize("shape", [(16, 3), (16, 3, 7), (16, 3, 5, 5)])
def test_batch_normalization_is_lazy_for_every_rank(shape):
    layer = layers.BatchNormalization()
    assert has_uninitialized(layer)
    assert layer(torch.randn(shape)).shape == shape
    assert_built(layer)
    assert layer.bn.weight.shape == (3,)
    assert layer.bn.running_mean.shape == (3,)


def test_batch_normalization_train_uses_batch_statistics_and_keras_momentum():
    layer = layers.BatchNormalization()
    x = torch.randn(64, 3, 4, 4) * 3.0 + 5.0
    out = layer(x)
    dims = (0, 2, 3)
    torch.testing.assert_close(out.mean(dim=dims), torch.zeros(3), atol=1e-4, rtol=0)
    torch.testing.assert_close(out.var(dim=dims, unbiased=False), torch.ones(3), atol=1e-3, rtol=0)
    # Keras momentum 0.99: the moving average moves 1% of the way to the batch statistics.
    torch.testing.assert_close(layer.bn.running_mean, 0.01 * x.mean(dim=dims))
    torch.testing.assert_close(layer.bn.running_var, 0.99 + 0.01 * x.var(dim=dims))


def test_batch_normalization_eval_uses_moving_statistics():
    layer = layers.BatchNormalization(momentum=0.5, epsilon=0.1)
    x = torch.randn(32, 3) * 2.0 + 1.0
    train_out = layer(x)
    layer.eval()
    eval_out = layer(x)
    mean, var = layer.bn.running_mean, layer.bn.running_var
    torch.testing.assert_close(eval_out, (x - mean) / torch.sqrt(var + 0.1))
    assert not torch.allclose(eval_out, train_out, atol=1e-2)
    assert torch.equal(layer(x), eval_out)  # eval does not update the statistics


def test_batch_normalization_axis_minus_one_on_sequences():
    layer = layers.BatchNormalization(axis=-1)
    x = torch.randn(8, 10, 4) * 2.0 + 3.0
    out = layer(x)
    assert out.shape == (8, 10, 4)
    assert layer.bn.num_features == 4
    torch.testing.assert_close(out.mean(dim=(0, 1)), torch.zeros(4), atol=1e-4, rtol=0)


def test_batch_normalization_builds_in_the_input_dtype():
    layer = layers.BatchNormalization()
    layer(torch.randn(4, 2, dtype=torch.float64))
    assert layer.bn.weight.dtype == torch.float64
    assert layer.bn.running_var.dtype == torch.float64


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"momentum": 1.5}, ValueError, r"Expected `momentum`.*Received: momentum=1\.5"),
        ({"epsilon": 0}, ValueError, r"Expected `epsilon` to be a positive float\. Received"),
        ({"axis": "1"}, TypeError, r"Received: axis='1'"),
    ],
)
def test_batch_normalization_argument_errors(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        layers.BatchNormalization(**kwargs)


def test_layer_normalization_over_last_axis():
    layer = layers.LayerNormalization()
    assert has_uninitialized(layer)
    x = torch.randn(2, 5, 8) * 4.0 + 2.0
    out = layer(x)
    assert_built(layer)
    assert layer.norm.weight.shape == (8,)
    assert layer.norm.normalized_shape == (8,)
    torch.testing.assert_close(out, F.layer_norm(x, (8,), eps=1e-3))
    torch.testing.assert_close(out.mean(dim=-1), torch.zeros(2, 5), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"Received: epsilon=-1"):
        layers.LayerNormalization(epsilon=-1)


# ------------------------------------------------------------------------- embedding


def test_embedding_shapes_and_not_lazy():
    layer = layers.Embedding(10, 4)
    assert_built(layer)
    assert layer.embedding.weight.shape == (10, 4)
    assert layer(torch.tensor([[1, 2, 3, 9, 0]])).shape == (1, 5, 4)
    float_ids = torch.tensor([[1.0, 2.0]])
    torch.testing.assert_close(layer(float_ids), layer.embedding.weight[[1, 2]].unsqueeze(0))


def test_embedding_mask_zero_masks():
    layer = layers.Embedding(5, 2, mask_zero=True)
    assert layer.get_config()["mask_zero"] is True
    out = layer(torch.tensor([[0, 1]]))
    assert out.shape == (1, 2, 2) and out._keras_mask.tolist() == [[False, True]]
    with pytest.raises(ValueError, match=r"Received: input_dim=0"):
        layers.Embedding(0, 2)


# ------------------------------------------------------------------------- recurrent

RNNS = [(layers.LSTM, 2, 4), (layers.GRU, 1, 3)]  # class, number of states, gates


@pytest.mark.parametrize(("cls", "num_states", "gates"), RNNS)
def test_rnn_output_shapes(cls, num_states, gates):
    x = torch.randn(2, 7, 3)
    assert cls(5)(x).shape == (2, 5)
    assert cls(5, return_sequences=True)(x).shape == (2, 7, 5)
    out = cls(5, return_state=True)(x)
    assert isinstance(out, tuple)
    assert shapes(out) == ((2, 5),) * (1 + num_states)
    torch.testing.assert_close(out[0], out[1])  # the last output is the final h
    seq = cls(5, return_sequences=True, return_state=True)(x)
    assert shapes(seq) == ((2, 7, 5),) + ((2, 5),) * num_states


@pytest.mark.parametrize(("cls", "num_states", "gates"), RNNS)
def test_rnn_is_lazy_over_features(cls, num_states, gates):
    layer = cls(5)
    assert isinstance(layer.rnn.weight_ih_l0, UninitializedParameter)
    assert not layer.built
    layer(torch.randn(2, 4, 3))
    assert_built(layer)
    assert layer.rnn.input_size == 3
    assert layer.rnn.weight_ih_l0.shape == (gates * 5, 3)
    assert type(layer.rnn) is (nn.LSTM if cls is layers.LSTM else nn.GRU)


@pytest.mark.parametrize(("cls", "num_states", "gates"), RNNS)
def test_rnn_last_step_backwards_and_initial_state(cls, num_states, gates):
    x = torch.randn(3, 6, 2)
    seq = cls(4, return_sequences=True)
    full = seq(x)
    last = cls(4)
    last.load_state_dict(seq.state_dict())  # lazy load into an unbuilt layer
    torch.testing.assert_close(last(x), full[:, -1])
    backwards = cls(4, return_sequences=True, go_backwards=True)
    backwards.load_state_dict(seq.state_dict())
    torch.testing.assert_close(backwards(x), seq(x.flip(1)))
    zeros = [torch.zeros(3, 4)] * num_states
    torch.testing.assert_close(seq(x, initial_state=zeros), full)
    ones = [torch.ones(3, 4)] * num_states
    assert not torch.allclose(seq(x, initial_state=ones), full)
    with pytest.raises(ValueError, match=r"Expected `initial_state`"):
        seq(x, initial_state=[torch.zeros(3, 4)] * (num_states + 1))


@pytest.mark.parametrize(("cls", "num_states", "gates"), RNNS)
def test_rnn_trains(cls, num_states, gates):
    x = torch.randn(64, 5, 2)
    y = x.sum(dim=(1, 2)).unsqueeze(1)
    model = nn.Sequential(cls(8), layers.Dense(1))
    model(x[:1])
    loss = F.mse_loss(model(x), y)
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name
    optimizer = torch.optim.Adam(model.parameters(), lr=0.03)
    first = loss.item()
    for _ in range(60):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.2 * first


@pytest.mark.parametrize(("cls", "num_states", "gates"), RNNS)
def test_rnn_dropout_only_in_training(cls, num_states, gates):
    layer = cls(4, dropout=0.5)
    x = torch.randn(2, 5, 6)
    assert not torch.allclose(layer(x), layer(x))
    layer.eval()
    torch.testing.assert_close(layer(x), layer(x))
    with pytest.raises(ValueError, match=r"Received: dropout=1\.0"):
        cls(4, dropout=1.0)
    with pytest.raises(ValueError, match=r"Received: units=0"):
        cls(0)


# ------------------------------------------------------------------------- Input, Lambda


def test_input_marks_the_shape_and_builds_a_model_without_data():
    inp = layers.Input((3, 8, 8))
    assert inp.shape == (3, 8, 8)
    x = torch.randn(2, 3, 8, 8)
    assert inp(x) is x
    model = nn.Sequential(inp, layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2))
    assert has_uninitialized(model)
    model(torch.zeros(1, *model[0].shape))
    assert not has_uninitialized(model)
    assert model[3].linear.in_features == 4 * 6 * 6


def test_input_dtype_and_errors():
    assert layers.Input((5,), dtype="int64").dtype == torch.int64
    assert layers.Input([None, 4]).shape == (None, 4)
    assert layers.Input((5,)).dtype is None
    with pytest.raises(ValueError, match=r"Expected `shape`.*Received: shape=5"):
        layers.Input(5)
    with pytest.raises(ValueError, match=r"Received: shape=\(0,\)"):
        layers.Input((0,))
    with pytest.raises(ValueError, match=r"Received: dtype='float99'"):
        layers.Input((2,), dtype="float99")


def test_lambda():
    layer = layers.Lambda(lambda x: x * 2)
    torch.testing.assert_close(layer(torch.ones(3)), torch.full((3,), 2.0))
    clone = layers.Lambda.from_config(layer.get_config())
    torch.testing.assert_close(clone(torch.ones(3)), torch.full((3,), 2.0))
    with pytest.raises(TypeError, match=r"Expected `function` to be a callable\. Received"):
        layers.Lambda(3)


# ------------------------------------------------------------------------- configs, registry

CASES = {
    "Input": (lambda: layers.Input((3, 4), dtype="float32"), (2, 3, 4)),
    "Dense": (lambda: layers.Dense(5, activation="tanh", use_bias=False), (2, 3)),
    "Activation": (lambda: layers.Activation("softmax"), (2, 3)),
    "Lambda": (lambda: layers.Lambda(torch.neg), (2, 3)),
    "Flatten": (lambda: layers.Flatten(), (2, 3, 4)),
    "Reshape": (lambda: layers.Reshape((2, -1)), (2, 3, 4)),
    "Dropout": (lambda: layers.Dropout(0.25), (2, 3)),
    "Embedding": (lambda: layers.Embedding(7, 3), None),
    "Conv1D": (lambda: layers.Conv1D(4, 3, strides=2, padding="same"), (2, 3, 9)),
    "Conv2D": (lambda: layers.Conv2D(4, (3, 1), strides=2, padding="same"), (2, 3, 9, 7)),
    "MaxPooling1D": (lambda: layers.MaxPooling1D(3, 2, padding="same"), (2, 3, 9)),
    "AveragePooling1D": (lambda: layers.AveragePooling1D(), (2, 3, 9)),
    "MaxPooling2D": (lambda: layers.MaxPooling2D((2, 3)), (2, 3, 8, 9)),
    "AveragePooling2D": (lambda: layers.AveragePooling2D(3, 2, padding="same"), (2, 3, 8, 9)),
    "GlobalAveragePooling1D": (
        lambda: layers.GlobalAveragePooling1D(data_format="channels_last"),
        (2, 5, 3),
    ),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(keepdims=True), (2, 3, 5)),
    "GlobalAveragePooling2D": (lambda: layers.GlobalAveragePooling2D(), (2, 3, 4, 4)),
    "GlobalMaxPooling2D": (lambda: layers.GlobalMaxPooling2D(keepdims=True), (2, 3, 4, 4)),
    "BatchNormalization": (lambda: layers.BatchNormalization(momentum=0.9), (4, 3, 2, 2)),
    "LayerNormalization": (lambda: layers.LayerNormalization(epsilon=1e-5), (2, 3, 6)),
    "LSTM": (lambda: layers.LSTM(4, return_sequences=True, return_state=True), (2, 5, 3)),
    "GRU": (lambda: layers.GRU(4, go_backwards=True, dropout=0.1), (2, 5, 3)),
    **added.CONFIG_CASES,
}


def test_registry_lists_every_layer():
    assert set(layers.LAYERS) == set(CASES)
    for name, cls in layers.LAYERS.items():
        assert cls.__name__ == name
        assert issubclass(cls, layers.Layer) and issubclass(cls, nn.Module)
        assert getattr(layers, name) is cls


def _input(shape):
    if callable(shape):
        return shape()
    return torch.tensor([[1, 2, 6], [0, 3, 5]]) if shape is None else torch.randn(shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trip_gives_the_same_layer(name):
    make, in_shape = CASES[name]
    layer = make().eval()
    x = _input(in_shape)
    out = layer(x)
    config = layer.get_config()
    if name != "Lambda":
        config = json.loads(json.dumps(config))  # JSON-able
    clone = type(layer).from_config(config).eval()
    assert clone.get_config() == layer.get_config()
    assert repr(clone) == repr(layer) and repr(layer).startswith(f"{name}(")
    assert has_uninitialized(clone) == (name in LAZY)
    assert clone.built == (name not in LAZY)
    clone.load_state_dict(layer.state_dict())
    clone_out = clone(x)
    assert shapes(clone_out) == shapes(out)
    torch.testing.assert_close(clone_out, out)


LAZY = {
    "Dense",
    "Conv1D",
    "Conv2D",
    "BatchNormalization",
    "LayerNormalization",
    "LSTM",
    "GRU",
    *added.LAZY,
}


@pytest.mark.parametrize("name", sorted(LAZY))
def test_unbuilt_exactly_while_an_uninitialized_parameter_remains(name):
    make, in_shape = CASES[name]
    layer = make()
    assert has_uninitialized(layer) and not layer.built
    layer(_input(in_shape))
    assert_built(layer)
    assert layer.built


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", sorted(LAZY))
def test_lazy_layers_build_on_the_input_device(name):
    make, in_shape = CASES[name]
    layer = make()
    out = layer(_input(in_shape).cuda())
    assert all(p.is_cuda for p in layer.parameters())
    assert all(o.is_cuda for o in (out if isinstance(out, tuple) else (out,)))


def test_layers_name_the_package_as_their_module():
    # Pickles and saved configs name layers as kerasish.layers.<Class>, whatever file holds them.
    for cls in (*layers.LAYERS.values(), layers.Layer):
        assert cls.__module__ == "kerasish.layers", cls
