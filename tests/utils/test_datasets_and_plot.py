"""text_dataset_from_directory and split_dataset vs Keras; plot_model's DOT text and extra."""

from __future__ import annotations

import importlib.util
import shutil
import sys

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset, random_split

import kerasish as K
from kerasish.utils import plot_model, split_dataset, text_dataset_from_directory
from kerasish.utils.plotting import dot_source


@pytest.fixture
def texts(tmp_path):
    for c in ("b", "a"):
        (tmp_path / c).mkdir()
        for i in range(5):
            (tmp_path / c / f"f{i}.txt").write_text(f"{c}{i}\n")
    (tmp_path / "a" / "skip.csv").write_text("not text")
    return tmp_path


def test_text_dataset_order_labels_and_split_match_keras(texts, capsys):
    ds = text_dataset_from_directory(texts, batch_size=None, shuffle=True, seed=7)
    assert capsys.readouterr().out == "Found 10 files belonging to 2 classes.\n"
    assert ds.class_names == ["a", "b"]
    # Keras 3.15.1 run (dataset_utils.index_directory(..., shuffle=True, seed=7)) on the same
    # tree: the files in this order, labels from the sorted subfolders
    keras_order = ["b3", "b0", "a0", "a2", "a1", "b4", "b2", "a3", "b1", "a4"]
    files = ds.dataset
    got = [files[i] for i in range(len(files))]
    assert [t.strip() for t, _ in got] == keras_order
    assert [int(label) for _, label in got] == [int(n[0] == "b") for n in keras_order]
    val = text_dataset_from_directory(
        texts, batch_size=4, seed=7, validation_split=0.2, subset="validation", verbose=False
    )
    # Keras: get_training_or_validation_split keeps the last int(0.2 * 10) files; labels [1, 0]
    ((batch, labels),) = list(val)
    assert [t.strip() for t in batch] == ["b1", "a4"] and labels.tolist() == [1, 0]


def test_text_dataset_modes_subsets_and_errors(texts):
    train, val = text_dataset_from_directory(
        texts, label_mode="categorical", seed=1, validation_split=0.3, subset="both",
        max_length=1, verbose=False,
    )  # fmt: skip
    assert len(train.dataset) == 7 and len(val.dataset) == 3
    text, label = train.dataset[0]
    assert len(text) == 1 and label.dtype == torch.float32 and label.sum() == 1
    binary = text_dataset_from_directory(texts, label_mode="binary", verbose=False, seed=0)
    assert next(iter(binary))[1].shape == (10, 1)
    only = text_dataset_from_directory(texts, labels=None, shuffle=False, verbose=False)
    assert next(iter(only))[0] == "a0\n"
    with pytest.raises(ValueError, match="label_mode"):
        text_dataset_from_directory(texts, label_mode="sparse")
    with pytest.raises(ValueError, match="seed"):
        text_dataset_from_directory(texts, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="class_names among"):
        text_dataset_from_directory(texts, class_names=["a", "z"])


def test_split_dataset_follows_keras_sizes_and_torch_random_split():
    data = (np.arange(10, dtype=np.float32), np.arange(10) * 2)
    left, right = split_dataset(data, left_size=0.8)
    assert len(left) == 8 and len(right) == 2
    assert [int(left[i][0]) for i in range(8)] == list(range(8))  # in order without shuffle
    assert int(right[0][1]) == 16
    # Keras's torch path: random_split over a generator seeded with `seed`
    l2, r2 = split_dataset(np.arange(10), left_size=3, shuffle=True, seed=1)
    ref_l, ref_r = random_split(
        TensorDataset(torch.arange(10)), [3, 7], generator=torch.Generator().manual_seed(1)
    )
    assert l2.indices == ref_l.indices and r2.indices == ref_r.indices
    ds = TensorDataset(torch.arange(6))
    a, b = split_dataset(ds, right_size=2)
    assert a.dataset is ds and (len(a), len(b)) == (4, 2)
    # keras/src/utils/dataset_utils_test.py: the size errors
    with pytest.raises(ValueError, match="left_size"):
        split_dataset(np.arange(4), left_size=1.5)
    with pytest.raises(TypeError, match="left_size"):
        split_dataset(np.arange(4), left_size="half")
    with pytest.raises(ValueError, match="left_size or right_size"):
        split_dataset(np.arange(4))
    with pytest.raises(TypeError, match="Dataset"):
        split_dataset("abc", left_size=1)


def test_dot_source_lists_layers_with_keras_options():
    model = K.Sequential(
        [K.layers.Input((3,)), K.layers.Dense(4, activation="relu"), nn.Linear(4, 2)]
    )
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32), verbose=0)
    src = dot_source(model, show_shapes=True, show_layer_names=True, show_layer_activations=True,
                     show_trainable=True, rankdir="LR")  # fmt: skip
    assert "rankdir=LR" in src and "n0 -> n1;" in src
    assert "Dense" in src and "Linear" in src and "Output shape: (None, 2)" in src
    assert "Activation: relu" in src and "Trainable: Y" in src
    with pytest.raises(ValueError, match="rankdir"):
        dot_source(model, rankdir="UP")


def test_plot_model_names_the_extra_when_pydot_or_dot_is_missing(tmp_path, monkeypatch):
    model = K.Sequential([nn.Linear(2, 1)])
    monkeypatch.setitem(sys.modules, "pydot", None)  # as if pydot were not installed
    with pytest.raises(ImportError, match=r"kerasish\[plot\]"):
        plot_model(model, tmp_path / "m.png")
    monkeypatch.delitem(sys.modules, "pydot")
    if importlib.util.find_spec("pydot") is None:
        return
    monkeypatch.setenv("PATH", str(tmp_path))  # as if Graphviz's dot were not installed
    with pytest.raises(ImportError, match=r"`dot` program.*kerasish\[plot\]"):
        plot_model(model, tmp_path / "m.png")


@pytest.mark.skipif(
    shutil.which("dot") is None or importlib.util.find_spec("pydot") is None,
    reason="needs pydot and Graphviz's dot (the kerasish[plot] extra)",
)
def test_plot_model_renders_a_png(tmp_path):
    model = K.Sequential([K.layers.Input((3,)), K.layers.Dense(4), nn.Linear(4, 2)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32), verbose=0)
    plot_model(model, tmp_path / "m.png", show_shapes=True)
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    graph = K.utils.model_to_dot(model, show_layer_names=True)
    assert len(graph.get_nodes()) >= 2
