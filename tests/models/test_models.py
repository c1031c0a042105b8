"""Model kinds (Sequential, subclassed, wrapped), build, summary, optimizers, devices, data sets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

import kerasish as K
from kerasish import devices
from kerasish.summary import summarize


class Net(K.Model):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        return self.head(self.body(x))


def test_sequential_add_pop_and_indexing():
    model = K.Sequential([nn.Linear(8, 4)])
    model.add(nn.ReLU())
    assert len(model) == 2 and isinstance(model[1], nn.ReLU)
    assert isinstance(model.pop(), nn.ReLU) and len(model) == 1
    with pytest.raises(TypeError, match="Expected an nn.Module.*Received: layer of type str"):
        model.add("relu")
    model.pop()
    with pytest.raises(IndexError, match="empty Sequential"):
        model.pop()


@pytest.mark.parametrize(
    "make",
    [
        lambda: K.Sequential([nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)]),
        Net,
        lambda: K.Model.wrap(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))),
    ],
    ids=["sequential", "subclassed", "wrapped"],
)
def test_every_model_kind_trains_and_summarises(make, blobs, capsys):
    x, y = blobs
    model = make()
    assert isinstance(model, nn.Module)
    model.compile(
        optimizer=K.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    assert model.summary() is None
    text = summarize(model)
    assert "Total params: 195" in text and "Trainable params: 195" in text
    assert "(None, 16)" in text or "(None, 3)" in text
    assert capsys.readouterr().out.strip() == text.strip()


def test_wrapped_model_exposes_the_module_attributes():
    resnet = torchvision.models.resnet18(num_classes=4)
    model = K.Model.wrap(resnet)
    assert model.net is resnet and model.fc is resnet.fc
    assert K.Model.wrap(model) is model
    assert next(iter(model.state_dict())).startswith("net.")
    with pytest.raises(TypeError, match="Received: module of type int"):
        K.Model.wrap(3)


def test_lazy_model_build_and_unbuilt_summary():
    model = K.Sequential([K.layers.Dense(32, activation="relu"), K.layers.Dense(4)])
    assert not model.built
    with pytest.raises(ValueError, match=r"model.build\(input_shape\)"):
        model.summary()
    model.build((None, 10))
    assert model.built
    text = summarize(model)
    assert "(None, 32)" in text and "(None, 4)" in text
    assert f"Total params: {10 * 32 + 32 + 32 * 4 + 4:,}" in text
    with pytest.raises(ValueError, match="input_shape"):
        model.build("10")


def test_input_layer_builds_at_construction():
    model = K.Sequential(
        [K.layers.Input((1, 8, 8)), K.layers.Conv2D(4, 3), K.layers.Flatten(), K.layers.Dense(2)]
    )
    assert model.built
    assert "(None, 4, 6, 6)" in summarize(model)


def test_trainable_freezes_and_shows_in_summary():
    model = Net()
    model.body.requires_grad_(False)
    text = summarize(model) if model.built else ""
    assert "Non-trainable params: 144" in text
    model.trainable = False
    assert not model.trainable and not any(p.requires_grad for p in model.parameters())
    model.unfreeze()
    assert all(p.requires_grad for p in model.parameters())
    with pytest.raises(TypeError, match="Received: trainable='no'"):
        model.trainable = "no"


def test_frozen_batchnorm_stays_in_inference_mode():
    model = K.Sequential([nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)])
    K.utils.freeze(model[1])
    model.train()
    assert model.training and not model[1].training and model[0].training
    K.utils.unfreeze(model[1])
    model.train()
    assert model[1].training


@pytest.mark.parametrize(
    "name", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta", "adamax", "nadam"]
)
def test_every_optimizer_string_trains(name, blobs):
    x, y = blobs
    model = K.Sequential([nn.Linear(8, 3)])
    model.compile(optimizer=name, loss="sparse_categorical_crossentropy")
    before = [p.detach().clone() for p in model.parameters()]
    model.fit(x, y, epochs=1, verbose=0)
    expected = {
        "sgd": "SGD",
        "adam": "Adam",
        "adamw": "AdamW",
        "rmsprop": "RMSprop",
        "adagrad": "Adagrad",
        "adadelta": "Adadelta",
        "adamax": "Adamax",
        "nadam": "NAdam",
    }
    assert type(model.optimizer).__name__ == expected[name]
    assert not all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_optimizer_forms_class_and_instance(blobs):
    x, y = blobs
    model = K.Sequential([nn.Linear(8, 3)])
    model.compile(optimizer=torch.optim.RMSprop, loss="cross_entropy")
    model.fit(x, y, verbose=0)
    assert isinstance(model.optimizer, torch.optim.RMSprop)
    other = nn.Linear(8, 3)
    model.compile(optimizer=torch.optim.SGD(other.parameters(), lr=0.1), loss="cross_entropy")
    with pytest.raises(ValueError, match="optimizer to hold this model's parameters"):
        model.fit(x, y, verbose=0)


def test_keras_optimizer_defaults_map_to_torch():
    opt = K.optimizers.Adam().build(nn.Linear(2, 2).parameters())
    assert opt.defaults["eps"] == 1e-7 and opt.defaults["lr"] == 1e-3
    sgd = K.optimizers.SGD(momentum=0.9, nesterov=True).build(nn.Linear(2, 2).parameters())
    assert sgd.defaults["lr"] == 0.01 and sgd.defaults["nesterov"]
    rms = K.optimizers.RMSprop(rho=0.8).build(nn.Linear(2, 2).parameters())
    assert rms.defaults["alpha"] == 0.8
    adamw = K.optimizers.AdamW().build(nn.Linear(2, 2).parameters())
    assert adamw.defaults["weight_decay"] == 0.004
    with pytest.raises(ValueError, match="Received: learning_rate=-1"):
        K.optimizers.SGD(learning_rate=-1)


def test_lr_scheduler_factory_and_param_groups(blobs):
    x, y = blobs
    model = K.Sequential([nn.Linear(8, 3)])
    model.compile(
        optimizer=K.optimizers.SGD(0.1),
        loss="cross_entropy",
        lr_scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5),
    )
    rates = []
    record = K.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: rates.append(model.optimizer.param_groups[0]["lr"])
    )
    model.fit(x, y, epochs=3, verbose=0, callbacks=[record])
    assert rates == pytest.approx([0.1, 0.05, 0.025])


def test_torchmetrics_metric_in_fit(blobs):
    torchmetrics = pytest.importorskip("torchmetrics")
    x, y = blobs
    model = K.Sequential([nn.Linear(8, 3)])
    metric = torchmetrics.classification.MulticlassAccuracy(num_classes=3, average="micro")
    model.compile(
        optimizer=K.optimizers.Adam(1e-2), loss="cross_entropy", metrics=["accuracy", metric]
    )
    history = model.fit(x, y, epochs=3, verbose=0)
    keys = [k for k in history.history if k not in ("loss", "accuracy")]
    assert len(keys) == 1
    assert history.history[keys[0]] == pytest.approx(history.history["accuracy"], abs=1e-6)


def test_device_resolution(monkeypatch):
    monkeypatch.setenv("KERASISH_DEVICE", "cpu")
    assert devices.resolve("auto") == torch.device("cpu")
    monkeypatch.delenv("KERASISH_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        expected = "mps"
    assert devices.resolve().type == expected
    with pytest.raises(ValueError, match="Received: device='tpu9'"):
        devices.resolve("tpu9")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            devices.resolve("cuda")


def test_move_handles_nested_batches():
    batch = {"a": np.ones(2, np.float32), "b": [torch.zeros(1), (torch.ones(1),)], "c": 3}
    moved = devices.move(batch, torch.device("cpu"))
    assert isinstance(moved["a"], torch.Tensor) and moved["c"] == 3
    assert isinstance(moved["b"][1], tuple) and moved["b"][0] is batch["b"][0]


def test_compile_moves_model_to_requested_device():
    model = Net()
    model.compile(optimizer="sgd", loss="mse", device="cpu")
    assert model.device == torch.device("cpu")


def test_digits_dataset_shapes():
    (x, y), (xt, yt) = K.datasets.digits.load_data()
    assert x.shape == (1437, 1, 8, 8) and x.dtype == np.float32 and y.dtype == np.int64
    assert xt.shape == (360, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    assert set(np.unique(y)) == set(range(10))
    (x2, _), _ = K.datasets.digits.load_data()
    assert np.array_equal(x, x2)


def test_torchvision_datasets_fail_clearly_offline(tmp_path, monkeypatch):
    import urllib.request

    monkeypatch.setenv("KERASISH_HOME", str(tmp_path))
    # urllib caches a global opener built from these variables; restore it afterwards
    monkeypatch.setattr(urllib.request, "_opener", None)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")  # nothing listens: fails at once
    with pytest.raises(RuntimeError, match="MNIST.*cache.*network"):
        K.datasets.mnist.load_data()


def _uint8_images(n: int = 48):
    """MNIST-like uint8 images (N, 1, 28, 28) in [0, 255] and uint8 labels, as Keras gives."""
    g = np.random.default_rng(0)
    y = g.integers(0, 3, n).astype(np.uint8)
    x = g.integers(0, 60, (n, 1, 28, 28))
    for i, c in enumerate(y):  # each class lights its own band of rows
        x[i, 0, 9 * c : 9 * c + 9] += 180
    return x.astype(np.uint8), y


def _tutorial(kind: str) -> K.Model:
    """Keras's tutorial model: Input, Rescaling(1/255), Flatten, Dense(softmax)."""
    layers = [
        K.layers.Rescaling(1 / 255),
        K.layers.Flatten(),
        K.layers.Dense(3, activation="softmax"),
    ]
    if kind == "sequential":
        return K.Sequential([K.Input((1, 28, 28)), *layers])
    inputs = K.Input((1, 28, 28))
    h = inputs
    for layer in layers:
        h = layer(h)
    return K.Model(inputs, h)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_keras_tutorial_trains_on_uint8_images_and_labels(kind):
    # Keras converts a model's inputs to its Input's dtype (float32) and Rescaling casts to its
    # compute dtype, so this fits in Keras; uint8 labels (N,) and (N, 1) both train
    x, y = _uint8_images()
    results = []
    for labels in (y, y[:, None], y.astype(np.int64)):
        K.utils.set_random_seed(0)
        model = _tutorial(kind)
        model.compile(
            optimizer=K.optimizers.Adam(0.01),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        history = model.fit(x, labels, epochs=5, batch_size=16, verbose=0)
        logs = model.evaluate(x, labels, verbose=0, return_dict=True)
        results.append((history.history["loss"], logs["loss"], logs["accuracy"]))
    assert results[0][2] == 1.0  # three well-separated classes
    assert results[0] == results[1] == results[2]  # (N,), (N, 1) and int64 labels: one result


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_input_casts_integer_inputs_and_passes_matching_ones_untouched(kind):
    model = _tutorial(kind)
    x, _ = _uint8_images(4)
    images = torch.from_numpy(x)
    assert torch.equal(model(images), model(images.float()))
    seen = []
    rescaling = next(m for m in model.modules() if isinstance(m, K.layers.Rescaling))
    rescaling.register_forward_pre_hook(lambda _, args: seen.append(args[0]))
    floats = images.float()
    model(floats)
    assert seen[-1] is floats  # a float32 batch reaches the first layer as it is, no copy
    model(images)
    assert seen[-1].dtype == torch.float32 and torch.equal(seen[-1], floats)
    # floating input of another precision follows torch: model.double() takes float64
    model.double()
    assert model(images.double()).dtype == torch.float64


def test_integer_input_casts_floats_and_a_model_without_input_does_not_cast():
    tokens = K.Input((3,), dtype="int64")
    model = K.Model(tokens, nn.Embedding(5, 2)(tokens))
    assert model(torch.tensor([[1.0, 2.0, 4.0]])).shape == (1, 3, 2)
    plain = K.Sequential([nn.Identity()])
    ints = torch.tensor([1, 2])
    assert plain(ints) is ints


def test_recompile_with_new_metrics_is_used_by_evaluate(blobs):
    x, y = blobs
    model = K.Sequential([nn.Linear(8, 3)])
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    model.fit(x, y, verbose=0)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["top_k_categorical_accuracy"])
    logs = model.evaluate(x, np.eye(3, dtype=np.float32)[y], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "top_k_categorical_accuracy"}
    assert logs["top_k_categorical_accuracy"] == 1.0  # k=5 >= 3 classes


def test_summary_prints_once_and_returns_none(capsys):
    model = K.Sequential([nn.Linear(3, 2)])
    model.build((None, 3))
    assert model.summary() is None
    out = capsys.readouterr().out
    assert out.count("Total params") == 1
    lines = []
    model.summary(print_fn=lines.append)
    assert len(lines) == 1 and "Total params" in lines[0]


@pytest.mark.parametrize("shape", [(None,), (None, None), (None, 0), (None, True), 64, "64"])
def test_build_refuses_shapes_without_a_feature_size(shape):
    model = K.Sequential([K.layers.Dense(3)])
    with pytest.raises((ValueError, TypeError), match="Expected input_shape"):
        model.build(shape)
    assert not model.built
