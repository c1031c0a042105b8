"""Bad input raises a clear error before any training step, and the model is untouched."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import kerasish as K
from tests.conftest import params_of, same_params


@pytest.fixture
def model():
    m = K.Sequential([nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def _raises_untouched(model, exc, match, **fit_kwargs):
    before = params_of(model)
    with pytest.raises(exc, match=match):
        model.fit(verbose=0, **fit_kwargs)
    assert same_params(before, params_of(model))


def test_fit_before_compile(blobs):
    x, y = blobs
    m = K.Sequential([nn.Linear(8, 3)])
    with pytest.raises(RuntimeError, match=r"Expected compile\(\) .*Received"):
        m.fit(x, y)


def test_length_mismatch(model, blobs):
    x, y = blobs
    _raises_untouched(
        model,
        ValueError,
        r"same number of samples.*x.shape\[0\]=240.*"
        r"y.shape\[0\]=239",
        x=x,
        y=y[:-1],
    )


def test_empty_data(model):
    _raises_untouched(
        model,
        ValueError,
        "at least one sample",
        x=np.zeros((0, 8), np.float32),
        y=np.zeros((0,), np.int64),
    )


def test_missing_y(model, blobs):
    _raises_untouched(model, ValueError, "Received: y=None", x=blobs[0])


def test_float_labels_with_sparse_loss(model, blobs):
    x, y = blobs
    _raises_untouched(model, ValueError, "integer class labels.*float", x=x, y=y.astype(np.float32))


def test_output_shape_that_does_not_fit_y(blobs):
    x, y = blobs
    m = K.Sequential([nn.Linear(8, 1)])
    m.compile(optimizer="adam", loss="mse")
    onehot = np.eye(3, dtype=np.float32)[y]
    before = params_of(m)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 1\)|\(2, 1\).*\(2, 3\)"):
        m.fit(x, onehot, verbose=0)
    assert same_params(before, params_of(m))


def test_unknown_strings():
    m = K.Sequential([nn.Linear(8, 3)])
    with pytest.raises(ValueError, match="Could not interpret optimizer.*adam"):
        m.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mse"):
        m.compile(optimizer="adam", loss="mean_sqared_error")
    with pytest.raises(ValueError, match="accuracy"):
        m.compile(optimizer="adam", loss="mse", metrics=["acuracy"])
    assert not getattr(m, "compiled", False)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"batch_size": 0}, "batch_size.*Received: batch_size=0"),
        ({"batch_size": -4}, "Received: batch_size=-4"),
        ({"epochs": 0}, "Received: epochs=0"),
        (
            {"validation_split": 1.0},
            r"validation_split in \[0, 1\).*Received: validation_split=1.0",
        ),
        ({"validation_split": -0.1}, "Received: validation_split=-0.1"),
        ({"initial_epoch": 5, "epochs": 2}, "initial_epoch=5"),
        ({"verbose": 3}, "Received: verbose=3"),
        ({"class_weight": [1, 2]}, "class_weight"),
        ({"data_on_device": "yes"}, "Received: data_on_device='yes'"),
        ({"prefetch_factor": 0}, "Received: prefetch_factor=0"),
    ],
)
def test_bad_arguments(model, blobs, kwargs, match):
    x, y = blobs
    before = params_of(model)
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, **{"verbose": 0, **kwargs})
    assert same_params(before, params_of(model))


def test_validation_split_with_dataloader_or_generator(model, blobs):
    x, y = (torch.from_numpy(a) for a in blobs)
    loader = DataLoader(TensorDataset(x, y), batch_size=32)
    _raises_untouched(
        model, ValueError, "validation_split.*DataLoader", x=loader, validation_split=0.2
    )
    gen = ((x[i : i + 32], y[i : i + 32]) for i in range(0, 240, 32))
    _raises_untouched(model, ValueError, "validation_split", x=gen, validation_split=0.2)


def test_wrong_input_type(model):
    _raises_untouched(model, TypeError, "Expected x to be arrays.*Received: x of type int", x=3)


def test_model_untouched_includes_optimizer_state(model, blobs):
    x, y = blobs
    with pytest.raises(ValueError):
        model.fit(x, y.astype(np.float32), verbose=0)
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer.state  # a later good fit trains normally
