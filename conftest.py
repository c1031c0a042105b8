"""The namespace that docstring examples run in (``pytest --doctest-modules kerasish``).

Every doctest sees ``K`` (kerasish), ``torch``, ``nn``, ``np`` and a few small, ready objects,
made fresh for each docstring, on CPU, with seeded RNGs, in a temporary working directory
(files an example writes land there and vanish):

- ``x``, ``y``: 96 images float32 ``(96, 1, 8, 8)`` and their int64 labels in ``0..9``
  (shaped like ``K.datasets.digits``, separable, made without a download);
- ``x_test``, ``y_test``: 32 more of the same;
- ``model``: a built ``K.Sequential`` (Input, Flatten, Dense(16, relu), Dense(10) logits)
  compiled with ``optimizer="adam"``, ``loss="sparse_categorical_crossentropy"`` and
  ``metrics=["accuracy"]``, not yet trained.

Tests under ``tests/`` are left alone: the fixture acts only on doctest items.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _pytest.doctest import DoctestItem
from torch import nn

import kerasish as K


def _images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    centers = np.random.default_rng(0).random((10, 1, 8, 8), dtype=np.float32)
    y = rng.integers(0, 10, size=n).astype(np.int64)
    x = np.clip(centers[y] + rng.normal(0, 0.1, size=(n, 1, 8, 8)), 0, 1).astype(np.float32)
    return x, y


def _model() -> K.Model:
    model = K.Sequential(
        [
            K.layers.Input((1, 8, 8)),
            K.layers.Flatten(),
            K.layers.Dense(16, activation="relu"),
            K.layers.Dense(10),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def doctest_objects() -> dict[str, object]:
    """The names every docstring example may use (see the module docstring)."""
    rng = np.random.default_rng(1)
    (x, y), (x_test, y_test) = _images(96, rng), _images(32, rng)
    return {"K": K, "torch": torch, "nn": nn, "np": np, "x": x, "y": y, "x_test": x_test,
            "y_test": y_test, "model": _model()}  # fmt: skip


@pytest.fixture(autouse=True)
def _doctest_namespace(request: pytest.FixtureRequest) -> None:
    if not isinstance(request.node, DoctestItem):
        return
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.chdir(request.getfixturevalue("tmp_path"))
    monkeypatch.setenv("KERASISH_DEVICE", "cpu")
    torch.manual_seed(0)
    np.random.seed(0)
    request.getfixturevalue("doctest_namespace").update(doctest_objects())
