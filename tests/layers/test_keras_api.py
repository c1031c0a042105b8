"""The Keras layer API of the kerasish layers: weights in Keras's layouts, shared arguments
(initializers, regularizers, constraints, input_shape, dtype, trainable), masks reaching the
RNNs, and the transposed convolutions' output_padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import kerasish as K
from kerasish import constraints, regularizers

L = K.layers


def test_dense_weights_are_keras_s_in_out_views_of_the_torch_weight():
    layer = L.Dense(4)
    layer(torch.randn(2, 3))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 4) and bias.shape == (4,)
    np.testing.assert_array_equal(kernel, layer.linear.weight.detach().numpy().T)
    new = np.arange(12, dtype=np.float32).reshape(3, 4)
    layer.set_weights([new, np.ones(4)])
    x = torch.randn(5, 3)
    torch.testing.assert_close(layer(x), x @ torch.from_numpy(new) + 1)  # Keras's x @ W + b
    w = layer.weights[0]
    assert layer.kernel.shape == (3, 4) and layer.kernel.tensor is layer.linear.weight
    assert (w.name, w.path, w.shape, w.trainable) == (
        "kernel",
        f"{layer.name}/kernel",
        (3, 4),
        True,
    )
    with pytest.raises(ValueError, match=r"Received: value.shape=\(4, 3\)"):
        w.assign(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="Received: 1 arrays"):
        layer.set_weights([new])


def test_conv_kernels_are_keras_s_layouts():
    conv = L.Conv2D(8, 3)
    conv(torch.randn(1, 3, 9, 9))
    assert conv.weights[0].shape == (3, 3, 3, 8)  # Keras: (kh, kw, in, out)
    torch.testing.assert_close(conv.weights[0].value, conv.conv.weight.permute(2, 3, 1, 0))
    depthwise = L.DepthwiseConv2D(3, depth_multiplier=2)
    depthwise(torch.randn(1, 4, 6, 6))
    kernel = depthwise.weights[0]
    assert (kernel.name, kernel.shape) == ("depthwise_kernel", (3, 3, 4, 2))
    # Keras's depthwise kernel[i, j, c, m] is torch's weight[c * multiplier + m, 0, i, j]
    torch.testing.assert_close(kernel.value[1, 2, 3, 1], depthwise.conv.weight[7, 0, 1, 2])
    values = np.random.default_rng(0).normal(size=(3, 3, 4, 2)).astype(np.float32)
    kernel.assign(values)
    np.testing.assert_array_equal(kernel.numpy(), values)
    transposed = L.Conv2DTranspose(5, 3)
    transposed(torch.randn(1, 2, 4, 4))
    assert transposed.weights[0].shape == (3, 3, 5, 2)  # Keras: (kh, kw, out, in)


def test_param_counts_are_keras_s():
    # Keras 3.15 run, torch backend: count_params() after build: Dense(4) on 3 features 16,
    # BatchNormalization on 4 features 16, Conv2D(8, 3) on 3 channels 224, Embedding(10, 4) 40
    cases = [
        (L.Dense(4), torch.randn(2, 3), 16),
        (L.BatchNormalization(), torch.randn(2, 4), 16),
        (L.Conv2D(8, 3), torch.randn(1, 3, 9, 9), 224),
        (L.Embedding(10, 4), torch.tensor([[1, 2]]), 40),
    ]
    for layer, x, expected in cases:
        layer(x)
        assert layer.count_params() == expected, type(layer).__name__
    with pytest.raises(ValueError, match="not built yet"):
        L.Dense(2).count_params()


def test_batchnorm_moving_statistics_are_non_trainable_weights():
    # Keras 3.15: weights gamma, beta, moving_mean, moving_variance; the last two non-trainable
    layer = L.BatchNormalization()
    layer(torch.randn(4, 3))
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert layer.non_trainable_weights[0].tensor is layer.bn.running_mean


def test_model_weights_round_trip_and_trainable_split():
    model = K.Sequential([L.Dense(4, input_shape=(3,)), L.BatchNormalization(), L.Dense(2)])
    assert model.built  # input_shape= builds the first layer, as in Keras
    assert model.count_params() == 16 + 16 + 10  # Keras 3.15 run: 42
    twin = K.Sequential([L.Dense(4, input_dim=3), L.BatchNormalization(), L.Dense(2)])
    twin.set_weights(model.get_weights())
    model.eval(), twin.eval()
    x = torch.randn(5, 3)
    torch.testing.assert_close(twin(x), model(x))
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 4


def test_initializers_apply_in_keras_layout_before_the_first_computation():
    layer = L.Dense(3, kernel_initializer="ones", bias_initializer="zeros")
    out = layer(torch.ones(2, 4))  # the first output already uses the initialized weights
    torch.testing.assert_close(out, torch.full((2, 3), 4.0))
    torch.manual_seed(0)
    dense = L.Dense(300, kernel_initializer="glorot_uniform")
    dense(torch.zeros(1, 100))
    limit = (6 / (100 + 300)) ** 0.5  # Keras's glorot_uniform limit for a (100, 300) kernel
    weight = dense.linear.weight
    assert weight.abs().max() <= limit and weight.abs().max() > 0.95 * limit
    embedding = L.Embedding(5, 2, embeddings_initializer="ones")
    torch.testing.assert_close(embedding.embedding.weight, torch.ones(5, 2))


def test_regularizers_add_to_losses_as_keras():
    x = torch.ones(4, 3)
    layer = L.Dense(2, kernel_regularizer=regularizers.L2(0.01), bias_regularizer="l1")
    layer(x)
    layer.set_weights([np.full((3, 2), 2.0), np.full(2, -1.0)])
    kernel_loss, bias_loss = layer.losses
    torch.testing.assert_close(kernel_loss, torch.tensor(0.01 * 6 * 4.0))
    torch.testing.assert_close(bias_loss, torch.tensor(0.01 * 2.0))  # Keras's "l1" is 0.01
    # Keras 3.15 run, torch backend: Dense(2, activity_regularizer=L2(0.1)) on ones((4, 3)):
    # losses == [0.1 * sum(out ** 2) / batch_size]
    act = L.Dense(2, activity_regularizer=regularizers.L2(0.1))
    out = act(x)
    torch.testing.assert_close(act.losses[0], 0.1 * (out**2).sum() / 4)


def test_constraints_apply_after_each_optimizer_step():
    layer = L.Dense(3, kernel_constraint=constraints.NonNeg())
    x = torch.randn(8, 4)
    layer(x)
    opt = torch.optim.SGD(layer.parameters(), lr=1.0)
    layer(x).sum().backward()
    expected = (layer.linear.weight - layer.linear.weight.grad).clamp(min=0).detach()
    opt.step()
    torch.testing.assert_close(layer.linear.weight.detach(), expected)


def test_dtype_and_trainable_arguments():
    layer = L.Dense(2, dtype="float64")
    out = layer(torch.ones(1, 3))
    assert out.dtype == torch.float64 and layer.linear.weight.dtype == torch.float64
    frozen = L.Dense(2, trainable=False)
    frozen(torch.ones(1, 3))
    assert not frozen.trainable and frozen.trainable_weights == []
    assert frozen.get_config()["trainable"] is False
    assert L.Dense.from_config(frozen.get_config()).trainable is False


def _keras_masked(rnn_step, x, mask, units):
    """The reference: Keras's masked loop by hand (state and output kept on masked steps)."""
    state = torch.zeros(x.shape[0], units)
    for t in range(x.shape[1]):
        new = rnn_step(x[:, t], state)
        state = torch.where(mask[:, t : t + 1], new, state)
    return state


