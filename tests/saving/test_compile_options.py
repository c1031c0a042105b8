"""The newer compile options survive ``model.save`` / ``load_model``: weighted_metrics, ema and
an LR scheduler given by name (a torch scheduler object is not saved: it is rebuilt by hand)."""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

import kerasish as K


def _data():
    g = np.random.default_rng(0)
    return g.random((64, 4), dtype=np.float32), g.random((64, 1), dtype=np.float32)


@pytest.mark.parametrize("scheduler", ["cosine", ("cosine", {"warmup_steps": 2})])
def test_named_scheduler_weighted_metrics_and_ema_round_trip(tmp_path, scheduler):
    x, y = _data()
    model = K.Sequential([nn.Linear(4, 1)])
    model.compile(
        optimizer=K.optimizers.SGD(learning_rate=0.1),
        loss="mse",
        weighted_metrics=["mae"],
        lr_scheduler=scheduler,
        ema=0.9,
    )
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish")
    cfg = loaded.compile_config
    assert [m.name for m in cfg.weighted_metrics] == ["mae"]
    assert not cfg.metrics
    assert cfg.ema == 0.9
    assert cfg.lr_scheduler == (scheduler if isinstance(scheduler, str) else list(scheduler))
    history = loaded.fit(x, y, sample_weight=np.ones(64), batch_size=16, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "mae"}


def test_an_unknown_scheduler_name_fails_at_compile():
    model = K.Sequential([nn.Linear(4, 1)])
    with pytest.raises(ValueError, match=r"Received: lr_scheduler='cosinus'"):
        model.compile(optimizer="sgd", loss="mse", lr_scheduler="cosinus")


def test_a_k_ops_function_as_loss_loads_in_safe_mode(tmp_path):
    x, y = _data()
    model = K.Sequential([nn.Linear(4, 1), nn.Sigmoid()])
    model.compile(optimizer="sgd", loss=K.ops.nn.binary_crossentropy)  # module kerasish.ops.nn
    model.fit(x, (y > 0.5).astype(np.float32), batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish")  # safe_mode=True
    assert loaded.compile_config.loss.fn is model.compile_config.loss.fn
