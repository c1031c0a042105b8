"""Keras semantics of the training loop (issue 12): weighted_metrics, a scalar loss_weights,
trackers of an overridden ``metrics`` reset per loop, mutable step logs, stop_evaluating /
stop_predicting, no learning_rate in the epoch logs, frozen and weightless models, one
forward per batch, batches as the user gave them, and ``compile(lr_scheduler=<name>)``.

Reference numbers come from Keras 3.15.1 on the torch backend, run on the same data and
weights (``KERAS_BACKEND=torch``; the scripts build ``keras.Sequential([keras.Input((4,)),
keras.layers.Dense(3)])`` with kernel ``W`` and zero bias, loss
``SparseCategoricalCrossentropy(from_logits=True)``, optimizer "sgd").
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.training import CompileConfig, unpack_x_y_sample_weight


def _case():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4)).astype("float32")
    y = rng.integers(0, 3, size=(30,))
    sw = rng.uniform(0.1, 2.0, size=(30,)).astype("float32")
    w = rng.normal(size=(4, 3)).astype("float32")
    return x, y, sw, w


def _dense(w, **compile_kw):
    """Keras's Dense(3) with kernel ``w`` and zero bias, as a torch Linear."""
    lin = nn.Linear(4, 3)
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(w.T))
        lin.bias.zero_()
    m = K.Sequential([lin])
    m.compile(
        optimizer="sgd",
        loss=K.losses.SparseCategoricalCrossentropy(from_logits=True),
        **compile_kw,
    )
    return m


# ------------------------------------------------------------------ (2) weighted_metrics
def test_sample_weight_weighs_only_weighted_metrics_in_evaluate():
    x, y, sw, w = _case()
    m = _dense(w, metrics=["accuracy"], weighted_metrics=["accuracy"])
    logs = m.evaluate(x, y, sample_weight=sw, return_dict=True, verbose=0)
    # Keras 3.15.1 run, torch backend: evaluate(x, y, sample_weight=sw)
    assert logs == pytest.approx(
        {
            "loss": 2.392589569091797,
            "accuracy": 0.2666666805744171,
            "weighted_accuracy": 0.2772909104824066,
        },
        rel=1e-5,
    )
    plain = m.evaluate(x, y, return_dict=True, verbose=0)
    # Keras: without weights the weighted metric equals the plain one
    assert plain["weighted_accuracy"] == pytest.approx(0.2666666805744171, rel=1e-6)
    assert plain["loss"] == pytest.approx(2.2806766033172607, rel=1e-5)


def test_sample_and_class_weight_in_fit_weigh_only_weighted_metrics():
    x, y, sw, w = _case()
    m = _dense(w, metrics=["accuracy"], weighted_metrics=["accuracy"])
    h = m.fit(x, y, sample_weight=sw, batch_size=10, epochs=2, shuffle=False, verbose=0)
    # Keras 3.15.1 run, torch backend: fit(sample_weight=sw, batch_size=10, epochs=2)
    assert h.history["accuracy"] == pytest.approx([0.2666666805744171] * 2, rel=1e-6)
    assert h.history["weighted_accuracy"] == pytest.approx([0.2772909104824066] * 2, rel=1e-5)
    assert h.history["loss"] == pytest.approx([2.388282060623169, 2.371283531188965], rel=1e-5)
    m = _dense(w, metrics=["accuracy"], weighted_metrics=["accuracy"])
    cw = {0: 0.5, 1: 2.0, 2: 1.0}
    h = m.fit(x, y, class_weight=cw, batch_size=10, epochs=2, shuffle=False, verbose=0)
    # Keras 3.15.1 run, torch backend: fit(class_weight={0: .5, 1: 2, 2: 1})
    assert h.history["accuracy"] == pytest.approx([0.2666666805744171] * 2, rel=1e-6)
    assert h.history["weighted_accuracy"] == pytest.approx([0.28125] * 2, rel=1e-5)
    assert h.history["loss"] == pytest.approx([2.340665102005005, 2.3230981826782227], rel=1e-5)