def test_masking_makes_simple_rnn_skip_steps_as_keras():
    # Keras 3.15 run, torch backend: Masking() then SimpleRNN(2, return_sequences=True,
    # kernel_initializer="ones", recurrent_initializer="ones") (zero biases) on this batch
    x = torch.tensor([[[1.0], [0.0], [2.0], [0.0]], [[0.0], [3.0], [1.0], [2.0]]])
    keras_out = [
        [[0.7615942, 0.7615942], [0.7615942, 0.7615942], [0.9982604, 0.9982604]]
        + [[0.9982604] * 2],
        [[0.0, 0.0], [0.9950548, 0.9950548], [0.9949562, 0.9949562], [0.9993156, 0.9993156]],
    ]
    rnn = L.SimpleRNN(2, return_sequences=True)
    rnn(x)
    for name, param in rnn.rnn.named_parameters():
        nn.init.ones_(param) if name.startswith("weight") else nn.init.zeros_(param)
    out = K.Sequential([L.Masking(), rnn])(x)
    torch.testing.assert_close(out, torch.tensor(keras_out))


def test_masking_lstm_matches_keras_and_the_torch_step_loop():
    # Keras 3.15 run, torch backend: Masking() then LSTM(2, kernel_initializer="ones",
    # recurrent_initializer="ones") on the batch above: [[0.8459247] * 2, [0.9693297] * 2]
    x = torch.tensor([[[1.0], [0.0], [2.0], [0.0]], [[0.0], [3.0], [1.0], [2.0]]])
    lstm = L.LSTM(2)
    lstm(x)
    for name, param in lstm.rnn.named_parameters():
        nn.init.ones_(param) if name.startswith("weight") else nn.init.zeros_(param)
    lstm.rnn.bias_ih_l0.data[2:4] = 1.0  # Keras's unit_forget_bias: the forget gate's bias is 1
    out = K.Sequential([L.Masking(), lstm])(x)
    torch.testing.assert_close(out, torch.tensor([[0.8459247] * 2, [0.9693297] * 2]))


