"""PyDataset (issue 14.5): Keras 3's ``keras.utils.PyDataset`` API, read by fit/evaluate/predict
with thread or process workers, checked against the same batches read by hand.

Keras behaviour followed (keras/src/trainers/data_adapters/py_dataset_adapter.py, Keras 3.15.1):
``__getitem__`` returns whole batches ``(x,)``/``(x, y)``/``(x, y, sw)``; ``num_batches``
falls back to ``__len__``; ``shuffle=True`` shuffles the batch order; workers compute batches
ahead in order; a subclass that skips ``super().__init__`` warns.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.data import PyDataset, PyDatasetSource


class Lines(PyDataset):
    """y = 3x + 1 in 6 batches of 8 (the batch index picks the x values)."""

    def __init__(self, n_batches=6, weights=False, **kwargs):
        super().__init__(**kwargs)
        self.n, self.weights = n_batches, weights
        self.epochs_ended = 0
        self.threads: set[str] = set()

    def __len__(self):
        return self.n

    def __getitem__(self, index):
        self.threads.add(threading.current_thread().name)
        x = np.linspace(-1, 1, 8, dtype="float32").reshape(8, 1) + index
        y = 3 * x + 1
        return (x, y, np.full(8, 0.5, "float32")) if self.weights else (x, y)

    def on_epoch_end(self):
        self.epochs_ended += 1


def _model():
    torch.manual_seed(0)
    model = K.Sequential([nn.Linear(1, 1)])
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.01), loss="mse")
    return model


def _hand_loop(batches, epochs):
    """The same training by hand: torch SGD over the same batches, in the same order."""
    torch.manual_seed(0)
    net = nn.Linear(1, 1)
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    for order in epochs:
        for i in order:
            x, y = (torch.from_numpy(a) for a in batches[i][:2])
            loss = ((net(x) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.weight.item(), net.bias.item()


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"workers": 3, "max_queue_size": 2}, {"workers": 2, "use_multiprocessing": True}],
    ids=["in-loop", "threads", "processes"],
)
def test_fit_reads_every_batch_in_order(kwargs):
    data = Lines(**kwargs)
    model = _model()
    model.fit(data, epochs=2, shuffle=False, verbose=0)
    expected = _hand_loop([data[i] for i in range(6)], [range(6), range(6)])
    got = (model[0].weight.item(), model[0].bias.item())
    assert got == pytest.approx(expected, rel=1e-6)
    if kwargs.get("workers", 1) > 1 and not kwargs.get("use_multiprocessing"):
        assert len(data.threads - {threading.current_thread().name}) >= 1
    if not kwargs.get("use_multiprocessing"):  # in processes, the copies count
        assert data.epochs_ended == 2  # on_epoch_end after each pass


def test_shuffle_draws_a_batch_order_from_the_torch_rng():
    data = Lines()
    model = _model()
    torch.manual_seed(7)
    model.fit(data, epochs=2, verbose=0)  # shuffle=True: Keras shuffles the batch indices
    torch.manual_seed(7)
    orders = [torch.randperm(6).tolist() for _ in range(2)]
    assert orders[0] != list(range(6))
    expected = _hand_loop([data[i] for i in range(6)], orders)
    assert (model[0].weight.item(), model[0].bias.item()) == pytest.approx(expected, rel=1e-6)


def test_evaluate_and_predict_match_arrays():
    data = Lines(weights=True, workers=2)
    model = _model()
    xs = np.concatenate([data[i][0] for i in range(6)])
    ys = np.concatenate([data[i][1] for i in range(6)])
    sw = np.full(48, 0.5, "float32")
    want = model.evaluate(xs, ys, sample_weight=sw, batch_size=8, verbose=0)
    assert model.evaluate(data, verbose=0) == pytest.approx(want, rel=1e-6)
    np.testing.assert_allclose(model.predict(data, verbose=0), model.predict(xs, verbose=0))


def test_batch_size_is_refused_as_keras_documents():
    # Keras's fit docstring: "Do not specify the batch_size if your input data x is a
    # keras.utils.PyDataset ... since they generate batches."
    model = _model()
    with pytest.raises(ValueError, match=r"Expected batch_size=None .* Received: batch_size=4"):
        model.fit(Lines(), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="batch_size=None"):
        model.predict(Lines(), batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=r"Received: batch_size=32"):  # the default, given
        model.evaluate(Lines(), batch_size=32, verbose=0)
    with pytest.raises(ValueError, match="y=None"):
        model.fit(Lines(), np.zeros(3), verbose=0)


def test_endless_dataset_needs_steps_and_continues():
    class Endless(Lines):
        @property
        def num_batches(self):
            return None

    data = Endless()
    source = PyDatasetSource(data)
    with pytest.raises(TypeError):
        len(source)
    model = _model()
    model.fit(data, epochs=3, steps_per_epoch=2, verbose=0)  # batches 0-1, 2-3, 4-5
    expected = _hand_loop([data[i] for i in range(6)], [range(6)])
    assert (model[0].weight.item(), model[0].bias.item()) == pytest.approx(expected, rel=1e-6)


def test_steps_per_epoch_continues_the_pass():
    data = Lines()
    model = _model()
    seen = []

    class Count(K.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(0)

        def on_train_batch_end(self, batch, logs=None):
            seen[-1] += 1

    with pytest.warns(UserWarning, match="Your input ran out of data"):
        model.fit(data, epochs=4, steps_per_epoch=4, shuffle=False, verbose=0, callbacks=[Count()])
    assert seen == [4, 2, 4, 2]  # as Keras for 6 batches (cf. tests/data/test_epochs.py)


def test_bad_batches_and_missing_super_init():
    class Bad(Lines):
        def __getitem__(self, index):
            return (1, 2, 3, 4)

    with pytest.raises(ValueError, match=r"Expected PyDataset.__getitem__\(\) to return"):
        _model().fit(Bad(), verbose=0)

    class NoSuper(PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 1

        def __getitem__(self, index):
            return np.zeros((2, 1), "float32"), np.zeros((2, 1), "float32")

    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert NoSuper().workers == 1


def test_endless_validation_takes_the_same_first_batches():
    class Endless(Lines):
        @property
        def num_batches(self):
            return None

    model = _model()
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.0), loss="mse")
    h = model.fit(Lines(), epochs=3, validation_data=Endless(), validation_steps=2, verbose=0)
    data = Lines()
    xs = np.concatenate([data[i][0] for i in range(2)])
    ys = np.concatenate([data[i][1] for i in range(2)])
    want = model.evaluate(xs, ys, verbose=0)
    assert h.history["val_loss"] == pytest.approx([want] * 3, rel=1e-6)
    assert model.evaluate(Endless(), steps=2, verbose=0) == pytest.approx(want, rel=1e-6)
