"""The first-batch checks (kerasish.training.validate): input dtype casts decided on the first
batch, errors in forward naming the layer, callbacks given alone, shuffle="batch", and
validation generators that run out. Reference: torch's own layers and a hand loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import kerasish as K

N = 48


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, 8, generator=g)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


def _mlp(model_dtype=torch.float32):
    torch.manual_seed(0)
    m = K.Sequential([nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)]).to(model_dtype)
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return m


def _hand_sgd(x, y, model_dtype=torch.float32):
    """One epoch of plain SGD (lr 0.01, Keras's default), unshuffled, batch 16."""
    torch.manual_seed(0)
    ref = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)).to(model_dtype)
    opt = torch.optim.SGD(ref.parameters(), lr=0.01)
    for i in range(0, N, 16):
        loss = nn.functional.cross_entropy(ref(x[i : i + 16].to(model_dtype)), y[i : i + 16])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return list(ref.parameters())


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64, torch.int64, torch.int32])
@pytest.mark.parametrize("kind", ["arrays", "loader"])
def test_inputs_are_cast_to_the_models_floating_dtype(dtype, kind):
    x, y = _data()
    if not dtype.is_floating_point:
        x = (x * 4).round()
    xi = x.to(dtype)
    m = _mlp()
    data = {"x": xi, "y": y} if kind == "arrays" else {"x": DataLoader(TensorDataset(xi, y), 16)}
    m.fit(**data, batch_size=16, shuffle=False, verbose=0)
    ref = _hand_sgd(xi.to(torch.float32), y)
    for p, q in zip(m.parameters(), ref):
        torch.testing.assert_close(p, q)
    assert m.example_input.dtype == torch.float32
    assert m.predict(xi, verbose=0).dtype == np.float32
    assert np.isfinite(m.evaluate(xi, y, verbose=0))


def test_a_cast_first_step_draws_the_random_numbers_of_a_step_on_cast_data():
    # Dropout runs on the float64 batch before the Linear fails on its dtype: the retries
    # (naming the layer, then the cast step) must not leave the dropout masks shifted.
    x, y = _data()

    def fitted(inputs):
        torch.manual_seed(0)
        m = K.Sequential([nn.Dropout(0.5), nn.Linear(8, 3)])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        m.fit(inputs, y, batch_size=16, shuffle=False, verbose=0)
        return list(m.parameters())

    for p, q in zip(fitted(x.double()), fitted(x)):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_a_float64_model_gets_float64_inputs():
    x, y = _data()
    m = _mlp(torch.float64)
    m.fit(x, y, batch_size=16, shuffle=False, verbose=0)
    for p, q in zip(m.parameters(), _hand_sgd(x, y, torch.float64)):
        torch.testing.assert_close(p, q)


def test_integer_ids_stay_integer_for_an_embedding():
    seen = []

    class Probe(nn.Module):
        def forward(self, ids):
            seen.append(ids.dtype)
            return ids

    torch.manual_seed(0)
    m = K.Sequential([Probe(), nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2)])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ids = torch.randint(0, 10, (32, 3))
    m.fit(DataLoader(TensorDataset(ids, ids[:, 0] % 2), batch_size=8), verbose=0)
    assert set(seen) == {torch.int64}


