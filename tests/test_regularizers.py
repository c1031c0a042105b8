"""kerasish.regularizers against NumPy and Keras 3's numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kerasish import regularizers as R

# A fixed weight; the Keras numbers below are for it.
W = ((np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5) / 3).astype(np.float32)


def test_l1_l2_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 7)).astype(np.float64)
    t = torch.tensor(x)
    np.testing.assert_allclose(R.L1(0.3)(t).item(), 0.3 * np.abs(x).sum())
    np.testing.assert_allclose(R.L2(0.3)(t).item(), 0.3 * np.square(x).sum())  # no 1/2
    np.testing.assert_allclose(
        R.L1L2(0.1, 0.2)(t).item(), 0.1 * np.abs(x).sum() + 0.2 * np.square(x).sum()
    )
    assert R.L1L2()(t).item() == 0.0


def test_keras_numbers():
    # Keras 3.15.1 run, torch backend: keras.regularizers.X(...)(torch.tensor(W)).
    t = torch.tensor(W)
    assert R.L1()(t).item() == pytest.approx(0.12000000476837158, rel=1e-6)
    assert R.L2()(t).item() == pytest.approx(0.15888887643814087, rel=1e-6)
    assert R.L1L2(0.2, 0.3)(t).item() == pytest.approx(7.1666669845581055, rel=1e-6)
    rows = R.OrthogonalRegularizer(0.1, "rows")(t).item()
    columns = R.OrthogonalRegularizer(0.1, "columns")(t).item()
    assert rows == pytest.approx(0.0464484840631485, rel=1e-5)
    assert columns == pytest.approx(0.08664841204881668, rel=1e-5)


def test_orthogonal_regularizer_numpy_and_torch_layout():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 6))
    n = x / np.linalg.norm(x, axis=1, keepdims=True)
    p = n @ n.T
    expected = 0.5 * 0.5 * np.abs(p - np.diag(np.diag(p))).sum() / (4 * 3 / 2)
    np.testing.assert_allclose(R.OrthogonalRegularizer(0.5)(torch.tensor(x)).item(), expected)
    # "rows" on a Keras kernel (in, out) == "columns" on the torch weight (out, in).
    kernel = torch.tensor(x)
    assert R.OrthogonalRegularizer(0.5, "rows")(kernel).item() == pytest.approx(
        R.OrthogonalRegularizer(0.5, "columns")(kernel.T).item()
    )
    with pytest.raises(ValueError, match="2-D"):
        R.OrthogonalRegularizer()(torch.ones(3))
    with pytest.raises(ValueError, match="mode"):
        R.OrthogonalRegularizer(mode="diag")


def test_gradient_flows():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    R.L2(0.5)(w).backward()
    assert w.grad.tolist() == [1.0, -2.0]  # d/dw 0.5 * w**2 = w


def test_get_and_config():
    assert isinstance(R.get("l2"), R.L2) and R.get("l2").l2 == 0.01
    assert isinstance(R.get("L1L2"), R.L1L2) and isinstance(R.get("l1l2"), R.L1L2)
    assert isinstance(R.get("orthogonal_regularizer"), R.OrthogonalRegularizer)
    assert R.get(None) is None
    fn = lambda x: x.sum()  # noqa: E731
    assert R.get(fn) is fn
    # Keras 3.15.1: serialize(keras.regularizers.L2()) and L1L2().get_config().
    keras_l2 = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01},
                "registered_name": None}  # fmt: skip
    assert R.get(keras_l2).l2 == 0.01
    assert R.serialize(R.L2())["config"] == keras_l2["config"]
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.OrthogonalRegularizer().get_config() == {"factor": 0.01, "mode": "rows"}
    assert R.deserialize(R.serialize(R.L1L2(0.1, 0.2))).get_config() == {"l1": 0.1, "l2": 0.2}
    with pytest.raises(ValueError, match="Could not interpret regularizer"):
        R.get("l3")
    with pytest.raises(ValueError, match="non-negative"):
        R.L1(-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        R.L2(float("nan"))
