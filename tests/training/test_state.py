"""TrainState: counters the loop advances, the resume point, copies without the DDP wrapper."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import torch
from torch import nn

import kerasish as K
from kerasish.training.state import BatchLogs, TrainState


def _fit(epochs=2, **kw):
    torch.manual_seed(0)
    model = K.Sequential([nn.Linear(4, 3)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = np.random.default_rng(0).normal(size=(40, 4)), np.zeros((40, 3))
    model.fit(
        x.astype("float32"), y.astype("float32"), batch_size=8, epochs=epochs, verbose=0, **kw
    )
    return model


def test_fit_advances_the_counters():
    model = _fit(epochs=3)
    state = model.train_state
    assert (state.epoch, state.step, state.train_counter, state.micro_step) == (2, 5, 15, 15)
    assert [m.name for m in state.metrics] == ["loss", "mae"] == [m.name for m in model.metrics]
    assert isinstance(state.logs, BatchLogs) and set(state.logs) == {"loss", "mae"}
    assert state.epoch_rng_state is not None and state.resume is None


def test_gradient_accumulation_counts_micro_steps():
    model = _fit(epochs=1, gradient_accumulation_steps=2)
    assert model.train_state.accum_steps == 2
    assert model.train_state.micro_step == 5  # backward passes since the optimizer was built


def test_request_resume_starts_the_next_fit_there():
    model = _fit(epochs=1)
    model.train_state.request_resume(epoch=3, step=2)
    history = model.fit(
        np.zeros((40, 4), "float32"),
        np.zeros((40, 3), "float32"),
        batch_size=8,
        epochs=5,
        verbose=0,
    )
    assert history.epoch == [3, 4]
    assert model.train_state.resume is None


def test_state_dict_round_trip():
    state = TrainState(epoch=2, step=3, micro_step=7, train_counter=11)
    other = TrainState()
    other.load_state_dict(state.state_dict())
    assert (other.epoch, other.step, other.micro_step, other.train_counter) == (2, 3, 7, 11)


def test_copies_leave_the_forward_wrapper_behind():
    state = TrainState(epoch=1)
    state.forward_module = nn.Linear(2, 2)
    for clone in (copy.deepcopy(state), pickle.loads(pickle.dumps(state))):
        assert clone.forward_module is None and clone.epoch == 1
    assert state.forward_module is not None
