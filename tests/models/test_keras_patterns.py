"""Patterns from keras.io tutorials, checked against the numbers Keras 3.15 (torch backend)
gives for the same code: a ``K.Model`` subclass with its own ``__init__`` built as
``Custom(inputs, outputs)`` ("Customizing what happens in fit()", "Going lower-level"),
Keras's input rank adjustment (``Functional._adjust_input_rank``), and the functional
summary's parameter counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kerasish as K
from kerasish.models.input import adjust_input
from kerasish.summary import summarize


class CustomModel(K.Model):
    """keras.io's "Going lower-level" model (torch backend), as written there."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = K.metrics.Mean(name="loss")
        self.mae_metric = K.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = K.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        trainable_weights = list(self.trainable_weights)
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def _dense(units):
    return K.layers.Dense(units, kernel_initializer="ones", bias_initializer="zeros")


def test_a_subclass_with_its_own_init_is_built_functionally_and_trains_as_in_keras():
    inputs = K.Input((4,))
    model = CustomModel(inputs, _dense(1)(inputs), name="custom")
    assert isinstance(model, CustomModel) and isinstance(model, K.models.Functional)
    assert model.name == "custom" and len(model.layers) == 1
    assert model.metrics == [model.loss_tracker, model.mae_metric]
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.01))
    x = (np.arange(32 * 4, dtype="float32").reshape(32, 4) % 7) / 7
    y = x.sum(axis=1, keepdims=True) * 0.5
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    # Keras 3.15 (torch backend), the same code and data
    assert sorted(history.history) == ["loss", "mae"]
    np.testing.assert_allclose(
        history.history["loss"], [0.710752546787262, 0.5399835109710693, 0.4114624857902527]
    )
    np.testing.assert_allclose(
        history.history["mae"], [0.8020412921905518, 0.6931262016296387, 0.5986643433570862]
    )
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel[:, 0], [0.9241517, 0.9156005, 0.9179284, 0.9279987])
    np.testing.assert_allclose(bias, [-0.16750656])


def test_a_subclass_with_its_own_init_takes_inputs_and_outputs_by_keyword():
    inputs = K.Input((4,))
    model = CustomModel(inputs=inputs, outputs=K.layers.Dense(2)(inputs))
    assert isinstance(model, K.models.Functional) and model.name == "custom_model"
    assert model(torch.ones(3, 4)).shape == (3, 2)
    assert isinstance(model.loss_tracker, K.metrics.Mean)


def test_a_subclass_may_build_its_graph_inside_its_init():
    class Head(K.Model):
        def __init__(self, units):
            inputs = K.Input((3,))
            super().__init__(inputs, K.layers.Dense(units)(inputs), name="head")
            self.units = units

    model = Head(5)
    assert isinstance(model, K.models.Functional) and model.units == 5
    assert model(torch.ones(2, 3)).shape == (2, 5) and model.name == "head"


def test_a_subclass_that_drops_its_inputs_and_outputs_is_refused_clearly():
    class Dropping(K.Model):
        def __init__(self, *args, **kwargs):
            super().__init__()

    inputs = K.Input((4,))
    with pytest.raises(TypeError, match=r"super\(\).__init__\(inputs, outputs"):
        Dropping(inputs, K.layers.Dense(1)(inputs))


def test_subclasses_called_with_other_arguments_stay_plain_models():
    class Plain(K.Model):
        def __init__(self, units, extra):
            super().__init__()
            self.dense = K.layers.Dense(units + extra)

        def call(self, x):
            return self.dense(x)

    model = Plain(2, 1)
    assert not isinstance(model, K.models.Functional)
    assert model(torch.ones(4, 3)).shape == (4, 3)

    class Wrapper(K.Model):  # a model taking a KerasTensor it does not build a graph from
        def __init__(self, template, other):
            super().__init__()
            self.width = template.shape[-1]

        def forward(self, x):
            return x * self.width

    assert not isinstance(Wrapper(K.Input((2,)), K.Input((2,))), K.models.Functional)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_a_rank_one_input_is_expanded_for_an_input_of_shape_1_as_in_keras(kind):
    if kind == "sequential":
        model = K.Sequential([K.Input((1,)), _dense(1)])
    else:
        inputs = K.Input((1,))
        model = K.Model(inputs, _dense(1)(inputs))
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.01), loss="mae")
    x = np.arange(10.0)
    history = model.fit(x, 2 * x, batch_size=5, epochs=2, shuffle=False, verbose=0)
    # Keras 3.15: loss [4.426000118255615, 4.007599830627441], predict(arange(3.)) below
    np.testing.assert_allclose(history.history["loss"], [4.426000118255615, 4.007599830627441])
    assert model.predict(x, verbose=0).shape == (10, 1)
    np.testing.assert_allclose(
        model.predict(np.arange(3.0), verbose=0)[:, 0],
        [0.03400000184774399, 1.2140001058578491, 2.3940000534057617],
        rtol=1e-6,
    )
    np.testing.assert_allclose(model.evaluate(x, 2 * x, verbose=0), 3.662799835205078)


def test_a_trailing_dimension_of_size_1_is_squeezed_as_in_keras():
    inputs = K.Input((3,))
    model = K.Model(inputs, _dense(2)(inputs))
    out = model.predict(np.arange(6.0).reshape(2, 3, 1), verbose=0)
    np.testing.assert_allclose(out, [[3.0, 3.0], [12.0, 12.0]])  # Keras 3.15's
    seq = K.Sequential([K.Input((3,)), _dense(2)])
    np.testing.assert_allclose(seq.predict(np.arange(6.0).reshape(2, 3, 1), verbose=0), out)


def test_each_input_of_a_dict_is_adjusted_on_its_own():
    a, b = K.Input((1,), name="a"), K.Input((2,), name="b")
    model = K.Model({"a": a, "b": b}, K.layers.Concatenate()([a, b]))
    out = model.predict({"a": np.arange(2.0), "b": np.ones((2, 2, 1))}, verbose=0)
    np.testing.assert_allclose(out, [[0.0, 1.0, 1.0], [1.0, 1.0, 1.0]])  # Keras 3.15's


def test_adjust_input_casts_and_adjusts_only_a_rank_one_off():
    expanded = adjust_input(torch.arange(3), torch.float32, 2, True)
    assert expanded.shape == (3, 1) and expanded.dtype == torch.float32
    assert adjust_input(torch.ones(3), torch.float32, 2, False).shape == (3,)  # last dim not 1
    assert adjust_input(torch.ones(4, 3, 2), torch.float32, 2, False).shape == (4, 3, 2)
    same = torch.ones(4, 3)
    assert adjust_input(same, torch.float32, 2, False) is same
    assert adjust_input([1, 2], torch.float32, 2, True) == [1, 2]


def test_the_functional_summary_counts_moving_statistics_as_keras_does():
    inputs = K.Input((8,))
    model = K.Model(inputs, K.layers.Dense(1)(K.layers.BatchNormalization()(inputs)))
    rows = {kind: params for _, kind, _, params, _ in model.layer_connections()}
    # Keras 3.15: batch_normalization 32, dense 9; Total 41, Trainable 25, Non-trainable 16
    assert rows == {"InputLayer": 0, "BatchNormalization": 32, "Dense": 9}
    text = summarize(model)
    assert "Total params: 41" in text and "Trainable params: 25" in text
    assert "Non-trainable params: 16" in text
    assert sum(rows.values()) == 41
