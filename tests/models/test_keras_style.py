"""Keras-style subclassing (build/call/add_weight/add_loss), ``training=`` and the model API."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import kerasish as K
from kerasish.layers import api

L = K.layers


class Linear(L.Layer):
    """keras.io's "Making new layers and models via subclassing" Linear layer."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.shapes = []

    def build(self, input_shape):
        self.shapes.append(input_shape)
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, inputs):
        self.calls.add_(1)
        return inputs @ self.w + self.b


class ActivityLoss(L.Layer):
    def __init__(self, rate=0.1):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * inputs.abs().sum())
        return inputs


class Flagged(L.Layer):
    def call(self, inputs, training=None):
        self.seen = training
        return inputs


def test_build_runs_once_with_the_batch_shape_and_add_weight_registers():
    layer = Linear(3)
    assert not layer.built
    x = torch.randn(2, 5)
    out = layer(x)
    layer(x)
    assert layer.built and layer.shapes == [(2, 5)]
    torch.testing.assert_close(out, x @ torch.ones(5, 3))  # the reference: plain torch
    assert dict(layer.named_parameters()).keys() == {"w", "b"}
    assert set(layer.state_dict()) == {"w", "b", "calls"}  # the non-trainable one is saved
    assert float(layer.calls) == 2.0
    assert [w.name for w in layer.trainable_weights] == ["w", "bias"]
    assert [w.name for w in layer.non_trainable_weights] == ["calls"]
    assert layer.count_params() == 5 * 3 + 3 + 1
    layer.trainable = False  # Keras: freezing leaves non-trainable weights non-trainable
    layer.trainable = True
    assert not layer.calls.requires_grad


def test_built_is_settable_and_a_forward_layer_still_works():
    class Manual(L.Layer):
        def build(self, input_shape):
            self.k = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            self.built = True

    layer = Manual()
    layer.build((None, 3))
    assert layer.built and tuple(layer.k.shape) == (3,)

    class Torchy(L.Layer):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x)

    torchy = Torchy()
    torch.testing.assert_close(torchy(torch.ones(1, 3)), torchy.fc(torch.ones(1, 3)))


def test_numpy_inputs_are_converted():
    layer = Linear(2)
    out = layer(np.ones((3, 4)))  # float64 NumPy -> float32 tensor, as Keras's floatx
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, torch.full((3, 2), 4.0))


def test_add_loss_is_collected_from_sublayers_and_reset_per_call():
    model = K.Sequential([ActivityLoss(0.5), L.Dense(2), ActivityLoss(0.1)])
    assert model.losses == []
    x = torch.tensor([[1.0, -2.0]])
    y = model(x)
    expected = [0.5 * x.abs().sum(), 0.1 * y.abs().sum()]
    torch.testing.assert_close(torch.stack(model.losses), torch.stack(expected))
    model(x)
    assert len(model.losses) == 2  # reset by the outer call, not accumulated


def test_losses_train_a_hand_loop_like_keras():
    # Keras adds sum(model.losses) to the loss: the same step with the penalty by hand
    torch.manual_seed(0)
    model = K.Sequential([L.Dense(1), ActivityLoss(0.01)])
    x, y = torch.randn(8, 3), torch.randn(8, 1)
    model(x)
    twin = nn.Linear(3, 1)
    twin.load_state_dict(model.layers[0].linear.state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    out = model(x)
    (F.mse_loss(out, y) + sum(model.losses)).backward()
    opt.step()
    twin_out = twin(x)
    (F.mse_loss(twin_out, y) + 0.01 * twin_out.abs().sum()).backward()
    with torch.no_grad():
        ref = twin.weight - 0.1 * twin.weight.grad
    torch.testing.assert_close(model.layers[0].linear.weight, ref)


def test_training_false_runs_batchnorm_and_dropout_in_inference_for_that_call_only():
    torch.manual_seed(0)
    model = K.Sequential([L.Dense(4), L.BatchNormalization(), L.Dropout(0.5)])
    x = torch.randn(6, 3)
    model(x)
    model.train()
    bn = model.layers[1].bn
    stats = bn.running_mean.clone()
    out = model(x, training=False)
    ref = F.batch_norm(
        model.layers[0](x), bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps
    )
    torch.testing.assert_close(out, ref)  # moving statistics, no dropout
    torch.testing.assert_close(bn.running_mean, stats)  # not updated
    assert model.training and bn.training and model.layers[2].training  # restored


def test_training_reaches_call_and_defaults_to_the_module_mode():
    layer = Flagged()
    layer(torch.ones(1))
    assert layer.seen is True  # a fresh module trains (torch's default)
    layer.eval()
    layer(torch.ones(1))
    assert layer.seen is False
    layer(torch.ones(1), training=True)
    assert layer.seen is True and not layer.training

    class Net(K.Model):
        def __init__(self):
            super().__init__()
            self.inner = Flagged()

        def call(self, x, training=None):
            return self.inner(x, training=training)

    net = Net()
    net(torch.ones(1), training=False)
    assert net.inner.seen is False


def test_keras_style_model_fits():
    class Mlp(K.Model):
        def __init__(self):
            super().__init__(name="mlp")
            self.hidden = L.Dense(8, activation="relu")
            self.out = L.Dense(1)

        def call(self, inputs, training=None):
            return self.out(self.hidden(inputs))

    model = Mlp()
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.name == "mlp" and model.metrics_names == ["loss"]
    assert [layer.name for layer in model.layers] == [model.hidden.name, model.out.name]
    assert model.get_layer(model.out.name) is model.out


def test_automatic_names_follow_keras():
    # Keras 3.15 run, torch backend: Dense -> dense, dense_1; Conv2DTranspose ->
    # conv2d_transpose; GlobalAveragePooling1D -> global_average_pooling1d; SimpleRNN ->
    # simple_rnn; MultiHeadAttention -> multi_head_attention
    from kerasish.layers.naming import reset_names

    reset_names()
    names = [
        L.Dense(1).name,
        L.Dense(1).name,
        L.Conv2DTranspose(2, 3).name,
        L.GlobalAveragePooling1D().name,
        L.SimpleRNN(2).name,
        L.MultiHeadAttention(2, 2).name,
        L.Dense(1, name="head").name,
        K.Sequential().name,
    ]
    assert names == [
        "dense",
        "dense_1",
        "conv2d_transpose",
        "global_average_pooling1d",
        "simple_rnn",
        "multi_head_attention",
        "head",
        "sequential",
    ]
    assert L.Dense(1, name="head").get_config()["name"] == "head"
    assert "name" not in L.Dense(1).get_config()  # automatic names are not saved


def test_get_layer_errors_and_index():
    model = K.Sequential([L.Dense(3, name="a"), L.Dense(1, name="b")])
    assert model.get_layer(index=-1).name == "b"
    with pytest.raises(ValueError, match=r"Received: name='c'"):
        model.get_layer("c")
    with pytest.raises(ValueError, match="exactly one of name or index"):
        model.get_layer()


def test_symbolic_inputs_go_to_the_functional_hook():
    symbolic = pytest.importorskip("kerasish.models.input")
    assert api.SYMBOLIC_CALL is not None  # installed by kerasish.models.input
    x = symbolic.Input((3,))
    assert L.Dense(2)(x).shape == (None, 2)
    assert L.Concatenate()([x, x]).shape == (None, 6)
