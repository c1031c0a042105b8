"""The functional API: Input -> calls -> Model(inputs, outputs), against the same model
written as a ``forward`` (the reference: same modules, so same weights)."""

from __future__ import annotations

import importlib.util
import warnings

import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.models import Functional, Input, KerasTensor
from kerasish.models.input import RECORDER


class Residual(nn.Module):
    """The reference: the graph of ``_residual_graph`` written by hand."""

    def __init__(self, dense, inner, head_a, head_b, side):
        super().__init__()
        self.dense, self.inner, self.head_a, self.head_b, self.side = (
            dense,
            inner,
            head_a,
            head_b,
            side,
        )

    def forward(self, a, b):
        h = self.dense(a)
        h = h + torch.relu(self.inner(h))
        merged = torch.cat([h, self.side(b)], dim=1)
        return self.head_a(merged), self.head_b(merged[:, :4])


def _residual_graph():
    a, b = Input((6,), name="a"), Input((3,), name="b")
    dense, inner = K.layers.Dense(8), nn.Linear(8, 8)
    head_a, head_b, side = nn.Linear(12, 1), K.layers.Dense(2), nn.Linear(3, 4)
    h = dense(a)
    h = h + torch.relu(inner(h))
    merged = torch.cat([h, side(b)], dim=1)
    model = Functional([a, b], [head_a(merged), head_b(merged[:, :4])])
    return model, Residual(dense, inner, head_a, head_b, side)


def test_input_is_a_symbolic_tensor_with_keras_shape_dtype_and_name():
    x = Input((3, 4), name="pixels")
    assert isinstance(x, KerasTensor) and isinstance(x, torch.Tensor)
    assert x.shape == (None, 3, 4) and x.dtype == torch.float32 and x.name == "pixels"
    assert Input((2,), batch_size=5).shape == (5, 2)
    assert Input(batch_shape=(None, None, 7), dtype="int64").dtype == torch.int64
    y = nn.Linear(4, 5)(x)
    assert y.shape == (None, 3, 5) and y.node.module.out_features == 5
    with pytest.raises(ValueError, match="Expected shape to be a tuple.*Received: shape=-1"):
        Input(-1)


def test_same_outputs_and_gradients_as_the_forward_written_model():
    torch.manual_seed(0)
    model, reference = _residual_graph()
    a, b = torch.randn(5, 6), torch.randn(5, 3)
    got, want = model(a, b), reference(a, b)
    assert all(torch.equal(g, w) for g, w in zip(got, want))
    (got[0].sum() + got[1].square().sum()).backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    (want[0].sum() + want[1].square().sum()).backward()
    assert all(torch.equal(g, p.grad) for g, p in zip(grads, model.parameters()))
    assert len(list(model.parameters())) == len(list(reference.parameters())) == 10


