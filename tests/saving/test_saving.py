"""model.save / load_model, save_weights / load_weights: round trips, safe loading, atomic writes."""

from __future__ import annotations

import io
import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish import layers as L
from kerasish import saving
from kerasish.saving.safe_load import Resolver
from tests.conftest import params_of, same_params
from tests.layers.cases import SAVING_CASES
from tests.saving.edit import rewrite

ROOT = pathlib.Path(__file__).resolve().parents[2]


def double(x):
    return x * 2


class Evil:
    """Unpickling it would create a marker file: a stand-in for arbitrary code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


class Trusted:
    """A harmless custom object that only full unpickling can load."""

    def __init__(self, value=1):
        self.value = value


class Scale(nn.Module):
    """A user module with get_config: loadable through custom_objects."""

    def __init__(self, factor: float = 2.0):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor

    def get_config(self):
        return {"factor": self.factor}


class Net(K.Model):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


# --------------------------------------------------------------------------- every layer

_SEQ = (2, 6, 3)
LAYER_CASES = {
    "Input": ([L.Input((4,)), L.Dense(3)], (2, 4)),
    "Dense": ([L.Dense(3, activation="relu"), L.Dense(2, use_bias=False)], (2, 4)),
    "Activation": ([L.Dense(3), L.Activation("tanh")], (2, 4)),
    "Lambda": ([L.Dense(3), L.Lambda(double)], (2, 4)),
    "Flatten": ([L.Flatten(), L.Dense(2)], (2, 3, 4)),
    "Reshape": ([L.Dense(6), L.Reshape((2, -1))], (2, 4)),
    "Dropout": ([L.Dense(3), L.Dropout(0.5)], (2, 4)),
    "Embedding": ([L.Embedding(10, 4), L.Flatten()], "ints"),
    "Conv1D": ([L.Conv1D(4, 3, strides=2, padding="same", activation="relu")], (2, 3, 9)),
    "Conv2D": ([L.Conv2D(4, 3, padding="same", dilation_rate=1), L.Flatten()], (2, 3, 6, 6)),
    "MaxPooling1D": ([L.Conv1D(2, 1), L.MaxPooling1D(2, padding="same")], (2, 3, 9)),
    "AveragePooling1D": ([L.Conv1D(2, 1), L.AveragePooling1D(3, strides=2)], (2, 3, 9)),
    "MaxPooling2D": ([L.Conv2D(2, 1), L.MaxPooling2D()], (2, 3, 6, 6)),
    "AveragePooling2D": ([L.Conv2D(2, 1), L.AveragePooling2D(3, 2, padding="same")], (2, 3, 7, 7)),
    "GlobalAveragePooling1D": ([L.Conv1D(2, 1), L.GlobalAveragePooling1D()], (2, 3, 5)),
    "GlobalMaxPooling1D": ([L.GlobalMaxPooling1D(data_format="channels_last")], (2, 5, 3)),
    "GlobalAveragePooling2D": (
        [L.Conv2D(2, 1), L.GlobalAveragePooling2D(keepdims=True)],
        (2, 3, 4, 4),
    ),
    "GlobalMaxPooling2D": ([L.Conv2D(2, 1), L.GlobalMaxPooling2D()], (2, 3, 4, 4)),
    "BatchNormalization": ([L.Conv2D(3, 1), L.BatchNormalization(momentum=0.5)], (4, 2, 3, 3)),
    "LayerNormalization": ([L.Dense(5), L.LayerNormalization(epsilon=1e-5)], (2, 4)),
    "LSTM": ([L.LSTM(5, return_sequences=True, go_backwards=True)], _SEQ),
    "GRU": ([L.GRU(4, dropout=0.2)], _SEQ),
    **SAVING_CASES,  # the merging, reshaping, preprocessing, ... layers (tests/layers/cases.py)
}


def test_layer_cases_cover_every_registered_layer():
    assert set(LAYER_CASES) == set(L.LAYERS)


def _input(spec):
    if spec == "ints":
        return torch.randint(0, 10, (2, 5))
    return torch.randn(*spec)


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_every_layer_round_trips_through_save_and_load(tmp_path, name):
    layers, spec = LAYER_CASES[name]
    model = K.Sequential(layers)
    x = _input(spec)
    model.train()
    model(x)  # builds lazy layers and moves BatchNorm statistics off their initial values
    model.eval()
    expected = model(x)
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish", custom_objects={"double": double})
    assert type(loaded) is K.Sequential
    assert [type(m) for m in loaded.layers] == [type(m) for m in model.layers]
    assert [m.get_config() for m in loaded.layers] == [m.get_config() for m in model.layers]
    loaded.eval()
    assert torch.equal(loaded(x), expected)


def test_torch_modules_round_trip_with_their_constructor_arguments(tmp_path):
    model = K.Sequential(
        [
            nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(4, eps=1e-4, momentum=0.2),
            nn.LeakyReLU(0.1),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.Flatten(),
            nn.Sequential(nn.Linear(16, 8), nn.GELU(approximate="tanh"), nn.Dropout(0.3)),
            nn.LayerNorm(8, elementwise_affine=False),
            nn.Linear(8, 3),
            nn.Softmax(dim=-1),
        ]
    )
    x = torch.randn(2, 3, 8, 8)
    model(x)
    model.eval()
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish").eval()
    assert repr(loaded) == repr(model)
    assert torch.equal(loaded(x), model(x))


def test_wrapped_torch_module_and_rnn_round_trip(tmp_path):
    model = K.Model.wrap(
        nn.Sequential(
            nn.Embedding(12, 4, padding_idx=0), nn.LSTM(4, 6, num_layers=2, batch_first=True)
        )
    )
    x = torch.randint(0, 12, (3, 5))
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish")
    assert type(loaded).__name__ == "Wrapped" and repr(loaded.net) == repr(model.net)
    assert torch.equal(loaded(x)[0], model(x)[0])


# --------------------------------------------------------------------------- subclassed models


def test_subclassed_model_needs_the_model_argument_and_says_so(tmp_path):
    net = Net()
    net.save(tmp_path / "net.kerasish")
    with pytest.raises(ValueError, match=r"model=Net\(\.\.\.\)") as info:
        K.models.load_model(tmp_path / "net.kerasish")
    assert "Net" in str(info.value) and "lambda" in str(info.value)
    x = torch.randn(4, 5)
    loaded = K.models.load_model(tmp_path / "net.kerasish", model=Net())
    assert torch.equal(loaded(x), net(x))
    built = K.models.load_model(tmp_path / "net.kerasish", model=lambda: Net())
    assert torch.equal(built(x), net(x))


def test_load_into_a_model_of_another_shape_names_the_weights(tmp_path):
    Net().save(tmp_path / "net.kerasish")
    other = K.Sequential([nn.Linear(5, 8)])
    with pytest.raises(ValueError, match="weight names"):
        K.models.load_model(tmp_path / "net.kerasish", model=other)


def test_custom_classes_come_from_custom_objects(tmp_path):
    model = K.Sequential([nn.Linear(3, 2), Scale(3.0)])
    model.save(tmp_path / "m.kerasish")
    with pytest.raises(ValueError, match=r"custom_objects=\{'Scale': Scale\}.*safe_mode=False"):
        K.models.load_model(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish", custom_objects={"Scale": Scale})
    assert loaded.layers[1].factor == 3.0
    x = torch.randn(2, 3)
    assert torch.equal(loaded(x), model(x))


def test_lambda_of_an_anonymous_function_is_not_describable(tmp_path):
    model = K.Sequential([nn.Linear(3, 2), L.Lambda(lambda x: x + 1)])
    model.save(tmp_path / "m.kerasish")
    with pytest.raises(ValueError, match="lambda or local object"):
        K.models.load_model(tmp_path / "m.kerasish")
    clone = K.Sequential([nn.Linear(3, 2), L.Lambda(lambda x: x + 1)])
    loaded = K.models.load_model(tmp_path / "m.kerasish", model=clone)
    x = torch.randn(2, 3)
    assert torch.equal(loaded(x), model(x))


def test_a_named_function_needs_custom_objects_in_safe_mode(tmp_path):
    model = K.Sequential([nn.Linear(3, 2), L.Lambda(double)])
    model.save(tmp_path / "m.kerasish")
    with pytest.raises(ValueError, match="custom_objects"):
        K.models.load_model(tmp_path / "m.kerasish")
    trusted = K.models.load_model(tmp_path / "m.kerasish", safe_mode=False)
    assert trusted.layers[1].function is double


def test_a_file_naming_an_arbitrary_function_is_refused_in_safe_mode(tmp_path):
    K.Sequential([nn.Linear(3, 2), L.Lambda(double)]).save(tmp_path / "m.kerasish")
    evil = tmp_path / "evil.kerasish"

    def edit(name, data):
        return data.replace(b"tests.saving.test_saving:double", b"os:system")

    rewrite(tmp_path / "m.kerasish", evil, edit)
    with pytest.raises(ValueError, match=r"function os\.system.*custom_objects"):
        K.models.load_model(evil)
    resolver = Resolver(None, safe_mode=True)
    assert resolver.ref("torch.nn.functional:relu", "function") is torch.nn.functional.relu
    with pytest.raises(ValueError, match="custom_objects"):  # private torch names are refused
        resolver.ref("torch:_C._get_tracing_state", "function")


# --------------------------------------------------------------------------- compile and optimizer


def _fit_model(blobs, **compile_kw):
    x, y = blobs
    model = K.Sequential([L.Dense(16, activation="relu"), L.Dropout(0.2), L.Dense(3)])
    kw = {
        "optimizer": K.optimizers.Adam(learning_rate=3e-3, beta_1=0.8, clipnorm=1.0),
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy", K.metrics.SparseTopKCategoricalAccuracy(k=2)],
    }
    model.compile(**{**kw, **compile_kw})
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    return model


def test_compile_config_and_optimizer_state_resume_training_exactly(tmp_path, blobs):
    x, y = blobs
    model = _fit_model(blobs)
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish")
    spec = loaded.compile_config.optimizer
    assert isinstance(spec, K.optimizers.Adam)
    assert spec.learning_rate == 3e-3 and spec.kwargs["betas"] == (0.8, 0.999)
    assert spec.clipping.clipnorm == 1.0
    assert isinstance(loaded.loss, K.losses.SparseCategoricalCrossentropy)
    assert [m.name for m in loaded.compile_config.metrics] == [
        "accuracy",
        "sparse_top_k_categorical_accuracy",
    ]
    assert loaded.compile_config.metrics[1].k == 2
    saved_state, loaded_state = model.optimizer.state_dict(), loaded.optimizer.state_dict()
    assert saved_state["param_groups"] == loaded_state["param_groups"]
    for i, s in saved_state["state"].items():
        assert all(torch.equal(s[k], loaded_state["state"][i][k]) for k in s)
    histories = []
    for m in (model, loaded):
        K.utils.set_random_seed(7)
        histories.append(m.fit(x, y, batch_size=32, epochs=1, verbose=0).history)
    assert same_params(params_of(model), params_of(loaded))
    assert histories[0] == histories[1]


def test_torch_optimizer_instance_with_param_groups_round_trips(tmp_path, blobs):
    x, y = blobs
    model = K.Sequential([nn.Linear(8, 6), nn.ReLU(), nn.Linear(6, 3)])
    groups = [
        {"params": model.layers[0].parameters(), "lr": 0.1},
        {"params": model.layers[2].parameters()},
    ]
    model.compile(optimizer=torch.optim.SGD(groups, lr=0.01, momentum=0.9), loss="cross_entropy")
    model.fit(x, y, batch_size=60, epochs=1, verbose=0)
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish")
    assert type(loaded.optimizer) is torch.optim.SGD
    assert [g["lr"] for g in loaded.optimizer.param_groups] == [0.1, 0.01]
    for m in (model, loaded):
        K.utils.set_random_seed(3)
        m.fit(x, y, batch_size=60, epochs=1, verbose=0)
    assert same_params(params_of(model), params_of(loaded))


def test_compile_false_and_uncompiled_models_load_uncompiled(tmp_path, blobs):
    _fit_model(blobs).save(tmp_path / "m.kerasish")
    assert not K.models.load_model(tmp_path / "m.kerasish", compile=False).compiled
    model = K.Sequential([nn.Linear(2, 2)])
    model.save(tmp_path / "plain.kerasish")
    loaded = K.models.load_model(tmp_path / "plain.kerasish")
    assert (
        not loaded.compiled and loaded.optimizer is None if hasattr(loaded, "optimizer") else True
    )


def test_what_could_not_be_saved_is_reported_at_load(tmp_path, blobs):
    x, y = blobs
    model = K.Sequential([nn.Linear(8, 3)])
    model.compile(optimizer="sgd", loss=lambda yt, yp: nn.functional.cross_entropy(yp, yt))
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "a.kerasish")
    with pytest.warns(UserWarning, match="incomplete.*lambda.*uncompiled"):
        assert not K.models.load_model(tmp_path / "a.kerasish").compiled
    model.compile(optimizer="sgd", loss="cross_entropy", metrics=["acc", lambda yt, yp: yp.sum()])
    model.save(tmp_path / "b.kerasish")
    with pytest.warns(UserWarning, match="Metrics not restored: metric 'metric'"):
        loaded = K.models.load_model(tmp_path / "b.kerasish")
    assert loaded.compiled and [m.name for m in loaded.compile_config.metrics] == ["acc"]


def test_torch_loss_module_and_frozen_layers_are_kept(tmp_path, blobs):
    x, y = blobs
    model = K.Sequential([nn.Linear(8, 4), nn.Linear(4, 3)])
    model.layers[0].requires_grad_(False)
    model.compile(optimizer="sgd", loss=nn.CrossEntropyLoss(label_smoothing=0.1))
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish")
    assert loaded.loss.module.label_smoothing == 0.1
    assert [p.requires_grad for p in loaded.parameters()] == [False, False, True, True]


def test_metadata_records_versions_and_file_layout(tmp_path):
    model = K.Sequential([nn.Linear(2, 2)])
    model.save(tmp_path / "m.kerasish")
    with zipfile.ZipFile(tmp_path / "m.kerasish") as zf:
        names = set(zf.namelist())
        meta = json.loads(zf.read("metadata.json"))
    assert {"metadata.json", "config.json", "compile.json", "model.safetensors"} <= names
    assert meta["kerasish_version"] == K.__version__ and meta["torch_version"] == torch.__version__


def test_model_save_rejects_weights_suffixes_and_unbuilt_models(tmp_path):
    with pytest.raises(ValueError, match="save_weights"):
        K.Sequential([nn.Linear(2, 2)]).save(tmp_path / "m.pt")
    with pytest.raises(ValueError, match=r"model.build\(input_shape\)"):
        K.Sequential([L.Dense(2)]).save(tmp_path / "m.kerasish")
    with pytest.raises(FileExistsError):
        model = K.Sequential([nn.Linear(2, 2)])
        model.save(tmp_path / "m.kerasish")
        model.save(tmp_path / "m.kerasish", overwrite=False)


# --------------------------------------------------------------------------- weights


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_save_and_load_weights(tmp_path, suffix):
    model = K.Sequential([L.Dense(4), L.BatchNormalization(), nn.Linear(4, 2)])
    model(torch.randn(3, 5))
    model.save_weights(tmp_path / f"w{suffix}")
    fresh = K.Sequential([L.Dense(4), L.BatchNormalization(), nn.Linear(4, 2)])  # lazy, unbuilt
    result = fresh.load_weights(tmp_path / f"w{suffix}")
    assert result == saving.LoadResult([], [], [])
    x = torch.randn(3, 5)
    assert torch.equal(fresh.eval()(x), model.eval()(x))


def test_tied_weights_save_to_safetensors(tmp_path):
    emb, head = nn.Embedding(6, 4), nn.Linear(4, 6, bias=False)
    head.weight = emb.weight
    model = K.Sequential([emb, head])
    model.save_weights(tmp_path / "w.safetensors")
    other = K.Sequential([nn.Embedding(6, 4), nn.Linear(4, 6, bias=False)])
    other.load_weights(tmp_path / "w.safetensors")
    assert torch.equal(other.layers[1].weight, emb.weight)


def test_load_weights_reports_mismatches_by_name_and_shape(tmp_path):
    K.Sequential([nn.Linear(4, 3), nn.Linear(3, 2)]).save_weights(tmp_path / "w.safetensors")
    other = K.Sequential([nn.Linear(4, 5), nn.Linear(5, 2)])
    with pytest.raises(ValueError, match=r"layers\.0\.weight: model \(5, 4\), file \(3, 4\)"):
        other.load_weights(tmp_path / "w.safetensors")
    with pytest.warns(UserWarning, match="skipped shape mismatches"):
        result = other.load_weights(tmp_path / "w.safetensors", skip_mismatch=True)
    assert result.mismatched_keys == ["layers.0.bias", "layers.0.weight", "layers.1.weight"]
    bigger = K.Sequential([nn.Linear(4, 3), nn.Linear(3, 2), nn.Linear(2, 1)])
    with pytest.raises(ValueError, match=r"missing from the file: \['layers\.2\.weight'"):
        bigger.load_weights(tmp_path / "w.safetensors")
    with pytest.warns(UserWarning, match="missing from the file"):
        result = bigger.load_weights(tmp_path / "w.safetensors", strict=False)
    assert result.missing_keys == ["layers.2.weight", "layers.2.bias"]


def test_load_weights_takes_plain_torch_state_dicts(tmp_path):
    net = nn.Sequential(nn.Linear(3, 2))
    torch.save({"state_dict": net.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    wrapped = K.Model.wrap(nn.Sequential(nn.Linear(3, 2)))
    wrapped.load_weights(tmp_path / "ckpt.pt")  # keys gain the wrapper's "net." prefix
    assert torch.equal(wrapped.net[0].weight, net[0].weight)


def test_weights_suffix_is_checked(tmp_path):
    with pytest.raises(ValueError, match=r"\.safetensors"):
        K.Sequential([nn.Linear(2, 2)]).save_weights(tmp_path / "w.h5")


# --------------------------------------------------------------------------- safe loading


def test_malicious_pickle_is_not_executed_and_the_error_names_the_opt_in(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"weight": Evil(str(marker))}, tmp_path / "evil.pt")
    model = K.Sequential([nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="safe_mode=False") as info:
        model.load_weights(tmp_path / "evil.pt")
    assert "weights_only=True" in str(info.value)
    assert not marker.exists()


def test_malicious_optimizer_state_in_a_model_file_is_not_executed(tmp_path, blobs):
    _fit_model(blobs).save(tmp_path / "m.kerasish")
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.kerasish"

    def edit(name, data):
        if name != "optimizer.pt":
            return data
        buf = io.BytesIO()
        torch.save({"state": Evil(str(marker))}, buf)
        return buf.getvalue()

    rewrite(tmp_path / "m.kerasish", evil, edit)
    with pytest.raises(ValueError, match="safe_mode=False"):
        K.models.load_model(evil)
    assert not marker.exists()


def test_safe_mode_false_loads_a_trusted_pickle(tmp_path):
    net = nn.Linear(2, 2)
    torch.save({"model": net.state_dict(), "meta": Trusted(3)}, tmp_path / "trusted.pt")
    model = K.Model.wrap(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="safe_mode=False"):
        model.load_weights(tmp_path / "trusted.pt")
    model.load_weights(tmp_path / "trusted.pt", safe_mode=False)
    assert torch.equal(model.net.weight, net.weight)


# --------------------------------------------------------------------------- atomic writes


def test_a_crash_between_write_and_rename_keeps_the_previous_files(tmp_path, monkeypatch):
    model = K.Sequential([nn.Linear(3, 2)])
    model.save(tmp_path / "m.kerasish")
    model.save_weights(tmp_path / "w.safetensors")
    before = params_of(model)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)

    def crash(src, dst):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", crash)
    for save in (
        lambda: model.save(tmp_path / "m.kerasish"),
        lambda: model.save_weights(tmp_path / "w.safetensors"),
    ):
        with pytest.raises(OSError, match="simulated crash"):
            save()
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["m.kerasish", "w.safetensors"]  # no temp files left
    assert same_params(params_of(K.models.load_model(tmp_path / "m.kerasish")), before)
    fresh = K.Sequential([nn.Linear(3, 2)])
    fresh.load_weights(tmp_path / "w.safetensors")
    assert same_params(params_of(fresh), before)


def test_a_writer_killed_before_the_rename_leaves_the_previous_checkpoint(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, signal, sys
            sys.path.insert(0, {str(ROOT)!r})
            import torch
            from torch import nn
            import kerasish as K
            torch.manual_seed(0)
            model = K.Sequential([nn.Linear(3, 2)])
            model.save({str(tmp_path / "m.kerasish")!r})
            with torch.no_grad():
                model.layers[0].weight.add_(1.0)
            os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
            model.save({str(tmp_path / "m.kerasish")!r})
            """
        )
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    torch.manual_seed(0)
    expected = K.Sequential([nn.Linear(3, 2)])
    loaded = K.models.load_model(tmp_path / "m.kerasish")
    assert same_params(params_of(loaded), params_of(expected))