def test_weighted_metrics_live_in_the_compile_config():
    x, y, sw, w = _case()
    m = _dense(w, weighted_metrics=["accuracy"])
    cfg = m.compile_config
    assert [mm.name for mm in cfg.weighted_metrics] == ["accuracy"] and cfg.metrics == ()
    again = CompileConfig.from_config(cfg.get_config())
    assert again == cfg
    # alone, a weighted metric keeps its name (Keras: "weighted_" only on a clash)
    logs = m.evaluate(x, y, sample_weight=sw, return_dict=True, verbose=0)
    assert logs["accuracy"] == pytest.approx(0.2772909104824066, rel=1e-5)
    with pytest.raises(TypeError, match="Expected weighted_metrics to be a list.*Received"):
        m.compile(loss="mse", weighted_metrics="accuracy")


# ------------------------------------------------------------------ (3) loss_weights
def test_a_scalar_loss_weight_scales_a_single_loss():
    x, y, _, w = _case()
    # Keras 3.15.1 run, torch backend: compile(loss_weights=0.2): 0.4561353 vs 2.2806766
    assert _dense(w, loss_weights=0.2).evaluate(x, y, verbose=0) == pytest.approx(
        0.4561353325843811, rel=1e-5
    )
    m = _dense(w, loss_weights=0.2)
    h = m.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    assert h.history["loss"] == pytest.approx([0.45599421858787537, 0.4554484486579895], rel=1e-5)
    keras_kernel = [
        [1.8149904012680054, -0.04902001470327377, 0.0873240977525711],
        [-1.482049584388733, 1.643025517463684, 0.9167782664299011],
        [1.0650558471679688, 0.047331079840660095, 0.9188753366470337],
        [0.3706173002719879, 0.6117591261863708, -0.15043339133262634],
    ]
    got = m.layers[0].weight.detach().T.numpy()
    np.testing.assert_allclose(got, keras_kernel, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "loss,loss_weights",
    [
        ("mse", [0.2, 0.3]),  # Keras: "must match the number of losses, got 1 losses and 2"
        ("mse", {"a": 1.0}),
        (["mse", "mae"], [1.0]),
        ({"a": "mse", "b": "mae"}, {"a": 1.0, "c": 2.0}),
        ({"a": "mse", "b": "mae"}, [1.0, 2.0]),
    ],
)
def test_loss_weights_of_the_wrong_length_or_keys_raise(loss, loss_weights):
    m = K.Sequential([nn.Linear(4, 3)])
    with pytest.raises(ValueError, match=r"Expected loss_weights.*Received: loss_weights="):
        m.compile(optimizer="sgd", loss=loss, loss_weights=loss_weights)


# ------------------------------------------------------------------ (6) metrics property
class _Calls(K.Model):
    """Keras's pattern: a tracker returned by an overridden ``metrics``."""

    def __init__(self):
        super().__init__()
        self.d = nn.Linear(4, 1)
        self.t = K.metrics.Mean(name="calls")
        self.c = 0

    def forward(self, x):
        return self.d(x)

    def train_step(self, data):
        self.c += 1
        self.t.update_state(torch.tensor(float(self.c)))
        return {"calls": self.t.result()}

    test_step = train_step

    @property
    def metrics(self):
        return [self.t]


@pytest.mark.filterwarnings("ignore:compile\\(\\) got no loss")
def test_trackers_of_an_overridden_metrics_property_reset_each_epoch_and_evaluate():
    x, y, _, _ = _case()
    m = _Calls()
    m.compile(optimizer="sgd")
    h = m.fit(x, y.astype("float32"), batch_size=10, epochs=3, verbose=0)
    # Keras 3.15.1 run, torch backend: calls 1,2,3 | 4,5,6 | 7,8,9 -> means 2, 5, 8
    assert h.history["calls"] == [2.0, 5.0, 8.0]
    assert m.evaluate(x, y.astype("float32"), batch_size=10, verbose=0) == 11.0  # Keras: 11.0
    m = _Calls()
    m.compile(optimizer="sgd")
    val = (x[:20], y[:20].astype("float32"))
    h = m.fit(x, y.astype("float32"), batch_size=10, epochs=2, validation_data=val, verbose=0)
    # Keras: {'calls': [2.0, 7.0], 'val_calls': [4.5, 9.5]}
    assert h.history == {"calls": [2.0, 7.0], "val_calls": [4.5, 9.5]}


