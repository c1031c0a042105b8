"""Safe mode: a crafted model file must run nothing (config.json, layers, compile.json)."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.saving.safe_load import Resolver
from tests.saving.edit import edit_json, rewrite

V1_FILE = pathlib.Path(__file__).parent / "data" / "v1_sequential.kerasish"


def _model_file(path):
    model = K.Sequential([nn.Linear(3, 2)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32"), verbose=0)
    model.save(path)
    return path


def _rewrite(src, dst, member, edit):
    """Copy the zip ``src`` to ``dst`` with ``edit(json)`` applied to one JSON member (and the
    digests rewritten to match, as a crafted file would have them)."""
    return rewrite(src, dst, edit_json(member, edit))


def _payload(module, class_name, marker):
    return {
        "package": "custom",
        "module": module,
        "class_name": class_name,
        "config": {"command": f"touch {marker}"},
    }


# (module, qualname) pairs a crafted file may try; none may be resolved in safe mode.
ATTACKS = [
    ("torch", "os.system"),
    ("torch", "sys.modules"),
    ("torch.nn", "modules.module.os.system"),
    ("torch.serialization", "load"),
    ("torch", "load"),
    ("torch.hub", "load"),
    ("torch", "_C._get_tracing_state"),
    ("torch", "__builtins__.eval"),
    ("torch.nn.functional", "torch.os.system"),
    ("kerasish.saving", "os.system"),
    ("kerasish.saving", "importlib.import_module"),
    ("kerasish.saving.atomic", "os.system"),
    ("kerasish.saving.safe_load", "importlib.import_module"),
    ("kerasish.saving.registry", "register_keras_serializable"),
    ("kerasish.layers", "torch.hub.load"),
    ("os", "system"),
    ("builtins", "eval"),
    ("subprocess", "Popen"),
]


def test_architecture_route_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    src = _model_file(tmp_path / "m.kerasish")

    def edit(cfg):
        cfg["architecture"] = _payload("torch", "os.system", marker)

    evil = _rewrite(src, tmp_path / "evil.kerasish", "config.json", edit)
    with pytest.raises(ValueError, match=r"torch\.os\.system.*safe mode refuses") as info:
        K.models.load_model(evil)
    assert "goes through the module 'os'" in str(info.value)
    assert not marker.exists()


def _source(tmp_path, fmt):
    """A model file of the current format, or one written by kerasish 0.1 (``v1``)."""
    return _model_file(tmp_path / "m.kerasish") if fmt == "current" else V1_FILE


def _sequential_layers(cfg, fmt):
    """The layer list of a Sequential's config, and how an entry of it is written."""
    if fmt == "current":  # {"config": {"layers": [{"__module__": layer}, ...]}}
        return cfg["architecture"]["config"]["layers"], lambda layer: {"__module__": layer}
    return cfg["architecture"]["layers"], lambda layer: layer  # v1: {"layers": [layer, ...]}


@pytest.mark.parametrize("fmt", ["current", "v1"])
def test_extra_sequential_layer_route_runs_nothing(tmp_path, fmt):
    marker = tmp_path / "pwned"
    src = _source(tmp_path, fmt)

    def edit(cfg):
        layers, entry = _sequential_layers(cfg, fmt)
        layers.append(entry(_payload("torch", "os.system", marker)))

    evil = _rewrite(src, tmp_path / "evil.kerasish", "config.json", edit)
    with pytest.raises(ValueError, match=r"torch\.os\.system"):
        K.models.load_model(evil)
    assert not marker.exists()


def test_compile_metric_route_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    src = _model_file(tmp_path / "m.kerasish")

    def edit(cfg):
        cfg["metrics"][0]["spec"] = {
            "class": "torch:os.system",
            "config": {"command": f"touch {marker}"},
        }

    evil = _rewrite(src, tmp_path / "evil.kerasish", "compile.json", edit)
    with pytest.raises(ValueError, match=r"torch\.os\.system.*a metric class"):
        K.models.load_model(evil)
    assert not marker.exists()


