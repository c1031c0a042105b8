"""Checkpoints across process counts: FSDP shards gathered with their optimizer state, DDP files
loading in one process and one process's files loading under DDP, resume under FSDP.

Two Gloo ranks on the CPU (``distribute.launch``). Each distributed run is compared with one
process over the global batch: with ``shuffle=False`` rank r takes samples r, r+2, ..., so two
ranks of 16 see exactly the single process's batches of 32.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish import distribute

pytestmark = pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
    reason="needs torch.distributed with Gloo",
)


def _data():
    g = np.random.default_rng(1)
    y = g.integers(0, 3, 128)
    x = (g.normal(0, 1.5, size=(3, 8))[y] + g.normal(size=(128, 8))).astype(np.float32)
    return x, y


def _model() -> K.Sequential:
    torch.manual_seed(7)
    return K.Sequential([nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3)])


def _compile(model, distribute="auto"):
    model.compile(
        optimizer=K.optimizers.Adam(learning_rate=0.01),
        loss="sparse_categorical_crossentropy",
        distribute=distribute,
    )


def _fit(model, epochs, initial_epoch=0, **kwargs):
    x, y = _data()
    batch = 32 // distribute.get_world_size()
    return model.fit(
        x,
        y,
        batch_size=batch,
        epochs=epochs,
        initial_epoch=initial_epoch,
        shuffle=False,
        verbose=0,
        **kwargs,
    )


def _close(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)


def _close_optimizer(a: dict, b: dict) -> None:
    assert a["state"].keys() == b["state"].keys()
    for i, state in a["state"].items():
        _close(state, b["state"][i])


# ---------------------------------------------------------------------- workers (every rank)
def _fsdp_save_worker(out: str) -> dict:
    model = _model()
    _compile(model, distribute="fsdp")
    _fit(model, 2)
    model.save(os.path.join(out, "fsdp.kerasish"))  # every rank calls it; rank 0 writes
    return {
        "optimizer": distribute.full_optimizer_state_dict(model, model.optimizer),
        "weights": distribute.full_state_dict(model),
    }


def _ddp_continue_worker(out: str) -> dict:
    model = K.models.load_model(os.path.join(out, "single.kerasish"))  # recompiled: DDP here
    assert model.strategy.is_distributed
    _fit(
        model,
        2,
        initial_epoch=1,
        callbacks=[K.callbacks.ModelCheckpoint(os.path.join(out, "ddp.kerasish"))],
    )
    return {"weights": {k: v.detach().clone() for k, v in model.state_dict().items()}}


class _Crash(K.callbacks.Callback):
    """Stands for a killed job: raises as an epoch begins (the last one's backup is written)."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"crash at the start of epoch {epoch}")


def _fsdp_resume_worker(out: str) -> dict:
    backup = os.path.join(out, "backup")
    crashed = _model()
    _compile(crashed, distribute="fsdp")
    try:
        _fit(crashed, 3, callbacks=[K.callbacks.BackupAndRestore(backup), _Crash(2)])
    except KeyboardInterrupt:
        pass
    resumed = _model()  # a new process would start here: fresh weights, same backup_dir
    _compile(resumed, distribute="fsdp")
    ran = []
    counter = K.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: ran.append(epoch))
    history = _fit(resumed, 3, callbacks=[K.callbacks.BackupAndRestore(backup), counter])
    straight = _model()
    _compile(straight, distribute="fsdp")
    reference = _fit(straight, 3)
    return {
        "resumed": distribute.full_state_dict(resumed),
        "resumed_optimizer": distribute.full_optimizer_state_dict(resumed, resumed.optimizer),
        "straight": distribute.full_state_dict(straight),
        "straight_optimizer": distribute.full_optimizer_state_dict(straight, straight.optimizer),
        "epochs": history.epoch,
        "ran": ran,
        "losses": (history.history["loss"], reference.history["loss"]),
    }


# ---------------------------------------------------------------------- tests
def test_fsdp_save_gathers_the_optimizer_state_and_loads_in_one_process(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    r0, r1 = distribute.launch(_fsdp_save_worker, 2, str(tmp_path))
    assert r1["optimizer"] == {} and r1["weights"] == {}  # whole tensors land on rank 0
    reference = _model()
    _compile(reference, distribute=None)
    _fit(reference, 2)
    _close(r0["weights"], reference.state_dict())
    _close_optimizer(r0["optimizer"], reference.optimizer.state_dict())
    # one process reads the FSDP file: the same weights and Adam moments, bit for bit
    # the architecture was described from the classes FSDP sharded: no model= needed
    loaded = K.models.load_model(str(tmp_path / "fsdp.kerasish"))
    assert type(loaded) is K.Sequential
    for k, v in r0["weights"].items():
        assert torch.equal(loaded.state_dict()[k], v), k
    state = loaded.optimizer.state_dict()["state"]
    for i, moments in r0["optimizer"]["state"].items():
        for name, v in moments.items():
            assert torch.equal(state[i][name], v), (i, name)
    # and it goes on training exactly as the single process that never stopped
    _fit(loaded, 3, initial_epoch=2)
    _fit(reference, 3, initial_epoch=2)
    _close(loaded.state_dict(), reference.state_dict())


def test_ddp_loads_a_one_process_file_and_its_checkpoint_loads_in_one_process(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    single = _model()
    _compile(single, distribute=None)
    _fit(single, 1)
    single.save(str(tmp_path / "single.kerasish"))
    r0, r1 = distribute.launch(_ddp_continue_worker, 2, str(tmp_path))
    _close(r0["weights"], r1["weights"])
    _fit(single, 2, initial_epoch=1)  # the single process goes on the same way
    _close(r0["weights"], single.state_dict())
    # the file the 2 ranks wrote, read by one process: their weights and optimizer, exactly
    back = K.models.load_model(str(tmp_path / "ddp.kerasish"))
    for k, v in r0["weights"].items():
        assert torch.equal(back.state_dict()[k], v), k
    assert not back.strategy.is_distributed
    _close_optimizer(back.optimizer.state_dict(), single.optimizer.state_dict())


def test_backup_and_restore_resumes_fsdp_as_if_never_stopped(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    r0, r1 = distribute.launch(_fsdp_resume_worker, 2, str(tmp_path))
    assert r0["ran"] == r1["ran"] == [2]  # only the epoch the crash stopped is trained
    assert r0["epochs"] == [0, 1, 2]  # the History of epochs 0 and 1 came from the backup
    resumed, straight = r0["losses"]
    assert resumed == straight
    for k, v in r0["straight"].items():
        assert torch.equal(r0["resumed"][k], v), k
    for i, moments in r0["straight_optimizer"]["state"].items():
        for name, v in moments.items():
            assert torch.equal(r0["resumed_optimizer"]["state"][i][name], v), (i, name)
    assert r1["resumed"] == {}
