"""Every input form trains; multi-input models; sample and class weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

import kerasish as K


def _model(n_in=8):
    model = K.Sequential([nn.Linear(n_in, 32), nn.ReLU(), nn.Linear(32, 3)])
    model.compile(
        optimizer=K.optimizers.Adam(1e-2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _learns(history):
    loss = history.history["loss"]
    return loss[-1] < loss[0]


class PairDataset(Dataset):
    def __init__(self, x, y, w=None):
        self.x, self.y, self.w = x, y, w

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        if self.w is None:
            return self.x[i], self.y[i]
        return self.x[i], self.y[i], self.w[i]


def test_numpy_arrays(blobs):
    assert _learns(_model().fit(*blobs, epochs=3, verbose=0))


def test_torch_tensors(blobs):
    x, y = (torch.from_numpy(a) for a in blobs)
    assert _learns(_model().fit(x, y, epochs=3, verbose=0))


def test_float64_arrays_become_float32(blobs):
    x, y = blobs
    assert _learns(_model().fit(x.astype(np.float64), y, epochs=3, verbose=0))


def test_dataset_and_validation_split_on_dataset(blobs):
    x, y = (torch.from_numpy(a) for a in blobs)
    history = _model().fit(
        PairDataset(x, y), batch_size=16, epochs=3, verbose=0, validation_split=0.25
    )
    assert _learns(history) and len(history.history["val_loss"]) == 3


def test_dataset_with_sample_weights(blobs):
    x, y = (torch.from_numpy(a) for a in blobs)
    w = torch.ones(len(x))
    assert _learns(_model().fit(PairDataset(x, y, w), epochs=3, verbose=0))


def test_dataloader_used_as_is(blobs):
    x, y = (torch.from_numpy(a) for a in blobs)
    loader = DataLoader(TensorDataset(x, y), batch_size=40, shuffle=True)
    history = _model().fit(loader, epochs=3, verbose=0, validation_data=loader)
    assert _learns(history) and history.params["steps"] == 6


def test_generator_with_steps_per_epoch(blobs):
    x, y = (torch.from_numpy(a) for a in blobs)

    def forever():
        while True:
            for i in range(0, 240, 48):
                yield x[i : i + 48], y[i : i + 48]

    history = _model().fit(forever(), steps_per_epoch=5, epochs=3, verbose=0)
    assert _learns(history) and history.epoch == [0, 1, 2]


def test_finite_generator_runs_out_with_a_warning(blobs):
    x, y = (torch.from_numpy(a) for a in blobs)
    gen = ((x[i : i + 48], y[i : i + 48]) for i in range(0, 240, 48))
    with pytest.warns(UserWarning, match="ran out of data"):
        history = _model().fit(gen, epochs=3, verbose=0)
    assert history.epoch == [0]


def test_list_of_batches_is_reiterable(blobs):
    x, y = (torch.from_numpy(a) for a in blobs)
    batches = [(x[i : i + 48], y[i : i + 48]) for i in range(0, 240, 48)]
    assert _learns(_model().fit(batches, epochs=3, verbose=0))


class TwoInputs(K.Model):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(5, 16)
        self.b = nn.Linear(3, 16)
        self.head = nn.Linear(32, 3)

    def forward(self, image, meta):
        return self.head(torch.cat([self.a(image).relu(), self.b(meta).relu()], dim=-1))


def test_two_input_dict_model_and_list_inputs(blobs):
    x, y = blobs
    model = TwoInputs()
    model.compile(optimizer=K.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    history = model.fit(
        {"image": x[:, :5], "meta": x[:, 5:]}, y, epochs=3, verbose=0, validation_split=0.2
    )
    assert _learns(history)
    assert model.predict({"image": x[:, :5], "meta": x[:, 5:]}, verbose=0).shape == (240, 3)
    history = model.fit([x[:, :5], x[:, 5:]], y, epochs=2, verbose=0)
    assert len(history.epoch) == 2


def test_sample_weight_scales_the_loss(blobs):
    x, y = blobs
    model = _model()
    base = model.evaluate(x, y, verbose=0)
    doubled = model.evaluate(x, y, sample_weight=np.full(len(x), 2.0, np.float32), verbose=0)
    assert doubled[0] == pytest.approx(2 * base[0], rel=1e-5)
    w = (y == 0).astype(np.float32)
    only0 = model.evaluate(x, y, sample_weight=w, verbose=0)[0]
    per_sample = nn.functional.cross_entropy(
        torch.from_numpy(model.predict(x, verbose=0)), torch.from_numpy(y), reduction="none"
    )
    expected = float((per_sample * torch.from_numpy(w)).sum() / len(x))
    assert only0 == pytest.approx(expected, rel=1e-5)


def test_class_weight_equals_sample_weight(blobs):
    x, y = blobs
    cw = {0: 3.0, 1: 1.0, 2: 0.5}
    finals = []
    for kwargs in (
        {"class_weight": cw},
        {"sample_weight": np.array([cw[int(c)] for c in y], np.float32)},
    ):
        K.utils.set_random_seed(1)
        model = _model()
        torch.manual_seed(2)
        model.fit(x, y, epochs=2, verbose=0, **kwargs)
        finals.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(*finals))
    K.utils.set_random_seed(1)
    model = _model()
    torch.manual_seed(2)
    model.fit(x, y, epochs=2, verbose=0)
    assert not all(torch.allclose(a, b.detach()) for a, b in zip(finals[0], model.parameters()))


def test_validation_split_takes_the_last_fraction(blobs):
    x, y = blobs
    seen = []

    class Net(K.Model):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)

        def forward(self, x):
            return self.fc(x)

        def test_step(self, data):
            seen.append(data[0].clone())
            return super().test_step(data)

    model = Net()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, validation_split=0.25, epochs=1, verbose=0, batch_size=1000)
    assert torch.equal(seen[0], torch.from_numpy(x[180:]))


def test_validation_freq(blobs):
    x, y = blobs
    seen = []

    class Spy(K.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append("val_loss" in logs)

    _model().fit(
        x, y, epochs=4, validation_split=0.2, validation_freq=2, verbose=0, callbacks=[Spy()]
    )
    assert seen == [False, True, False, True]


def test_evaluate_predict_and_on_batch(blobs):
    x, y = blobs
    model = _model()
    model.fit(x, y, epochs=5, verbose=0)
    loss, acc = model.evaluate(x, y, verbose=0)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"loss": pytest.approx(loss), "accuracy": pytest.approx(acc)}
    probs = model.predict(x, batch_size=50, verbose=0)
    assert isinstance(probs, np.ndarray) and probs.shape == (240, 3)
    assert acc == pytest.approx(float((probs.argmax(1) == y).mean()))
    out = model.train_on_batch(x[:32], y[:32], return_dict=True)
    assert set(out) == {"loss", "accuracy"}
    assert len(model.test_on_batch(x[:32], y[:32])) == 2
    assert model.predict_on_batch(x[:7]).shape == (7, 3)


def test_train_and_eval_modes_are_switched(blobs):
    x, y = blobs
    modes = {"train": set(), "test": set(), "predict": set()}

    class Net(K.Model):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(8, 3)
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            grad = torch.is_grad_enabled()
            key = "train" if self.training else ("test" if grad is False else "?")
            modes[key].add((self.training, grad))
            return self.fc(self.drop(x))

    model = Net()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.2)
    model.predict(x, verbose=0)
    assert (True, True) in modes["train"]
    assert modes["test"] == {(False, False)}


def test_multi_output_with_loss_weights(blobs):
    x, y = blobs

    class Heads(K.Model):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(8, 16)
            self.cls = nn.Linear(16, 3)
            self.reg = nn.Linear(16, 1)

        def forward(self, x):
            h = self.body(x).relu()
            return {"cls": self.cls(h), "reg": self.reg(h)}

    model = Heads()
    model.compile(
        optimizer=K.optimizers.Adam(1e-2),
        loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"]},
    )
    target = {"cls": y, "reg": x[:, :1].copy()}
    history = model.fit(x, target, epochs=3, verbose=0)
    assert _learns(history) and "cls_accuracy" in history.history
    out = model.predict(x, verbose=0)
    assert out["cls"].shape == (240, 3) and out["reg"].shape == (240, 1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_the_non_finite_scan_counts_exactly_when_finite_values_overflow_the_sum(dtype):
    # The scan's fast path sums; finite values whose sum overflows must still count 0, and a
    # real NaN/inf among them its exact number.
    from kerasish.data.checks import _non_finite

    big = torch.finfo(dtype).max
    t = torch.full((4000, 3), big, dtype=dtype)
    assert _non_finite(t) == 0
    t[7, 1], t[3999, 2] = float("nan"), float("-inf")
    assert _non_finite(t) == 2
    assert _non_finite(torch.randn(50, 2).to(dtype)) == 0
