"""Every ```python block of the README runs as written: offline, alone, in an empty folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)

# Checks appended to a block (by the heading it is under) to see that it did what it says.
CHECKS = {
    "Quick start": """
assert len(history.history["val_accuracy"]) == 5
assert probs.shape == (360, 10)
assert model.evaluate(x_test, y_test, verbose=0)[1] > 0.8
""",
    "compile": """
assert rates == [0.1, 0.05, 0.025]
assert "learning_rate" not in history.history
""",
    "Pretrained backbones": """
assert all(p.requires_grad for p in base.parameters())
assert len(model.history.history["val_accuracy"]) == 1
""",
}


def python_blocks() -> list[tuple[str, str]]:
    """(the heading above it, the code) for each ```python block, in README order."""
    text = README.read_text()
    blocks = []
    for match in FENCE.finditer(text):
        if match.group(1) == "python":
            headings = re.findall(r"^## (.+)$", text[: match.start()], re.M)
            blocks.append((headings[-1] if headings else "top", match.group(2)))
    return blocks


BLOCKS = python_blocks()


def test_the_readme_has_its_code_blocks_in_known_languages():
    languages = {m.group(1) for m in FENCE.finditer(README.read_text())}
    assert languages <= {"python", "bash", ""}, languages  # no ```py that would go untested
    assert [h for h, _ in BLOCKS][:1] == ["Quick start"]
    assert {"Quick start", "compile", "Pretrained backbones"} <= {h for h, _ in BLOCKS}


@pytest.mark.parametrize("heading, code", BLOCKS, ids=[h for h, _ in BLOCKS])
def test_python_block_runs_as_written(heading, code, tmp_path):
    script = tmp_path / "block.py"
    script.write_text(code + CHECKS.get(heading, ""))
    env = {**os.environ, "TORCH_HOME": str(tmp_path / "torch"), "MPLBACKEND": "Agg"}
    env.pop("KERASISH_DEVICE", None)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, script.name],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, f"README block under '{heading}':\n{result.stderr[-3000:]}"
    assert not (tmp_path / "torch").exists()  # nothing was downloaded
    if heading == "Quick start":
        assert "Total params" in result.stdout  # model.summary() printed its table
    print(f"{heading}: {time.perf_counter() - start:.1f}s")


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
