"""Callback hook order, dispatch of overridden hooks only, History and stop_training."""

from __future__ import annotations

import numpy as np
import pytest

import kerasish as K
from kerasish.callbacks.callback import HOOKS


class Recorder(K.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []


for _hook in HOOKS:

    def _make(name):
        def method(self, *args):
            self.calls.append((name, args[0]) if "batch" in name or "epoch" in name else (name,))

        return method

    setattr(Recorder, _hook, _make(_hook))


def _model():
    model = K.Sequential([K.layers.Dense(8, activation="relu"), K.layers.Dense(3)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_calls_hooks_in_keras_order(blobs):
    x, y = blobs
    rec = Recorder()
    _model().fit(
        x[:64],
        y[:64],
        batch_size=32,
        epochs=2,
        verbose=0,
        validation_data=(x[64:96], y[64:96]),
        callbacks=[rec],
    )

    def epoch(e):
        return [
            ("on_epoch_begin", e),
            ("on_train_batch_begin", 0),
            ("on_train_batch_end", 0),
            ("on_train_batch_begin", 1),
            ("on_train_batch_end", 1),
            ("on_test_begin",),
            ("on_test_batch_begin", 0),
            ("on_test_batch_end", 0),
            ("on_test_end",),
            ("on_epoch_end", e),
        ]

    assert rec.calls == [("on_train_begin",), *epoch(0), *epoch(1), ("on_train_end",)]


def test_evaluate_and_predict_hooks(blobs):
    x, y = blobs
    model = _model()
    model.fit(x, y, verbose=0)
    rec = Recorder()
    model.evaluate(x[:40], y[:40], batch_size=20, verbose=0, callbacks=[rec])
    assert rec.calls == [
        ("on_test_begin",),
        ("on_test_batch_begin", 0),
        ("on_test_batch_end", 0),
        ("on_test_batch_begin", 1),
        ("on_test_batch_end", 1),
        ("on_test_end",),
    ]
    rec = Recorder()
    model.predict(x[:20], batch_size=20, verbose=0, callbacks=[rec])
    assert rec.calls == [
        ("on_predict_begin",),
        ("on_predict_batch_begin", 0),
        ("on_predict_batch_end", 0),
        ("on_predict_end",),
    ]


def test_hooks_not_overridden_are_not_dispatched():
    class OnlyEpochs(K.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    cbs = K.callbacks.CallbackList([OnlyEpochs()])
    assert cbs.on_train_batch_end is None and cbs.on_train_batch_begin is None
    assert cbs.on_epoch_end is not None


def test_overrides_tells_which_hooks_a_callback_implements(tmp_path):
    from kerasish.callbacks.callback_list import overrides

    class OnlyEpochs(K.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    class Duck:  # not a Callback: any method of a hook's name counts
        def on_train_batch_end(self, batch, logs=None):
            pass

    cb, tb = OnlyEpochs(), K.callbacks.TensorBoard(log_dir=str(tmp_path))
    assert overrides(cb, "on_epoch_end") and not overrides(cb, "on_train_batch_end")
    assert overrides(Duck(), "on_train_batch_end") and not overrides(Duck(), "on_epoch_end")
    assert not overrides(tb, "on_train_batch_end")  # listed in its skipped_hooks
    cbs = K.callbacks.CallbackList([cb])
    assert cbs.overrides(cb, "on_epoch_end") and K.callbacks.CallbackList.overrides is overrides


def test_epoch_logs_are_floats_and_history_records_them(blobs):
    x, y = blobs
    seen = []

    class Spy(K.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(dict(logs))

    model = _model()
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[Spy()])
    assert model.history is history
    assert history.epoch == [0, 1, 2]
    # Keras 3.15.1 run: sorted keys, no learning_rate without a callback that logs it
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert all(isinstance(v, float) for logs in seen for v in logs.values())
    assert history.history["loss"] == [s["loss"] for s in seen]
    assert history.params == {
        "epochs": 3,
        "steps": 6,
        "verbose": 0,
        "mode": "fit",
        "batch_size": 32,
        "samples": 180,
    }


def test_batch_logs_hold_running_means(blobs):
    x, y = blobs
    losses = []

    class Batches(K.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            losses.append(logs["loss"])

    history = _model().fit(x, y, batch_size=60, epochs=1, verbose=0, callbacks=[Batches()])
    assert len(losses) == 4
    assert losses[-1] == pytest.approx(history.history["loss"][0], rel=1e-6)


def test_stop_training_from_a_callback_ends_fit(blobs):
    x, y = blobs

    class StopAfterTwo(K.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    history = _model().fit(x, y, epochs=10, verbose=0, callbacks=[StopAfterTwo()])
    assert history.epoch == [0, 1]


def test_stop_training_mid_epoch(blobs):
    x, y = blobs
    batches = []

    class StopAtBatch(K.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)
            if batch == 2:
                self.model.stop_training = True

    _model().fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[StopAtBatch()])
    assert batches == [0, 1, 2]


def test_progress_bar_verbose_modes(blobs, capsys):
    x, y = blobs
    model = _model()
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert out.count("Epoch 1/2") == 1 and "loss:" in out and "accuracy:" in out
    model.fit(x, y, epochs=1, verbose=1)
    captured = capsys.readouterr()
    assert "Epoch 1/1" in captured.out + captured.err
    model.fit(x, y, epochs=1, verbose=0)
    captured = capsys.readouterr()
    assert captured.out == "" and "Epoch" not in captured.err


def test_verbose_auto_is_two_when_not_a_tty(blobs, capsys):
    x, y = blobs
    _model().fit(x, y, epochs=1)
    out = capsys.readouterr().out
    steps = _model_steps(x)
    assert out.startswith(f"{steps}/{steps} - ")  # Keras: no "Epoch 1/1" line for one epoch


def _model_steps(x, batch_size=32):
    return -(-len(x) // batch_size)


def test_history_plot(blobs):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    x, y = blobs
    history = _model().fit(x, y, epochs=2, verbose=0, validation_split=0.2)
    ax = history.plot(["loss"])
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["loss", "val_loss"]
    assert np.allclose(ax.get_lines()[0].get_ydata(), history.history["loss"])


def test_instances_skip_the_hooks_they_do_not_need(tmp_path):
    epoch_tb = K.callbacks.CallbackList([K.callbacks.TensorBoard(log_dir=str(tmp_path))])
    assert epoch_tb.on_train_batch_end is None and epoch_tb.on_epoch_end is not None
    batch_tb = K.callbacks.TensorBoard(log_dir=str(tmp_path), update_freq="batch")
    assert K.callbacks.CallbackList([batch_tb]).on_train_batch_end is not None
    seen = []
    lam = K.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    cbs = K.callbacks.CallbackList([lam])
    assert cbs.on_train_batch_end is None and cbs.on_train_begin is None
    cbs.on_epoch_end(3, {})
    assert seen == [3] and type(lam) is K.callbacks.LambdaCallback
