"""Callback semantics checked against Keras 3: hooks set on an instance, Keras's on_batch_*
aliases, ``{}`` logs for begin hooks, TerminateOnNaN(raise_error), LambdaCallback's extra
kwargs, ReduceLROnPlateau.best, EarlyStopping with an unknown monitor, learning_rate in the
logs only from the callbacks that add it, and the verbose=2 line. The reference runs are
Keras 3.15.1 on the torch backend (12 samples, batch_size=4, 2 epochs) unless a test cites
keras/src/callbacks/*_test.py."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

import kerasish as K
from kerasish.callbacks import Callback, CallbackList
from kerasish.callbacks.callback import HOOKS
from kerasish.callbacks.progbar import keras_line

RNG = np.random.RandomState(0)
X = RNG.rand(12, 4).astype("float32")
Y = RNG.rand(12, 1).astype("float32")
LABELS = (RNG.rand(12, 1) > 0.5).astype("float32")


def _regressor():
    K.utils.set_random_seed(0)
    model = K.Sequential([K.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"], device="cpu")
    return model


def _classifier():
    K.utils.set_random_seed(0)
    model = K.Sequential([K.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"], device="cpu")
    return model


# ---------------------------------------------------------------------- (7) instance hooks
def test_hooks_assigned_on_an_instance_are_called():
    # Keras 3.15.1 run: cb = Callback(); cb.on_epoch_end = f; cb.on_batch_end = g;
    # fit(epochs=2, batch_size=4) on 12 samples records exactly this:
    keras_record = [0, 1, 2, (0, ["loss", "mae"]), 0, 1, 2, (1, ["loss", "mae"])]
    record = []
    cb = Callback()
    cb.on_epoch_end = lambda epoch, logs=None: record.append((epoch, sorted(logs)))
    cb.on_batch_end = lambda batch, logs=None: record.append(batch)
    _regressor().fit(X, Y, epochs=2, batch_size=4, verbose=0, callbacks=[cb])
    assert record == keras_record


def test_the_call_lists_are_made_once_per_list_and_skip_what_nobody_defines():
    cb = Callback()
    assert CallbackList([cb]).on_train_batch_end is None  # nothing defined: never called
    cb.on_train_batch_end = lambda batch, logs=None: None
    cbs = CallbackList([cb])
    assert cbs.on_train_batch_end is cb.on_train_batch_end  # one callback: called directly
    assert cbs.on_test_batch_end is None and cbs.on_epoch_end is None


# ---------------------------------------------------------------------- (8) on_batch_* aliases
class _Alias(Callback):
    def __init__(self):
        super().__init__()
        self.begins = self.ends = 0

    def on_batch_begin(self, batch, logs=None):
        self.begins += 1

    def on_batch_end(self, batch, logs=None):
        self.ends += 1


class _Both(Callback):
    def __init__(self):
        super().__init__()
        self.train_ends = self.alias_ends = 0

    def on_train_batch_end(self, batch, logs=None):
        self.train_ends += 1

    def on_batch_end(self, batch, logs=None):
        self.alias_ends += 1


def test_on_batch_begin_and_end_are_called_for_training_batches_only():
    # Keras 3.15.1 run, fit(epochs=2, batch_size=4, validation_split=0.25): 6 and 6 (the
    # validation batches do not count); a callback defining on_train_batch_end too: 6, 0
    alias, both = _Alias(), _Both()
    _regressor().fit(
        X, Y, epochs=2, batch_size=4, validation_split=0.25, verbose=0, callbacks=[alias]
    )
    _regressor().fit(X, Y, epochs=2, batch_size=4, verbose=0, callbacks=[both])
    assert (alias.begins, alias.ends) == (6, 6)
    assert (both.train_ends, both.alias_ends) == (6, 0)


# ---------------------------------------------------------------------- (9) {} logs
def test_begin_hooks_and_on_predict_end_get_empty_dicts():
    # Keras 3.15.1 run: every *_begin hook and on_predict_end receives {} in fit/evaluate/predict
    seen: dict[str, set] = {}
    cb = Callback()
    for hook in HOOKS:

        def record(*args, _hook=hook):
            seen.setdefault(_hook, set()).add(repr(args[-1]))

        setattr(cb, hook, record)
    model = _regressor()
    model.fit(X, Y, epochs=2, batch_size=4, validation_split=0.25, verbose=0, callbacks=[cb])
    model.evaluate(X, Y, batch_size=4, verbose=0, callbacks=[cb])
    model.predict(X, batch_size=4, verbose=0, callbacks=[cb])
    begins = [h for h in HOOKS if h.endswith("_begin")] + ["on_predict_end"]
    assert {h: seen[h] for h in begins} == {h: {"{}"} for h in begins}


def test_epoch_end_logs_come_sorted_like_keras():
    # Keras 3.15.1 run: history keys ['loss', 'mae', 'val_loss', 'val_mae'] (pythonify_logs)
    history = _regressor().fit(X, Y, epochs=1, batch_size=4, validation_split=0.25, verbose=0)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]


# ---------------------------------------------------------------------- (12) small Keras rules
class _TrainEnd(Callback):
    called = False

    def on_train_end(self, logs=None):
        self.called = True


def test_terminate_on_nan_raise_error_raises_runtime_error_before_on_train_end():
    # terminate_on_nan_test.py::test_terminate_on_nan_raise_error_raises_error and
    # ::test_raise_error_terminate_does_not_trigger_on_train_end; Keras 3's message
    model = _regressor()
    y_inf = np.full((12, 1), np.inf, "float32")
    tracker, stop = _TrainEnd(), K.callbacks.TerminateOnNaN(raise_error=True)
    with pytest.raises(
        RuntimeError,
        match=r"^NaN or Inf loss encountered at batch 0\. Loss value: inf\. "
        r"Terminating training immediately\.$",
    ):
        model.fit(X, y_inf, epochs=1, batch_size=4, verbose=0, callbacks=[tracker, stop])
    assert not tracker.called and (stop.stopped_epoch, stop.stopped_batch) == (0, 0)


def test_lambda_callback_sets_extra_kwargs_as_attributes():
    # lambda_callback_test.py::test_lambda_callback_with_additional_kwargs; Keras 3.15.1 run:
    # LambdaCallback(foo=3).foo == 3, and on_test_end=f (a kwarg) is called by evaluate
    ended = []
    cb = K.callbacks.LambdaCallback(foo=3, on_test_end=lambda logs: ended.append(sorted(logs)))
    assert cb.foo == 3
    _regressor().evaluate(X, Y, batch_size=4, verbose=0, callbacks=[cb])
    assert ended == [["loss", "mae"]]


def test_reduce_lr_on_plateau_best_is_none_until_the_first_value():
    # Keras 3.15.1 run: ReduceLROnPlateau().best is None;
    # reduce_lr_on_plateau_test.py::test_state_reset_across_fit_calls: None after on_train_begin
    reduce = K.callbacks.ReduceLROnPlateau(monitor="loss")
    assert reduce.best is None
    reduce.on_train_begin()
    assert reduce.best is None
    history = _regressor().fit(X, Y, epochs=1, batch_size=4, verbose=0, callbacks=[reduce])
    assert reduce.best == history.history["loss"][0]


@pytest.mark.parametrize("monitor", ["unknown", "my_acc", "val_mse"])
def test_early_stopping_auto_mode_with_an_unknown_monitor_raises_at_the_first_epoch_end(monitor):
    # Keras 3.15.1 run: EarlyStopping(monitor="unknown" / "my_acc" / "val_mae" not compiled)
    # raises ValueError ("... isn't able to automatically determine whether that metric
    # should be maximized or minimized ...") at the first epoch end
    seen = []
    epochs = K.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    with pytest.raises(ValueError, match=rf"mode='min' or mode='max'.*monitor='{monitor}'"):
        _classifier().fit(
            X, LABELS, epochs=2, verbose=0, validation_split=0.25,
            callbacks=[K.callbacks.EarlyStopping(monitor=monitor), epochs],
        )  # fmt: skip
    assert seen == []


@pytest.mark.parametrize("monitor", ["val_accuracy", "accuracy", "loss"])
def test_early_stopping_auto_mode_with_a_model_metric_works(monitor):
    # Keras 3.15.1 run: these monitors train without error
    stop = K.callbacks.EarlyStopping(monitor=monitor)
    _classifier().fit(X, LABELS, epochs=1, verbose=0, validation_split=0.25, callbacks=[stop])
    assert stop.best is not None


def test_an_explicit_mode_with_an_unknown_key_only_warns():
    stop = K.callbacks.EarlyStopping(monitor="unknown", mode="min")
    with pytest.warns(UserWarning, match="conditioned on metric `unknown`"):
        _classifier().fit(X, LABELS, epochs=1, verbose=0, callbacks=[stop])


@pytest.mark.parametrize("cls", ["ReduceLROnPlateau", "ModelCheckpoint"])
def test_other_monitoring_callbacks_raise_the_same(tmp_path, cls):
    # Keras 3.15.1 run: ReduceLROnPlateau / ModelCheckpoint(monitor="unknown") raise ValueError
    args = [str(tmp_path / "m.kerasish")] if cls == "ModelCheckpoint" else []
    cb = getattr(K.callbacks, cls)(*args, monitor="unknown")
    with pytest.raises(ValueError, match="monitor='unknown'"):
        _classifier().fit(X, LABELS, epochs=1, verbose=0, callbacks=[cb])


# ---------------------------------------------------------------------- (13) learning_rate
def test_learning_rate_is_logged_only_by_the_callbacks_that_add_it(tmp_path):
    # Keras 3.15.1 run, SGD (learning_rate=0.01), fit(epochs=2, batch_size=4):
    #   plain fit: history keys ['accuracy', 'loss'];
    #   ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, min_delta=10):
    #       learning_rate [0.01, 0.01] (the epoch's rate, logged before the reduction);
    #   LearningRateScheduler(lambda e, lr: lr * 0.5): learning_rate [0.005, 0.0025]
    plain = _classifier().fit(X, LABELS, epochs=2, batch_size=4, verbose=0)
    assert sorted(plain.history) == ["accuracy", "loss"]
    model = _classifier()
    reduce = K.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5, min_delta=10)
    before, after = tmp_path / "before.csv", tmp_path / "after.csv"
    loggers = [K.callbacks.CSVLogger(before), reduce, K.callbacks.CSVLogger(after)]
    history = model.fit(X, LABELS, epochs=2, batch_size=4, verbose=0, callbacks=loggers)
    assert history.history["learning_rate"] == pytest.approx([0.01, 0.01])
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.005)
    # a CSVLogger sees the key only after the callback that adds it (as in Keras)
    assert "learning_rate" not in next(csv.reader(open(before)))
    rows = list(csv.DictReader(open(after)))
    assert [float(r["learning_rate"]) for r in rows] == pytest.approx([0.01, 0.01])
    schedule = K.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    history = _classifier().fit(X, LABELS, epochs=2, batch_size=4, verbose=0, callbacks=[schedule])
    assert history.history["learning_rate"] == pytest.approx([0.005, 0.0025])


def test_tensorboard_writes_the_learning_rate_without_it_in_the_logs(tmp_path):
    # Keras's TensorBoard writes epoch_learning_rate from the optimizer (_collect_learning_rate)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    board = K.callbacks.TensorBoard(tmp_path / "logs")
    history = _classifier().fit(X, LABELS, epochs=2, batch_size=4, verbose=0, callbacks=[board])
    assert "learning_rate" not in history.history
    events = EventAccumulator(str(tmp_path / "logs" / "train")).Reload()
    values = [e.value for e in events.Scalars("epoch_learning_rate")]
    assert values == pytest.approx([0.01, 0.01])


# ---------------------------------------------------------------------- (14) verbose=2
# Keras 3.15.1 run, verbose=2 (times vary):
#   fit(epochs=2, validation_split=0.25):  "Epoch 1/2"
#       "3/3 - 0s - 9ms/step - accuracy: 0.5556 - loss: 0.7182 - val_accuracy: 0.6667 - val_loss: 0.5710"
#   fit(epochs=1): "3/3 - 0s - 4ms/step - accuracy: 0.5833 - loss: 0.6811" (no Epoch line)
#   evaluate: "3/3 - 0s - 6ms/step - accuracy: 0.5833 - loss: 0.6797"; predict: "3/3 - 0s - 3ms/step"
#   with ReduceLROnPlateau: "3/3 - 0s - 5ms/step - accuracy: 0.5833 - loss: 0.6797 - learning_rate: 0.0100"
HEAD = r"3/3 - \d+s - \d+(?:s|ms|us)/step"
NUM = r"\d+\.\d{4}"


def test_verbose_two_prints_keras_lines(capsys):
    model = _classifier()
    history = model.fit(X, LABELS, epochs=2, batch_size=4, validation_split=0.25, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    keys = ["accuracy", "loss", "val_accuracy", "val_loss"]
    for epoch, line in enumerate(lines[1::2]):
        assert re.fullmatch(HEAD + "".join(f" - {k}: {NUM}" for k in keys), line), line
        shown = dict(re.findall(r"(\w+): (\d+\.\d+)", line))
        assert {k: float(v) for k, v in shown.items()} == pytest.approx(
            {k: history.history[k][epoch] for k in keys}, abs=5e-5
        )
    model.fit(X, LABELS, epochs=1, batch_size=4, verbose=2)
    model.evaluate(X, LABELS, batch_size=4, verbose=2)
    model.predict(X, batch_size=4, verbose=2)
    reduce = K.callbacks.ReduceLROnPlateau(monitor="loss")
    model.fit(X, LABELS, epochs=1, batch_size=4, verbose=2, callbacks=[reduce])
    fit1, evaluate, predict, reduced = capsys.readouterr().out.splitlines()
    assert re.fullmatch(HEAD + f" - accuracy: {NUM} - loss: {NUM}", fit1), fit1
    assert re.fullmatch(HEAD + f" - accuracy: {NUM} - loss: {NUM}", evaluate), evaluate
    assert re.fullmatch(HEAD, predict), predict
    assert re.fullmatch(HEAD + f" - accuracy: {NUM} - loss: {NUM} - learning_rate: 0.0100", reduced)


@pytest.mark.parametrize(
    "seconds, logs, expected",
    [  # Keras 3.15.1 run: keras.utils.Progbar(target=3, verbose=2, unit_name="step") on a fake
        # clock, .update(3, list(logs.items()), finalize=True) after `seconds` prints these
        (0.018, {"loss": 0.69314}, "3/3 - 0s - 6ms/step - loss: 0.6931"),
        (4.2, {"a": 0.0, "b": -0.5}, "3/3 - 4s - 1s/step - a: 0.0000e+00 - b: -5.0000e-01"),
        (0.0003, {"lr": 1e-4}, "3/3 - 0s - 100us/step - lr: 1.0000e-04"),
        (0.0, {"big": 123456.0}, "3/3 - 0s - 0s/step - big: 123456.0000"),
    ],
)
def test_keras_line_formats_like_keras_progbar(seconds, logs, expected):
    assert keras_line(3, seconds, logs) == expected
