"""model.summary(): one row per layer, output shapes from the built batch, parameter totals.

Checked against the reference the table claims to report: each row's shape against the
layer's actual output on ``model.example_input``, each count against ``numel``.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.summary import summarize


def _rows(text: str) -> list[list[str]]:
    """The body rows, split on runs of two or more spaces."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"="}]
    body = lines[rules[1] + 1 : rules[2]]
    return [[c.strip() for c in line.split("  ") if c.strip()] for line in body]


def _outputs(model: nn.Module, layers: list[nn.Module]) -> list[torch.Tensor]:
    seen = []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append(o)) for m in layers]
    with torch.no_grad():
        model.eval()(model.example_input)
    for h in hooks:
        h.remove()
    return seen


def test_sequential_rows_match_each_layers_output_and_parameters():
    model = K.Sequential([nn.Linear(6, 5), nn.ReLU(), K.layers.Dense(3)], name="mlp")
    model.build((None, 6))
    text = summarize(model)
    assert text.splitlines()[0] == 'Model: "mlp"'
    outputs = _outputs(model, list(model.layers))
    for row, layer, out in zip(_rows(text), model.layers, outputs):
        assert row[0].endswith(f"({type(layer).__name__})")
        assert row[1] == str((None, *out.shape[1:]))
        assert row[2] == f"{sum(p.numel() for p in layer.parameters()):,}"
    total = sum(p.numel() for p in model.parameters())
    assert f"Total params: {total:,}" in text and "Non-trainable params: 0" in text


def test_wrapped_model_lists_the_wrapped_modules_children():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))
    model = K.Model.wrap(net)
    model.build((None, 1, 6, 6))
    rows = _rows(summarize(model))
    assert [r[0] for r in rows] == ["0 (Conv2d)", "1 (Flatten)", "2 (Linear)"]
    assert [r[1] for r in rows] == ["(None, 2, 4, 4)", "(None, 32)", "(None, 3)"]


def test_unfit_model_shows_unknown_shapes_and_frozen_counts():
    model = K.Sequential([nn.Linear(4, 4), nn.Linear(4, 2)])
    model.layers[0].requires_grad_(False)
    assert model.example_input is None
    text = summarize(model)
    assert [r[1] for r in _rows(text)] == ["?", "?"]
    assert "Trainable params: 10" in text and "Non-trainable params: 20" in text


def test_several_outputs_are_listed_and_the_mode_is_restored():
    class TwoHeads(K.Model):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 4)
            self.heads = nn.ModuleDict({"a": nn.Linear(4, 1), "b": nn.Linear(4, 2)})

        def forward(self, x):
            h = self.body(x)
            return {k: head(h) for k, head in self.heads.items()}

    model = TwoHeads()
    model.build((None, 3))
    model.train()
    rows = _rows(summarize(model))
    assert rows[1][:2] == ["heads (ModuleDict)", "?"]  # a container is not called itself
    assert rows[0][1] == "(None, 4)"
    assert model.training


def test_unbuilt_model_says_how_to_build_it():
    with pytest.raises(ValueError, match=r"model\.build\(input_shape\)"):
        summarize(K.Sequential([K.layers.Dense(2)]))


def test_functional_rows_have_keras_connected_to_column():
    # Keras 3's functional summary: one row per layer (inputs first, as InputLayer rows),
    # "Connected to" as producer[node][tensor] (keras/src/utils/summary_utils.py)
    a, b = K.models.Input((3,), name="a"), K.models.Input((2,), name="b")
    shared = nn.Linear(3, 3)
    h = shared(shared(a))
    out = K.layers.Dense(1, name="head")(torch.cat([h, b], dim=1))
    model = K.Model([a, b], out, name="graph")
    text = summarize(model)
    lines = text.splitlines()
    assert lines[0] == 'Model: "graph"' and "Connected to" in lines[2]
    rows = _rows(text)
    assert [r[0] for r in rows] == [
        "a (InputLayer)",
        "b (InputLayer)",
        "linear (Linear)",
        "cat (TorchOp)",
        "head (Dense)",
    ]
    assert rows[2][3] == "a[0][0], linear[0][0]"  # the shared layer's two calls
    assert rows[3][3] == "linear[1][0], b[0][0]"
    assert rows[4][3] == "cat[0][0]"
    x = (torch.randn(2, 3), torch.randn(2, 2))
    with torch.no_grad():
        y = model(*x)
    assert rows[4][1] == str((None, *y.shape[1:])) and rows[0][1] == "(None, 3)"
    assert [r[2] for r in rows] == ["0", "0", "12", "0", "6"]
    assert f"Total params: {sum(p.numel() for p in model.parameters())}" in text


def test_counts_and_names_as_keras():
    # Keras 3.15.1 (torch backend): Sequential([Input((10,)), Dense(5), BatchNormalization(),
    # Dense(3)]).summary() -> dense 55, batch_normalization 20, dense_1 18;
    # Total params: 93, Trainable params: 83, Non-trainable params: 10 (moving mean/variance)
    K.utils.clear_session()
    model = K.Sequential(
        [K.layers.Input((10,)), K.layers.Dense(5), K.layers.BatchNormalization(), K.layers.Dense(3)]
    )
    text = summarize(model)
    rows = [ln.split()[0] for ln in text.splitlines()[4:] if "(" in ln and "params" not in ln]
    assert rows == ["dense", "batch_normalization", "dense_1"]
    assert "Total params: 93" in text and "Trainable params: 83" in text
    assert "Non-trainable params: 10" in text
    assert model.summary() is None


def test_expand_nested_and_show_trainable():
    # Keras's summary(expand_nested=True, show_trainable=True): nested layers indented below
    # their model, a Trainable column of Y / N (frozen) / - (no weights)
    inner = K.Sequential([K.layers.Dense(4), K.layers.BatchNormalization()], name="block")
    model = K.Sequential([K.layers.Input((6,)), inner, K.layers.Dense(2, name="out")])
    inner.layers[0].trainable = False
    lines = summarize(model, expand_nested=True, show_trainable=True).splitlines()
    assert lines[2].split()[-1] == "Trainable"
    rules = [i for i, ln in enumerate(lines) if set(ln) == {"="}]
    table = lines[rules[1] + 1 : rules[2]]
    assert [(ln.startswith("  "), ln.split()[-1]) for ln in table] == [
        (False, "Y"),  # block: some weights train
        (True, "N"),  # its Dense, frozen
        (True, "Y"),  # its BatchNormalization
        (False, "Y"),  # out
    ]
    assert "Trainable params: 18" in "\n".join(lines)  # 4 + 4 of BatchNorm, 10 of out
    plain = summarize(model).splitlines()
    assert not any(ln.startswith("  ") for ln in plain) and "Trainable" not in plain[2]