def test_embedding_mask_zero_reaches_gru_like_packed_sequences():
    torch.manual_seed(0)
    ids = torch.tensor([[3, 1, 4, 0, 0], [2, 7, 0, 0, 0], [5, 6, 1, 8, 9]])
    embedding, gru = L.Embedding(10, 4, mask_zero=True), L.GRU(3, return_state=True)
    model = K.Sequential([embedding, gru])
    out, h = model(ids)
    lengths = (ids != 0).sum(1)
    packed = nn.utils.rnn.pack_padded_sequence(
        embedding(ids), lengths, batch_first=True, enforce_sorted=False
    )
    _, ref = gru.rnn(packed)  # torch's own handling of padded sequences
    torch.testing.assert_close(out, ref[0])
    torch.testing.assert_close(h, ref[0])
    assert embedding.compute_mask(ids).tolist() == (ids != 0).tolist()


def test_left_padding_and_bidirectional_masks():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 3)
    x[0, :2] = 0.0  # left padding: Keras carries the zero state over the masked steps
    mask = (x != 0).any(-1)
    rnn = L.SimpleRNN(4)
    out = rnn(L.Masking()(x))
    cell = rnn.rnn

    def step(xt, h):
        return torch.tanh(
            xt @ cell.weight_ih_l0.T + cell.bias_ih_l0 + h @ cell.weight_hh_l0.T + cell.bias_hh_l0
        )

    torch.testing.assert_close(out, _keras_masked(step, x, mask, 4))
    bi = L.Bidirectional(L.LSTM(2, return_sequences=True))
    seq = bi(L.Masking()(x))
    assert seq.shape == (2, 5, 4)
    forward_only = bi.forward_layer(x, mask=mask)
    torch.testing.assert_close(seq[..., :2], forward_only)


def test_masks_pass_through_dense_and_dropout_to_the_rnn():
    x = torch.randn(2, 4, 3)
    x[1, 2:] = 0.0
    masked = K.Sequential([L.Masking(), L.Dense(5), L.Dropout(0.1), L.LSTM(2)]).eval()
    dense, lstm = masked.layers[1], masked.layers[3]
    trimmed = lstm(dense(x[1:, :2]))  # the same sample without its padding
    torch.testing.assert_close(masked(x)[1:], trimmed)


@pytest.mark.parametrize(
    ("cls", "shape", "kwargs", "keras_shape"),
    [
        # Keras 3.15 run: compute_output_shape of the same layers on (None, 5, 5, 3)/(None, 5, 3)
        (L.Conv2DTranspose, (1, 3, 5, 5), {"strides": 2, "output_padding": 1}, (12, 12)),
        (
            L.Conv2DTranspose,
            (1, 3, 5, 5),
            {"strides": 2, "padding": "same", "output_padding": 1},
            (10, 10),
        ),
        (
            L.Conv1DTranspose,
            (1, 3, 5),
            {"strides": 3, "padding": "same", "output_padding": 2},
            (14,),
        ),
    ],
)
def test_output_padding_gives_keras_s_sizes_and_torch_s_values(cls, shape, kwargs, keras_shape):
    kernel = 4 if cls is L.Conv1DTranspose else 3
    layer = cls(2, kernel, **kwargs)
    x = torch.randn(shape)
    out = layer(x)
    assert out.shape[2:] == keras_shape
    conv = layer.conv
    fn = F.conv_transpose1d if x.ndim == 3 else F.conv_transpose2d
    ref = fn(x, conv.weight, conv.bias, conv.stride, conv.padding, conv.output_padding)
    torch.testing.assert_close(out, ref)
    with pytest.raises(ValueError, match=r"Received: output_padding=2"):
        L.Conv2DTranspose(2, 3, strides=2, output_padding=2)
