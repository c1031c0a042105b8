"""BackupAndRestore resumes stateful callbacks and refuses a backup of another run.

A run with EarlyStopping, ReduceLROnPlateau, ModelCheckpoint(save_best_only) and CSVLogger is
SIGKILLed mid-epoch and re-run: its weights, History, CSV file and best checkpoint must equal
those of the same run never interrupted. A backup of another architecture, batch size or data
size is refused before any parameter changes.
"""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap

import pytest
import safetensors.torch
import torch

import kerasish as K
from kerasish import layers as L
from tests.conftest import params_of, same_params

ROOT = pathlib.Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys
    sys.path.insert(0, {root!r})
    import torch
    torch.set_num_threads(1)
    import kerasish as K

    out, work = sys.argv[1], sys.argv[2]
    freq = os.environ.get("FREQ", "epoch")
    kill_at = int(os.environ.get("KILL_AT", "0"))
    K.utils.set_random_seed(0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(120, 8, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long()
    model = K.Sequential(
        [K.layers.Dense(16, activation="relu"), K.layers.Dropout(0.3), K.layers.Dense(2)]
    )
    model.compile(
        optimizer=K.optimizers.Adam(5e-2), loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )

    class Kill(K.callbacks.Callback):  # SIGKILL after the kill_at-th batch overall
        def on_train_batch_end(self, batch, logs=None):
            seen = self.model.train_state.epoch * self.params["steps"] + batch + 1
            if seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    stop = K.callbacks.EarlyStopping(
        monitor="val_loss", patience=2, min_delta=0.02, restore_best_weights=True
    )
    callbacks = [
        stop,
        K.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_delta=0.02),
        K.callbacks.ModelCheckpoint(
            os.path.join(work, "best.safetensors"), save_best_only=True, save_weights_only=True
        ),
        K.callbacks.CSVLogger(os.path.join(work, "log.csv")),
    ]
    if freq != "-":
        save_freq = freq if freq == "epoch" else int(freq)
        callbacks.insert(1, K.callbacks.BackupAndRestore(os.path.join(work, "backup"), save_freq))
        callbacks.append(Kill())
    history = model.fit(
        x, y, batch_size=16, epochs=30, shuffle=True, verbose=0,
        validation_split=0.2, callbacks=callbacks,
    )
    model.save_weights(out + ".safetensors")
    with open(out + ".json", "w") as f:
        json.dump({{"history": history.history, "epoch": history.epoch,
                   "stopped_epoch": stop.stopped_epoch}}, f)
    """
).format(root=str(ROOT))


def _run(work: pathlib.Path, freq: str, kill_at: int = 0) -> subprocess.CompletedProcess:
    script = work / "train.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "FREQ": freq, "KILL_AT": str(kill_at)}
    return subprocess.run(
        [sys.executable, str(script), str(work / "out"), str(work)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _outputs(work: pathlib.Path) -> dict:
    with open(work / "out.json") as f:
        logs = json.load(f)
    return {
        "weights": safetensors.torch.load_file(str(work / "out.safetensors")),
        "best": safetensors.torch.load_file(str(work / "best.safetensors")),
        "logs": logs,
        "csv": (work / "log.csv").read_text(),
    }


def _same_tensors(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    work = tmp_path_factory.mktemp("reference")
    proc = _run(work, "-")
    assert proc.returncode == 0, proc.stderr
    out = _outputs(work)
    logs = out["logs"]
    # the run is worth resuming: it stops early and its learning rate was reduced
    assert 0 < logs["stopped_epoch"] < 29
    assert len(set(logs["history"]["learning_rate"])) > 1
    return out


@pytest.mark.parametrize("freq", ["3", "epoch"])
def test_sigkill_mid_epoch_with_stateful_callbacks_resumes_bit_identically(
    tmp_path, reference, freq
):
    steps = 6  # 96 training samples, batch 16
    kill_at = (reference["logs"]["stopped_epoch"] - 1) * steps + 4  # late, mid-epoch
    killed = _run(tmp_path, freq, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (tmp_path / "backup" / "checkpoint.pt").exists()
    rerun = _run(tmp_path, freq)
    assert rerun.returncode == 0, rerun.stderr
    out = _outputs(tmp_path)
    assert out["logs"] == reference["logs"]  # History, stopped_epoch: every epoch once
    assert _same_tensors(out["weights"], reference["weights"])  # best weights restored
    assert _same_tensors(out["best"], reference["best"])  # the best file was not overwritten
    assert out["csv"] == reference["csv"]  # one header, each epoch's row once
    assert not (tmp_path / "backup").exists()


# --------------------------------------------------------------------------- refusals


class Crash(K.callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise RuntimeError("simulated crash")


def _model(units=16):
    K.utils.set_random_seed(0)
    model = K.Sequential([L.Dense(units, activation="relu"), L.Dense(3)])
    model.compile(optimizer=K.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    model(torch.zeros(1, 8))  # built, so its parameters exist before fit
    return model


def _crash_with_backup(tmp_path, blobs):
    x, y = blobs
    with pytest.raises(RuntimeError, match="simulated crash"):
        _model().fit(
            x[:160],
            y[:160],
            batch_size=32,
            epochs=3,
            verbose=0,
            callbacks=[K.callbacks.BackupAndRestore(tmp_path, save_freq=2), Crash(7)],
        )


@pytest.mark.parametrize(
    "units, n, batch_size, match",
    [
        (8, 160, 32, r"come from this model.*layers\.0\.linear\.weight of shape \(16, 8\)"),
        (16, 160, 16, r"batch_size=32 in the backup, batch_size=16 now"),
        (16, 128, 32, r"steps=5 in the backup, steps=4 now"),
        (16, 150, 32, r"samples=160 in the backup, samples=150 now"),
    ],
    ids=["other-architecture", "other-batch-size", "other-data-size", "same-steps-fewer-samples"],
)
def test_a_backup_of_another_run_is_refused_before_any_parameter_changes(
    tmp_path, blobs, units, n, batch_size, match
):
    _crash_with_backup(tmp_path, blobs)
    x, y = blobs
    model = _model(units)
    before = params_of(model)
    with pytest.raises(ValueError, match=match) as err:
        model.fit(
            x[:n],
            y[:n],
            batch_size=batch_size,
            epochs=3,
            verbose=0,
            callbacks=[K.callbacks.BackupAndRestore(tmp_path, save_freq=2)],
        )
    assert "Expected" in str(err.value) and "Received" in str(err.value)
    assert same_params(params_of(model), before)
    assert model.optimizer is None or model.optimizer.state_dict()["state"] == {}
    assert (tmp_path / "checkpoint.pt").exists()  # the backup is kept for the right run


def test_a_backup_of_another_optimizer_is_refused(tmp_path, blobs):
    _crash_with_backup(tmp_path, blobs)
    x, y = blobs
    model = _model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    before = params_of(model)
    with pytest.raises(
        ValueError, match=r"come from this model and optimizer.*optimizer=Adam \(the model's: SGD\)"
    ):
        model.fit(
            x[:160],
            y[:160],
            batch_size=32,
            verbose=0,
            callbacks=[K.callbacks.BackupAndRestore(tmp_path, save_freq=2)],
        )
    assert same_params(params_of(model), before)


# --------------------------------------------------------------------------- state dicts


def test_callback_state_dicts_round_trip_and_default_to_empty(blobs):
    x, y = blobs
    model = _model()
    stop = K.callbacks.EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    reduce = K.callbacks.ReduceLROnPlateau(monitor="loss", patience=1, cooldown=2)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[stop, reduce])
    assert K.callbacks.Callback().state_dict() == {}
    fresh_stop = K.callbacks.EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    fresh_stop.set_model(model)
    fresh_stop.load_state_dict(stop.state_dict())
    state, loaded = stop.state_dict(), fresh_stop.state_dict()
    assert {k: v for k, v in state.items() if k != "best_weights"} == {
        k: v for k, v in loaded.items() if k != "best_weights"
    }
    assert _same_tensors(state["best_weights"], loaded["best_weights"])
    assert state["best"] == min(model.history.history["loss"])
    fresh_reduce = K.callbacks.ReduceLROnPlateau(monitor="loss", patience=1, cooldown=2)
    fresh_reduce.load_state_dict(reduce.state_dict())
    assert fresh_reduce.state_dict() == reduce.state_dict()
