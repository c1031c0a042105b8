"""The examples run and do what their docstrings say."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_layer_net_matches_hand_written_loop(capsys):
    hand, ours = load("two_layer_net").main()
    assert ours == pytest.approx(hand, rel=1e-5)
    assert ours < 1.0  # the lecture's loss falls from hundreds to near zero
    out = capsys.readouterr().out
    assert "hand-written PyTorch loop: final loss" in out and "kerasish fit:" in out


@pytest.mark.slow
def test_keras_style_digits_cnn_reaches_95_percent(tmp_path, capsys):
    accuracy = load("digits_cnn").main(["--logdir", str(tmp_path / "runs"), "--verbose", "0"])
    assert accuracy >= 0.95
    assert any((tmp_path / "runs").rglob("events.out.tfevents.*"))
    assert "tensorboard --logdir" in capsys.readouterr().out


def test_custom_train_step_example():
    assert load("custom_train_step").main() > 0.9
