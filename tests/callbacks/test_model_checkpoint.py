"""ModelCheckpoint: Keras's semantics for which epochs write files, formatting, save_freq."""

from __future__ import annotations

import os

import numpy as np
import pytest
from torch import nn

import kerasish as K


def _model():
    model = K.Sequential([nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 3)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _run(tmp_path, values, **kwargs):
    """Call on_epoch_end with each value of the monitor; return the epochs (1-based) saved."""
    cb = K.callbacks.ModelCheckpoint(
        str(tmp_path / "w.{epoch:02d}.safetensors"), save_weights_only=True, **kwargs
    )
    cb.set_model(_model())
    monitor = kwargs.get("monitor", "val_loss")
    for epoch, value in enumerate(values):
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, {monitor: value, "loss": 1.0})
    return sorted(int(f[2:4]) for f in os.listdir(tmp_path)), cb


def test_saves_every_epoch_by_default(tmp_path):
    saved, _ = _run(tmp_path, [3.0, 4.0, 5.0])
    assert saved == [1, 2, 3]


def test_save_best_only_min_mode(tmp_path):
    saved, cb = _run(tmp_path, [3.0, 2.0, 2.5, 2.0, 1.0], save_best_only=True)
    assert saved == [1, 2, 5]
    assert cb.best == 1.0


def test_save_best_only_max_mode(tmp_path):
    saved, _ = _run(
        tmp_path, [0.5, 0.4, 0.6, 0.6], monitor="val_loss", mode="max", save_best_only=True
    )
    assert saved == [1, 3]


def test_auto_mode_maximises_accuracy_like_names(tmp_path):
    saved, cb = _run(tmp_path, [0.5, 0.7, 0.6], monitor="val_accuracy", save_best_only=True)
    assert cb.mode == "max" and saved == [1, 2]
    modes = {
        m: K.callbacks.ModelCheckpoint("m.kerasish", monitor=m).mode
        for m in ("val_auc", "precision", "acc", "val_loss", "mae")
    }
    assert modes == {
        "val_auc": "max",
        "precision": "max",
        "acc": "max",
        "val_loss": "min",
        "mae": "min",
    }


def test_initial_value_threshold_must_be_beaten(tmp_path):
    saved, _ = _run(
        tmp_path, [3.0, 2.5, 1.5, 1.8], save_best_only=True, initial_value_threshold=2.0
    )
    assert saved == [3]
    saved, _ = _run(
        tmp_path / "max",
        [0.5, 0.95],
        monitor="acc",
        save_best_only=True,
        initial_value_threshold=0.9,
    )
    assert saved == [2]


def test_missing_monitor_warns_and_saves(tmp_path):
    cb = K.callbacks.ModelCheckpoint(
        str(tmp_path / "m.safetensors"),
        monitor="val_auc",
        save_best_only=True,
        save_weights_only=True,
    )
    cb.set_model(_model())
    with pytest.warns(UserWarning, match="val_auc"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert os.listdir(tmp_path) == ["m.safetensors"]


def test_filepath_is_formatted_with_epoch_and_logs(tmp_path, blobs):
    x, y = blobs
    cb = K.callbacks.ModelCheckpoint(
        str(tmp_path / "ckpt" / "m.{epoch:02d}-{val_loss:.2f}.kerasish"), verbose=1
    )
    model = _model()
    model.fit(x, y, epochs=2, validation_split=0.25, verbose=0, callbacks=[cb])
    val = model.history.history["val_loss"]
    assert sorted(os.listdir(tmp_path / "ckpt")) == [
        f"m.01-{val[0]:.2f}.kerasish",
        f"m.02-{val[1]:.2f}.kerasish",
    ]
    loaded = K.models.load_model(tmp_path / "ckpt" / f"m.02-{val[1]:.2f}.kerasish")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unknown_filepath_field_names_the_log_keys(tmp_path):
    cb = K.callbacks.ModelCheckpoint(str(tmp_path / "m.{val_acc:.2f}.kerasish"))
    cb.set_model(_model())
    with pytest.raises(KeyError, match="log keys"):
        cb.on_epoch_end(0, {"loss": 1.0})


def test_save_freq_counts_batches_across_epochs(tmp_path, blobs):
    x, y = blobs
    cb = K.callbacks.ModelCheckpoint(
        str(tmp_path / "w.{epoch:02d}-{batch:02d}.safetensors"), save_weights_only=True, save_freq=2
    )
    _model().fit(x[:96], y[:96], batch_size=32, epochs=2, shuffle=False, verbose=0, callbacks=[cb])
    assert sorted(os.listdir(tmp_path)) == [
        "w.01-02.safetensors",
        "w.02-01.safetensors",
        "w.02-03.safetensors",
    ]


def test_verbose_says_what_it_does(tmp_path, capsys):
    _run(tmp_path, [2.0, 3.0], save_best_only=True, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from None to 2.00000, saving model to" in out
    assert "Epoch 2: val_loss did not improve from 2.00000" in out


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filepath": "m.kerasish", "save_weights_only": True}, r"\.safetensors"),
        ({"filepath": "m.pt"}, "save_weights_only=True"),
        ({"filepath": "m.kerasish", "mode": "maximum"}, "mode"),
        ({"filepath": "m.kerasish", "save_freq": 0}, "save_freq"),
        ({"filepath": "m.kerasish", "save_freq": "batch"}, "save_freq"),
        ({"filepath": "m.kerasish", "verbose": 3}, "verbose"),
    ],
)
def test_bad_arguments_raise_when_made(kwargs, match):
    with pytest.raises(ValueError, match=match):
        K.callbacks.ModelCheckpoint(**kwargs)


def test_save_best_only_file_keeps_the_best_weights(tmp_path, blobs):
    x, y = blobs
    path = tmp_path / "best.safetensors"
    cb = K.callbacks.ModelCheckpoint(
        str(path), monitor="loss", save_best_only=True, save_weights_only=True
    )
    model = _model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
    best = int(np.argmin(model.history.history["loss"]))
    assert cb.best == model.history.history["loss"][best]
    assert sorted(os.listdir(tmp_path)) == ["best.safetensors"]
