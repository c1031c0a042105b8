"""Configs of models: get_config/from_config, to_json/model_from_json, model files of
functional models, and clone_model (same architecture, new weights)."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.models import Functional, Input, clone_model, model_from_json
from kerasish.saving import register_keras_serializable
from kerasish.saving.configs import to_json


@register_keras_serializable()  # Keras's defaults: package="Custom", name=the class name
class Gate(nn.Module):
    """A registered user module with a config."""

    def __init__(self, units: int = 3):
        super().__init__()
        self.units = units
        self.proj = nn.Linear(units, units)

    def forward(self, x):
        return x * torch.sigmoid(self.proj(x))

    def get_config(self):
        return {"units": self.units}


@register_keras_serializable(package="Custom", name="TwoLayer")
class TwoLayer(K.Model):
    """A registered subclassed model."""

    def __init__(self, hidden: int = 5):
        super().__init__()
        self.hidden = hidden
        self.a, self.b = nn.Linear(3, hidden), nn.Linear(hidden, 2)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))

    def get_config(self):
        return {"hidden": self.hidden}


def _graph() -> Functional:
    torch.manual_seed(0)
    a, b = Input((3,), name="a"), Input((4,), name="b")
    gated = Gate(3)(a)
    joined = torch.cat([K.layers.Dense(4, name="proj")(gated), b], dim=1)
    out = nn.Linear(8, 2)(joined)[:, :1] * 2.0 + joined[..., 0:1]
    return Functional({"a": a, "b": b}, {"y": out, "h": nn.functional.relu(joined)}, name="g")


def _batch() -> dict[str, torch.Tensor]:
    return {"a": torch.randn(5, 3), "b": torch.randn(5, 4)}


def _same(x: dict, y: dict) -> bool:
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


def test_register_keras_serializable_takes_keras_signature():
    assert K.saving.get_registered_name(Gate) == "Custom>Gate"
    assert K.saving.get_registered_object("Custom>TwoLayer") is TwoLayer


def test_functional_json_round_trip_rebuilds_the_graph():
    model = _graph()
    text = to_json(model)
    cfg = json.loads(text)
    assert cfg["registered_name"] == "kerasish.models>Functional"
    assert [n["layer"] for n in cfg["config"]["nodes"]][:3] == [0, 1, None]
    twin = model_from_json(text)  # safe mode: every name is registered or torch/kerasish
    assert isinstance(twin, Functional) and twin.name == "g"
    assert twin.layer_names == model.layer_names and twin.output_names == ["y", "h"]
    twin.load_state_dict(model.state_dict())
    data = _batch()
    assert _same(twin(**data), model(**data))
    assert to_json(twin) == text


def test_functional_model_file_round_trip(tmp_path):
    model = _graph()
    model.compile(optimizer="adam", loss={"y": "mse", "h": "mae"})
    data = _batch()
    model.fit(data, {"y": torch.randn(5, 1), "h": torch.randn(5, 8)}, epochs=1, verbose=0)
    model.save(tmp_path / "g.kerasish")
    restored = K.models.load_model(tmp_path / "g.kerasish")
    assert type(restored) is Functional and restored.compiled
    model.eval(), restored.eval()
    assert _same(restored(**data), model(**data))


def test_an_unregistered_class_in_a_graph_is_refused_in_safe_mode():
    class Local(nn.Module):
        def forward(self, x):
            return x

        def get_config(self):
            return {}

    x = Input((2,))
    text = to_json(Functional(x, Local()(nn.Linear(2, 2)(x))))
    with pytest.raises(ValueError, match="custom_objects"):
        model_from_json(text)
    assert isinstance(model_from_json(text, custom_objects={"Local": Local}), Functional)


def test_sequential_config_and_json_round_trip():
    model = K.Sequential([nn.Linear(3, 4), nn.ReLU(), K.layers.Dense(2)], name="stack")
    model.build((None, 3))
    twin = K.Sequential.from_config(json.loads(to_json(model))["config"] | {"layers": []})
    assert twin.name == "stack"
    rebuilt = model_from_json(to_json(model))
    rebuilt.build((None, 3))
    rebuilt.load_state_dict(model.state_dict())
    x = torch.randn(4, 3)
    assert torch.equal(rebuilt(x), model(x))


@pytest.mark.parametrize("kind", ["functional", "sequential", "subclassed"])
def test_clone_model_has_the_architecture_and_new_weights(kind):
    torch.manual_seed(0)
    if kind == "functional":
        x = Input((3,))
        model = Functional(x, nn.Linear(5, 2)(Gate(5)(K.layers.Dense(5)(x))))
    elif kind == "sequential":
        model = K.Sequential([K.layers.Dense(5), nn.ReLU(), nn.Linear(5, 2)])
        model.build((None, 3))
    else:
        model = TwoLayer(hidden=5)
        model.build((None, 3))
    twin = clone_model(model)
    assert type(twin) is type(model)
    ours, theirs = model.state_dict(), twin.state_dict()
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}
    assert not any(a.data_ptr() == b.data_ptr() for a, b in zip(ours.values(), theirs.values()))
    assert not all(torch.equal(ours[k], theirs[k]) for k in ours)  # re-initialised
    twin.load_state_dict(ours)
    data = torch.randn(4, 3)
    assert torch.equal(twin(data), model(data))


def test_clone_model_with_a_clone_function_and_new_input_tensors():
    x = Input((3,))
    model = Functional(x, nn.Linear(3, 2)(x))
    twin = clone_model(model, clone_function=lambda layer: layer)  # Keras: shares the layer
    assert twin.layers[0] is model.layers[0]
    new_input = Input((3,), name="fresh")
    other = clone_model(model, input_tensors=new_input)
    assert other.inputs[0] is new_input and type(other.layers[0]) is nn.Linear
    assert other.layers[0] is not model.layers[0]
