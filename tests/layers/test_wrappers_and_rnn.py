"""SimpleRNN, Bidirectional and TimeDistributed against the same computation in torch."""

import pytest
import torch
from torch import nn

import kerasish as K
from kerasish import layers as L

X = torch.randn(3, 6, 4)


def test_simple_rnn_is_torch_s_tanh_rnn():
    layer = L.SimpleRNN(5, return_sequences=True, return_state=True)
    out, h = layer(X)
    ref = nn.RNN(4, 5, batch_first=True)
    ref.load_state_dict(layer.rnn.state_dict())
    ref_out, ref_h = ref(X)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(h, ref_h[0])
    # by hand: h_t = tanh(W x_t + b_ih + U h_{t-1} + b_hh)
    w, u, b1, b2 = (
        layer.rnn.weight_ih_l0,
        layer.rnn.weight_hh_l0,
        layer.rnn.bias_ih_l0,
        layer.rnn.bias_hh_l0,
    )
    state = torch.zeros(3, 5)
    for t in range(6):
        state = torch.tanh(X[:, t] @ w.T + b1 + state @ u.T + b2)
    torch.testing.assert_close(h, state)
    # Keras counts 4*5 + 5*5 + 5 = 50; torch keeps a second bias vector
    assert sum(p.numel() for p in layer.parameters()) == 50 + 5


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_a_torch_bidirectional_lstm(merge_mode):
    layer = L.Bidirectional(L.LSTM(5, return_sequences=True), merge_mode=merge_mode)
    out = layer(X)
    ref = nn.LSTM(4, 5, batch_first=True, bidirectional=True)
    fw, bw = layer.forward_layer.rnn.state_dict(), layer.backward_layer.rnn.state_dict()
    ref.load_state_dict({**fw, **{k + "_reverse": v for k, v in bw.items()}})
    ref_out = ref(X)[0]
    f, b = ref_out[..., :5], ref_out[..., 5:]
    expected = {
        "concat": ref_out,
        "sum": f + b,
        "mul": f * b,
        "ave": (f + b) / 2,
        None: [f, b],
    }[merge_mode]
    if merge_mode is None:
        torch.testing.assert_close(out[0], expected[0])
        torch.testing.assert_close(out[1], expected[1])
    else:
        torch.testing.assert_close(out, expected)


def test_bidirectional_last_step_and_states():
    layer = L.Bidirectional(L.GRU(4, return_state=True))
    out, h_fw, h_bw = layer(X)
    assert out.shape == (3, 8)
    torch.testing.assert_close(out, torch.cat([h_fw, h_bw], -1))
    ref = nn.GRU(4, 4, batch_first=True, bidirectional=True)
    fw, bw = layer.forward_layer.rnn.state_dict(), layer.backward_layer.rnn.state_dict()
    ref.load_state_dict({**fw, **{k + "_reverse": v for k, v in bw.items()}})
    _, h = ref(X)
    torch.testing.assert_close(h_fw, h[0])
    torch.testing.assert_close(h_bw, h[1])
    assert sum(p.numel() for p in layer.parameters()) == 2 * sum(
        p.numel() for p in layer.forward_layer.parameters()
    )


def test_bidirectional_trains_in_a_model():
    model = K.Sequential([L.Bidirectional(L.LSTM(4)), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(X, torch.randn(3, 1), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_time_distributed_applies_the_same_layer_per_step():
    dense = L.Dense(2)
    layer = L.TimeDistributed(dense)
    out = layer(X)
    torch.testing.assert_close(out, torch.stack([dense(X[:, t]) for t in range(6)], dim=1))
    conv = L.TimeDistributed(L.Conv2D(2, 3))
    frames = torch.randn(2, 4, 3, 6, 6)
    out = conv(frames)
    torch.testing.assert_close(out[:, 1], conv.layer(frames[:, 1]))


def test_wrapper_errors():
    with pytest.raises(TypeError, match=r"Expected `layer` to be a kerasish recurrent layer"):
        L.Bidirectional(L.Dense(3))
    with pytest.raises(ValueError, match=r"Received: merge_mode='max'"):
        L.Bidirectional(L.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match=r"Received: x.shape=\(2, 3\)"):
        L.TimeDistributed(L.Dense(2))(torch.randn(2, 3))
