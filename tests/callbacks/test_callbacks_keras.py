"""Keras's built-in callbacks with Keras's semantics, on scripted metric sequences.

``Scripted`` is a tiny model whose validation logs follow given sequences (its ``test_step``
returns ``script[key][epoch]``), so every expectation below is exact: the epoch EarlyStopping
stops at, the weights it restores, the learning rate of each epoch, the CSV rows.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.callbacks import CallbackList
from kerasish.callbacks.monitor import Monitor, resolve_mode

X = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
Y = X @ np.array([[1.0], [-2.0], [0.5], [3.0]], dtype=np.float32)


class Scripted(K.Model):
    """A linear model trained for real; its validation logs are ``script[key][epoch]``."""

    def __init__(self, **script: list[float]):
        super().__init__()
        self.fc = nn.Linear(4, 1)
        self.script = script

    def forward(self, x):
        return self.fc(x)

    def test_step(self, data):
        return {k: torch.tensor(v[self.train_state.epoch]) for k, v in self.script.items()}


class WeightsByEpoch(K.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights: dict[int, dict[str, torch.Tensor]] = {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch] = {k: v.clone() for k, v in self.model.state_dict().items()}


def fit(model, callbacks, epochs, lr=0.1, optimizer=None, **kw):
    if not getattr(model, "compiled", False):
        model.compile(optimizer=optimizer or K.optimizers.SGD(learning_rate=lr), loss="mse")
    return model.fit(
        X,
        Y,
        batch_size=32,
        epochs=epochs,
        verbose=0,
        validation_data=(X[:8], Y[:8]),
        callbacks=callbacks,
        **kw,
    )


class LearningRates(K.callbacks.Callback):
    """Param group 0's rate at each epoch begin (the rate the epoch trains with) or end."""

    def __init__(self, at="begin"):
        super().__init__()
        self.rates: list[float] = []
        hook = "on_epoch_begin" if at == "begin" else "on_epoch_end"
        setattr(self, hook, lambda epoch, logs=None: self.rates.append(self._lr()))

    def _lr(self):
        return float(self.model.optimizer.param_groups[0]["lr"])


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------------- monitor
def test_auto_mode_maximises_accuracy_like_names_and_minimises_the_rest():
    for name in ("accuracy", "val_accuracy", "val_auc", "precision", "recall", "val_f1_score"):
        assert resolve_mode(name) == "max", name
    for name in ("loss", "val_loss", "mae", "val_mean_squared_error", "val_crossentropy"):
        assert resolve_mode(name) == "min", name
    assert resolve_mode("val_accuracy", "min") == "min"
    with pytest.raises(ValueError, match="Received: mode='bogus'"):
        resolve_mode("loss", "bogus")


def test_min_delta_must_be_exceeded():
    m = Monitor("val_loss", min_delta=-0.1)  # sign ignored, as in Keras
    assert m.min_delta == 0.1
    assert m.is_improvement(0.89, 1.0) and not m.is_improvement(0.9, 1.0)
    m = Monitor("val_accuracy", min_delta=0.1)
    assert m.is_improvement(0.61, 0.5) and not m.is_improvement(0.6, 0.5)
    assert not m.is_improvement(float("nan"), None)


# ---------------------------------------------------------------------- EarlyStopping
@pytest.mark.parametrize(
    "kwargs, val_loss, stop_epoch",
    [
        ({"patience": 2}, [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.4], 3),
        ({"patience": 0}, [1.0, 0.9, 0.95, 0.8, 0.7, 0.6, 0.5], 2),
        ({"patience": 1, "min_delta": 0.1}, [1.0, 0.95, 0.92, 0.5, 0.4, 0.3, 0.2], 1),
        ({"patience": 1, "min_delta": 0.1}, [1.0, 0.85, 0.8, 0.5, 0.4, 0.3, 0.2], 2),
        # baseline: epochs that do not beat it count against patience
        ({"patience": 2, "baseline": 0.5}, [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], 2),
        ({"patience": 2}, [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9], 3),
        ({"patience": 2, "baseline": 0.5}, [0.6, 0.4, 0.45, 0.45, 0.45, 0.45, 0.45], 3),
        # start_from_epoch: the first epochs are not monitored
        ({"patience": 0, "start_from_epoch": 2}, [1, 2, 3, 4, 5, 6, 7], 3),
        ({"patience": 0}, [1, 2, 3, 4, 5, 6, 7], 1),
    ],
)
def test_early_stopping_stops_at_keras_epoch(kwargs, val_loss, stop_epoch):
    stop = K.callbacks.EarlyStopping(**kwargs)
    history = fit(Scripted(loss=val_loss), [stop], epochs=len(val_loss))
    assert history.epoch == list(range(stop_epoch + 1))
    assert stop.stopped_epoch == stop_epoch