# ------------------------------------------------------------------ (10) (17) logs and data
class _Extra(K.Model):
    def __init__(self):
        super().__init__()
        self.d = nn.Linear(4, 1)
        self.seen = []

    def forward(self, x):
        return self.d(x)

    def train_step(self, data):
        self.seen.append(len(data))
        logs = super().train_step(data)
        logs["k"] = 7.0
        logs["gap"] = self.d.bias.detach().abs().sum()  # a tensor: read at the epoch's end
        return logs


def test_logs_from_super_train_step_are_mutable_and_reach_the_history():
    x, y, sw, _ = _case()
    m = _Extra()
    m.compile(optimizer="sgd", loss="mse")
    h = m.fit(x, y.astype("float32"), batch_size=15, epochs=2, verbose=0)
    # Keras 3.15.1 run, torch backend: {'k': [7.0], 'loss': [...]}; data is (x, y)
    assert sorted(h.history) == ["gap", "k", "loss"]
    assert h.history["k"] == [7.0, 7.0]
    assert h.history["gap"][-1] == pytest.approx(float(m.d.bias.detach().abs().sum()))
    assert m.seen == [2, 2, 2, 2]
    m.seen.clear()
    m.fit(x, y.astype("float32"), sample_weight=sw, batch_size=15, epochs=1, verbose=0)
    assert m.seen == [3, 3]  # Keras: (x, y, sample_weight) with weights


def test_unpack_x_y_sample_weight_as_keras():
    # keras.utils.unpack_x_y_sample_weight (keras/src/trainers/data_adapters/
    # data_adapter_utils.py): x -> (x, None, None), lists count as tuples
    assert unpack_x_y_sample_weight("x") == ("x", None, None)
    assert unpack_x_y_sample_weight(("x",)) == ("x", None, None)
    assert unpack_x_y_sample_weight(["x", "y"]) == ("x", "y", None)
    assert unpack_x_y_sample_weight(("x", "y", "w")) == ("x", "y", "w")
    with pytest.raises(ValueError, match="Expected data in the format.*Received"):
        unpack_x_y_sample_weight((1, 2, 3, 4))


# ------------------------------------------------------------------ (11) stop flags
class _StopAfterOne(K.callbacks.Callback):
    def on_test_batch_end(self, batch, logs=None):
        self.model.stop_evaluating = True

    def on_predict_batch_end(self, batch, logs=None):
        self.model.stop_predicting = True


def test_stop_evaluating_and_stop_predicting_end_the_loop_after_the_batch():
    x, y, _, w = _case()
    m = _dense(w)
    loss = m.evaluate(x, y, batch_size=10, callbacks=[_StopAfterOne()], verbose=0)
    # Keras 3.15.1 run, torch backend: 1.682403564453125 (= evaluate on the first batch)
    assert loss == pytest.approx(1.682403564453125, rel=1e-5)
    assert m.predict(x, batch_size=10, callbacks=[_StopAfterOne()], verbose=0).shape == (10, 3)
    # reset at the next evaluate: Keras 2.2806763648986816 over all the data
    assert m.evaluate(x, y, batch_size=10, verbose=0) == pytest.approx(2.2806764, rel=1e-5)
    assert m.predict(x, batch_size=10, verbose=0).shape == (30, 3)


# ------------------------------------------------------------------ (13) no learning_rate
def test_epoch_logs_hold_only_the_loss_and_metrics():
    x, y, _, w = _case()
    h = _dense(w).fit(x, y, batch_size=5, verbose=0)
    assert list(h.history) == ["loss"]  # Keras 3.15.1 run: history keys ['loss']


