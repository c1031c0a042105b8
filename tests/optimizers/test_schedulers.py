"""scheduler_from_name: torch's schedulers sized from the run, by name."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim import lr_scheduler as L

from kerasish.optimizers import SCHEDULER_NAMES, parse_scheduler, scheduler_from_name


def _opt(lr=0.1):
    return torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=lr)


def _lrs(sched, opt, n):
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_names():
    assert SCHEDULER_NAMES == ("cosine", "onecycle", "linear_warmup_cosine", "step", "exponential")


def test_onecycle_equals_torch_sized_from_the_run():
    opt, ref_opt = _opt(), _opt()
    sched, interval = scheduler_from_name("onecycle", opt, epochs=3, steps_per_epoch=4)
    ref = L.OneCycleLR(ref_opt, max_lr=0.1, total_steps=12)
    assert interval == "batch" and _lrs(sched, opt, 12) == _lrs(ref, ref_opt, 12)


def test_cosine_and_kwargs_pass_through():
    opt, ref_opt = _opt(), _opt()
    sched, interval = scheduler_from_name("cosine", opt, epochs=2, steps_per_epoch=5, eta_min=0.01)
    ref = L.CosineAnnealingLR(ref_opt, T_max=10, eta_min=0.01)
    assert interval == "batch" and _lrs(sched, opt, 10) == _lrs(ref, ref_opt, 10)


def test_warmup_then_cosine_equals_torch_sequential():
    for spec in (("cosine", {"warmup_steps": 3}), "linear_warmup_cosine"):
        opt, ref_opt = _opt(), _opt()
        kwargs = {} if isinstance(spec, tuple) else {"warmup_steps": 3}
        sched, _ = scheduler_from_name(spec, opt, epochs=2, steps_per_epoch=5, **kwargs)
        head = L.LinearLR(ref_opt, start_factor=1e-3, total_iters=3)
        ref = L.SequentialLR(ref_opt, [head, L.CosineAnnealingLR(ref_opt, T_max=7)], [3])
        assert _lrs(sched, opt, 10) == _lrs(ref, ref_opt, 10)


def test_epoch_schedulers():
    opt, ref_opt = _opt(), _opt()
    sched, interval = scheduler_from_name("step", opt, epochs=9, gamma=0.5)
    assert interval == "epoch"
    assert _lrs(sched, opt, 9) == _lrs(L.StepLR(ref_opt, step_size=3, gamma=0.5), ref_opt, 9)
    opt, ref_opt = _opt(), _opt()
    sched, interval = scheduler_from_name("Exponential", opt, epochs=4)
    assert interval == "epoch"
    assert _lrs(sched, opt, 4) == _lrs(L.ExponentialLR(ref_opt, gamma=0.9), ref_opt, 4)


def test_errors_list_the_names():
    with pytest.raises(ValueError, match="'cosine', 'onecycle'.*Received: lr_scheduler='cos'"):
        scheduler_from_name("cos", _opt(), epochs=1, steps_per_epoch=1)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        scheduler_from_name("onecycle", _opt(), epochs=1)
    with pytest.raises(ValueError, match="warmup_steps"):
        scheduler_from_name("cosine", _opt(), epochs=1, steps_per_epoch=4, warmup_steps=4)
    with pytest.raises(ValueError, match="as a dict"):
        parse_scheduler(("cosine", 3))
