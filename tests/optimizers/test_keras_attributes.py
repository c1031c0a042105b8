"""Keras's optimizer attributes on the torch optimizers kerasish builds: learning_rate / lr /
iterations, a LearningRateSchedule stepped per batch, resume, and optimizer callables."""

from __future__ import annotations

import copy
import functools
import pickle

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.optimizers import schedules as S


def _regression(n=64, seed=0):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    return x, y


def _model(optimizer, seed=0):
    torch.manual_seed(seed)
    model = K.Sequential([nn.Linear(3, 1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_learning_rate_write_reaches_torch_and_the_next_step():
    x, y = _regression()
    model = _model(K.optimizers.SGD(0.1))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    opt = model.optimizer
    assert opt.learning_rate == opt.lr == 0.1 and opt.iterations == 4
    opt.learning_rate = 0.5
    assert [g["lr"] for g in opt.param_groups] == [0.5]
    opt.lr = 0.25  # Keras 2's alias
    assert opt.learning_rate == 0.25
    # reference: torch's SGD at lr=0.25 on the same batch from the same weights
    ref = copy.deepcopy(model.layers[0])
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.25)
    nn.functional.mse_loss(ref(torch.from_numpy(x[:16])), torch.from_numpy(y[:16])).backward()
    ref_opt.step()
    model.train_on_batch(x[:16], y[:16])
    assert torch.allclose(model.layers[0].weight, ref.weight, atol=1e-7)
    assert opt.iterations == 5
    with pytest.raises(ValueError, match="Expected learning_rate"):
        opt.learning_rate = -1.0


def test_iterations_count_optimizer_steps_with_accumulation():
    x, y = _regression()
    model = _model("adam")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, gradient_accumulation_steps=2)
    assert model.optimizer.iterations == 2 * 8 // 2
    assert int(model.optimizer.state_dict()["iterations"]) == 8


def test_schedule_lr_at_step_i_is_schedule_i_like_keras():
    # Keras 3.15.1 run, torch backend: SGD(ExponentialDecay(0.1, 2, 0.5)), gradient 1 on one
    # variable, 4 apply_gradients: the updates were [0.1, 0.07071068, 0.05, 0.03535534],
    # then iterations == 4 and learning_rate == 0.025.
    p = nn.Parameter(torch.zeros(1))
    opt = K.optimizers.SGD(learning_rate=S.ExponentialDecay(0.1, 2, 0.5)).build([p])
    deltas = []
    for _ in range(4):
        before = p.item()
        p.grad = torch.ones(1)
        opt.step()
        deltas.append(before - p.item())
    assert deltas == pytest.approx([0.1, 0.07071068, 0.05, 0.03535534], rel=1e-6)
    assert opt.iterations == 4 and opt.learning_rate == pytest.approx(0.025)
    with pytest.raises(TypeError, match="not settable"):
        opt.learning_rate = 0.1


def test_schedule_in_fit_equals_a_hand_loop_and_param_groups_hold_the_rate():
    x, y = _regression()
    schedule = S.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01])
    model = _model(K.optimizers.SGD(learning_rate=schedule))
    ref = copy.deepcopy(model.layers[0])
    seen = []
    cb = K.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: seen.append(model.optimizer.param_groups[0]["lr"])
    )
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False, callbacks=[cb])
    # torch reference: lr = schedule(i) before step i
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.0)
    for i in range(8):
        xb, yb = torch.from_numpy(x[16 * (i % 4) :][:16]), torch.from_numpy(y[16 * (i % 4) :][:16])
        ref_opt.param_groups[0]["lr"] = schedule(i)
        ref_opt.zero_grad()
        nn.functional.mse_loss(ref(xb), yb).backward()
        ref_opt.step()
    assert torch.allclose(model.layers[0].weight, ref.weight, atol=1e-6)
    assert seen == [schedule(i + 1) for i in range(8)]  # the next step's rate, as Keras reads


def test_exact_resume_with_a_schedule_through_save_and_load(tmp_path):
    x, y = _regression()
    make = lambda: K.optimizers.Adam(learning_rate=S.CosineDecay(0.05, 6, alpha=0.1))  # noqa: E731
    straight = _model(make())
    straight.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    first = _model(make())
    first.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    first.save(tmp_path / "m.kerasish")
    resumed = K.models.load_model(tmp_path / "m.kerasish")
    assert resumed.optimizer.iterations == 4
    assert resumed.optimizer.schedule.get_config() == make().learning_rate.get_config()
    resumed.fit(x, y, batch_size=16, epochs=2, initial_epoch=1, verbose=0, shuffle=False)
    assert resumed.optimizer.iterations == straight.optimizer.iterations == 8
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_copies_keep_iterations_and_schedule():
    p = nn.Parameter(torch.zeros(2))
    opt = K.optimizers.Adam(learning_rate=S.ExponentialDecay(0.1, 1, 0.5)).build([p])
    p.grad = torch.ones(2)
    opt.step()
    for other in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert other.iterations == 1 and other.learning_rate == pytest.approx(0.05)
        other.param_groups[0]["params"][0].grad = torch.ones(2)
        other.step()
        assert other.iterations == 2 and other.learning_rate == pytest.approx(0.025)
    loaded = K.optimizers.Adam(learning_rate=S.ExponentialDecay(0.1, 1, 0.5)).build([p])
    loaded.load_state_dict(opt.state_dict())
    assert loaded.iterations == 1 and loaded.param_groups[0]["lr"] == pytest.approx(0.05)


def test_param_groups_keep_their_ratios():
    a, b = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
    opt = K.optimizers.SGD(0.1).build([{"params": [a], "lr": 0.01}, {"params": [b]}])
    assert opt.learning_rate == pytest.approx(0.1)
    opt.learning_rate = 1.0
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.1, 1.0])


def test_partial_of_a_torch_optimizer_trains_like_torch(tmp_path):
    x, y = _regression()
    model = _model(functools.partial(torch.optim.AdamW, lr=0.01, weight_decay=0.1))
    ref = copy.deepcopy(model.layers[0])
    model.fit(x, y, batch_size=64, epochs=3, verbose=0, shuffle=False)
    assert isinstance(model.optimizer, torch.optim.AdamW) and model.optimizer.iterations == 3
    ref_opt = torch.optim.AdamW(ref.parameters(), lr=0.01, weight_decay=0.1)
    for _ in range(3):
        ref_opt.zero_grad()
        nn.functional.mse_loss(ref(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        ref_opt.step()
    assert torch.allclose(model.layers[0].weight, ref.weight, atol=1e-7)
    model.save(tmp_path / "p.kerasish")
    loaded = K.models.load_model(tmp_path / "p.kerasish")
    group = loaded.optimizer.param_groups[0]
    assert type(loaded.optimizer).__name__ == "AdamW" and group["weight_decay"] == 0.1
    assert loaded.optimizer.iterations == 3


def test_callable_must_return_a_torch_optimizer():
    model = _model(lambda params: "not an optimizer")
    x, y = _regression()
    with pytest.raises(TypeError, match="Expected the optimizer callable to return"):
        model.fit(x, y, epochs=1, verbose=0)


def test_user_torch_instances_stay_torch():
    torch.manual_seed(0)
    model = K.Sequential([nn.Linear(3, 1)])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.compile(optimizer=opt, loss="mse")
    x, y = _regression()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer is opt and type(opt) is torch.optim.SGD
    assert "iterations" not in opt.state_dict()
