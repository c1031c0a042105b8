"""model.export: ONNX checked with onnxruntime, TorchScript and torch.export reloaded."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import kerasish as K
from kerasish import layers as L


def _cnn():
    model = K.Sequential(
        [
            L.Conv2D(4, 3, padding="same", activation="relu"),
            L.BatchNormalization(),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dropout(0.2),
            L.Dense(3, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.rand(16, 1, 8, 8).astype(np.float32)
    model.fit(x, np.arange(16) % 3, batch_size=8, epochs=1, verbose=0)
    return model, x


def test_onnx_export_matches_predict_in_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model, x = _cnn()
    model.export(tmp_path / "m.onnx", format="onnx", input_shape=(None, 1, 8, 8))
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    batch = x[:5]  # another batch size than the export's example: the batch axis is dynamic
    (got,) = session.run(None, {session.get_inputs()[0].name: batch})
    np.testing.assert_allclose(got, model.predict(batch, verbose=0), rtol=1e-4, atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


@pytest.mark.filterwarnings("ignore:.*torch.jit.*deprecated:FutureWarning")
@pytest.mark.parametrize("fmt, load", [("torchscript", torch.jit.load), ("torch_export", None)])
def test_torchscript_and_torch_export_reload_and_match(tmp_path, fmt, load):
    model, x = _cnn()
    model.train()
    path = tmp_path / ("m.pt" if fmt == "torchscript" else "m.pt2")
    model.export(path, format=fmt, example=torch.from_numpy(x[:4]))
    assert model.training  # the mode is restored after exporting in eval mode
    reloaded = load(str(path)) if load else torch.export.load(str(path)).module()
    batch = torch.from_numpy(x[4:10])
    with torch.no_grad():
        got = reloaded(batch)
    np.testing.assert_allclose(got.numpy(), model.predict(x[4:10], verbose=0), rtol=1e-5, atol=1e-6)


def test_export_defaults_to_the_batch_the_model_was_built_with(tmp_path):
    model, _ = _cnn()
    model.export(tmp_path / "m.pt2", format="torch_export")
    assert (tmp_path / "m.pt2").exists()


def test_export_checks_its_arguments(tmp_path):
    model = K.Sequential([torch.nn.Linear(3, 2)])
    with pytest.raises(ValueError, match="format"):
        model.export(tmp_path / "m.x", format="tflite", input_shape=(None, 3))
    with pytest.raises(ValueError, match="input_shape"):
        model.export(tmp_path / "m.pt2", format="torch_export")
    with pytest.raises(TypeError, match="example"):
        model.export(tmp_path / "m.pt2", format="torch_export", example={"x": torch.ones(2, 3)})


def test_missing_onnx_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    model = K.Sequential([torch.nn.Linear(3, 2)])
    with pytest.raises(ImportError, match=r"pip install 'kerasish\[export\]'"):
        model.export(tmp_path / "m.onnx", input_shape=(None, 3))
