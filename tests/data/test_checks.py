"""kerasish.data.checks: the non-finite scan of in-memory data, remembered per tensor."""

from __future__ import annotations

import gc
import warnings
import weakref

import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.data import checks


def _model():
    model = K.Sequential([nn.Linear(4, 3)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


@pytest.fixture
def scans(monkeypatch):
    """The tensors ``_non_finite`` really reads, in order."""
    seen: list[torch.Tensor] = []
    real = checks._non_finite

    def counting(t):
        seen.append(t)
        return real(t)

    monkeypatch.setattr(checks, "_non_finite", counting)
    return seen


def _fit(model, x, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    return [str(w.message) for w in caught if "Expected finite values" in str(w.message)]


def test_fit_on_the_same_tensors_scans_them_once(scans):
    model, x, y = _model(), torch.randn(64, 4), torch.randint(0, 3, (64,))
    _fit(model, x, y)
    _fit(model, x, y)
    _fit(model, x, y)
    assert sum(t is x for t in scans) == 1


def test_an_in_place_edit_between_fits_is_scanned_again_and_warns(scans):
    model, x, y = _model(), torch.randn(64, 4), torch.randint(0, 3, (64,))
    assert _fit(model, x, y) == []
    x[5, 2] = float("nan")  # bumps the tensor's version counter
    first = _fit(model, x, y)
    assert len(first) == 1 and "1 NaN/inf values in x" in first[0]
    assert _fit(model, x, y) == first  # remembered: the count, so the warning stays
    assert sum(t is x for t in scans) == 2


def test_a_new_tensor_with_other_values_is_scanned(scans):
    model, y = _model(), torch.randint(0, 3, (64,))
    _fit(model, torch.randn(64, 4), y)
    bad = torch.randn(64, 4)
    bad[0, 0] = float("inf")
    assert len(_fit(model, bad, y)) == 1


def test_numpy_input_is_scanned_on_every_fit(scans):
    model = _model()
    x, y = torch.randn(64, 4).numpy(), torch.randint(0, 3, (64,)).numpy()
    _fit(model, x, y)
    x[1, 1] = float("nan")  # no torch version counter sees this edit
    assert len(_fit(model, x, y)) == 1


def test_the_memory_holds_no_tensor_alive():
    x = torch.randn(32, 4)
    checks.warn_non_finite(x, "x")
    assert x in checks._SCANNED
    alive = weakref.ref(x)
    del x
    gc.collect()
    assert alive() is None
    assert all(t is not None for t in checks._SCANNED)  # the entry went with the tensor


def test_inference_mode_tensors_are_scanned_without_the_memory():
    with torch.inference_mode():
        t = torch.tensor([1.0, float("nan")])
    with pytest.warns(UserWarning, match="1 NaN/inf values in x"):
        checks.warn_non_finite(t, "x")
    assert t not in checks._SCANNED


def test_sample_weights_are_always_scanned(scans):
    w = torch.ones(8)
    checks.check_finite_weights(w)
    checks.check_finite_weights(w)
    assert sum(t is w for t in scans) == 2
