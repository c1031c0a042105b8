"""CompileConfig: compile's arguments resolved, frozen, exposed as model.compile_config."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.training.compile import CompileConfig, make_compile_config


def test_compile_exposes_a_frozen_resolved_config():
    model = K.Sequential([nn.Linear(3, 2)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"], mixed_precision="bf16")
    cfg = model.compile_config
    assert isinstance(cfg, CompileConfig)
    assert isinstance(cfg.optimizer, K.optimizers.Adam)
    assert cfg.loss is model.loss and [m.name for m in cfg.metrics] == ["mae"]
    assert cfg.mixed_precision == "bf16" and cfg.scheduler_interval == "epoch"
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.loss = None


def test_get_config_from_config_round_trip():
    cfg = make_compile_config(optimizer="sgd", loss="mae", channels_last=True)
    again = CompileConfig.from_config(cfg.get_config())
    assert again == cfg and again.channels_last is True


def test_metrics_per_output_get_their_output_key():
    cfg = make_compile_config(
        optimizer="sgd", loss={"a": "mse", "b": "mae"}, metrics={"a": ["mae"], "b": "mse"}
    )
    assert [(m.name, m.output_key) for m in cfg.metrics] == [("a_mae", "a"), ("b_mse", "b")]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scheduler_interval": "hour"}, "scheduler_interval='hour'"),
        ({"mixed_precision": "fp8"}, "mixed_precision='fp8'"),
        ({"distribute": "mpi"}, "distribute='mpi'"),
        ({"metrics": "mae"}, "metrics='mae'"),
    ],
)
def test_bad_arguments_raise_before_the_model_changes(kwargs, match):
    model = K.Sequential([nn.Linear(3, 2)])
    with pytest.raises((ValueError, TypeError), match=match):
        model.compile(optimizer="sgd", loss="mse", **kwargs)
    assert model.compile_config is None and not model.compiled


def test_assigning_a_new_recipe_builds_a_fresh_optimizer_at_the_next_fit():
    model = K.Sequential([nn.Linear(3, 2)])
    model.compile(optimizer=K.optimizers.SGD(0.1), loss="mse")
    x, y = np.zeros((8, 3), "float32"), np.zeros((8, 2), "float32")
    model.fit(x, y, verbose=0)
    first = model.optimizer
    model.compile_config = model.compile_config.replace(optimizer=K.optimizers.Adam(0.5))
    assert model.optimizer is None
    model.fit(x, y, verbose=0)
    assert isinstance(model.optimizer, torch.optim.Adam) and model.optimizer is not first
    assert model.optimizer.param_groups[0]["lr"] == 0.5
    with pytest.raises(TypeError, match="CompileConfig"):
        model.compile_config = {"optimizer": "sgd"}


def test_compile_without_loss_warns_only_when_the_default_train_step_needs_one():
    # Keras's GAN guide compiles with no loss and overrides train_step: no warning there.
    import warnings

    class GAN(K.Model):
        def __init__(self):
            super().__init__()
            self.net = nn.Linear(2, 1)

        def forward(self, x):
            return self.net(x)

        def train_step(self, data):
            return {}

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GAN().compile(optimizer="adam")
    with pytest.warns(UserWarning, match=r"compile\(\) got no loss"):
        K.Sequential([nn.Linear(2, 1)]).compile(optimizer="adam")