def test_early_stopping_runs_to_the_end_when_improving():
    stop = K.callbacks.EarlyStopping(patience=0)
    history = fit(Scripted(loss=[5, 4, 3, 2, 1]), [stop], epochs=5)
    assert history.epoch == [0, 1, 2, 3, 4] and stop.stopped_epoch == 0


@pytest.mark.parametrize(
    "mode, accuracy, stop_epoch",
    [("max", [0.5, 0.6, 0.55, 0.58, 0.7], 2), ("min", [0.5, 0.6, 0.55, 0.58, 0.7], 1)],
)
def test_early_stopping_mode(mode, accuracy, stop_epoch):
    stop = K.callbacks.EarlyStopping(monitor="val_accuracy", mode=mode, patience=1)
    fit(Scripted(loss=[1.0] * 5, accuracy=accuracy), [stop], epochs=5)
    assert stop.stopped_epoch == stop_epoch


def test_early_stopping_auto_mode_refuses_a_key_that_is_no_metric():
    # Keras 3.15.1 run: "auto" with a key that is neither loss nor a compiled metric (here a
    # custom test_step's "accuracy") raises ValueError at the first epoch end
    stop = K.callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    with pytest.raises(ValueError, match="Received: monitor='val_accuracy'"):
        fit(Scripted(loss=[1.0] * 2, accuracy=[0.5, 0.6]), [stop], epochs=2)


def test_restore_best_weights_after_stopping():
    rec = WeightsByEpoch()
    stop = K.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    model = Scripted(loss=[1.0, 0.5, 0.7, 0.8, 0.9, 0.1])
    history = fit(model, [rec, stop], epochs=6)
    assert history.epoch == [0, 1, 2, 3] and stop.best_epoch == 1
    assert not same_state(rec.weights[1], rec.weights[3])
    assert same_state(model.state_dict(), rec.weights[1])


def test_restore_best_weights_even_without_stopping_early():
    rec = WeightsByEpoch()
    stop = K.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    model = Scripted(loss=[1.0, 0.5, 0.7])
    history = fit(model, [rec, stop], epochs=3)
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch == 0
    assert same_state(model.state_dict(), rec.weights[1])
    assert not same_state(model.state_dict(), rec.weights[2])


def test_restored_weights_are_copies_not_views():
    stop = K.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    model = Scripted(loss=[0.1, 0.5, 0.7])
    fit(model, [stop], epochs=3)
    assert all(
        v.data_ptr() != p.data_ptr()
        for v, p in zip(stop.best_weights.values(), model.state_dict().values())
    )


def test_early_stopping_is_reset_by_each_fit():
    stop = K.callbacks.EarlyStopping(patience=0)
    model = Scripted(loss=[1.0, 2.0, 3.0])
    fit(model, [stop], epochs=3)
    assert stop.stopped_epoch == 1
    fit(model, [stop], epochs=1)
    assert stop.stopped_epoch == 0 and stop.wait == 0 and stop.best == 1.0


def test_early_stopping_missing_key_warns_with_available_keys():
    stop = K.callbacks.EarlyStopping(monitor="val_acc", mode="max", patience=0)
    with pytest.warns(UserWarning, match=r"`val_acc` which is not available.*val_loss"):
        history = fit(Scripted(loss=[1.0, 2.0, 3.0]), [stop], epochs=3)
    assert history.epoch == [0, 1, 2]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"mode": "bogus"}, "Received: mode='bogus'"),
        ({"patience": -1}, "Received: patience=-1"),
        ({"start_from_epoch": 1.5}, "Received: start_from_epoch=1.5"),
    ],
)
def test_early_stopping_rejects_bad_arguments(kwargs, error):
    with pytest.raises(ValueError, match=error):
        K.callbacks.EarlyStopping(**kwargs)
    with pytest.raises(TypeError, match="Received: baseline='x'"):
        K.callbacks.EarlyStopping(baseline="x")


# ---------------------------------------------------------------------- ReduceLROnPlateau
def test_reduce_lr_on_plateau_with_cooldown_and_min_lr():
    reduce = K.callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2, min_lr=0.02)
    history = fit(Scripted(loss=[1.0] * 9), [reduce], epochs=9, lr=0.1)
    expected = [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02]
    assert history.history["learning_rate"] == pytest.approx(expected)


def test_reduce_lr_on_plateau_patience_and_min_delta():
    # improvements smaller than min_delta do not reset the wait
    reduce = K.callbacks.ReduceLROnPlateau(factor=0.1, patience=2, min_delta=0.05)
    val_loss = [1.0, 0.97, 0.96, 0.5, 0.49, 0.2, 0.19]
    history = fit(Scripted(loss=val_loss), [reduce], epochs=7, lr=1.0)
    assert history.history["learning_rate"] == pytest.approx([1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1])


