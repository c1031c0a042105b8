"""LivePlot outside a notebook: a PNG rewritten after every epoch whose curves are the History's
values, training and validation overlaid; ``fit(verbose="plot")`` adds one. (In a notebook,
tests/test_notebooks.py checks the one output redrawn in place.)"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

import kerasish as K
from kerasish.callbacks.callback_list import overrides

pytest.importorskip("matplotlib")


def _model_and_data():
    rng = np.random.RandomState(0)
    x = rng.randn(200, 6).astype("float32")
    y = (x[:, 0] - x[:, 1] > 0).astype("int64")
    K.utils.set_random_seed(0)
    model = K.Sequential([K.layers.Dense(8, activation="relu"), K.layers.Dense(2)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, x, y


class FileWatcher(K.callbacks.Callback):
    """Reads the PNG after each epoch (it runs after the LivePlot in the list)."""

    def __init__(self, path):
        super().__init__()
        self.path, self.digests = path, []

    def on_epoch_end(self, epoch, logs=None):
        self.digests.append(hashlib.sha256(self.path.read_bytes()).hexdigest())


def _curves(figure):
    return {
        ax.get_title(): {
            ln.get_label(): (list(ln.get_xdata()), list(ln.get_ydata())) for ln in ax.lines
        }
        for ax in figure.axes
        if ax.get_visible()
    }


def test_png_is_rewritten_each_epoch_with_the_history_curves(tmp_path):
    path = tmp_path / "plots" / "curves.png"
    plot, watcher = K.callbacks.LivePlot(path=path), FileWatcher(path)
    model, x, y = _model_and_data()
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[plot, watcher])
    assert len(set(watcher.digests)) == 3  # a new image after every epoch
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (2 * 4 * 80, 3 * 80)  # 2 panels, dpi 80
    curves = _curves(plot.figure)
    assert list(curves) == ["loss", "accuracy"]  # learning_rate has no panel
    for name, lines in curves.items():
        assert lines["train"][0] == [1, 2, 3]
        assert lines["train"][1] == pytest.approx(history.history[name])
        assert lines["validation"][1] == pytest.approx(history.history[f"val_{name}"])
    assert not list(tmp_path.joinpath("plots").glob(".*"))  # no temporary file left behind


def test_validation_every_other_epoch_is_drawn_at_its_epochs(tmp_path):
    plot = K.callbacks.LivePlot(path=tmp_path / "p.png", metrics=["loss"])
    model, x, y = _model_and_data()
    history = model.fit(
        x, y, epochs=4, validation_split=0.25, validation_freq=2, verbose=0, callbacks=[plot]
    )
    curves = _curves(plot.figure)
    assert list(curves) == ["loss"]
    assert curves["loss"]["validation"] == ([2, 4], pytest.approx(history.history["val_loss"]))
    with Image.open(tmp_path / "p.png") as image:
        assert image.size == (4 * 80, 3 * 80)


def test_verbose_plot_shows_bars_and_writes_the_default_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    model, x, y = _model_and_data()
    history = model.fit(x, y, epochs=2, validation_split=0.25, verbose="plot")
    out = capsys.readouterr().out
    target = tmp_path / "live_plot.png"
    assert f"LivePlot: the curves are redrawn each epoch in {target}" in out
    assert "Epoch 2/2: 100%" in out and "val_accuracy: " in out  # the bars of verbose=1
    with Image.open(target) as image:
        assert image.size == (2 * 4 * 80, 3 * 80)
    assert len(history.history["loss"]) == 2


def test_live_plot_costs_nothing_per_batch():
    plot = K.callbacks.LivePlot(path="unused.png")
    assert not any(overrides(plot, h) for h in ("on_train_batch_end", "on_test_batch_end"))


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"path": 3}, TypeError, "Expected path to be a path or None. Received: path=3"),
        ({"metrics": "loss"}, TypeError, "Expected metrics to be a list of names"),
        (
            {"columns": 0},
            ValueError,
            "Expected columns to be a positive integer. Received: columns=0",
        ),
        ({"dpi": 1.5}, ValueError, "Received: dpi=1.5"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        K.callbacks.LivePlot(**kwargs)
