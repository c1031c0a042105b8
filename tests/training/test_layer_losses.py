"""Losses that layers add (``add_loss``, weight regularizers) are trained on, as in Keras:
one SGD step of ``fit`` equals a hand step on the compiled loss plus those terms."""

from __future__ import annotations

import torch
from torch import nn

import kerasish as K
from kerasish import layers as L


class ActivityLoss(L.Layer):
    def __init__(self, rate: float):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * inputs.abs().sum())
        return inputs


def _data():
    g = torch.Generator().manual_seed(0)
    return torch.randn(8, 4, generator=g), torch.randn(8, 1, generator=g)


def test_add_loss_joins_the_training_loss():
    x, y = _data()
    torch.manual_seed(0)
    model = K.Sequential([L.Dense(1), ActivityLoss(0.01)])
    model.build((None, 4))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)

    w = start["layers.0.linear.weight"].clone().requires_grad_()
    b = start["layers.0.linear.bias"].clone().requires_grad_()
    out = x @ w.T + b
    loss = nn.functional.mse_loss(out, y) + 0.01 * out.abs().sum()
    loss.backward()
    with torch.no_grad():
        expected = w - 0.1 * w.grad
    torch.testing.assert_close(model.state_dict()["layers.0.linear.weight"], expected)
    assert len(model.losses) == 1  # the last call's term, reset at each call


def test_a_kernel_regularizer_joins_the_training_loss():
    x, y = _data()
    torch.manual_seed(0)
    model = K.Sequential([L.Dense(1, kernel_regularizer=K.regularizers.L2(0.1))])
    model.build((None, 4))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)

    w = start["layers.0.linear.weight"].clone().requires_grad_()
    out = x @ w.T + start["layers.0.linear.bias"]
    loss = nn.functional.mse_loss(out, y) + 0.1 * (w**2).sum()  # Keras's L2: l2 * sum(w**2)
    loss.backward()
    with torch.no_grad():
        expected = w - 0.1 * w.grad
    torch.testing.assert_close(model.state_dict()["layers.0.linear.weight"], expected)


def test_no_layer_losses_leave_the_compiled_loss_alone():
    x, y = _data()
    model = K.Sequential([nn.Linear(4, 1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert model.losses == []