def test_reduce_lr_on_plateau_max_mode_and_every_param_group():
    model = Scripted(loss=[1.0] * 4, accuracy=[0.5, 0.4, 0.4, 0.4])
    optimizer = torch.optim.SGD(
        [{"params": [model.fc.weight]}, {"params": [model.fc.bias], "lr": 0.01}], lr=0.1
    )
    reduce = K.callbacks.ReduceLROnPlateau(
        monitor="val_accuracy", mode="max", factor=0.5, patience=1
    )
    history = fit(model, [reduce], epochs=4, optimizer=optimizer)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.0125, 0.00125])


def test_reduce_lr_on_plateau_rejects_factor_of_one():
    with pytest.raises(ValueError, match="Received: factor=1.0"):
        K.callbacks.ReduceLROnPlateau(factor=1.0)


# ---------------------------------------------------------------------- LearningRateScheduler
def test_learning_rate_scheduler_sets_each_epoch():
    sched = K.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    history = fit(Scripted(loss=[1.0] * 3), [sched], epochs=3, lr=0.7)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])


def test_learning_rate_scheduler_gets_current_lr_absolute_epoch_and_old_api():
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr * 0.5

    history = fit(
        Scripted(loss=[1.0] * 4),
        [K.callbacks.LearningRateScheduler(schedule)],
        epochs=4,
        initial_epoch=2,
        lr=0.4,
    )
    assert seen == [(2, pytest.approx(0.4)), (3, pytest.approx(0.2))]
    assert history.history["learning_rate"] == pytest.approx([0.2, 0.1])
    old_api = K.callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))
    history = fit(Scripted(loss=[1.0] * 2), [old_api], epochs=2)
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.02])


def test_learning_rate_scheduler_rejects_non_numbers():
    with pytest.raises(TypeError, match="Received: schedule=0.1"):
        K.callbacks.LearningRateScheduler(0.1)
    bad = K.callbacks.LearningRateScheduler(lambda epoch, lr: "fast")
    with pytest.raises(ValueError, match="Received: 'fast'"):
        fit(Scripted(loss=[1.0]), [bad], epochs=1)


# ---------------------------------------------------------------------- torch LR schedulers
def test_torch_step_lr_steps_per_epoch():
    model = Scripted(loss=[1.0] * 5)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.compile(
        optimizer=opt, loss="mse", lr_scheduler=torch.optim.lr_scheduler.StepLR(opt, 2, 0.1)
    )
    rates = LearningRates()
    fit(model, [rates], epochs=5)
    assert rates.rates == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])


def test_torch_one_cycle_lr_steps_per_batch():
    epochs, steps = 3, 4
    model = Scripted(loss=[1.0] * epochs)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=epochs * steps)
    model.compile(optimizer=opt, loss="mse", lr_scheduler=sched, scheduler_interval="batch")
    rates = LearningRates(at="end")
    model.fit(
        X, Y, batch_size=8, epochs=epochs, verbose=0, validation_data=(X, Y), callbacks=[rates]
    )

    ref_opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    ref = torch.optim.lr_scheduler.OneCycleLR(ref_opt, max_lr=1.0, total_steps=epochs * steps)
    expected = []
    for _ in range(epochs):
        for _ in range(steps):
            ref_opt.step()
            ref.step()
        expected.append(ref_opt.param_groups[0]["lr"])
    assert rates.rates == pytest.approx(expected)
    assert len(set(expected)) == epochs  # the rate really moved within each epoch


def test_torch_reduce_lr_on_plateau_is_fed_val_loss():
    # val_loss is scripted; the train loss falls steadily, so only val_loss explains the drop
    model = Scripted(loss=[1.0, 0.5, 0.6, 0.7, 0.4, 0.45])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1, threshold=0)
    model.compile(optimizer=opt, loss="mse", lr_scheduler=sched)
    rates = LearningRates()
    fit(model, [rates], epochs=6)
    assert rates.rates == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05])


# ---------------------------------------------------------------------- CSVLogger
def read_csv(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_csv_logger_writes_a_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    history = fit(Scripted(loss=[3.0, 2.0, 1.0]), [K.callbacks.CSVLogger(path)], epochs=3)
    rows = read_csv(path)
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    for key in ("loss", "val_loss"):
        col = rows[0].index(key)
        assert [float(r[col]) for r in rows[1:]] == history.history[key]


def test_csv_logger_flushes_each_epoch(tmp_path):
    path = tmp_path / "log.csv"
    lines = []
    peek = K.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: lines.append(len(path.read_text().splitlines()))
    )
    fit(Scripted(loss=[3.0, 2.0, 1.0]), [K.callbacks.CSVLogger(path), peek], epochs=3)
    assert lines == [2, 3, 4]


