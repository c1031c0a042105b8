"""register_keras_serializable: Keras's registry, and what it means for model files."""

from __future__ import annotations

import ast
import pathlib

import pytest
import torch
from torch import nn

import kerasish as K
from kerasish import layers as L
from kerasish import saving
from kerasish.saving import get_registered_name, get_registered_object
from kerasish.saving import register_keras_serializable as register
from tests.saving.edit import edit_json, rewrite

PACKAGE = pathlib.Path(saving.__file__).parent


@register(package="tests.saving")
class Shift(nn.Module):
    """A registered user module: safe mode loads it without custom_objects."""

    def __init__(self, offset: float = 1.0):
        super().__init__()
        self.offset = offset

    def forward(self, x):
        return x + self.offset

    def get_config(self):
        return {"offset": self.offset}


@register(package="tests.saving", name="triple")
def triple(x):
    return x * 3


class Unregistered(Shift):
    pass


def _rewrite_config(src, dst, edit):
    def edit_entry(cfg):
        edit(cfg["architecture"]["config"]["layers"][1]["__module__"])

    return rewrite(src, dst, edit_json("config.json", edit_entry))


# --------------------------------------------------------------------------- the API


def test_keras_names_and_lookups():
    assert get_registered_name(Shift) == "tests.saving>Shift"
    assert get_registered_name(triple) == "tests.saving>triple"
    assert get_registered_object("tests.saving>Shift") is Shift
    assert get_registered_name(Unregistered) == "Unregistered"  # Keras: the plain name
    assert get_registered_object("Unregistered") is None
    assert get_registered_object("Unregistered", {"Unregistered": Unregistered}) is Unregistered
    assert get_registered_object("x", None, {"x": len}) is len
    assert get_registered_name(K.Sequential) == "kerasish.models>Sequential"


def test_the_default_package_is_custom_and_classes_need_get_config():
    @register()
    def local_fn(x):
        return x

    assert get_registered_name(local_fn) == "Custom>local_fn"
    with pytest.raises(ValueError, match="get_config"):
        register(package="tests.saving")(type("NoConfig", (), {}))
    with pytest.raises(TypeError, match="Received: package=3"):
        register(package=3)


def test_sequential_config_round_trips():
    model = K.Sequential([nn.Linear(3, 4), nn.ReLU()], name="stack")
    config = model.get_config()
    assert config["name"] == "stack" and config["layers"] == list(model.layers)
    clone = K.Sequential.from_config(config)
    assert clone.name == "stack" and list(clone.layers) == list(model.layers)


# --------------------------------------------------------------------------- model files


def test_registered_objects_load_in_safe_mode_without_custom_objects(tmp_path):
    model = K.Sequential([nn.Linear(3, 2), Shift(2.5), L.Lambda(triple)])
    model.save(tmp_path / "m.kerasish")
    loaded = K.models.load_model(tmp_path / "m.kerasish")  # safe_mode=True, no custom_objects
    assert type(loaded.layers[1]) is Shift and loaded.layers[1].offset == 2.5
    assert loaded.layers[2].function is triple
    x = torch.randn(4, 3)
    assert torch.equal(loaded(x), model(x))


def test_a_registered_class_is_found_by_its_name_when_its_module_moved(tmp_path):
    K.Sequential([nn.Linear(3, 2), Shift(2.0)]).save(tmp_path / "m.kerasish")

    def move(entry):
        assert entry["registered_name"] == "tests.saving>Shift"
        entry["module"] = "somewhere.else"

    loaded = K.models.load_model(_rewrite_config(tmp_path / "m.kerasish", tmp_path / "a", move))
    assert type(loaded.layers[1]) is Shift

    def forget(entry):
        move(entry)
        del entry["registered_name"]

    with pytest.raises(ValueError, match="safe mode refuses"):
        K.models.load_model(_rewrite_config(tmp_path / "m.kerasish", tmp_path / "b", forget))


def test_unregistered_classes_still_need_custom_objects(tmp_path):
    K.Sequential([nn.Linear(3, 2), Unregistered(1.0)]).save(tmp_path / "m.kerasish")
    with pytest.raises(ValueError, match=r"custom_objects=\{'Unregistered': Unregistered\}"):
        K.models.load_model(tmp_path / "m.kerasish")
    loaded = K.models.load_model(
        tmp_path / "m.kerasish", custom_objects={"Unregistered": Unregistered}
    )
    assert type(loaded.layers[1]) is Unregistered


def test_a_registered_name_must_name_a_module_class_at_a_module_place(tmp_path):
    K.Sequential([nn.Linear(3, 2), Shift(2.0)]).save(tmp_path / "m.kerasish")

    def to_function(entry):
        entry["registered_name"] = "tests.saving>triple"

    evil = _rewrite_config(tmp_path / "m.kerasish", tmp_path / "evil", to_function)
    with pytest.raises(ValueError, match="Expected registered_name to name an nn.Module class"):
        K.models.load_model(evil)


# --------------------------------------------------------------------------- layering


def _imports(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:  # from a import b: "a.b"
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_saving_imports_neither_models_nor_training(path):
    """Not even lazily: models register themselves and are read through public seams."""
    bad = {
        n
        for n in _imports(path)
        if n == "kerasish"  # the package's __init__ imports models
        or n.startswith(("kerasish.models", "kerasish.training", "kerasish.trainer"))
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_mixin_methods_are_the_module_functions():
    assert saving.SavingMixin.load_weights is saving.load_weights
    assert saving.SavingMixin.save_weights is saving.save_weights
    assert saving.SavingMixin.save is saving.save_model
    assert saving.SavingMixin.export is saving.export_model
