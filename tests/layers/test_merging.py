"""Merging layers against the same computation written in torch; lists in, as Keras."""

import pytest
import torch
import torch.nn.functional as F

import kerasish as K
from kerasish import layers as L

A, B, C = torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)

REFERENCES = {
    L.Add: lambda ts: ts[0] + ts[1] + ts[2],
    L.Multiply: lambda ts: ts[0] * ts[1] * ts[2],
    L.Average: lambda ts: (ts[0] + ts[1] + ts[2]) / 3,
    L.Maximum: lambda ts: torch.stack(ts).amax(0),
    L.Minimum: lambda ts: torch.stack(ts).amin(0),
    L.Concatenate: lambda ts: torch.cat(ts, dim=-1),
}


@pytest.mark.parametrize("cls", list(REFERENCES), ids=lambda c: c.__name__)
def test_merge_of_three_tensors(cls):
    torch.testing.assert_close(cls()([A, B, C]), REFERENCES[cls]([A, B, C]))
    fn = getattr(L, cls.__name__.lower())
    torch.testing.assert_close(fn((A, B, C)), REFERENCES[cls]([A, B, C]))


def test_subtract_and_broadcasting():
    torch.testing.assert_close(L.subtract([A, B]), A - B)
    torch.testing.assert_close(L.Add()([A, torch.ones(1, 4)]), A + 1)


def test_concatenate_axis():
    x, y = torch.randn(2, 3, 5), torch.randn(2, 1, 5)
    torch.testing.assert_close(L.Concatenate(axis=1)([x, y]), torch.cat([x, y], 1))


def test_dot_2d_gives_n_by_1():
    torch.testing.assert_close(L.Dot(axes=1)([A, B]), (A * B).sum(1, keepdim=True))
    cos = L.dot([A, B], axes=-1, normalize=True)
    torch.testing.assert_close(cos, F.cosine_similarity(A, B).unsqueeze(1))


def test_dot_3d_is_a_batched_matmul():
    x, y = torch.randn(2, 3, 5), torch.randn(2, 4, 5)
    torch.testing.assert_close(L.Dot(axes=2)([x, y]), torch.einsum("nad,nbd->nab", x, y))
    z = torch.randn(2, 5, 4)
    torch.testing.assert_close(L.Dot(axes=(2, 1))([x, z]), torch.bmm(x, z))
    torch.testing.assert_close(L.Dot(axes=(1, 1))([x, torch.randn(2, 3, 6)]).shape, (2, 5, 6))


@pytest.mark.parametrize(
    ("layer", "inputs", "pattern"),
    [
        (L.Add(), A, r"Expected `inputs` to be a list of at least 2 tensors for Add"),
        (L.Add(), [A], r"Received: inputs='a list of 1 tensors'"),
        (L.Subtract(), [A, B, C], r"exactly 2 tensors for Subtract"),
        (L.Dot(axes=0), [A, B], r"axes other than the batch axis"),
    ],
)
def test_merge_errors(layer, inputs, pattern):
    with pytest.raises(ValueError, match=pattern):
        layer(inputs)


def test_dot_axes_type_error():
    with pytest.raises(TypeError, match=r"Received: axes='1'"):
        L.Dot(axes="1")


def test_merge_after_a_layer_returning_states_trains_in_a_sequential():
    model = K.Sequential([L.LSTM(4, return_state=True), L.Add(), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = torch.randn(16, 5, 3), torch.randn(16, 1)
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    out, h, c = model.layers[0](x)
    torch.testing.assert_close(model(x), model.layers[2](out + h + c))