def test_multi_input_dict_outputs_train_with_fit_on_named_losses():
    torch.manual_seed(0)
    a, b = Input((6,), name="a"), Input((3,), name="b")
    h = K.layers.Dense(16, activation="relu")(a)
    h = h + nn.Linear(16, 16)(h)  # residual branch
    merged = torch.cat([h, nn.Linear(3, 4)(b)], dim=1)
    outputs = {"reg": K.layers.Dense(1)(merged), "cls": nn.Linear(20, 2)(merged)}
    model = Functional({"a": a, "b": b}, outputs)
    assert model.output_names == ["reg", "cls"]
    model.compile(
        optimizer=K.optimizers.Adam(3e-2),
        loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        loss_weights={"reg": 0.5, "cls": 1.0},
        metrics={"cls": ["accuracy"]},
    )
    xa, xb = torch.randn(128, 6), torch.randn(128, 3)
    y = {"reg": xa[:, :1] * 2, "cls": (xb[:, 0] > 0).long()}
    history = model.fit({"a": xa, "b": xb}, y, epochs=10, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["cls_accuracy"][-1] > 0.9
    pred = model(a=xa, b=xb)
    loss = 0.5 * nn.functional.mse_loss(pred["reg"], y["reg"]) + nn.functional.cross_entropy(
        pred["cls"], y["cls"]
    )
    logs = model.evaluate({"a": xa, "b": xb}, y, batch_size=128, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(loss.item(), rel=1e-5)


def test_shared_layer_nested_model_and_feature_extractor():
    torch.manual_seed(0)
    x = Input((4,))
    encoder_in = Input((4,))
    encoder = Functional(encoder_in, K.layers.Dense(3, name="code")(encoder_in))
    shared = nn.Linear(3, 3)
    first = shared(encoder(x))
    second = shared(first)
    model = Functional(x, K.layers.Dense(1, name="out")(second))
    assert [type(m) for m in model.layers][:2] == [Functional, nn.Linear]
    assert len(model.layers) == 3  # the shared layer once
    data = torch.randn(6, 4)
    code = encoder.get_layer("code")
    want = model.get_layer("out")(shared(shared(code(data))))
    assert torch.equal(model(data), want)
    features = Functional(model.inputs, model.get_layer("linear").output)
    assert torch.equal(features(data), shared(code(data)))  # .output: the first call's, as Keras
    head = Functional(first, model.output)  # an intermediate tensor as the input
    assert torch.equal(head(torch.ones(6, 3)), model.get_layer("out")(shared(torch.ones(6, 3))))


def test_torch_ops_lstm_tuples_and_keyword_arguments_are_recorded():
    torch.manual_seed(0)
    seq = Input((5, 3), name="seq")
    lstm = nn.LSTM(3, 4, batch_first=True)
    out, (h, _) = lstm(seq)
    attn = nn.MultiheadAttention(4, 2, batch_first=True)
    mixed, _ = attn(query=out, key=out, value=out, need_weights=False)
    pooled = mixed.mean(dim=1) + h[0]
    model = Functional(seq, pooled[..., ::2])
    assert model.outputs[0].shape == (None, 2)
    data = torch.randn(2, 5, 3)
    o, (hh, _) = lstm(data)
    m, _ = attn(o, o, o, need_weights=False)
    assert torch.allclose(model(data), (m.mean(dim=1) + hh[0])[..., ::2])


def test_building_leaves_batchnorm_statistics_and_autograd_alone():
    bn = nn.BatchNorm1d(4)
    x = Input((4,))
    y = bn(x)
    assert torch.equal(bn.running_var, torch.ones(4)) and int(bn.num_batches_tracked) == 0
    assert not y.requires_grad and torch.is_grad_enabled()
    lazy = K.layers.BatchNormalization()
    lazy(x)
    stats = [b for b in lazy.buffers() if b.dim()]
    assert stats and all(
        torch.equal(b, torch.zeros(4)) or torch.equal(b, torch.ones(4)) for b in stats
    )


def test_recording_hooks_end_when_the_model_first_runs():
    x = Input((2,))
    model = Functional(x, nn.Linear(2, 2)(x))
    assert RECORDER.active
    model(torch.ones(1, 2))
    assert not RECORDER.active  # plain module calls take torch's fast path again
    y = nn.Linear(2, 1)(model.output)  # reading the symbolic attributes starts it again
    assert y.shape == (None, 1)


def test_errors_name_what_was_expected():
    x, other = Input((2,), name="x"), Input((2,), name="other")
    with pytest.raises(ValueError, match="not among inputs=\\['x'\\]"):
        Functional(x, nn.Linear(2, 1)(x) + other)
    with pytest.raises(TypeError, match="Expected outputs to be KerasTensors"):
        Functional(x, torch.ones(2))
    model = Functional({"x": x}, nn.Linear(2, 1)(x))
    with pytest.raises(ValueError, match="Expected the model's inputs \\['x'\\]"):
        model(y=torch.ones(1, 2))
    with pytest.raises(ValueError, match="out-of-place"):
        x += 1


def test_model_inputs_outputs_dispatches_to_functional():
    x = Input((3,))
    model = K.Model(x, nn.Linear(3, 2)(x), name="tiny")
    assert isinstance(model, Functional) and model.name == "tiny"
    assert model(torch.ones(1, 3)).shape == (1, 2)


def test_torch_compile_gives_the_same_outputs():
    torch.manual_seed(0)
    model, _ = _residual_graph()
    a, b = torch.randn(4, 6), torch.randn(4, 3)
    want = model(a, b)
    compiled = torch.compile(model, backend="eager", fullgraph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "global hooks" warning: recording has ended
        got = compiled(a, b)
    assert all(torch.equal(g, w) for g, w in zip(got, want))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="needs onnxruntime")
def test_onnx_export_matches_the_model(tmp_path):
    torch.manual_seed(0)
    model, _ = _residual_graph()
    model.export(tmp_path / "m.onnx", format="onnx", verify=True)
    assert (tmp_path / "m.onnx").stat().st_size > 0


def test_the_forward_is_generated_source_and_stale_symbolic_calls_say_what_to_do():
    x = Input((2,))
    h = nn.Linear(2, 3)(x)
    model = Functional(x, torch.relu(h))
    assert "v1 = m0(v0)" in model.code and model.code.rstrip().endswith("return v2")
    model(torch.ones(1, 2))  # recording ends
    with pytest.raises(ValueError, match="call the module again now"):
        nn.Linear(3, 1)(h)
    assert nn.Linear(3, 1)(h).shape == (None, 1)  # the error started the recording again
    model(torch.ones(1, 2))
    assert not RECORDER.active
    assert K.layers.Dense(1)(h).shape == (None, 1)  # kerasish layers need no recording


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_modules_already_on_the_gpu_build_and_train_there():
    torch.manual_seed(0)
    x = Input((4,))
    body = nn.Sequential(nn.Linear(4, 8), nn.ReLU()).cuda()
    model = Functional(x, K.layers.Dense(2)(body(x)))
    assert next(model.layers[1].parameters()).device.type == "cuda"
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cuda")
    data, labels = torch.randn(64, 4), torch.randint(0, 2, (64,))
    model.fit(data, labels, epochs=1, verbose=0)
    out = model(data.cuda())
    assert torch.allclose(out, model.layers[1](body(data.cuda())))


def test_list_outputs_train_with_losses_keyed_by_output_names():
    torch.manual_seed(0)
    x = Input((4,))
    h = nn.Linear(4, 8)(x)
    model = Functional(x, [K.layers.Dense(1, name="reg")(h), K.layers.Dense(2, name="cls")(h)])
    assert model.output_names == ["reg", "cls"]
    model.compile(
        optimizer="adam",
        loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
        metrics={"cls": ["accuracy"]},
    )
    data = torch.randn(32, 4)
    y = {"reg": data[:, :1], "cls": (data[:, 1] > 0).long()}
    history = model.fit(data, y, epochs=2, verbose=0)
    assert "cls_accuracy" in history.history


def test_deepcopy_and_pickle_keep_a_working_independent_model(tmp_path):
    import copy

    x = Input((3,))
    model = Functional(x, nn.Linear(3, 2)(x).T.T * 2.0)
    data = torch.randn(4, 3)
    twin = copy.deepcopy(model)
    assert torch.equal(twin(data), model(data))
    with torch.no_grad():
        twin.layers[0].weight.add_(1.0)
    assert not torch.equal(twin(data), model(data))  # the copy runs its own layers
    torch.save(model, tmp_path / "whole.pt")
    loaded = torch.load(tmp_path / "whole.pt", weights_only=False)
    assert torch.equal(loaded(data), model(data)) and loaded.inputs[0].shape == (None, 3)


def test_keras_layers_input_and_a_k_input_first_in_sequential():
    # Keras code writes both `inputs = layers.Input(shape)` and `keras.Input(shape)`
    inputs = K.layers.Input((6,))
    hidden = K.layers.Dense(4, activation="relu")(inputs)
    model = K.Model(inputs=inputs, outputs=K.layers.Dense(2)(hidden))
    assert type(model).__name__ == "Functional" and model.inputs[0].shape == (None, 6)
    x = torch.randn(3, 6)
    dense, head = model.get_layer(index=0), model.get_layer(index=1)  # layers: no Input
    expected = head(dense(x))
    torch.testing.assert_close(model(x), expected)
    seq = K.Sequential([K.Input((6,)), K.layers.Dense(2)])
    assert seq.built and seq(x).shape == (3, 2)
