"""pandas DataFrame/Series as fit/evaluate/predict data: converted with to_numpy, as Keras does."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import kerasish as K
from kerasish.data.arrays import is_pandas, pandas_to_numpy, to_tensor

pd = pytest.importorskip("pandas", reason="pandas is not installed (an optional input type)")


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.random((n, 3)), columns=["a", "b", "c"])
    return df, pd.Series(rng.random(n), name="target"), pd.Series(rng.random(n) + 0.5)


def _model(n_in=3):
    K.utils.set_random_seed(1)
    model = K.Sequential([K.Input((n_in,)), K.layers.Dense(4), K.layers.Dense(1)])
    model.compile(optimizer=K.optimizers.Adam(1e-2), loss="mae", metrics=["mse"])
    return model


def _weights(model):
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


def _fit(x, y, **kw):
    model = _model()
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, **kw)
    return model, history.history


def _assert_same(a, b):
    (model_a, hist_a), (model_b, hist_b) = a, b
    assert hist_a == hist_b
    for wa, wb in zip(_weights(model_a), _weights(model_b), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_fit_with_validation_split_and_sample_weight_matches_numpy():
    df, y, w = _data()
    xn, yn, wn = df.to_numpy(), y.to_numpy(), w.to_numpy()
    frame = _fit(df, y, sample_weight=w, validation_split=0.25)
    arrays = _fit(xn, yn, sample_weight=wn, validation_split=0.25)
    _assert_same(frame, arrays)
    assert "val_loss" in frame[1]
    model = frame[0]
    assert model.evaluate(df, y, sample_weight=w, verbose=0) == model.evaluate(
        xn, yn, sample_weight=wn, verbose=0
    )
    pred = model.predict(df, verbose=0)
    assert pred.shape == (40, 1)
    np.testing.assert_array_equal(pred, model.predict(xn, verbose=0))


def test_validation_data_of_pandas_matches_numpy():
    df, y, w = _data()
    vx, vy, vw = _data(12, seed=1)
    frame = _fit(df, y, validation_data=(vx, vy, vw))
    arrays = _fit(df.to_numpy(), y.to_numpy(), validation_data=(vx.to_numpy(), vy.to_numpy(), vw))
    _assert_same(frame, arrays)
    assert len(frame[1]["val_loss"]) == 3


def test_on_batch_methods_accept_pandas():
    df, y, _ = _data(16)
    results = []
    for x, t in ((df, y), (df.to_numpy(), y.to_numpy())):
        model = _model()
        results.append((model.train_on_batch(x, t), model.test_on_batch(x, t)))
        results[-1] += (model.predict_on_batch(x),)
    (train_a, test_a, pred_a), (train_b, test_b, pred_b) = results
    assert (train_a, test_a) == (train_b, test_b)
    np.testing.assert_array_equal(pred_a, pred_b)


def test_series_input_is_one_feature_column_as_in_keras():
    _, y, w = _data()
    model = _model(n_in=1)
    model.fit(w, y, epochs=1, verbose=0)
    expected = model.predict(w.to_numpy()[:, None], verbose=0)
    np.testing.assert_array_equal(model.predict(w, verbose=0), expected)


def test_dict_of_series_feeds_named_inputs():
    df, y, _ = _data()

    def build():
        K.utils.set_random_seed(1)
        inputs = {c: K.Input((1,), name=c) for c in df.columns}
        merged = torch.cat([inputs[c] for c in df.columns], dim=1)
        model = K.Model(inputs, K.layers.Dense(1)(merged))
        model.compile(optimizer=K.optimizers.Adam(1e-2), loss="mae")
        return model

    a = build()
    hist_a = a.fit(dict(df), y, epochs=2, batch_size=8, verbose=0, validation_split=0.2)
    columns = {c: df[c].to_numpy()[:, None] for c in df.columns}
    b = build()
    hist_b = b.fit(columns, y.to_numpy(), epochs=2, batch_size=8, verbose=0, validation_split=0.2)
    assert hist_a.history == hist_b.history
    np.testing.assert_array_equal(a.predict(dict(df), verbose=0), b.predict(columns, verbose=0))


def test_list_of_frames_is_a_structure_not_one_stacked_array():
    df, _, _ = _data(6)
    out = to_tensor([df, df["a"]], "x")
    assert [t.shape for t in out] == [(6, 3), (6, 1)]


def test_bool_and_numeric_columns_convert_as_numpy_does():
    frame = pd.DataFrame({"flag": [True, False, True], "v": [1.5, 2.0, 3.0]})
    out = pandas_to_numpy(frame)
    assert out.dtype == np.float64  # np.result_type(bool, float64)
    assert to_tensor(frame, "x").dtype == torch.float32  # float64 -> floatx, as Keras
    np.testing.assert_array_equal(out, [[1.0, 1.5], [0.0, 2.0], [1.0, 3.0]])
    assert pandas_to_numpy(pd.Series([True, False])).dtype == np.bool_
    assert pandas_to_numpy(pd.DataFrame({"i": [1, 2], "j": [3, 4]})).dtype == np.int64
    nullable = pd.Series([1.0, None], dtype="Float64")
    assert np.isnan(pandas_to_numpy(nullable)[1, 0])


@pytest.mark.parametrize(
    "frame, column",
    [
        (pd.DataFrame({"name": ["x", "y"], "v": [1.0, 2.0]}), "'name'"),
        (pd.DataFrame({"when": pd.to_datetime(["2020", "2021"]), "v": [1.0, 2.0]}), "'when'"),
        (pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}), "with missing values"),
        (pd.Series(pd.Categorical(["a", "b"]), name="kind"), "'kind': category"),
    ],
)
def test_non_numeric_columns_raise_naming_them(frame, column):
    model = _model(n_in=frame.shape[1] if frame.ndim == 2 else 1)
    with pytest.raises(TypeError, match=r"Expected x \(a pandas \w+\) to hold numeric") as info:
        model.fit(frame, np.zeros(2), verbose=0)
    assert "Received: column dtypes" in str(info.value) and column in str(info.value)
    assert "'v'" not in str(info.value)  # only the offending columns are named


def test_object_numpy_array_raises_expected_received():
    with pytest.raises(TypeError, match="Expected y to hold numbers or booleans. Received: y of"):
        to_tensor(np.array([1, "a"], dtype=object), "y")


def test_read_only_arrays_train_without_a_torch_warning_and_are_not_shared():
    df, y, _ = _data()
    x = np.ascontiguousarray(df.to_numpy(dtype=np.float32))
    x.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _model().fit(x, y.to_numpy(), epochs=1, verbose=0, validation_split=0.2)
        column = np.asarray(df["a"]).astype(np.float32)
        column.flags.writeable = False
        t = to_tensor(column, "x")
    assert not np.shares_memory(t.numpy(), column)  # copied: torch may not write pandas memory
    writable = np.zeros(4, np.float32)
    assert np.shares_memory(to_tensor(writable, "x").numpy(), writable)  # no copy when writable


def test_pandas_is_told_without_importing_it():
    code = (
        "import sys, numpy as np, kerasish as K; "
        "from kerasish.data.arrays import is_pandas; "
        "K.data.adapt(np.zeros((4, 2)), np.zeros(4)); "
        "assert not is_pandas(np.zeros(2)); print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    df, y, _ = _data(4)
    assert is_pandas(df) and is_pandas(y) and not is_pandas(df.to_numpy())
