"""Temporary files left by a writer killed mid-write are removed at the next write of the
same target and when BackupAndRestore starts; a live writer's file and other targets' files
are left alone."""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import textwrap

import numpy as np

import kerasish as K
from kerasish.saving.atomic import remove_stale_temps, write_bytes

ROOT = pathlib.Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from kerasish.saving.atomic import atomic_write
    with atomic_write(sys.argv[1]) as f:
        f.write(b"x" * 1_000_000)
        f.flush()
        print("writing", flush=True)
        time.sleep(120)
    """
).format(root=str(ROOT))


def _start_writer(target: pathlib.Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "writing"
    return proc


def _temps(directory: pathlib.Path, name: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(f".{name}."))


def test_a_writer_killed_mid_write_leaves_a_temp_file_the_next_write_removes(tmp_path):
    target = tmp_path / "model.kerasish"
    write_bytes(target, b"old")
    proc = _start_writer(target)
    proc.kill()  # SIGKILL in the middle of the write
    assert proc.wait() == -signal.SIGKILL
    (stale,) = _temps(tmp_path, "model.kerasish")
    assert f"-{proc.pid}." in stale and stale.endswith(".tmp.kerasish")
    assert target.read_bytes() == b"old"  # the old file is whole
    write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.kerasish"]


def test_a_live_writer_and_other_targets_keep_their_temp_files(tmp_path):
    target, other = tmp_path / "w.pt", tmp_path / "w.pt.bak"
    dead = _start_writer(other)
    dead.kill()
    dead.wait()
    live = _start_writer(target)
    try:
        live_temp = next(n for n in _temps(tmp_path, "w.pt") if f"-{live.pid}." in n)
        assert remove_stale_temps(target) == 0  # alive: not stale
        write_bytes(target, b"1")
        assert (tmp_path / live_temp).exists()
        assert any(f"-{dead.pid}." in n for n in _temps(tmp_path, "w.pt.bak"))  # not ours
    finally:
        live.kill()
        live.wait()
    assert remove_stale_temps(target) == 1
    assert remove_stale_temps(other) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.pt"]


BACKUP_KILLED_WHILE_WRITING = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    import numpy as np, torch
    import kerasish as K

    real_save = torch.save

    def save_then_die(obj, f, *args, **kwargs):  # the 2nd backup: half written, then SIGKILL
        save_then_die.calls += 1
        if save_then_die.calls == 2:
            f.write(b"partial")
            f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        real_save(obj, f, *args, **kwargs)

    save_then_die.calls = 0
    torch.save = save_then_die
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    model = K.Sequential([K.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, (x[:, 0] > 0).astype(np.int64), epochs=3, verbose=0,
              callbacks=[K.callbacks.BackupAndRestore(sys.argv[1])])
    """
).format(root=str(ROOT))


def test_backup_and_restore_removes_the_temp_file_of_a_killed_backup(tmp_path):
    backup = tmp_path / "backup"
    proc = subprocess.run(
        [sys.executable, "-c", BACKUP_KILLED_WHILE_WRITING, str(backup)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(_temps(backup, "checkpoint.pt")) == 1
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    model = K.Sequential([K.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    history = model.fit(
        x,
        (x[:, 0] > 0).astype(np.int64),
        epochs=3,
        verbose=0,
        callbacks=[K.callbacks.BackupAndRestore(backup)],
    )
    assert history.epoch == [0, 1, 2]  # resumed after the first backup: epoch 0 from it
    assert not backup.exists()  # the temp file is gone, so the emptied directory was removed
