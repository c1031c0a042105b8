"""kerasish.activations against NumPy formulas and Keras 3's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from kerasish import activations as A

X = np.linspace(-8, 8, 17)  # float64
T = torch.tensor(X)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_erf = np.vectorize(math.erf)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

NUMPY = {
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (np.abs(x) + 1),
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "exponential": np.exp,
    "linear": lambda x: x,
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "celu": lambda x: np.maximum(0, x) + np.minimum(0, np.exp(x) - 1),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "squareplus": lambda x: (x + np.sqrt(x**2 + 4)) / 2,
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    "log_softmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
}


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_matches_numpy(name):
    fn = A.get(name)
    np.testing.assert_allclose(fn(T).numpy(), NUMPY[name](X), rtol=1e-10, atol=1e-12)
    assert A.serialize(fn) == name
    assert A.deserialize(name) is fn


def test_keras_numbers():
    # Keras 3.15.1 run, torch backend, x = torch.linspace(-8, 8, 17, dtype=float64).
    out = A.relu(T, negative_slope=0.3, max_value=5.0, threshold=1.5)
    expected = [-2.85, -2.55, -2.25, -1.95, -1.65, -1.35, -1.05, -0.75, -0.45, -0.15,
                2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0]  # fmt: skip
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-12)
    out = A.relu(T, threshold=2.0)
    np.testing.assert_allclose(out.numpy(), np.where(X > 2, X, 0))
    out = A.relu(T, negative_slope=0.1, max_value=6.0)
    expected = [-0.8, -0.7, -0.6, -0.5, -0.4, -0.3, -0.2, -0.1, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0,
                6.0, 6.0, 6.0]  # fmt: skip
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-12)
    hard = [0.0, 0.16666666666666666, 0.3333333333333333, 0.5, 0.6666666666666666]
    np.testing.assert_allclose(A.hard_sigmoid(T).numpy()[5:10], hard, atol=1e-12)
    gelu_tanh = [-0.04540230591222494, -0.1588080093917233, 0.0, 0.8411919906082768,
                 1.954597694087775]  # fmt: skip
    np.testing.assert_allclose(A.gelu(T, approximate=True).numpy()[6:11], gelu_tanh, rtol=1e-12)


def test_axis_arguments():
    x = torch.randn(3, 4, dtype=torch.float64)
    torch.testing.assert_close(A.softmax(x, axis=0), torch.softmax(x, 0))
    torch.testing.assert_close(A.log_softmax(x, axis=0), torch.log_softmax(x, 0))
    a, b = x[:, :2], x[:, 2:]
    torch.testing.assert_close(A.glu(x), a * torch.sigmoid(b))
    assert A.elu(torch.tensor([-1.0]), alpha=2.0).item() == pytest.approx(2 * (math.exp(-1) - 1))


def test_numpy_and_python_inputs():
    assert A.relu(np.array([-1.0, 2.0])).tolist() == [0.0, 2.0]
    assert A.sigmoid(0.0).item() == 0.5


def test_get_and_errors():
    assert A.get(None) is A.linear
    fn = lambda x: x * 2  # noqa: E731
    assert A.get(fn) is fn
    # The dict form Keras 2/3 files hold for a function.
    assert A.get({"class_name": "function", "config": "relu"}) is A.relu
    with pytest.raises(ValueError, match="Could not interpret activation"):
        A.get("rellu")
    with pytest.raises(ValueError, match="Could not interpret activation"):
        A.get(3)
    with pytest.raises(ValueError, match="Expected one of"):
        A.serialize(fn)
