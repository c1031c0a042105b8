"""fit's epochs over data, against Keras 3: class_weight weighs training only (issue 12.1),
steps_per_epoch continues the pass the last epoch left (12.4), validation_steps takes the same
first batches every epoch (12.5).

Reference numbers: Keras 3.15.1 on the torch backend (``KERAS_BACKEND=torch``), run on the
same data (made here with the same NumPy calls) and the same initial weights.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import kerasish as K
from kerasish.data import Feed, make_sources
from kerasish.distribute import setup

KERNEL, BIAS = [0.5, -0.25, 0.1], 0.05


def _keras_data():
    # The data of the Keras run, made with the same NumPy calls.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = (rng.random(32) < 0.25).astype("float32").reshape(-1, 1)
    xv = rng.normal(size=(16, 3)).astype("float32")
    yv = (rng.random(16) < 0.5).astype("float32").reshape(-1, 1)
    return x, y, xv, yv


def _logistic(lr=0.5):
    # Keras: Sequential([Input((3,)), Dense(1, "sigmoid")]) with kernel KERNEL, bias BIAS.
    linear = nn.Linear(3, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([KERNEL]))
        linear.bias.fill_(BIAS)
    model = K.Sequential([linear, nn.Sigmoid()])
    model.compile(optimizer=K.optimizers.SGD(learning_rate=lr), loss="binary_crossentropy")
    return model


# ---------------------------------------------------------------- 12.1 class_weight


def test_class_weight_weighs_training_only_as_keras():
    x, y, xv, yv = _keras_data()
    model = _logistic()
    history = model.fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        shuffle=False,
        class_weight={0: 1.0, 1: 4.0},
        validation_data=(xv, yv),
        verbose=0,
    )
    # Keras 3.15.1, torch backend, same data and weights (SGD(0.5), batch_size=8):
    np.testing.assert_allclose(history.history["loss"], [1.360121, 1.305161, 1.30073], rtol=1e-4)
    np.testing.assert_allclose(
        history.history["val_loss"], [0.84257, 0.880236, 0.901722], rtol=1e-4
    )
    # val_loss is evaluate() on the same samples, unweighted (Keras: 0.901722 after fit).
    assert model.evaluate(xv, yv, verbose=0) == pytest.approx(history.history["val_loss"][-1])


def test_class_weight_need_not_cover_validation_classes():
    x, y, xv, _ = _keras_data()
    yv = np.full((16, 1), 1.0, "float32")  # class 1 only in validation
    model = _logistic()
    history = model.fit(
        x, np.zeros_like(y), epochs=1, class_weight={0: 2.0}, validation_data=(xv, yv), verbose=0
    )
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(xv, yv, verbose=0))


# ---------------------------------------------------------------- 12.4 steps_per_epoch


class _Batches(K.callbacks.Callback):
    """Records the inputs of every training batch, per epoch (through a forward hook)."""

    def __init__(self, model):
        super().__init__()
        self.epochs: list[list[torch.Tensor]] = []
        model[0].register_forward_hook(self._record)

    def _record(self, module, inputs, output):
        if module.training:
            self.epochs[-1].append(inputs[0].detach().reshape(-1).clone())

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append([])


def _fit_recording(x, epochs=4, **kwargs):
    torch.manual_seed(0)
    model = K.Sequential([nn.Linear(1, 1)])
    model.compile(optimizer="sgd", loss="mse")
    rec = _Batches(model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x, epochs=epochs, verbose=0, callbacks=[rec], **kwargs)
    ran_out = [w for w in caught if "Your input ran out of data" in str(w.message)]
    assert all(w.category is UserWarning for w in ran_out)
    return [len(e) for e in rec.epochs], len(ran_out), rec.epochs


X = np.arange(40, dtype="float32").reshape(40, 1)
Y = np.zeros((40, 1), "float32")
DS = TensorDataset(torch.from_numpy(X), torch.from_numpy(Y))


@pytest.mark.parametrize(
    "make",
    [
        lambda: {"x": X, "y": Y, "batch_size": 4, "shuffle": False},
        lambda: {"x": DS, "batch_size": 4, "shuffle": False},
        lambda: {"x": DataLoader(DS, batch_size=4)},
    ],
    ids=["arrays", "dataset", "dataloader"],
)
def test_steps_per_epoch_continues_the_pass_as_keras(make):
    # Keras 3.15.1, torch backend, 10 batches, shuffle=False: steps_per_epoch=9 over 4
    # epochs gives [9, 1, 9, 1] batches and 2 "ran out of data" warnings, for arrays and
    # DataLoaders alike.
    counts, warned, epochs = _fit_recording(steps_per_epoch=9, **make())
    assert (counts, warned) == ([9, 1, 9, 1], 2)
    seen = [torch.cat(e) for e in epochs]
    torch.testing.assert_close(torch.cat(seen[:2]), torch.arange(40.0))  # one pass, in order
    torch.testing.assert_close(torch.cat(seen[2:]), torch.arange(40.0))


@pytest.mark.parametrize(
    ("steps", "epochs", "keras"),
    [(4, 5, ([4, 4, 2, 4, 4], 1)), (15, 2, ([10, 10], 2)), (5, 4, ([5, 5, 5, 5], 0))],
)
def test_steps_per_epoch_counts_and_warnings_as_keras(steps, epochs, keras):
    # Keras 3.15.1, torch backend: steps_per_epoch=4 over 5 epochs -> [4, 4, 2, 4, 4] (1
    # warning); steps_per_epoch=15 over 2 -> [10, 10] (2 warnings); 5 divides 10: no warning.
    counts, warned, _ = _fit_recording(
        X, y=Y, batch_size=4, shuffle=False, steps_per_epoch=steps, epochs=epochs
    )
    assert (counts, warned) == keras


def test_shuffled_passes_draw_a_new_order_only_when_a_pass_ends():
    counts, _, epochs = _fit_recording(X, y=Y, batch_size=4, steps_per_epoch=6, epochs=4)
    assert counts == [6, 4, 6, 4]
    first, second = torch.cat(epochs[0] + epochs[1]), torch.cat(epochs[2] + epochs[3])
    # each pair of epochs is one whole pass (every sample once) ...
    torch.testing.assert_close(first.sort().values, torch.arange(40.0))
    torch.testing.assert_close(second.sort().values, torch.arange(40.0))
    # ... in the order a shuffling DataLoader draws from the same seed, one order per pass
    torch.manual_seed(0)
    nn.Linear(1, 1)
    loader = DataLoader(DS, batch_size=4, shuffle=True)
    hand = [torch.cat([b[0].reshape(-1) for b in loader]) for _ in range(2)]
    torch.testing.assert_close([first, second], hand)


def _feed(source_x, **kwargs):
    device = torch.device("cpu")
    train, _ = make_sources(
        source_x,
        kwargs.pop("y", None),
        batch_size=4,
        device=device,
        strategy=setup(None, device),
        **kwargs,
    )
    return train


def _firsts(batches):
    return [int(b[0].reshape(-1)[0]) for b in batches]


@pytest.mark.filterwarnings("ignore:Your input ran out")
@pytest.mark.parametrize("x", [X, DS], ids=["arrays", "dataset"])
def test_feed_position_resumes_mid_pass_exactly(x):
    y = Y if x is X else None
    torch.manual_seed(1)
    feed = _feed(x, y=y, shuffle=True, steps_per_epoch=3)
    list(feed.epoch(0))
    state = feed.state_dict()  # after 3 of 10 batches
    rng = torch.get_rng_state()
    expected = [_firsts(feed.epoch(e)) for e in range(1, 5)]

    torch.manual_seed(123)  # a fresh process: another RNG, a new feed
    resumed = _feed(x, y=y, shuffle=True, steps_per_epoch=3)
    resumed.load_state_dict(state)
    torch.set_rng_state(rng)
    assert [_firsts(resumed.epoch(e)) for e in range(1, 5)] == expected
    assert state["offset"] == 3 and expected[2] and len(expected[2]) == 1


def test_feed_state_at_epoch_start_replays_the_epoch():
    torch.manual_seed(2)
    feed = _feed(X, y=Y, shuffle=True, steps_per_epoch=4)
    list(feed.epoch(0))
    it = feed.epoch(1)
    done = _firsts([next(it), next(it)])  # a mid-epoch checkpoint after 2 batches
    state = feed.state_dict(epoch_start=True)
    rest = _firsts(it)
    resumed = _feed(X, y=Y, shuffle=True, steps_per_epoch=4)
    resumed.load_state_dict(state)
    assert state["offset"] == 4
    assert _firsts(resumed.epoch(1)) == done + rest


def test_without_steps_each_epoch_is_a_fresh_pass():
    feed = _feed(X, y=Y, shuffle=False)
    assert feed.state_dict() is None
    assert [_firsts(feed.epoch(e)) for e in range(2)] == [list(range(0, 40, 4))] * 2


# ---------------------------------------------------------------- 12.5 validation_steps


def _vgen(xv, yv):
    i = 0
    while True:
        j = (4 * i) % 16
        yield xv[j : j + 4], yv[j : j + 4]
        i += 1


@pytest.mark.parametrize("kind", ["generator", "dataloader", "list"])
def test_validation_steps_validates_on_the_same_first_batches(kind):
    x, y, xv, yv = _keras_data()
    val = {
        "generator": lambda: _vgen(xv, yv),
        "dataloader": lambda: DataLoader(TensorDataset(torch.tensor(xv), torch.tensor(yv)), 4),
        "list": lambda: [(xv[i : i + 4], yv[i : i + 4]) for i in range(0, 16, 4)],
    }[kind]()
    model = _logistic(lr=0.0)
    history = model.fit(
        x, y, batch_size=8, epochs=3, validation_data=val, validation_steps=2, verbose=0
    )
    # Keras 3.15.1, torch backend (generator and DataLoader): val_loss [0.776169] * 3, which is
    # evaluate() on the first 8 validation samples (the next 8 give 0.807609).
    np.testing.assert_allclose(history.history["val_loss"], [0.776169] * 3, rtol=1e-5)
    assert model.evaluate(xv[:8], yv[:8], verbose=0) == pytest.approx(0.776169, rel=1e-5)


def test_validation_steps_keeps_only_its_batches_of_a_generator():
    x, y, xv, yv = _keras_data()
    pulled = []

    def gen():
        for b in _vgen(xv, yv):
            pulled.append(1)
            yield b

    model = _logistic(lr=0.0)
    model.fit(x, y, epochs=4, validation_data=gen(), validation_steps=2, verbose=0)
    assert len(pulled) == 2  # read once, replayed for the other epochs


def test_feed_epoch_of_validation_restarts():
    val = Feed(
        K.data.adapt(X, Y, batch_size=4),
        device=torch.device("cpu"),
        strategy=setup(None, torch.device("cpu")),
        steps=2,
    )
    assert [_firsts(val.epoch(None)) for _ in range(2)] == [[0, 4], [0, 4]]
