"""The TensorBoard callback: event files read back with tensorboard's EventAccumulator.

Tags, steps and values must equal History; histograms appear at the right epochs; the graph,
images, hparams and profiler trace are written; no TensorFlow is imported.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hp_metadata
from torch import nn

import kerasish as K
from kerasish.callbacks import CallbackList

X = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
Y = (X[:, 0] > 0).astype(np.int64)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def small_model():
    model = K.Sequential([nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)])
    model.compile(
        optimizer=K.optimizers.SGD(learning_rate=0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def fit(model, callbacks, epochs=3, **kw):
    return model.fit(
        X,
        Y,
        batch_size=16,
        epochs=epochs,
        verbose=0,
        validation_data=(X[:16], Y[:16]),
        shuffle=False,
        callbacks=callbacks if isinstance(callbacks, list) else [callbacks],
        **kw,
    )


def events(path) -> EventAccumulator:
    acc = EventAccumulator(
        str(path), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}
    )
    acc.Reload()
    return acc


def scalars(acc, tag):
    return [e.step for e in acc.Scalars(tag)], [e.value for e in acc.Scalars(tag)]


def test_epoch_scalars_equal_history(tmp_path):
    history = fit(small_model(), K.callbacks.TensorBoard(tmp_path, write_graph=False))
    train, val = events(tmp_path / "train"), events(tmp_path / "validation")
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    assert {"epoch_loss", "epoch_accuracy"} <= set(val.Tags()["scalars"])
    for key in ("loss", "accuracy"):
        steps, values = scalars(train, f"epoch_{key}")
        assert steps == [0, 1, 2]
        assert values == pytest.approx(history.history[key], rel=1e-6)
    # Keras's TensorBoard reads the rate from the optimizer (fit's logs carry none)
    assert "learning_rate" not in history.history
    assert scalars(train, "epoch_learning_rate") == ([0, 1, 2], pytest.approx([0.1] * 3))
    for key in ("loss", "accuracy"):
        steps, values = scalars(val, f"epoch_{key}")
        assert steps == [0, 1, 2]
        assert values == pytest.approx(history.history[f"val_{key}"], rel=1e-6)
    # Keras's evaluation_<metric>_vs_iterations: validation results at the batch step
    steps, values = scalars(val, "evaluation_loss_vs_iterations")
    assert steps == [4, 8, 12] and values == pytest.approx(history.history["val_loss"], rel=1e-6)
    assert "tensorflow" not in sys.modules


def test_batch_scalars_every_n_batches_and_steps_continue_across_fits(tmp_path):
    model = small_model()
    fit(model, K.callbacks.TensorBoard(tmp_path, update_freq=3, write_graph=False), epochs=3)
    tb = K.callbacks.TensorBoard(tmp_path, update_freq="batch", write_graph=False)
    history = fit(model, tb, epochs=5, initial_epoch=3)  # a new callback continues the steps
    fit(model, tb, epochs=6, initial_epoch=5)  # so does the same callback, fitted again
    train = events(tmp_path / "train")
    steps, values = scalars(train, "batch_loss")
    assert steps == [3, 6, 9, 12, *range(13, 25)]
    assert scalars(train, "epoch_loss")[0] == [0, 1, 2, 3, 4, 5]
    # the running mean at the last batch of an epoch is the epoch's loss
    assert values[steps.index(16)] == pytest.approx(history.history["loss"][0], rel=1e-6)
    assert values[steps.index(20)] == pytest.approx(history.history["loss"][1], rel=1e-6)


def test_epoch_mode_adds_no_batch_hooks():
    assert CallbackList([K.callbacks.TensorBoard()]).on_train_batch_end is None
    assert CallbackList([K.callbacks.TensorBoard(update_freq=10)]).on_train_batch_end
    assert CallbackList([K.callbacks.TensorBoard(profile_batch=2)]).on_train_batch_begin
    assert isinstance(K.callbacks.TensorBoard(update_freq="batch"), K.callbacks.TensorBoard)


def test_histograms_of_weights_and_gradients_at_histogram_epochs(tmp_path):
    model = small_model()
    weights = {}
    keep = K.callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: weights.update({e: model[2].weight.detach().clone()})
    )
    tb = K.callbacks.TensorBoard(tmp_path, histogram_freq=2, write_graph=False)
    model.fit(X, Y, batch_size=16, epochs=5, verbose=0, callbacks=[tb, keep])
    train = events(tmp_path / "train")
    names = [n for n, _ in model.named_parameters()]
    tags = set(train.Tags()["histograms"])
    for name in names:
        module, _, param = name.rpartition(".")
        for tag in (f"{module}/{param}", f"{module}/{param}_grad"):
            assert tag in tags
            assert [e.step for e in train.Histograms(tag)] == [0, 2, 4]
    tag = next(t for t in tags if t.endswith("2/weight"))
    for event in train.Histograms(tag):
        w = weights[event.step]
        h = event.histogram_value
        assert h.num == w.numel()
        assert (h.min, h.max, h.sum) == pytest.approx(
            (w.min().item(), w.max().item(), w.sum().item()), rel=1e-5
        )
    grads = train.Histograms(tag + "_grad")
    assert all(g.histogram_value.sum_squares > 0 for g in grads)


def test_gradient_histogram_is_the_last_batch_gradient(tmp_path):
    model = small_model()
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.0), loss="mse")  # weights fixed
    x, y = X[:48], np.zeros((48, 2), np.float32)
    model.fit(
        x,
        y,
        batch_size=16,
        epochs=1,
        shuffle=False,
        verbose=0,
        callbacks=[K.callbacks.TensorBoard(tmp_path, histogram_freq=1, write_graph=False)],
    )
    model.zero_grad()
    torch.nn.functional.mse_loss(
        model(torch.from_numpy(x[32:])), torch.from_numpy(y[32:])
    ).backward()
    expected = model[2].weight.grad
    train = events(tmp_path / "train")
    tag = next(t for t in train.Tags()["histograms"] if t.endswith("2/weight_grad"))
    (event,) = train.Histograms(tag)  # one epoch: one histogram, of the third batch's gradient
    h = event.histogram_value
    assert (h.min, h.max, h.sum) == pytest.approx(
        (expected.min().item(), expected.max().item(), expected.sum().item()), rel=1e-4, abs=1e-7
    )


def test_graph_and_conv_kernel_images(tmp_path):
    model = K.Sequential(
        [K.layers.Input((1, 8, 8)), K.layers.Conv2D(4, 3), K.layers.Flatten(), K.layers.Dense(2)]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((32, 1, 8, 8)).astype(np.float32)
    tb = K.callbacks.TensorBoard(tmp_path, histogram_freq=1, write_images=True)
    model.fit(x, Y[:32], batch_size=16, epochs=2, verbose=0, callbacks=[tb])
    train = events(tmp_path / "train")
    graph = train.Graph()
    assert len(graph.node) > 3 and any(
        "conv" in n.op.lower() or "conv" in n.name.lower() for n in graph.node
    )
    images = [t for t in train.Tags()["images"] if t.endswith("weight/image")]
    assert len(images) == 2
    conv = next(t for t in images if "conv" in t)
    shots = train.Images(conv)
    assert [s.step for s in shots] == [0, 1]
    # a 4x1 grid would be tall; kernels (4, 1, 3, 3) are laid out in a 2x2 grid of 3x3 tiles
    assert (shots[0].width, shots[0].height) == (9, 9)


class Untraceable(K.Model):
    """Trains as usual but cannot be traced (a forward the tracer refuses)."""

    def __init__(self):
        super().__init__()
        self.dense = torch.nn.Linear(4, 3)

    def forward(self, x):
        if torch.jit.is_tracing():
            raise RuntimeError("cannot trace")
        return self.dense(x)


def test_graph_failure_warns_and_training_goes_on(tmp_path):
    model = Untraceable()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match="could not write the model graph.*cannot trace"):
        history = fit(model, K.callbacks.TensorBoard(tmp_path), epochs=2)
    assert history.epoch == [0, 1]
    assert scalars(events(tmp_path / "train"), "epoch_loss")[1] == pytest.approx(
        history.history["loss"]
    )


def test_graph_groups_nodes_by_module_and_names_the_weights(tmp_path):
    model = small_model()
    fit(model, K.callbacks.TensorBoard(tmp_path), epochs=1)
    nodes = events(tmp_path / "train").Graph().node
    linear = [n for n in nodes if n.op == "aten::linear"]
    assert len(linear) == sum(isinstance(m, torch.nn.Linear) for m in model.modules())
    assert all(n.name.startswith(type(model).__name__ + "/") for n in linear)
    inputs = {n.name for n in nodes if n.op == "IO Node" and n.name.startswith("input/")}
    weights = {"input/" + k.replace(".", "/") for k, _ in model.named_parameters()}
    assert weights <= inputs


def test_300_fits_with_a_fresh_graph_writing_tensorboard_keep_memory_flat(tmp_path):
    psutil = pytest.importorskip("psutil")
    x, y = X[:8], Y[:8]

    def fits(n):
        for _ in range(n):
            model = K.Sequential([K.layers.Dense(4), K.layers.Dense(3)])
            model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
            tb = K.callbacks.TensorBoard(tmp_path / "run", write_graph=True)
            model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[tb])
        gc.collect()
        return psutil.Process().memory_info().rss

    start = fits(20)  # warm up: allocator pools, lazy imports
    grown = (fits(300) - start) / 2**20
    # torch.jit.trace (SummaryWriter.add_graph) kept ~0.3 MB a fit: +86 MB over 300 fits
    assert grown < 15, f"RSS grew {grown:.1f} MB over 300 fits"
    assert len(events(tmp_path / "run" / "train").Graph().node) > 3


def test_hparams_session_with_automatic_and_user_values(tmp_path):
    tb = K.callbacks.TensorBoard(
        tmp_path, write_graph=False, hparams={"units": 8, "act": "relu", "bn": False}
    )
    fit(small_model(), tb, epochs=2)
    root = events(tmp_path)
    content = root.SummaryMetadata(hp_metadata.SESSION_START_INFO_TAG).plugin_data.content
    info = hp_metadata.parse_session_start_info_plugin_data(content)
    hp = {
        k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind"))
        for k, v in info.hparams.items()
    }
    assert hp == {
        "optimizer": "SGD",
        "learning_rate": pytest.approx(0.1),
        "batch_size": 16,
        "epochs": 2,
        "units": 8,
        "act": "relu",
        "bn": False,
    }
    end = root.SummaryMetadata(hp_metadata.SESSION_END_INFO_TAG).plugin_data.content
    assert hp_metadata.parse_session_end_info_plugin_data(end).status == 1  # STATUS_SUCCESS


def test_profile_batch_writes_a_chrome_trace(tmp_path):
    tb = K.callbacks.TensorBoard(tmp_path, profile_batch=(2, 3), write_graph=False)
    fit(small_model(), tb, epochs=2)
    traces = list((tmp_path / "plugins" / "profile").glob("*.pt.trace.json"))
    assert len(traces) == 1
    trace = json.loads(traces[0].read_text())
    assert trace["traceEvents"]
    assert any("linear" in str(e.get("name", "")).lower() for e in trace["traceEvents"])


def test_writers_are_flushed_each_epoch_and_closed_at_the_end(tmp_path):
    seen = []

    def peek(epoch, logs):  # runs after the TensorBoard callback, before the writers' own flush
        seen.append(len(events(tmp_path / "train").Scalars("epoch_loss")))

    tb = K.callbacks.TensorBoard(tmp_path, write_graph=False)
    fit(small_model(), [tb, K.callbacks.LambdaCallback(on_epoch_end=peek)], epochs=3)
    assert seen == [1, 2, 3]
    assert tb._writers == {}


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"update_freq": "step"}, "Received: update_freq='step'"),
        ({"update_freq": 0}, "Received: update_freq=0"),
        ({"profile_batch": (3, 2)}, r"Received: profile_batch=\(3, 2\)"),
        ({"profile_batch": "a,b"}, "Received: profile_batch='a,b'"),
        ({"histogram_freq": -1}, "Received: histogram_freq=-1"),
    ],
)
def test_tensorboard_rejects_bad_arguments(kwargs, error):
    with pytest.raises(ValueError, match=error):
        K.callbacks.TensorBoard(**kwargs)
    with pytest.raises(TypeError, match="Received: hparams=3"):
        K.callbacks.TensorBoard(hparams=3)


def test_profile_batch_forms():
    assert K.callbacks.TensorBoard(profile_batch=0).profile_range is None
    assert K.callbacks.TensorBoard(profile_batch=5).profile_range == (5, 5)
    assert K.callbacks.TensorBoard(profile_batch="2,4").profile_range == (2, 4)


def test_tensorboard_demo_writes_histograms_graph_and_hparams(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "tensorboard_demo", EXAMPLES / "tensorboard_demo.py"
    )
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    logdir = tmp_path / "runs" / "demo"
    history = demo.main(["--logdir", str(tmp_path / "runs"), "--run-name", "demo", "--epochs", "2"])
    assert history.epoch == [0, 1]
    train = events(logdir / "train")
    assert train.Tags()["graph"]
    hists = train.Tags()["histograms"]
    assert any(t.endswith("conv/weight") for t in hists)
    assert any(t.endswith("conv/weight_grad") for t in hists)
    assert all([e.step for e in train.Histograms(t)] == [0, 1] for t in hists)
    assert scalars(events(logdir / "validation"), "epoch_accuracy")[1] == pytest.approx(
        history.history["val_accuracy"], rel=1e-6
    )
    assert hp_metadata.SESSION_START_INFO_TAG in events(logdir).Tags()["tensors"]
    assert "kerasish tensorboard --logdir" in capsys.readouterr().out