def test_uint8_images_reach_a_conv_as_float():
    torch.manual_seed(0)
    m = K.Sequential([nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    images = torch.randint(0, 256, (16, 3, 8, 8), dtype=torch.uint8)
    m.fit(images.numpy(), np.arange(16) % 2, batch_size=4, verbose=0)
    assert m.example_input.dtype == torch.float32


def test_an_error_inside_forward_names_the_nested_layer_and_shapes():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(5, 3)

        def forward(self, x):
            return self.proj(x)

    m = K.Sequential([nn.Linear(8, 6), Block()])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data()
    with pytest.raises(ValueError) as info:
        m.fit(x, y, verbose=0)
    text = str(info.value)
    assert "Linear 'layers.1.proj'" in text
    assert "x batch shape (32, 8) float32" in text  # checked in the first real step
    assert "called with shape (32, 6) float32" in text
    assert "mat1 and mat2 shapes cannot be multiplied" in text
    assert isinstance(info.value.__cause__, RuntimeError)
    # the hooks of the check are gone: nothing is added to the per-batch path
    assert all(not mod._forward_pre_hooks and not mod._forward_hooks for mod in m.modules())


def test_other_errors_keep_their_type_and_gain_a_note():
    class Broken(nn.Module):
        def forward(self, x):
            raise KeyError("boom")

    m = K.Sequential([Broken()])
    m.compile(optimizer="adam", loss="mse")
    with pytest.raises(KeyError, match="boom") as info:
        m.fit(*_data(), verbose=0)
    assert any("Broken 'layers.0'" in n for n in info.value.__notes__)


def test_a_single_callback_is_accepted_as_keras_does():
    class Count(K.callbacks.Callback):
        epochs = 0

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

    cb = Count()
    _mlp().fit(*_data(), epochs=2, callbacks=cb, verbose=0)
    assert cb.epochs == 2
    cb2 = Count()
    _mlp().fit(*_data(), epochs=1, callbacks=(cb2,), verbose=0)
    assert cb2.epochs == 1


def test_shuffle_batch_permutes_whole_batches():
    x = torch.arange(20.0).reshape(20, 1).repeat(1, 8)
    seen = []

    class Record(K.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            pass

    m = _mlp()
    original = m.train_step

    def step(data):
        seen.append(data[0][:, 0].long().tolist())
        return original(data)

    m.train_step = step
    m.fit(x, torch.zeros(20, dtype=torch.long), batch_size=5, shuffle="batch", verbose=0)
    assert sorted(seen) == [list(range(i, i + 5)) for i in range(0, 20, 5)]
    torch.manual_seed(3)
    seen.clear()
    m.fit(x, torch.zeros(20, dtype=torch.long), batch_size=5, shuffle="batch", epochs=4, verbose=0)
    orders = [tuple(b[0] for b in seen[i : i + 4]) for i in range(0, 16, 4)]
    assert len(set(orders)) > 1  # a new batch order each epoch


def test_a_validation_generator_with_validation_steps_replays_its_first_batches():
    # Keras documents that with validation_steps every validation uses the same first
    # batches (kerasish.data keeps and replays a one-shot generator's): no exhaustion.
    x, y = _data()
    gen = ((x[i : i + 8], y[i : i + 8]) for i in range(0, N, 8))  # 6 batches
    m = _mlp()
    m.fit(x, y, epochs=4, validation_data=gen, validation_steps=3, verbose=0)
    val = m.history.history["val_loss"]
    assert len(val) == 4 and all(v > 0 for v in val)
    first3 = [(x[i : i + 8], y[i : i + 8]) for i in range(0, 24, 8)]
    assert m.evaluate(first3, verbose=0) == pytest.approx(val[-1], rel=1e-5)


def test_a_reiterable_validation_source_is_iterated_again_each_epoch():
    x, y = _data()
    batches = [(x[i : i + 8], y[i : i + 8]) for i in range(0, N, 8)]
    m = _mlp()
    hist = m.fit(x, y, epochs=3, validation_data=batches, verbose=0)
    val = hist.history["val_loss"]
    assert len(val) == 3 and all(v > 0 for v in val)
    m2 = _mlp()
    one_shot = iter(batches)
    hist2 = m2.fit(x, y, epochs=1, validation_data=one_shot, verbose=0)  # one validation: fine
    assert hist2.history["val_loss"][0] == pytest.approx(val[0])


def test_evaluate_on_an_exhausted_generator_raises():
    x, y = _data()
    m = _mlp()
    gen = ((x[i : i + 8], y[i : i + 8]) for i in range(0, N, 8))
    m.evaluate(gen, verbose=0)
    with pytest.raises(ValueError, match="Expected"):
        m.evaluate(gen, verbose=0)
