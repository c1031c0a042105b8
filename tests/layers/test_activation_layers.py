"""Activation layers against torch's functions; PReLU's weight shape is Keras's."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import kerasish as K
from kerasish import layers as L

X = torch.linspace(-3, 3, 24).reshape(2, 12)


def test_relu_variants():
    torch.testing.assert_close(L.ReLU()(X), F.relu(X))
    torch.testing.assert_close(L.ReLU(max_value=6.0)(X * 3), F.relu6(X * 3))
    torch.testing.assert_close(L.ReLU(negative_slope=0.1)(X), F.leaky_relu(X, 0.1))
    # Keras's formula: max_value above, x from threshold, slope * (x - threshold) below
    out = L.ReLU(max_value=2.0, negative_slope=0.5, threshold=1.0)(X)
    ref = torch.where(X >= 2.0, torch.tensor(2.0), torch.where(X >= 1.0, X, 0.5 * (X - 1.0)))
    torch.testing.assert_close(out, ref)


def test_leaky_relu_elu_softmax():
    torch.testing.assert_close(L.LeakyReLU()(X), F.leaky_relu(X, 0.3))  # Keras 3's default
    torch.testing.assert_close(L.ELU(0.7)(X), F.elu(X, 0.7))
    torch.testing.assert_close(L.Softmax()(X), torch.softmax(X, -1))
    x = torch.randn(2, 3, 4)
    torch.testing.assert_close(L.Softmax(axis=1)(x), torch.softmax(x, 1))
    both = L.Softmax(axis=(1, 2))(x)
    torch.testing.assert_close(both, torch.softmax(x.reshape(2, -1), -1).reshape(2, 3, 4))


def test_softmax_mask_gives_zero_probability():
    x = torch.randn(2, 4)
    mask = torch.tensor([[True, True, False, True], [True, False, False, False]])
    out = L.Softmax()(x, mask)
    ref = torch.softmax(x.masked_fill(~mask, float("-inf")), -1)
    torch.testing.assert_close(out, ref)


def test_prelu_matches_torch_with_keras_weight_shapes():
    x = torch.randn(2, 5, 5, 3)
    layer = L.PReLU()  # Keras: one slope per element of a sample, zeros at first
    torch.testing.assert_close(layer(x), F.relu(x))
    assert tuple(layer.slopes.alpha.shape) == (5, 5, 3)
    assert sum(p.numel() for p in layer.parameters()) == 75  # Keras's PReLU count on (5, 5, 3)
    shared = L.PReLU(alpha_initializer=0.25, shared_axes=[1, 2])
    out = shared(x)
    assert tuple(shared.slopes.alpha.shape) == (1, 1, 3)
    ref = F.prelu(x.movedim(-1, 1), torch.full((3,), 0.25)).movedim(1, -1)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(L.PReLU("ones")(x), x)


def test_prelu_learns_its_slopes():
    model = K.Sequential([L.Dense(4), L.PReLU(), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    model(x)
    before = model.layers[1].slopes.alpha.detach().clone()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not torch.equal(model.layers[1].slopes.alpha.detach(), before)
    assert isinstance(model.layers[1].slopes.alpha, nn.Parameter)


@pytest.mark.parametrize(
    ("make", "error", "pattern"),
    [
        (lambda: L.ReLU(max_value=-1), ValueError, r"Received: max_value=-1"),
        (lambda: L.LeakyReLU("0.2"), ValueError, r"Expected `negative_slope` to be"),
        (lambda: L.Softmax(axis=1.0), TypeError, r"Received: axis=1.0"),
        (lambda: L.PReLU(shared_axes=[0]), ValueError, r"Received: shared_axes=\[0\]"),
        (lambda: L.PReLU(alpha_initializer="glorot"), TypeError, r"alpha_initializer"),
    ],
)
def test_argument_errors(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()
