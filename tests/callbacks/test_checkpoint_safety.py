"""No checkpoint lost to NaN, and no bad callback path found only after training has run.

ModelCheckpoint keeps the previous file when the loss, the monitored value or a weight is
not finite. ModelCheckpoint, CSVLogger, TensorBoard and BackupAndRestore refuse paths they
cannot write (and ModelCheckpoint bad format strings) in ``on_train_begin``, before step 1.
"""

from __future__ import annotations

import math
import os
import pathlib

import numpy as np
import pytest
import safetensors.torch
import torch

import kerasish as K
from kerasish.callbacks.callback_list import overrides
from tests.conftest import params_of, same_params


def _model():
    K.utils.set_random_seed(0)
    model = K.Sequential([K.layers.Dense(8, activation="relu"), K.layers.Dense(3)])
    model.compile(
        optimizer=K.optimizers.SGD(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model(torch.zeros(1, 8))
    return model


class PoisonAt(K.callbacks.Callback):
    """Set a weight to NaN at the start (``where="begin"``) or end of epoch ``epoch``."""

    def __init__(self, epoch, where="begin"):
        super().__init__()
        self.epoch, self.where = epoch, where

    def _poison(self, epoch):
        if epoch == self.epoch:
            with torch.no_grad():
                next(self.model.parameters()).view(-1)[0] = math.nan

    def on_epoch_begin(self, epoch, logs=None):
        if self.where == "begin":
            self._poison(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if self.where == "end":
            self._poison(epoch)


def _weights(path):
    return safetensors.torch.load_file(str(path))


def test_save_best_only_on_val_accuracy_keeps_the_last_finite_best_when_the_loss_is_nan(
    tmp_path, blobs
):
    x, y = blobs
    rng = np.random.default_rng(1)
    x_val = rng.normal(0, 3, size=(60, 8)).astype(np.float32)
    y_val = np.zeros(60, dtype=np.int64)  # a NaN model predicts class 0 everywhere
    model = _model()
    path = tmp_path / "best.safetensors"
    ckpt = K.callbacks.ModelCheckpoint(
        path, monitor="val_accuracy", save_best_only=True, save_weights_only=True
    )
    snapshot = {}

    class Keep(K.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshot[epoch] = {k: v.clone() for k, v in self.model.state_dict().items()}

    with pytest.warns(UserWarning, match=r"did not save .*best\.safetensors.* epoch 2: loss=nan"):
        history = model.fit(
            x,
            y,
            validation_data=(x_val, y_val),
            epochs=2,
            verbose=0,
            callbacks=[PoisonAt(1), Keep(), ckpt],
        )
    acc = history.history["val_accuracy"]
    assert math.isnan(history.history["loss"][1]) and acc[1] > acc[0]  # "improved", but NaN
    saved = _weights(path)
    assert all(torch.isfinite(v).all() for v in saved.values())
    assert all(torch.equal(saved[k], snapshot[0][k]) for k in saved)  # epoch 1's weights
    assert ckpt.best == acc[0]  # the NaN epoch did not become the best


def test_a_fixed_name_checkpoint_is_not_overwritten_by_non_finite_weights(tmp_path, blobs):
    x, y = blobs
    model = _model()
    path = tmp_path / "last.safetensors"
    ckpt = K.callbacks.ModelCheckpoint(path, save_weights_only=True)
    with pytest.warns(UserWarning, match="epoch 2: some weights are NaN or inf"):
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[PoisonAt(1, where="end"), ckpt])
    assert all(math.isfinite(v) for v in history.history["loss"])  # only the weights check
    saved = _weights(path)
    assert all(torch.isfinite(v).all() for v in saved.values())
    current = model.state_dict()
    assert not all(torch.equal(saved[k], current[k].cpu()) for k in saved)


def test_an_epoch_checkpoint_is_never_called_per_batch(tmp_path):
    ckpt = K.callbacks.ModelCheckpoint(tmp_path / "m.kerasish")
    assert not overrides(ckpt, "on_train_batch_end")
    every = K.callbacks.ModelCheckpoint(tmp_path / "m.kerasish", save_freq=5)
    assert overrides(every, "on_train_batch_end")


# --------------------------------------------------------------------------- bad paths


def _unwritable_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    if os.geteuid() == 0:  # root writes through permission bits: use a read-only file system
        return pathlib.Path("/proc")
    d = tmp_path / "read-only"
    d.mkdir()
    d.chmod(0o500)
    return d


def _file(tmp_path):
    f = tmp_path / "a-file"
    f.write_text("not a directory")
    return f


CASES = [
    # (id, make callback from (tmp_path, a regular file, an unwritable dir), message)
    ("ckpt-under-file", lambda t, f, r: K.callbacks.ModelCheckpoint(f / "m.kerasish"), "regular file"),
    ("ckpt-unwritable", lambda t, f, r: K.callbacks.ModelCheckpoint(r / "m.kerasish"), "not writable"),
    ("ckpt-is-dir", lambda t, f, r: K.callbacks.ModelCheckpoint(t), "is a directory"),
    ("ckpt-unknown-field", lambda t, f, r: K.callbacks.ModelCheckpoint(t / "{epoch:02d}{bogus}.kerasish"), r"unknown fields \['bogus'\]"),
    ("ckpt-bad-syntax", lambda t, f, r: K.callbacks.ModelCheckpoint(t / "m{epoch.kerasish"), "valid format string"),
    ("ckpt-positional", lambda t, f, r: K.callbacks.ModelCheckpoint(t / "m{}.kerasish"), "unknown fields"),
    ("ckpt-bad-spec", lambda t, f, r: K.callbacks.ModelCheckpoint(t / "m{epoch:q}.kerasish"), "valid format string"),
    ("ckpt-field-in-dir-under-file", lambda t, f, r: K.callbacks.ModelCheckpoint(f / "{epoch}" / "m.kerasish"), "regular file"),
    ("csv-under-file", lambda t, f, r: K.callbacks.CSVLogger(f / "log.csv"), "regular file"),
    ("csv-unwritable", lambda t, f, r: K.callbacks.CSVLogger(r / "log.csv"), "not writable"),
    ("csv-is-dir", lambda t, f, r: K.callbacks.CSVLogger(t), "is a directory"),
    ("tb-is-file", lambda t, f, r: K.callbacks.TensorBoard(f), "regular file"),
    ("tb-under-file", lambda t, f, r: K.callbacks.TensorBoard(f / "logs"), "regular file"),
    ("tb-unwritable", lambda t, f, r: K.callbacks.TensorBoard(r / "logs"), "not writable"),
    ("backup-is-file", lambda t, f, r: K.callbacks.BackupAndRestore(f), "regular file"),
    ("backup-under-file", lambda t, f, r: K.callbacks.BackupAndRestore(f / "b"), "regular file"),
    ("backup-unwritable", lambda t, f, r: K.callbacks.BackupAndRestore(r / "b"), "not writable"),
]  # fmt: skip


class Steps(K.callbacks.Callback):
    steps = 0

    def on_train_batch_begin(self, batch, logs=None):
        Steps.steps += 1


@pytest.mark.parametrize("make, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_callback_path_is_refused_before_the_first_step(tmp_path, blobs, make, message):
    x, y = blobs
    callback = make(tmp_path, _file(tmp_path), _unwritable_dir(tmp_path))
    model = _model()
    before = params_of(model)
    Steps.steps = 0
    with pytest.raises(ValueError, match=message) as err:
        model.fit(x, y, epochs=1, verbose=0, callbacks=[Steps(), callback])
    assert str(err.value).startswith("Expected") and "Received" in str(err.value)
    assert Steps.steps == 0
    assert same_params(params_of(model), before)


def test_log_keys_are_accepted_format_fields(tmp_path, blobs):
    x, y = blobs
    model = _model()
    pattern = "m.{epoch:02d}-{loss:.2f}-{val_accuracy:.3f}-{learning_rate}.kerasish"
    ckpt = K.callbacks.ModelCheckpoint(tmp_path / "{epoch}" / pattern)
    logs_lr = K.callbacks.LearningRateScheduler(lambda epoch, lr: lr)  # adds learning_rate
    model.fit(x, y, epochs=1, validation_split=0.25, verbose=0, callbacks=[logs_lr, ckpt])
    assert len(list(tmp_path.glob("1/m.01-*-*-0.05.kerasish"))) == 1
    per_batch = K.callbacks.ModelCheckpoint(
        tmp_path / "b{epoch}-{batch}-{accuracy:.1f}.kerasish", save_freq=2
    )
    model.fit(x, y, epochs=1, batch_size=60, verbose=0, callbacks=[per_batch])
    assert sorted(p.name[:5] for p in tmp_path.glob("b*.kerasish")) == ["b1-2-", "b1-4-"]


@pytest.mark.parametrize(
    "pattern, save_freq, unknown",
    [("m{batch}.kerasish", "epoch", "batch"), ("m{val_loss}.kerasish", 2, "val_loss")],
)
def test_fields_missing_from_the_logs_they_are_saved_with_are_refused(
    tmp_path, blobs, pattern, save_freq, unknown
):
    x, y = blobs
    model = _model()
    ckpt = K.callbacks.ModelCheckpoint(tmp_path / pattern, save_freq=save_freq)
    with pytest.raises(ValueError, match=rf"unknown fields \['{unknown}'\]"):
        model.fit(x, y, epochs=1, validation_split=0.25, verbose=0, callbacks=[ckpt])


def test_a_custom_train_step_may_log_keys_of_its_own(tmp_path, blobs):
    x, y = blobs

    class Custom(K.Sequential):
        def train_step(self, data):
            logs = dict(super().train_step(data))
            return {**logs, "mine": 1.0}

    K.utils.set_random_seed(0)
    model = Custom([K.layers.Dense(3)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    ckpt = K.callbacks.ModelCheckpoint(tmp_path / "m-{mine:.0f}.kerasish")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[ckpt])
    assert os.path.exists(tmp_path / "m-1.kerasish")
