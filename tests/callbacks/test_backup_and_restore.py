"""BackupAndRestore: a run killed mid-epoch resumes to the same weights and History."""

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

    out, backup = sys.argv[1], sys.argv[2]
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
        optimizer=K.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        lr_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 1, 0.5),
    )

    class Kill(K.callbacks.Callback):  # SIGKILL after the kill_at-th batch overall
        seen = 0

        def on_train_batch_end(self, batch, logs=None):
            Kill.seen = self.model.train_state.epoch * self.params["steps"] + batch + 1
            if Kill.seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    callbacks = []
    if backup != "-":
        save_freq = freq if freq == "epoch" else int(freq)
        callbacks = [K.callbacks.BackupAndRestore(backup, save_freq=save_freq), Kill()]
    history = model.fit(
        x, y, batch_size=16, epochs=3, shuffle=True, verbose=0,
        validation_split=0.2, callbacks=callbacks,
    )
    model.save_weights(out + ".safetensors")
    with open(out + ".json", "w") as f:
        json.dump({{"history": history.history, "epoch": history.epoch}}, f)
    """
).format(root=str(ROOT))


def _run_script(tmp_path, out, backup, **env):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    full_env = {**os.environ, **{k: str(v) for k, v in env.items()}}
    return subprocess.run(
        [sys.executable, str(script), str(tmp_path / out), backup],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _results(tmp_path, out):
    weights = safetensors.torch.load_file(str(tmp_path / f"{out}.safetensors"))
    with open(tmp_path / f"{out}.json") as f:
        return weights, json.load(f)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference")
    proc = _run_script(path, "ref", "-")
    assert proc.returncode == 0, proc.stderr
    return _results(path, "ref")


@pytest.mark.parametrize(
    "freq, kill_at",
    [("4", 10), ("epoch", 8)],
    ids=["every-4-batches-killed-mid-epoch", "every-epoch-killed-mid-epoch"],
)
def test_sigkill_mid_epoch_then_rerun_matches_an_uninterrupted_run(
    tmp_path, uninterrupted, freq, kill_at
):
    backup = str(tmp_path / "backup")
    killed = _run_script(tmp_path, "run", backup, FREQ=freq, KILL_AT=kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert os.path.exists(os.path.join(backup, "checkpoint.pt"))
    rerun = _run_script(tmp_path, "run", backup, FREQ=freq)
    assert rerun.returncode == 0, rerun.stderr
    weights, logs = _results(tmp_path, "run")
    ref_weights, ref_logs = uninterrupted
    assert weights.keys() == ref_weights.keys()
    assert all(torch.equal(weights[k], ref_weights[k]) for k in weights)
    assert logs["epoch"] == [0, 1, 2]  # every epoch exactly once
    assert logs == ref_logs  # the interrupted epoch's loss and metrics included
    assert not os.path.exists(backup)  # deleted once training finished


# --------------------------------------------------------------------------- in process


class Crash(K.callbacks.Callback):
    """Raises after the ``at``-th batch overall: a crash that leaves the process alive."""

    def __init__(self, at):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise RuntimeError("simulated crash")


def _train(blobs, callbacks, **fit_kw):
    x, y = blobs
    K.utils.set_random_seed(0)
    model = K.Sequential([L.Dense(16, activation="relu"), L.Dropout(0.25), L.Dense(3)])
    model.compile(
        optimizer=K.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy"
    )
    history = model.fit(
        x[:160], y[:160], batch_size=32, epochs=3, verbose=0, callbacks=callbacks, **fit_kw
    )
    return model, history


def test_resume_in_the_middle_of_gradient_accumulation(tmp_path, blobs):
    reference, ref_history = _train(blobs, [], gradient_accumulation_steps=2)
    with pytest.raises(RuntimeError, match="simulated crash"):
        _train(
            blobs,
            [K.callbacks.BackupAndRestore(tmp_path, save_freq=3), Crash(5)],
            gradient_accumulation_steps=2,
        )
    model, history = _train(
        blobs, [K.callbacks.BackupAndRestore(tmp_path, save_freq=3)], gradient_accumulation_steps=2
    )
    assert same_params(params_of(model), params_of(reference))
    assert history.epoch == [0, 1, 2] and history.history == ref_history.history


def test_a_crash_while_backing_up_keeps_the_previous_backup(tmp_path, blobs, monkeypatch):
    reference, _ = _train(blobs, [])
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError("simulated crash before the rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="simulated crash"):
        _train(blobs, [K.callbacks.BackupAndRestore(tmp_path, save_freq=2)])
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["checkpoint.pt"]
    model, history = _train(blobs, [K.callbacks.BackupAndRestore(tmp_path, save_freq=2)])
    assert same_params(params_of(model), params_of(reference))
    assert history.epoch == [0, 1, 2]


def test_delete_checkpoint_false_keeps_the_backup_and_a_rerun_trains_no_more(tmp_path, blobs):
    model, _ = _train(
        blobs, [K.callbacks.BackupAndRestore(tmp_path / "b", delete_checkpoint=False)]
    )
    assert os.listdir(tmp_path / "b") == ["checkpoint.pt"]
    again, history = _train(
        blobs, [K.callbacks.BackupAndRestore(tmp_path / "b", delete_checkpoint=False)]
    )
    assert same_params(params_of(again), params_of(model))
    assert history.epoch == [0, 1, 2]


def test_a_backup_of_another_model_is_refused(tmp_path, blobs):
    x, y = blobs
    with pytest.raises(RuntimeError):
        _train(blobs, [K.callbacks.BackupAndRestore(tmp_path, save_freq=1), Crash(2)])
    other = K.Sequential([L.Dense(4), L.Dense(3)])
    other.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="come from this model"):
        other.fit(x, y, verbose=0, callbacks=[K.callbacks.BackupAndRestore(tmp_path)])


def test_a_malicious_backup_file_is_not_executed(tmp_path, blobs):
    from tests.saving.test_saving import Evil

    marker = tmp_path / "pwned"
    torch.save(
        {"format": "kerasish.backup", "model": Evil(str(marker))}, tmp_path / "checkpoint.pt"
    )
    with pytest.raises(ValueError, match="delete it or choose another backup_dir"):
        _train(blobs, [K.callbacks.BackupAndRestore(tmp_path)])
    assert not marker.exists()


@pytest.mark.parametrize(
    "kwargs, error",
    [
        # Keras 3 run, torch backend: BackupAndRestore("") and (None) raise ValueError
        ({"backup_dir": ""}, ValueError),
        ({"backup_dir": None}, ValueError),
        ({"backup_dir": 3}, TypeError),
        ({"backup_dir": "b", "save_freq": 0}, ValueError),
        ({"backup_dir": "b", "save_freq": "batch"}, ValueError),
        ({"backup_dir": "b", "delete_checkpoint": "yes"}, TypeError),
    ],
)
def test_bad_arguments_raise_when_made(kwargs, error):
    with pytest.raises(error, match="Expected"):
        K.callbacks.BackupAndRestore(**kwargs)