def test_csv_logger_append_separator_and_missing_val_columns(tmp_path):
    path = tmp_path / "log.csv"
    model = Scripted(loss=[3.0, 2.0, 1.0, 0.5])
    logger = K.callbacks.CSVLogger(path, separator=";", append=True)
    fit(model, [logger], epochs=2, validation_freq=2)
    fit(model, [logger], epochs=4, initial_epoch=2, validation_freq=2)
    rows = read_csv(path, sep=";")
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3"]  # one header, rows appended
    assert [r[2] for r in rows[1:]] == ["NA", "2.0", "NA", "0.5"]


def test_csv_logger_overwrites_without_append(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("old\n")
    fit(Scripted(loss=[1.0]), [K.callbacks.CSVLogger(str(path))], epochs=1)
    assert read_csv(path)[0][0] == "epoch" and len(read_csv(path)) == 2


# ---------------------------------------------------------------------- TerminateOnNaN
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_terminate_on_nan_stops_at_the_first_bad_batch(bad, capsys):
    x = X.copy()
    x[21] = [bad, 0, 0, 0]  # sample 21 is in batch 5 (batch_size 4, no shuffling)
    batches = []
    record = K.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batches.append(b))
    term = K.callbacks.TerminateOnNaN()
    model = Scripted(loss=[1.0] * 3)
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.01), loss="mse")
    history = model.fit(
        x, Y, batch_size=4, epochs=3, shuffle=False, verbose=0, callbacks=[term, record]
    )
    assert batches == [0, 1, 2, 3, 4, 5]
    assert history.epoch == [0] and (term.stopped_epoch, term.stopped_batch) == (0, 5)
    assert not math.isfinite(history.history["loss"][0])
    assert "Batch 5: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_does_nothing_on_finite_losses():
    term = K.callbacks.TerminateOnNaN()
    history = fit(Scripted(loss=[1.0] * 2), [term], epochs=2)
    assert history.epoch == [0, 1] and term.stopped_batch is None


# ---------------------------------------------------------------------- LambdaCallback
def test_lambda_callback_calls_the_given_functions_in_order():
    calls = []
    cb = K.callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, "loss" in logs)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: calls.append("train_end"),
        on_test_end=lambda logs: calls.append("test_end"),
    )
    model = Scripted(loss=[1.0, 1.0])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, Y, batch_size=16, epochs=2, verbose=0, validation_data=(X, Y), callbacks=[cb])

    def epoch(e):
        return [
            ("epoch_begin", e),
            ("batch_begin", 0),
            ("batch_end", 0, True),
            ("batch_begin", 1),
            ("batch_end", 1, True),
            "test_end",
            ("epoch_end", e, ["loss", "val_loss"]),
        ]

    assert calls == ["train_begin", *epoch(0), *epoch(1), "train_end"]
    assert isinstance(cb, K.callbacks.LambdaCallback)


def test_lambda_callback_dispatches_only_given_hooks():
    cb = K.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    cbs = CallbackList([cb])
    assert cbs.on_epoch_end is not None
    assert cbs.on_train_batch_end is None and cbs.on_train_batch_begin is None
    assert CallbackList([K.callbacks.LambdaCallback(on_batch_end=print)]).on_train_batch_end


def test_lambda_callback_rejects_bad_hooks_and_keeps_other_kwargs():
    with pytest.raises(TypeError, match="Received: on_epoch_end=3"):
        K.callbacks.LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="Received: on_test_end=3"):
        K.callbacks.LambdaCallback(on_test_end=3)
    # Keras (lambda_callback_test.py::test_lambda_callback_with_additional_kwargs): other
    # kwargs become attributes; a function under a name that is no hook is never called
    cb = K.callbacks.LambdaCallback(on_epoch_middle=print)
    assert cb.on_epoch_middle is print


# ---------------------------------------------------------------------- learning rate in logs
def test_learning_rate_is_in_history_only_with_a_callback_that_logs_it():
    # Keras 3.15.1 run: fit's logs carry no learning_rate; LearningRateScheduler adds it
    history = fit(Scripted(loss=[1.0, 1.0]), [], epochs=2, lr=0.3)
    assert "learning_rate" not in history.history
    keep = K.callbacks.LearningRateScheduler(lambda epoch, lr: lr)
    history = fit(Scripted(loss=[1.0, 1.0]), [keep], epochs=2, lr=0.3)
    assert history.history["learning_rate"] == pytest.approx([0.3, 0.3])
