"""kerasish.training.fused: the default steps as one closure per loop give exactly what the
methods give, and the methods take over whenever the model or its configuration needs them."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.training import fused, loop


class MethodsOnly(K.Sequential):
    """A model that overrides a piece of train_step (with the same behaviour): no fusing."""

    def compute_metrics(self, *args, **kwargs):
        return super().compute_metrics(*args, **kwargs)


def _data(n=192, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    return x, y


def _layers(regularized=False):
    torch.manual_seed(0)
    reg = {"kernel_regularizer": K.regularizers.L2(0.01)} if regularized else {}
    return [K.layers.Input((6,)), K.layers.Dense(16, activation="relu", **reg), nn.Linear(16, 3)]


def _pair(compile_kwargs, regularized=False):
    fast = K.Sequential(_layers(regularized))
    slow = MethodsOnly(_layers(regularized))
    for m in (fast, slow):
        m.compile(**{"optimizer": "adam", "loss": "cross_entropy", **compile_kwargs})
    return fast, slow


def _same_weights(a, b):
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


@pytest.fixture
def fused_calls(monkeypatch):
    """The names fit/evaluate/predict asked ``fused_step`` for, with whether it fused."""
    calls = []

    def spy(model, name):
        step = fused.fused_step(model, name)
        calls.append((name, step is not None))
        return step

    monkeypatch.setattr(loop, "fused_step", spy)
    return calls


@pytest.mark.parametrize(
    "compile_kwargs, fit_kwargs, regularized",
    [
        ({"metrics": ["accuracy"]}, {}, False),
        (
            {"metrics": ["accuracy"], "weighted_metrics": ["accuracy"]},
            {"sample_weight": True},
            False,
        ),
        ({"metrics": ["accuracy"]}, {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}, False),
        ({"metrics": ["accuracy"]}, {}, True),
        ({}, {"validation_split": 0.25}, False),
    ],
    ids=["plain", "sample_weight", "class_weight", "regularizer", "validation"],
)
def test_fit_equals_the_methods(fused_calls, compile_kwargs, fit_kwargs, regularized):
    x, y = _data()
    if fit_kwargs.get("sample_weight") is True:
        fit_kwargs = {**fit_kwargs, "sample_weight": torch.linspace(0.1, 2.0, len(x))}
    fast, slow = _pair(compile_kwargs, regularized)
    logs = []
    for m in (fast, slow):
        torch.manual_seed(1)
        h = m.fit(x, y, batch_size=32, epochs=2, verbose=0, **fit_kwargs)
        logs.append(h.history)
    assert ("train_step", True) in fused_calls and ("train_step", False) in fused_calls
    assert logs[0] == logs[1]
    _same_weights(fast, slow)
    assert fast.train_state.micro_step == slow.train_state.micro_step > 0


def test_evaluate_and_predict_equal_the_methods(fused_calls):
    x, y = _data()
    fast, slow = _pair({"metrics": ["accuracy"]})
    assert fast.evaluate(x, y, batch_size=32, verbose=0) == slow.evaluate(
        x, y, batch_size=32, verbose=0
    )
    np.testing.assert_array_equal(
        fast.predict(x, batch_size=32, verbose=0), slow.predict(x, batch_size=32, verbose=0)
    )
    assert ("test_step", True) in fused_calls and ("test_step", False) in fused_calls
    assert ("predict_step", True) in fused_calls  # predict_step's pieces are both models' own


def test_per_batch_schedule_steps_as_the_methods():
    x, y = _data()
    models = []
    for cls in (K.Sequential, MethodsOnly):
        m = cls(_layers())
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        m.compile(
            optimizer=opt, loss="cross_entropy", lr_scheduler=sched, scheduler_interval="batch"
        )
        m.fit(x, y, batch_size=32, epochs=1, verbose=0)
        models.append(m)
    assert models[0].optimizer.param_groups[0]["lr"] == 0.1 * 0.5**3
    _same_weights(*models)


def tripled(y_true, y_pred, sample_weight=None):
    return 3.0 * nn.functional.cross_entropy(y_pred, y_true)


def _swap_loss(model):
    model.loss = tripled


def _weigh_loss(model):
    model.compile_config = model.compile_config.replace(loss_weights=3.0)


@pytest.mark.parametrize("change", [_swap_loss, _weigh_loss], ids=["model.loss", "compile_config"])
def test_a_change_mid_epoch_takes_effect_at_the_next_batch(change):
    """A new ``model.loss`` or a recompile sends the rest of the epoch back to the methods."""
    x, y = _data()

    class Change(K.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                change(self.model)

    fast, slow = _pair({})
    for m in (fast, slow):
        torch.manual_seed(1)
        m.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Change()])
    _same_weights(fast, slow)


def test_dict_inputs_and_mapping_outputs_are_fused_and_equal():
    class Net(K.Model):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.a, self.b = nn.Linear(3, 3), nn.Linear(3, 3)

        def forward(self, left, right):
            return {"logits": self.a(left) + self.b(right)}

    class NetMethods(Net):
        def compute_metrics(self, *args, **kwargs):
            return super().compute_metrics(*args, **kwargs)

    x, y = _data(d=6)
    inputs = {"left": x[:, :3], "right": x[:, 3:]}
    models = []
    for cls in (Net, NetMethods):
        m = cls()
        m.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
        torch.manual_seed(1)
        models.append((m, m.fit(inputs, y, batch_size=32, epochs=1, verbose=0).history))
    assert models[0][1] == models[1][1]
    _same_weights(models[0][0], models[1][0])


@pytest.mark.parametrize(
    "compile_kwargs, fit_kwargs",
    [
        ({}, {"gradient_accumulation_steps": 2}),
        ({"mixed_precision": "bf16"}, {}),
        ({"loss_weights": 2.0}, {}),
        ({"optimizer": K.optimizers.SGD(clipnorm=1.0)}, {}),
    ],
    ids=["accumulation", "mixed_precision", "loss_weights", "clipping"],
)
def test_configurations_it_does_not_cover_use_the_methods(fused_calls, compile_kwargs, fit_kwargs):
    x, y = _data(n=64)
    model = K.Sequential(_layers())
    model.compile(**{"optimizer": "adam", "loss": "cross_entropy", **compile_kwargs})
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, **fit_kwargs)
    assert fused_calls == [("train_step", False)]


def test_an_instance_level_step_is_not_fused(fused_calls):
    x, y = _data(n=64)
    model = K.Sequential(_layers())
    model.compile(optimizer="adam", loss="cross_entropy")
    seen = []
    default = model.compute_loss

    def compute_loss(*args, **kwargs):
        seen.append(1)
        return default(*args, **kwargs)

    model.compute_loss = compute_loss
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert fused_calls == [("train_step", False)]
    assert len(seen) >= 2  # every batch (and the first-step check)


class NoneUnderNoGrad(K.losses.Loss):
    """A loss with nothing to report in evaluation (None under no_grad)."""

    def call(self, y_true, y_pred):
        return nn.functional.cross_entropy(y_pred, y_true, reduction="none")

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not torch.is_grad_enabled():
            return None
        return super().__call__(y_true, y_pred, sample_weight)


def test_a_loss_of_none_in_evaluation_is_skipped_as_the_methods_do(fused_calls):
    x, y = _data()
    results = []
    for cls in (K.Sequential, MethodsOnly):
        m = cls(_layers())
        m.compile(optimizer="adam", loss=NoneUnderNoGrad(), metrics=["accuracy"])
        torch.manual_seed(1)
        results.append(m.fit(x, y, batch_size=32, epochs=1, verbose=0, validation_split=0.3))
    assert ("test_step", True) in fused_calls
    assert results[0].history == results[1].history
    assert results[0].history["val_loss"] == [0.0]


def test_freezing_everything_and_rebuilding_mid_epoch_counts_steps_as_the_methods():
    x, y = _data()

    class FreezeAll(K.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1 and self.model.train_state.epoch == 0:
                for p in self.model.parameters():
                    p.requires_grad_(False)
                self.model.build_optimizer()

    fast, slow = _pair({})
    for m in (fast, slow):
        torch.manual_seed(1)
        with pytest.warns(UserWarning, match="trainable weights"):
            m.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[FreezeAll()])
    _same_weights(fast, slow)
    counters = [(m.train_state.step, m.train_state.micro_step) for m in (fast, slow)]
    assert counters[0] == counters[1]


@pytest.mark.parametrize("cls", [K.Sequential, MethodsOnly], ids=["fused", "methods"])
def test_a_named_per_batch_scheduler_keeps_stepping_after_a_rebuild(cls):
    x, y = _data()
    lrs = []

    class Rebuild(K.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.build_optimizer()
            lrs.append(self.model.optimizer.param_groups[0]["lr"])

    model = cls(_layers())
    model.compile(optimizer="adam", loss="cross_entropy", lr_scheduler="cosine")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Rebuild()])
    assert all(b < a for a, b in zip(lrs, lrs[1:], strict=False)), lrs
