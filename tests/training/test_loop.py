"""The loop's hook order, recorded by a callback, against Keras's documented order."""

from __future__ import annotations

import numpy as np
from torch import nn

import kerasish as K


class Recorder(K.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        attr = super().__getattribute__(name)
        if name.startswith("on_") and callable(attr):
            calls = super().__getattribute__("calls")

            def record(*args):
                calls.append(name)
                return attr(*args)

            return record
        return attr


for _hook in K.callbacks.Callback.__dict__:
    if _hook.startswith("on_"):
        setattr(Recorder, _hook, lambda self, *args: None)


def test_fit_calls_hooks_in_keras_order():
    model = K.Sequential([nn.Linear(2, 1)])
    model.compile(optimizer="sgd", loss="mse")
    rec = Recorder()
    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    model.fit(
        x, y, batch_size=2, epochs=1, validation_data=(x[:2], y[:2]), callbacks=[rec], verbose=0
    )
    assert rec.calls == [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_test_begin",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_end",
        "on_epoch_end",
        "on_train_end",
    ]


def test_predict_and_evaluate_hooks():
    model = K.Sequential([nn.Linear(2, 1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")
    rec = Recorder()
    model.predict(x, batch_size=4, callbacks=[rec], verbose=0)
    model.evaluate(x, y, batch_size=4, callbacks=[rec], verbose=0)
    assert rec.calls == [
        "on_predict_begin",
        "on_predict_batch_begin",
        "on_predict_batch_end",
        "on_predict_end",
        "on_test_begin",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_end",
    ]
