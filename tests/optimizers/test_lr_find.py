"""lr_find: fastai's exponential sweep and suggestions; weights and optimizer put back."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.optimizers.lr_find import lr_find, steep, valley


def _linear_data(n=256, seed=0):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, 4)).astype(np.float32) * np.array([1.0, 2.0, 0.5, 1.5], np.float32)
    y = (x @ g.normal(size=(4, 1)).astype(np.float32) + 0.1).astype(np.float32)
    return x, y


def _model(optimizer="sgd", seed=0, bn=False):
    torch.manual_seed(seed)
    layers = (
        [nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.2), nn.Linear(8, 1)]
        if bn
        else [nn.Linear(4, 1)]
    )
    model = K.Sequential(layers)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_restores_weights_optimizer_and_rng_bit_for_bit():
    x, y = _linear_data()
    model, twin = _model("adam", bn=True), _model("adam", bn=True)
    for m in (model, twin):
        torch.manual_seed(1)
        m.fit(x, y, batch_size=32, epochs=1, verbose=0)
    before, opt_before = _state(model), copy.deepcopy(model.optimizer.state_dict())
    rng = torch.get_rng_state()
    lr_find(model, x, y, num_iter=8)
    assert torch.equal(torch.get_rng_state(), rng)
    after, opt_after = _state(model), model.optimizer.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert opt_after["iterations"] == opt_before["iterations"] == 8
    assert opt_after["param_groups"] == opt_before["param_groups"]
    for k, s in opt_before["state"].items():
        assert all(torch.equal(s[n], opt_after["state"][k][n]) for n in s)
    # the next fit is the one the twin (no lr_find) runs
    for m in (model, twin):
        torch.manual_seed(5)
        m.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), twin.parameters()))


def test_sweep_follows_fastai_schedule_and_builds_a_fresh_optimizer():
    x, y = _linear_data()
    model = _model("sgd")
    assert model.optimizer is None
    weights = _state(model)
    result = lr_find(model, x, y, num_iter=30, start_lr=1e-5, end_lr=1.0, stop_div=False)
    # fastai's LRFinder test: recorder.lrs == [SchedExp(start, end)(i / num_it) ...]
    assert result.lrs == pytest.approx([1e-5 * (1.0 / 1e-5) ** (i / 30) for i in range(30)])
    assert len(result.losses) == 30
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    assert model.optimizer.state_dict()["state"] == {} and model.optimizer.iterations == 0


def test_suggestion_lies_where_the_loss_falls_fastest_on_linear_regression():
    x, y = _linear_data()
    model = _model("sgd")
    result = lr_find(model, x, y, num_iter=100, batch_size=256)
    # reference: SGD on MSE is stable below 2 / lambda_max of the loss's Hessian
    xb = np.hstack([x, np.ones((len(x), 1), np.float32)]).astype(np.float64)
    lam_max = np.linalg.eigvalsh(2 * xb.T @ xb / len(x)).max()
    for lr in (result.suggestion_valley, result.suggestion_steepest):
        assert 1e-3 / lam_max < lr < 2 / lam_max
    # and one epoch at the suggestion lowers the loss more than at a tenth of it
    losses = {}
    for scale in (1.0, 0.1):
        m = _model(K.optimizers.SGD(result.suggestion_valley * scale))
        m.fit(x, y, batch_size=256, epochs=20, verbose=0, shuffle=False)
        losses[scale] = m.evaluate(x, y, verbose=0)
    assert losses[1.0] < losses[0.1]


def test_stop_div_stops_on_divergence():
    x, y = _linear_data()
    result = lr_find(_model("sgd"), x, y, num_iter=100, end_lr=1e4)
    assert len(result.lrs) < 100 and result.losses[-1] > 4 * min(result.losses)


def test_fastai_rules():
    lrs = [10.0**e for e in range(-6, 1)]
    # fastai's valley() by hand: losses fall over indices 1..6 (lds[6] = 6), so max_end = 6,
    # max_start = 6 - 6 = 0, sections = 2, idx = 0 + 2 + 1 = 3
    assert valley(lrs, [9, 9, 8, 6, 4, 2, 1]) == lrs[3]
    assert steep(lrs, [1.0, 0.9, 0.3, 0.25, 0.2, 0.3, 0.9]) == lrs[1]


def test_dataloader_input_plot_and_errors():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    x, y = _linear_data()
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=64
    )
    result = lr_find(_model("sgd"), loader, num_iter=12, plot=True)
    assert len(result.lrs) <= 12
    with pytest.raises(ValueError, match="compiled model"):
        lr_find(K.Sequential([nn.Linear(4, 1)]), x, y)
    with pytest.raises(ValueError, match="0 < start_lr < end_lr"):
        lr_find(_model(), x, y, start_lr=1.0, end_lr=0.1)