# --------------------------------------------------------------------------- devices


def test_map_location_puts_the_model_and_optimizer_state_on_the_device(tmp_path, blobs):
    _fit_model(blobs).save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish", map_location="cpu")
    assert loaded.device == torch.device("cpu")
    state = loaded.optimizer.state_dict()["state"]
    assert all(t.device.type == "cpu" for s in state.values() for t in s.values())
    meta = K.models.load_model(tmp_path / "m.kerasish", map_location="meta", compile=False)
    assert all(p.is_meta for p in meta.parameters())
    with pytest.raises(ValueError, match="meta device"):
        meta.save(tmp_path / "meta.kerasish")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_checkpoints_load_on_cpu_and_back(tmp_path, blobs, monkeypatch):
    monkeypatch.setenv("KERASISH_DEVICE", "cuda")
    x, y = blobs
    model = _fit_model(blobs)
    assert model.device.type == "cuda"
    model.save(tmp_path / "gpu.kerasish")
    model.save_weights(tmp_path / "gpu.pt")
    on_cpu = K.models.load_model(tmp_path / "gpu.kerasish", map_location="cpu")
    assert all(p.device.type == "cpu" for p in on_cpu.parameters())
    np.testing.assert_allclose(on_cpu.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    on_cpu.fit(x, y, epochs=1, verbose=0)
    on_cpu.save(tmp_path / "cpu.kerasish")
    back = K.models.load_model(tmp_path / "cpu.kerasish", map_location="cuda")
    assert all(p.device.type == "cuda" for p in back.parameters())
    state = back.optimizer.state_dict()["state"]
    assert all(t.device.type == "cuda" for s in state.values() for k, t in s.items() if k != "step")
    back.fit(x, y, epochs=1, verbose=0)
    plain = K.Sequential([L.Dense(16, activation="relu"), L.Dropout(0.2), L.Dense(3)])
    plain.load_weights(tmp_path / "gpu.pt")
    assert plain.layers[0].linear.weight.device.type == "cpu"


# --------------------------------------------------------------------------- files of kerasish 0.1

DATA = pathlib.Path(__file__).parent / "data"


def test_files_written_by_kerasish_0_1_still_load():
    """``data/v1_*.kerasish`` were written by kerasish 0.1, whose config described Sequential
    and Wrapped in their own shape ({"package": "kerasish.models", "layers"/"net": ...})."""
    expected = json.loads((DATA / "v1_expected.json").read_text())
    x = torch.tensor(expected["x"])
    model = K.models.load_model(DATA / "v1_sequential.kerasish")
    assert type(model) is K.Sequential and model.name == "legacy"
    assert type(model.layers[0]) is K.Sequential and model.layers[0].name == "inner"
    assert model.compiled and isinstance(model.compile_config.optimizer, K.optimizers.Adam)
    assert [m.name for m in model.compile_config.metrics] == ["mae"]
    assert model.optimizer.state_dict()["state"][0]["step"] == expected["adam_steps"]
    model.eval()
    with torch.no_grad():
        np.testing.assert_allclose(model(x).numpy(), expected["sequential"], rtol=0, atol=1e-6)
    wrapped = K.models.load_model(DATA / "v1_wrapped.kerasish")
    assert type(wrapped).__name__ == "Wrapped" and isinstance(wrapped.net, nn.Sequential)
    with torch.no_grad():
        np.testing.assert_allclose(wrapped(x).numpy(), expected["wrapped"], rtol=0, atol=1e-6)


def test_a_resaved_0_1_file_uses_the_registered_shape(tmp_path):
    model = K.models.load_model(DATA / "v1_sequential.kerasish")
    model.save(tmp_path / "m.kerasish")
    with zipfile.ZipFile(tmp_path / "m.kerasish") as zf:
        arch = json.loads(zf.read("config.json"))["architecture"]
    assert arch["registered_name"] == "kerasish.models>Sequential"
    assert arch["config"]["name"] == "legacy"
    inner = arch["config"]["layers"][0]["__module__"]
    assert inner["registered_name"] == "kerasish.models>Sequential"
    again = K.models.load_model(tmp_path / "m.kerasish")
    x = torch.randn(5, 3)
    assert torch.equal(again.eval()(x), model.eval()(x))