@pytest.mark.parametrize("route", ["optimizer", "loss_function", "loss_class", "mean_of"])
def test_other_compile_routes_run_nothing(tmp_path, route):
    marker = tmp_path / "pwned"
    src = _model_file(tmp_path / "m.kerasish")

    def edit(cfg):
        if route == "optimizer":
            cfg["optimizer"] = {"torch_class": "torch:os.system"}
        elif route == "loss_function":
            cfg["loss"]["single"] = {"function": "torch:os.system", "config": {}}
        elif route == "loss_class":
            cfg["loss"]["single"] = {"class": "torch:os.system", "config": {}}
        else:
            cfg["metrics"][0]["spec"] = {"mean_of": "torch:os.system", "config": {}}

    evil = _rewrite(src, tmp_path / "evil.kerasish", "compile.json", edit)
    with pytest.raises(ValueError, match="safe mode refuses"):
        K.models.load_model(evil)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["module", "function", "metric", "loss", "optimizer", "class"])
@pytest.mark.parametrize(("module", "qualname"), ATTACKS)
def test_resolver_refuses_every_route_out_of_torch(module, qualname, kind):
    resolver = Resolver(None, safe_mode=True)
    with pytest.raises(ValueError, match="safe mode refuses") as info:
        resolver.ref(f"{module}:{qualname}", kind)
    assert f"{module}.{qualname}" in str(info.value)
    assert "custom_objects" in str(info.value) and "safe_mode=False" in str(info.value)


@pytest.mark.parametrize("fmt", ["current", "v1"])
def test_a_kerasish_attribute_that_is_a_stdlib_module_is_refused(tmp_path, fmt):
    marker = tmp_path / "pwned"
    src = _source(tmp_path, fmt)

    def edit(cfg):
        layers, entry = _sequential_layers(cfg, fmt)
        layers[0] = entry(_payload("kerasish.saving.atomic", "os.system", marker))

    evil = _rewrite(src, tmp_path / "evil.kerasish", "config.json", edit)
    with pytest.raises(ValueError, match="goes through the module 'os'"):
        K.models.load_model(evil)
    assert not marker.exists()


def test_objects_of_the_wrong_kind_are_refused():
    resolver = Resolver(None, safe_mode=True)
    with pytest.raises(ValueError, match="is not an nn.Module class"):
        resolver.ref("torch.optim:SGD", "module")  # real torch class, but not a layer
    with pytest.raises(ValueError, match="is not a tensor function"):
        resolver.ref("torch:compile", "function")  # a Python function of torch's top level
    with pytest.raises(ValueError, match="is not an optimizer class"):
        resolver.ref("torch.nn:Linear", "optimizer")
    with pytest.raises(ValueError, match="is not a metric class"):
        resolver.ref("torch.nn:Linear", "metric")


def test_what_safe_mode_allows_still_resolves():
    resolver = Resolver(None, safe_mode=True)
    assert resolver.ref("torch.nn.modules.linear:Linear", "module") is nn.Linear
    assert resolver.ref("torch.nn.functional:relu", "function") is torch.nn.functional.relu
    assert resolver.ref("torch.nn.functional:gelu", "function") is torch.nn.functional.gelu
    assert resolver.ref("torch:tanh", "function") is torch.tanh
    assert resolver.ref("torch.optim:AdamW", "optimizer") is torch.optim.AdamW
    assert resolver.ref("kerasish.optimizers:Adam", "optimizer") is K.optimizers.Adam
    assert resolver.ref("kerasish.metrics:MeanAbsoluteError", "metric") is (
        K.metrics.MeanAbsoluteError
    )
    assert resolver.ref("kerasish.losses:Huber", "loss") is K.losses.Huber
    assert resolver.ref("torchvision.models.resnet:ResNet", "module").__name__ == "ResNet"


def test_safe_mode_false_is_the_opt_in(tmp_path):
    resolver = Resolver(None, safe_mode=False)
    assert resolver.ref("os.path:join", "function") is __import__("os").path.join
    custom = Resolver({"system": print}, safe_mode=True)
    assert custom.ref("torch:os.system", "function") is print  # the user's own choice
