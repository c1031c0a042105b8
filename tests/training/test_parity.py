"""kerasish fit ends with the same weights and losses as a hand-written PyTorch loop."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import kerasish as K


def _net() -> nn.Sequential:
    torch.manual_seed(123)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))


def _hand_loop(net, opt, x, y, xv, yv, epochs, batch_size):
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    val_loader = DataLoader(TensorDataset(xv, yv), batch_size=batch_size)
    loss_fn = nn.CrossEntropyLoss()
    history = {"loss": [], "val_loss": []}
    for _ in range(epochs):
        net.train()
        total, n = torch.zeros(()), 0
        for xb, yb in loader:
            opt.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
            total += loss.detach() * len(xb)
            n += len(xb)
        history["loss"].append(float(total / n))
        net.eval()
        total, n = torch.zeros(()), 0
        with torch.no_grad():
            for xb, yb in val_loader:
                total += loss_fn(net(xb), yb) * len(xb)
                n += len(xb)
        history["val_loss"].append(float(total / n))
    return history


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        lambda p: torch.optim.Adam(p, lr=1e-3),
    ],
    ids=["sgd_momentum", "adam"],
)
@pytest.mark.parametrize("as_loader", [False, True], ids=["arrays", "dataloader"])
def test_fit_equals_hand_written_loop(blobs, make_opt, as_loader):
    x, y = (torch.from_numpy(a) for a in blobs)
    x, xv, y, yv = x[:200], x[200:], y[:200], y[200:]
    raw = _net()
    model = K.Sequential(list(copy.deepcopy(raw)))
    model.compile(optimizer=make_opt(model.parameters()), loss=nn.CrossEntropyLoss())

    torch.manual_seed(7)
    expected = _hand_loop(raw, make_opt(raw.parameters()), x, y, xv, yv, 2, 16)
    torch.manual_seed(7)
    if as_loader:
        history = model.fit(
            DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True),
            validation_data=DataLoader(TensorDataset(xv, yv), batch_size=16),
            epochs=2,
            verbose=0,
        )
    else:
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_data=(xv, yv))

    for a, b in zip(raw.parameters(), model.parameters()):
        assert torch.equal(a, b)
    assert history.history["loss"] == pytest.approx(expected["loss"], rel=1e-6)
    assert history.history["val_loss"] == pytest.approx(expected["val_loss"], rel=1e-6)


def test_keras_named_optimizer_and_string_loss_match_torch(blobs):
    x, y = (torch.from_numpy(a) for a in blobs)
    raw = _net()
    model = K.Sequential(list(copy.deepcopy(raw)))
    model.compile(
        optimizer=K.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="cross_entropy"
    )
    opt = torch.optim.SGD(raw.parameters(), lr=0.05, momentum=0.9)
    torch.manual_seed(3)
    _hand_loop(raw, opt, x, y, x[:16], y[:16], 2, 32)
    torch.manual_seed(3)
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_data=(x[:16], y[:16]))
    for a, b in zip(raw.parameters(), model.parameters()):
        assert torch.equal(a, b)


def test_two_seeded_fits_are_identical(blobs):
    x, y = blobs
    results = []
    for _ in range(2):
        K.utils.set_random_seed(5)
        model = K.Sequential(
            [K.layers.Dense(16, activation="relu"), K.layers.Dropout(0.3), K.layers.Dense(3)]
        )
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, verbose=0)
        results.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*results))
