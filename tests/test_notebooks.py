"""The notebooks run top to bottom, and their executed outputs show what a notebook user should
see: one ipywidgets bar per epoch that ends at N/N, the epoch's values once below it (validation
included), no tqdm warning, nothing printed twice, one live plot replaced in place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
WIDGET = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"
EPOCH = re.compile(r"Epoch (\d+)/(\d+)")


def _execute(nb, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    return nb


def _texts(cell):
    """The cell's output text: streams and text/plain, each with its output's index."""
    for i, out in enumerate(cell.get("outputs", [])):
        if out.get("output_type") == "stream":
            yield i, out["name"], out["text"]
        elif "text/plain" in out.get("data", {}):
            yield i, "data", out["data"]["text/plain"]


def _bar(nb, out):
    """(left text, value, max, bar style, right text) of a tqdm widget bar, from the stored
    widget state (what a notebook shows once the cell ran)."""
    state = nb.metadata["widgets"][STATE]["state"]
    box = state[out["data"][WIDGET]["model_id"]]["state"]
    left, bar, right = (state[c.removeprefix("IPY_MODEL_")]["state"] for c in box["children"])
    clean = {k: s["value"].replace("\u2007", " ") for k, s in (("l", left), ("r", right))}
    return clean["l"], bar["value"], bar["max"], bar["bar_style"], clean["r"]


def _check_epoch_runs(epochs):
    """Each fit shows epochs k..E once each, in order, and ends at E/E."""
    runs: list[list[tuple[int, int]]] = []
    for k, total in epochs:
        if runs and runs[-1][-1] == (k - 1, total):
            runs[-1].append((k, total))
        else:
            runs.append([(k, total)])
    for run in runs:
        assert run[-1][0] == run[-1][1], f"a fit's bars stop before its last epoch: {run}"
    return runs


def _check_cell(nb, cell):
    outputs = cell.get("outputs", [])
    for _, _name, text in _texts(cell):
        assert "IProgress" not in text and "TqdmWarning" not in text, text
    epochs = []
    for i, out in enumerate(outputs):
        if WIDGET not in out.get("data", {}):
            continue
        left, value, top, style, right = _bar(nb, out)
        n = int(top)
        assert value == top and style == "success", (left, value, top, style)
        assert f"{n}/{n}" in right, right
        plain = out["data"]["text/plain"]  # what viewers without widgets show: the end state
        assert "100%" in plain and f"{n}/{n}" in plain, plain
        match = EPOCH.search(left)
        if match is None:
            continue
        epochs.append((int(match[1]), int(match[2])))
        after = outputs[i + 1]  # the epoch's values, in full, right below its bar
        assert after["output_type"] == "stream" and after["name"] == "stdout", after
        values = after["text"].splitlines()[0]
        assert re.search(r"(^|- )loss: \d", values), values  # Keras's order: names sorted
        if "validation" in cell.source:
            assert re.search(r"val_loss: \d+\.\d{4}", values), values
    _check_epoch_runs(epochs)
    lines = [ln for _, _, text in _texts(cell) for ln in text.splitlines() if ln.strip()]
    value_lines = [ln for ln in lines if re.search(r"(^|- )loss: \d", ln)]
    assert len(value_lines) == len(epochs) == len(set(value_lines)), value_lines
    assert sum("Total params" in ln for ln in lines) == cell.source.count(".summary()")
    for a, b in zip(outputs, outputs[1:], strict=False):
        assert a != b, f"an output shown twice: {a}"
    return epochs


def _declared_epochs(source):
    """The epochs the cell's ``fit``/``fine_tune`` calls ask for, bars not turned off."""
    fits = re.findall(r"\.fit\([^)]*?epochs=(\d+)(?![^)]*verbose=[02])", source)
    tunes = re.findall(r"fine_tune\([^)]*?freeze_epochs=(\d+), epochs=(\d+)", source)
    return sum(map(int, fits)) + sum(int(a) + int(b) for a, b in tunes)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # a ResNet-18 on CPU: minutes when the machine is shared
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_shows_one_bar_per_epoch(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipywidgets")
    nb = _execute(nbformat.read(path, as_version=4), tmp_path, monkeypatch)
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    shown = {id(c): _check_cell(nb, c) for c in code}
    assert sum(map(len, shown.values())) > 0, "no notebook shows a progress bar"
    for cell in code:
        assert len(shown[id(cell)]) == _declared_epochs(cell.source), cell.source
        plots = cell.source.count('verbose="plot"') + cell.source.count("LivePlot(")
        images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if plots:
            assert len(images) == plots, "a live plot is one output, redrawn in place"
            texts = "".join(t for _, _, t in _texts(cell))
            assert "curves appear after the first epoch" not in texts


@pytest.mark.slow
def test_notebook_without_ipywidgets_says_so_once_and_shows_text_bars(tmp_path, monkeypatch):
    pytest.importorskip("nbformat")
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(
        cells=[
            new_code_cell("import sys\nsys.modules['ipywidgets'] = None  # as if not installed"),
            new_code_cell(
                "import numpy as np\nimport kerasish as K\n"
                "x = np.random.RandomState(0).randn(100, 4).astype('float32')\n"
                "y = (x[:, 0] > 0).astype('int64')\n"
                "m = K.Sequential([K.layers.Dense(2)])\n"
                "m.compile(optimizer='adam', loss='sparse_categorical_crossentropy')\n"
                "h = m.fit(x, y, batch_size=10, epochs=2, validation_split=0.2)\n"
                "h = m.fit(x, y, batch_size=10, epochs=1)"
            ),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    cell = _execute(nb, tmp_path, monkeypatch).cells[1]
    assert not [o for o in cell.outputs if o.get("output_type") == "error"]
    assert not [o for o in cell.outputs if WIDGET in o.get("data", {})]
    stderr = "".join(t for _, name, t in _texts(cell) if name == "stderr")
    assert stderr.count("need ipywidgets") == 1 and "pip install ipywidgets" in stderr
    assert "IProgress" not in stderr and "TqdmWarning" not in stderr
    stdout = "".join(t for _, name, t in _texts(cell) if name == "stdout")
    shown = [ln.rsplit("\r", 1)[-1].rstrip() for ln in stdout.split("\n")]  # as \r redraws
    finals = [ln for ln in shown if "100%" in ln]
    assert [EPOCH.search(ln)[0] for ln in finals] == ["Epoch 1/2", "Epoch 2/2", "Epoch 1/1"]
    assert all("8/8" in ln for ln in finals[:2]) and "10/10" in finals[2]
    values = [ln for ln in shown if ln.startswith("loss: ")]
    assert len(values) == 3 and all("val_loss: " in ln for ln in values[:2])
