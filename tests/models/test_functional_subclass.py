"""Keras's "functional subclass": a ``K.Model`` subclass that overrides ``train_step`` only and
is built as ``Custom(inputs, outputs)``, its step written the Keras torch-backend way
(``self.zero_grad()``, ``loss.backward()``, ``self.optimizer.apply(grads, weights)``)."""

from __future__ import annotations

import numpy as np
import torch

import kerasish as K


class Custom(K.Model):
    steps = 0

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        weights = list(self.trainable_weights)
        with torch.no_grad():
            self.optimizer.apply([w.value.grad for w in weights], weights)
        Custom.steps += 1
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _graph():
    torch.manual_seed(0)
    inputs = K.Input((5,))
    return inputs, K.layers.Dense(1)(K.layers.Dense(4, activation="relu")(inputs))


def test_a_functional_subclass_trains_like_the_default_step():
    g = np.random.default_rng(0)
    x, y = g.random((64, 5), dtype=np.float32), g.random((64, 1), dtype=np.float32)
    custom = Custom(*_graph())
    assert isinstance(custom, Custom) and isinstance(custom, K.models.Functional)
    plain = K.Model(*_graph())
    for model in (custom, plain):
        model.compile(optimizer=K.optimizers.SGD(learning_rate=0.1), loss="mse", metrics=["mae"])
    h_custom = custom.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h_plain = plain.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert Custom.steps == 8 and custom.optimizer.iterations == 8
    for a, b in zip(custom.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    np.testing.assert_allclose(h_custom.history["loss"], h_plain.history["loss"], rtol=1e-5)
    assert not any(m.result().requires_grad for m in custom.metrics)  # no graph kept