# ------------------------------------------------------------------ (15) nothing to train
def test_a_frozen_model_warns_and_reports_its_loss():
    x, y, _, w = _case()
    m = _dense(w)
    for p in m.parameters():
        p.requires_grad_(False)
    before = [p.clone() for p in m.parameters()]
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        h = m.fit(x, y, batch_size=10, epochs=2, verbose=0)
    # Keras warns "The model does not have any trainable weights." and runs; the loss is the
    # untrained model's (Keras: evaluate 2.2806766)
    assert h.history["loss"] == pytest.approx([2.2806766] * 2, rel=1e-5)
    assert all(torch.equal(p, q) for p, q in zip(m.parameters(), before))


def test_a_model_without_weights_trains():
    x = torch.linspace(-1, 1, 12).reshape(6, 2)
    y = torch.zeros(6, 2)
    m = K.Sequential([nn.Identity()])
    m.compile(optimizer="adam", loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        h = m.fit(x, y, batch_size=3, epochs=1, verbose=0)
    assert h.history["loss"] == pytest.approx([float((x**2).mean())], rel=1e-6)


# ------------------------------------------------------------------ (16) forward count
class _Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x


def test_fit_evaluate_predict_call_forward_once_per_batch():
    x, y, _, _ = _case()
    counter = _Counting()
    m = K.Sequential([counter, nn.Linear(4, 3)])
    m.compile(optimizer="sgd", loss="mse")
    m.fit(x, np.zeros((30, 3), "float32"), batch_size=5, epochs=1, verbose=0)
    # Keras 3.15.1 run, torch backend: 6 calls on real batches for 6 batches (its 3 other
    # calls of a fresh model run on symbolic "meta" tensors to build it)
    assert counter.calls == 6
    counter.calls = 0
    m.evaluate(x, np.zeros((30, 3), "float32"), batch_size=10, verbose=0)
    m.predict(x, batch_size=10, verbose=0)
    assert counter.calls == 6


def test_an_error_in_the_first_step_changes_nothing():
    x, y, _, _ = _case()
    m = K.Sequential([nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Linear(7, 3)])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = {k: v.clone() for k, v in m.state_dict().items()}
    with pytest.raises(ValueError, match="Linear 'layers.2'.*Received: x batch shape \\(10, 4\\)"):
        m.fit(x, y, batch_size=10, verbose=0)
    assert m.optimizer is None
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())


# ------------------------------------------------------------------ lr_scheduler by name
def test_a_scheduler_name_builds_the_optimizers_scheduler_for_the_fit():
    x, y, _, w = _case()
    m = _dense(w, lr_scheduler="cosine")
    m.fit(x, y, batch_size=10, epochs=2, verbose=0)  # 6 batches
    ref_opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.01)
    ref, interval = K.optimizers.scheduler_from_name("cosine", ref_opt, epochs=2, steps_per_epoch=3)
    for _ in range(6 if interval == "batch" else 2):
        ref_opt.step()
        ref.step()
    assert m.optimizer.param_groups[0]["lr"] == pytest.approx(ref_opt.param_groups[0]["lr"])
    with pytest.raises(ValueError, match="Expected lr_scheduler.*Received: lr_scheduler='cosin'"):
        _dense(w, lr_scheduler="cosin")


# ------------------------------------------------------------------ compile(ema=...)
def _ema_fit(decay, callbacks):
    x, y, _, w = _case()
    m = _dense(w, ema=decay)
    m.fit(x, y, batch_size=10, epochs=2, shuffle=False, callbacks=callbacks, verbose=0)
    return [p.detach().clone() for p in m.parameters()]


def test_compile_ema_adds_swap_ema_weights_unless_one_is_given():
    plain = _ema_fit(None, [])
    own = _ema_fit(None, [K.callbacks.SwapEMAWeights(decay=0.9)])
    by_compile = _ema_fit(0.9, [])
    assert all(torch.equal(a, b) for a, b in zip(own, by_compile))
    assert not all(torch.equal(a, b) for a, b in zip(plain, by_compile))
    given = _ema_fit(0.9, [K.callbacks.SwapEMAWeights(decay=0.5)])
    only_given = _ema_fit(None, [K.callbacks.SwapEMAWeights(decay=0.5)])
    assert all(torch.equal(a, b) for a, b in zip(given, only_given))
    with pytest.raises(ValueError, match="Expected ema.*Received: ema=2"):
        _dense(np.zeros((4, 3), "float32"), ema=2)
