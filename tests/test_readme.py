"""The README's quick start runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def _block_after(heading: str) -> str:
    text = README.read_text()
    section = text[text.index(heading) :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_quick_start_runs_as_written(capsys):
    namespace: dict = {}
    exec(compile(_block_after("## Quick start"), "README quick start", "exec"), namespace)
    model, history = namespace["model"], namespace["history"]
    assert len(history.history["val_accuracy"]) == 5
    assert namespace["probs"].shape == (360, 10)
    assert model.evaluate(namespace["x_test"], namespace["y_test"], verbose=0)[1] > 0.8
    assert "Total params" in capsys.readouterr().out


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
