"""ProgbarLogger as a user sees it: a real pseudo-terminal of a given width, a fit with
validation; the bar ends at N/N, validation never moves it, and every epoch-end value (all
val_ keys) is shown in full, checked against the History the same fit returned."""

from __future__ import annotations

import fcntl
import json
import math
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import textwrap

import numpy as np
import pytest

import kerasish as K
from kerasish.callbacks.progbar import ProgbarLogger, resolve_verbose, wrap_values

N, SPLIT, BATCH, EPOCHS = 410, 0.2, 8, 2
STEPS = math.ceil(round(N * (1 - SPLIT)) / BATCH)  # 41 training batches an epoch
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PAIR = re.compile(r"([a-z_]+): (-?\d+\.\d+(?:e[+-]\d+)?)")

CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import kerasish as K
    K.utils.set_random_seed(0)
    x = np.random.RandomState(0).randn({n}, 8).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")
    model = K.Sequential([K.layers.Dense(16, activation="relu"), K.layers.Dense(3)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", "sparse_top_k_categorical_accuracy"])
    history = model.fit(x, y, batch_size={batch}, epochs={epochs}, validation_split={split})
    json.dump(history.history, open(sys.argv[1], "w"))
    """
).format(n=N, batch=BATCH, epochs=EPOCHS, split=SPLIT)


def _run_in_pty(tmp_path, columns, rows=24):
    """Run CHILD on a pseudo-terminal of ``columns`` x ``rows``; (output, history)."""
    script, hist = tmp_path / "child.py", tmp_path / "history.json"
    script.write_text(CHILD)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(hist)], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode(), json.loads(hist.read_text())


def _screen_lines(output):
    """Each output line as the segments a carriage return redraws, ANSI codes removed."""
    return [
        [ANSI.sub("", s) for s in ln.split("\r")] for ln in output.replace("\r\n", "\n").split("\n")
    ]


def _epoch_blocks(lines):
    """{epoch: (the bar's last drawn state, the text printed below it before the next bar)}."""
    blocks, current = {}, None
    for segments in lines:
        drawn = [s for s in segments if s.strip()]
        bar = [s for s in drawn if s.startswith("Epoch ")]
        if bar:
            current = int(re.match(r"Epoch (\d+)/", bar[-1])[1])
            blocks[current] = (bar[-1], [])
        elif current is not None and drawn:
            blocks[current][1].append(drawn[-1])
    return blocks


def _check_epoch_end(output, history, columns):
    lines = _screen_lines(output)
    for segments in lines:
        for seg in segments:  # no drawn text wider than the terminal: nothing wraps or is cut
            assert len(seg.rstrip()) <= columns, repr(seg)
            for done, total in re.findall(r"(\d+)/(\d+) \[", seg):
                assert int(total) == STEPS and int(done) <= STEPS, seg
            assert not re.search(r"\d+step \[", seg), f"the bar lost its total: {seg!r}"
    blocks = _epoch_blocks(lines)
    assert sorted(blocks) == list(range(1, EPOCHS + 1))
    for epoch, (bar, below) in blocks.items():
        assert f"Epoch {epoch}/{EPOCHS}" in bar and "100%" in bar and f"{STEPS}/{STEPS}" in bar
        shown = dict(PAIR.findall(" ".join(below)))
        assert set(shown) == set(history), (shown, history)
        for key, value in shown.items():
            assert float(value) == pytest.approx(history[key][epoch - 1], rel=1e-3, abs=1e-4)


@pytest.mark.parametrize("columns", [80, 120])
def test_pty_bar_ends_at_n_of_n_and_shows_every_value(tmp_path, columns):
    output, history = _run_in_pty(tmp_path, columns)
    assert any(k.startswith("val_") for k in history)
    assert len(" - ".join(f"{k}: 0.0000" for k in history)) > 120  # the values need wrapping
    _check_epoch_end(output, history, columns)


def test_pty_of_unknown_width_still_draws_the_bar(tmp_path):
    """A pseudo-terminal that reports 0 columns (``script`` without a terminal) gets an
    80-column bar, not an empty line; the values print on one line."""
    output, history = _run_in_pty(tmp_path, 0, rows=0)
    assert output.count(f"{STEPS}/{STEPS}") >= EPOCHS
    for bar, below in _epoch_blocks(_screen_lines(output)).values():
        assert f"{STEPS}/{STEPS}" in bar
        assert len(below) == 1 and set(dict(PAIR.findall(below[0]))) == set(history)


def _fit(verbose, **kwargs):
    rng = np.random.RandomState(1)
    x = rng.randn(N, 8).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    K.utils.set_random_seed(0)
    model = K.Sequential([K.layers.Dense(8, activation="relu"), K.layers.Dense(2)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=verbose, **kwargs), x, y


def test_validation_batches_do_not_move_the_training_bar(capsys):
    """Half the data validates (26 batches): the bar still counts 41 training steps, ends at
    41/41, and each epoch's values (with val_) follow on one line when output is a file."""
    _, history, _, _ = _fit(1, validation_split=0.5)
    steps = math.ceil(round(N * 0.5) / BATCH)
    out = capsys.readouterr().out
    counts = [(int(a), int(b)) for a, b in re.findall(r"(\d+)/(\d+) \[", out)]
    assert counts and all(b == steps and a <= steps for a, b in counts)
    assert counts.count((steps, steps)) >= EPOCHS
    value_lines = [ln for ln in out.splitlines() if ln.startswith("accuracy: ")]  # sorted keys
    assert len(value_lines) == EPOCHS
    for epoch, line in enumerate(value_lines):
        shown = dict(PAIR.findall(line))
        assert set(shown) == set(history.history)
        for key, value in shown.items():
            assert float(value) == pytest.approx(history.history[key][epoch], rel=1e-3, abs=1e-4)


def test_evaluate_bar_ends_at_n_of_n_then_prints_the_results(capsys):
    model, _, x, y = _fit(0)
    results = model.evaluate(x, y, batch_size=BATCH, verbose=1, return_dict=True)
    out = capsys.readouterr().out
    steps = math.ceil(N / BATCH)
    assert "Evaluate: 100%" in out and f"{steps}/{steps}" in out
    shown = dict(PAIR.findall(out.splitlines()[-1]))
    assert shown.keys() == results.keys()
    assert all(float(shown[k]) == pytest.approx(v, rel=1e-3, abs=1e-4) for k, v in results.items())


def test_verbose_two_prints_one_line_per_epoch(capsys):
    # Keras 3.15.1 run, verbose=2: "Epoch 1/2", then "41/41 - 0s - 3ms/step - accuracy: ..."
    _, history, _, _ = _fit(2, validation_split=0.2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[::2] == [f"Epoch {e}/{EPOCHS}" for e in (1, 2)]
    assert [ln.split(" - ")[0] for ln in lines[1::2]] == [f"{STEPS}/{STEPS}"] * EPOCHS
    assert all("val_accuracy: " in ln for ln in lines[1::2])


@pytest.mark.parametrize("width", [25, 26, 33, 50, 80, 200, None])
def test_wrap_values_breaks_between_values_only(width):
    parts = [f"{k}: {v}" for k, v in [("loss", "0.2800"), ("accuracy", "0.9100"),
                                        ("learning_rate", "1.0000e-03"), ("val_loss", "0.3000"),
                                        ("val_accuracy", "0.9300")]]  # fmt: skip
    lines = wrap_values(parts, width)
    assert all(len(ln) <= (width or 10**9) for ln in lines)
    assert [p for ln in lines for p in ln.strip().split(" - ")] == parts
    if width is None or width >= len(" - ".join(parts)):
        assert lines == [" - ".join(parts)]


def test_wrap_values_hard_breaks_a_value_wider_than_the_line():
    lines = wrap_values(["a_very_long_metric_name: 0.1234"], 10)
    assert (
        all(len(ln) <= 10 for ln in lines) and "".join(lines) == "a_very_long_metric_name: 0.1234"
    )


def test_resolve_verbose():
    assert [resolve_verbose(v) for v in (0, 1, 2, "plot")] == [0, 1, 2, "plot"]
    assert resolve_verbose("auto") == 2  # pytest's captured stdout is not a terminal
    with pytest.raises(ValueError, match=r"Expected verbose .*Received: verbose=3"):
        resolve_verbose(3)
    assert ProgbarLogger("plot").plot is not None and ProgbarLogger(1).plot is None
