"""to_categorical, normalize, pad_sequences, timeseries_dataset_from_array vs Keras."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import kerasish as K
from kerasish.utils import normalize, pad_sequences, timeseries_dataset_from_array, to_categorical


def test_to_categorical_matches_keras():
    # Keras 3.15.1 run, torch backend: to_categorical(np.array([[1], [3], [0]]), 4)
    got = to_categorical(np.array([[1], [3], [0]]), 4)
    assert got.tolist() == [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]]
    assert got.dtype == np.float64  # Keras's dtype for arrays
    assert to_categorical([[0, 2], [1, 0]]).shape == (2, 2, 3)  # shape + (num_classes,)
    t = to_categorical(torch.tensor([2, 0]), 3)
    assert torch.equal(t, torch.nn.functional.one_hot(torch.tensor([2, 0]), 3).float())
    with pytest.raises(ValueError, match="class indices"):
        to_categorical([0, 3], num_classes=3)


def test_normalize_matches_keras_and_numpy():
    x = np.array([[1.0, 2, 2], [0, 0, 0], [3, 0, 4]])
    # Keras 3.15.1 run, torch backend: normalize(x, axis=-1, order=1)
    expected = [[0.2, 0.4, 0.4], [0.0, 0.0, 0.0], [0.42857142857142855, 0.0, 0.5714285714285714]]
    assert np.allclose(normalize(x, order=1), expected, rtol=1e-12)
    l2 = normalize(x)
    assert np.allclose(l2[[0, 2]], x[[0, 2]] / np.linalg.norm(x[[0, 2]], axis=1, keepdims=True))
    assert np.allclose(normalize(torch.tensor(x)).numpy(), l2)


def test_pad_sequences_matches_keras():
    seqs = [[1, 2, 3], [4, 5], [6]]
    # Keras 3.15.1 run, torch backend
    assert pad_sequences(seqs, maxlen=2, truncating="post").tolist() == [[1, 2], [4, 5], [0, 6]]
    got = pad_sequences(seqs, value=-1, padding="post")
    assert got.tolist() == [[1, 2, 3], [4, 5, -1], [6, -1, -1]] and got.dtype == np.int32
    # keras/src/utils/sequence_utils_test.py::test_pad_sequences (pre/pre, maxlen=2)
    assert pad_sequences([[1], [1, 2], [1, 2, 3]], maxlen=2).tolist() == [[0, 1], [1, 2], [2, 3]]
    vec = pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")
    assert vec.shape == (2, 2, 3) and vec[1, 0].tolist() == [0, 0, 0]
    strings = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert strings.tolist() == [["a", "b"], ["<pad>", "c"]]
    with pytest.raises(ValueError, match="padding"):
        pad_sequences(seqs, padding="middle")
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences([["a"]], value="x")


def test_timeseries_basics_follow_keras_test():
    # keras/src/utils/timeseries_dataset_utils_test.py::test_basics
    data = np.arange(100)
    ds = timeseries_dataset_from_array(data, data * 2, sequence_length=9, batch_size=5)
    batches = list(ds)
    assert len(batches) == 19 and batches[-1][0].shape == (2, 9)
    for i, (inputs, targets) in enumerate(batches):
        assert torch.equal(inputs[:, 0] * 2, targets)
        for j in range(len(inputs)):
            assert inputs[j].tolist() == list(range(i * 5 + j, i * 5 + j + 9))


def test_timeseries_regression_and_no_targets_follow_keras_test():
    # ...::test_timeseries_regression: 7 batches, target data[offset + i]
    data = np.arange(10)
    ds = timeseries_dataset_from_array(data, data[3:], sequence_length=3, batch_size=1)
    pairs = [(x[0].tolist(), int(t[0])) for x, t in ds]
    assert pairs == [(list(range(i, i + 3)), i + 3) for i in range(7)]
    # ...::test_no_targets: 9 batches of windows only
    batches = list(timeseries_dataset_from_array(np.arange(50), None, 10, batch_size=5))
    assert len(batches) == 9 and batches[-1].shape == (1, 10)


def test_timeseries_strides_rates_and_indices():
    # ...::test_start_and_end_index and a NumPy reference of Keras's window formula
    data = np.arange(100)
    ds = timeseries_dataset_from_array(
        data, None, sequence_length=9, sequence_stride=3, sampling_rate=2,
        start_index=10, end_index=90, batch_size=5,
    )  # fmt: skip
    windows = torch.cat(list(ds)).numpy()
    starts = np.arange(0, 90 - 10 - 8 * 2, 3)
    expected = np.stack([data[10:90][s : s + 18 : 2] for s in starts])
    assert np.array_equal(windows, expected) and windows.max() < 90 and windows.min() > 9


def test_timeseries_shuffle_is_seeded_and_fit_takes_it():
    data = np.arange(20, dtype=np.float32)[:, None]
    a = timeseries_dataset_from_array(data, data[:, 0] * 2, 5, batch_size=4, shuffle=True, seed=3)
    b = timeseries_dataset_from_array(data, data[:, 0] * 2, 5, batch_size=4, shuffle=True, seed=3)
    first = [x for x, _ in a]
    assert all(torch.equal(p, q) for p, q in zip(first, [x for x, _ in b]))
    assert sorted(torch.cat(first)[:, 0, 0].tolist()) == list(range(16))
    for x, t in a:
        assert torch.equal(x[:, 0, 0] * 2, t)
    model = K.Sequential([K.layers.Flatten(), K.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(a, epochs=1, verbose=0)
    single = next(iter(timeseries_dataset_from_array(np.arange(30), None, 9, batch_size=None)))
    assert single.shape == (9,)


def test_timeseries_errors():
    for kwargs, name in (
        ({"start_index": 11}, "start_index"),
        ({"end_index": 11}, "end_index"),
        ({"sampling_rate": 0}, "sampling_rate"),
        ({"sequence_stride": 0}, "sequence_stride"),
    ):
        with pytest.raises(ValueError, match=name):
            timeseries_dataset_from_array(np.arange(10), None, 3, **kwargs)
