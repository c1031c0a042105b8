"""A functional model (``K.Input`` / ``K.Model(inputs, outputs)``) under DDP on two Gloo ranks:
the same weights as one process over the global batch, as a forward-written model gives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kerasish as K
from kerasish import distribute

pytestmark = pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
    reason="needs torch.distributed with Gloo",
)


def _data():
    g = np.random.default_rng(3)
    y = g.integers(0, 3, 128)
    x = (g.normal(0, 1.5, size=(3, 8))[y] + g.normal(size=(128, 8))).astype(np.float32)
    return x, y


def _functional() -> K.Model:
    torch.manual_seed(5)
    inputs = K.Input((8,))
    hidden = K.layers.Dense(16, activation="tanh")(inputs)
    skip = K.layers.Dense(16)(inputs)
    outputs = K.layers.Dense(3)(hidden + skip)  # a residual branch: a recorded torch op
    return K.Model(inputs, outputs)


def _train() -> dict:
    model = _functional()
    model.compile(
        optimizer=K.optimizers.SGD(learning_rate=0.1), loss="sparse_categorical_crossentropy"
    )
    x, y = _data()
    model.fit(
        x, y, batch_size=32 // distribute.get_world_size(), epochs=2, shuffle=False, verbose=0
    )
    return {
        "distributed": model.strategy.is_distributed,
        "weights": {k: v.detach().clone() for k, v in model.state_dict().items()},
    }


def test_a_functional_model_trains_under_ddp_as_one_process(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    r0, r1 = distribute.launch(_train, 2)
    assert r0["distributed"] and r1["distributed"]
    single = _train()
    assert not single["distributed"]
    for k, v in single["weights"].items():
        assert torch.equal(r0["weights"][k], r1["weights"][k]), k
        torch.testing.assert_close(r0["weights"][k], v, rtol=1e-5, atol=1e-6)
