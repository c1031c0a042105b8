"""The examples run and do what their docstrings say; ``--help`` of every one trains nothing."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"
ALL = sorted(p.stem for p in EXAMPLES.glob("*.py"))
STAMP = re.compile(r"^\d{8}-\d{6}(-\d+)?$")


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ALL)
def test_help_answers_before_any_work(name, tmp_path, monkeypatch, capsys):
    module = load(name)  # defines things only: nothing runs at import
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    seconds = time.perf_counter() - start
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: "), out[:500]  # argparse answered before any output
    assert "Epoch" not in out
    assert list(tmp_path.iterdir()) == []  # no runs/, logs, checkpoints or downloads
    assert seconds < 5, seconds


@pytest.mark.parametrize("name", ALL)
def test_running_the_file_calls_main(name):
    tree = ast.parse((EXAMPLES / f"{name}.py").read_text())
    guard = tree.body[-1]
    assert isinstance(guard, ast.If) and ast.unparse(guard.test) == "__name__ == '__main__'"
    assert [ast.unparse(s) for s in guard.body] == ["main()"]


def test_demo_help_from_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "digits_cnn.py"), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("usage: digits_cnn.py")
    assert list(tmp_path.iterdir()) == []


def test_two_layer_net_matches_hand_written_loop(capsys):
    hand, ours = load("two_layer_net").main([])
    assert ours == pytest.approx(hand, rel=1e-5)
    assert ours < 1.0  # the lecture's loss falls from hundreds to near zero
    out = capsys.readouterr().out
    assert "hand-written PyTorch loop: final loss" in out and "kerasish fit:" in out


def _runs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir())


def _tensorboard_runs(root: Path) -> set[str]:
    """The run names TensorBoard itself shows for ``--logdir root``."""
    from tensorboard.backend.event_processing import event_multiplexer

    multiplexer = event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(str(root))
    return set(multiplexer.Runs())


def _check_open_command(out: str, root: Path) -> None:
    """The printed command opens ``root`` with this venv's kerasish, by a path that exists."""
    line = next(s for s in out.splitlines() if "tensorboard --logdir" in s)
    argv = shlex.split(line)
    program = Path(argv[0])
    assert program.is_absolute() or program.parts[0] != "kerasish"  # never a bare `kerasish`
    assert program.exists() and os.access(program, os.X_OK), line
    assert program.absolute().parent == Path(sys.executable).absolute().parent
    assert argv[-2:] == ["--logdir", str(root)]


def test_digits_cnn_writes_each_run_to_its_own_timestamped_directory(tmp_path, capsys):
    demo = load("digits_cnn")
    root = tmp_path / "runs" / "digits_cnn"
    for _ in range(2):  # a second `make demo` in the same second still gets a new directory
        demo.main(["--logdir", str(root), "--epochs", "1", "--verbose", "0"])
    runs = _runs(root)
    assert len(runs) == 2 and all(STAMP.match(r.name) for r in runs), runs
    assert list(root.glob("events.out.tfevents.*")) == []
    for run in runs:  # one event file per writer, never a second one appended
        assert len(list((run / "train").glob("events.out.tfevents.*"))) == 1
        assert len(list((run / "validation").glob("events.out.tfevents.*"))) == 1
    expected = {f"{r.name}/{split}" for r in runs for split in ("train", "validation")}
    assert _tensorboard_runs(root) == expected  # no extra, unlabelled run
    out = capsys.readouterr().out
    assert f"TensorBoard logs of this run: {runs[-1]}" in out
    _check_open_command(out, root)


def test_new_run_dir_names_by_date_time_and_never_reuses_one(tmp_path):
    demo = load("digits_cnn")
    first = demo.new_run_dir(tmp_path)
    assert STAMP.match(first.name) and first.is_dir()
    assert abs(time.mktime(time.strptime(first.name[:15], "%Y%m%d-%H%M%S")) - time.time()) < 60
    named = [demo.new_run_dir(tmp_path, "exp") for _ in range(3)]
    assert [p.name for p in named] == ["exp", "exp-1", "exp-2"]


def test_open_command_falls_back_to_python_m_kerasish(tmp_path, monkeypatch):
    demo = load("digits_cnn")
    (tmp_path / "bin").mkdir()  # an interpreter with no kerasish script beside it
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.chdir(tmp_path)
    assert (
        demo.tensorboard_command("runs/x") == "bin/python -m kerasish tensorboard --logdir runs/x"
    )
    monkeypatch.chdir(tmp_path / "bin")  # in the working directory itself: ./python, not PATH's
    assert demo.tensorboard_command("r") == "./python -m kerasish tensorboard --logdir r"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # outside the working directory: absolute
    expected = f"{tmp_path / 'bin' / 'python'} -m kerasish tensorboard --logdir 'my runs'"
    assert demo.tensorboard_command("my runs") == expected


def test_tensorboard_demo_opens_its_own_run(tmp_path, capsys):
    root = tmp_path / "runs" / "tensorboard_demo"
    history = load("tensorboard_demo").main(["--logdir", str(root), "--epochs", "1"])
    (run,) = _runs(root)
    assert STAMP.match(run.name)
    assert len(history.history["val_accuracy"]) == 1
    assert (run / "train").is_dir() and (run / "validation").is_dir()
    _check_open_command(capsys.readouterr().out, root)


@pytest.mark.slow
def test_keras_style_digits_cnn_reaches_95_percent(tmp_path, capsys):
    root = tmp_path / "runs"
    accuracy = load("digits_cnn").main(["--logdir", str(root), "--verbose", "0"])
    assert accuracy >= 0.95
    (run,) = _runs(root)
    assert any(run.rglob("events.out.tfevents.*"))
    assert "tensorboard --logdir" in capsys.readouterr().out


def test_custom_train_step_example():
    assert load("custom_train_step").main([]) > 0.9
