"""kerasish.optimizers: get(), Keras's defaults mapped to torch's, clipping, TorchClass."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from kerasish import optimizers as O


def _params():
    return nn.Linear(3, 2).parameters()


@pytest.mark.parametrize(
    "name, cls, torch_cls",
    [
        ("sgd", O.SGD, torch.optim.SGD),
        ("adam", O.Adam, torch.optim.Adam),
        ("AdamW", O.AdamW, torch.optim.AdamW),
        ("rmsprop", O.RMSprop, torch.optim.RMSprop),
        ("adagrad", O.Adagrad, torch.optim.Adagrad),
        ("adadelta", O.Adadelta, torch.optim.Adadelta),
        ("adamax", O.Adamax, torch.optim.Adamax),
        ("nadam", O.Nadam, torch.optim.NAdam),
    ],
)
def test_get_names_build_the_torch_optimizer(name, cls, torch_cls):
    opt = O.get(name)
    assert type(opt) is cls
    built = opt.build(_params())  # torch's class, with Keras's attributes added
    assert isinstance(built, torch_cls) and type(built).__name__ == torch_cls.__name__


def test_get_objects_classes_and_instances():
    recipe = O.Adam(1e-2)
    assert O.get(recipe) is recipe
    assert type(O.get(O.RMSprop)) is O.RMSprop
    torch_opt = torch.optim.SGD(_params(), lr=0.1)
    assert O.get(torch_opt) is torch_opt
    wrapped = O.get(torch.optim.Adagrad)
    assert isinstance(wrapped, O.TorchClass) and wrapped.torch_class is torch.optim.Adagrad


@pytest.mark.parametrize("bad", ["adamm", 3, nn.Linear])
def test_get_unknown_raises_with_names(bad):
    with pytest.raises(ValueError, match=r"Could not interpret optimizer identifier.*'adam'"):
        O.get(bad)


def test_keras_defaults_reach_torch():
    group = O.Adam().build(_params()).param_groups[0]
    assert group["lr"] == 0.001 and group["eps"] == 1e-7 and group["betas"] == (0.9, 0.999)
    assert O.SGD().build(_params()).param_groups[0]["lr"] == 0.01
    rms = O.RMSprop().build(_params()).param_groups[0]
    assert rms["alpha"] == 0.9 and rms["eps"] == 1e-7
    assert O.Adagrad().build(_params()).param_groups[0]["initial_accumulator_value"] == 0.1
    assert O.Adadelta().build(_params()).param_groups[0]["rho"] == 0.95
    assert O.AdamW().build(_params()).param_groups[0]["weight_decay"] == 0.004


def test_adam_weight_decay_is_decoupled_as_in_keras():
    group = O.Adam(weight_decay=0.1).build(_params()).param_groups[0]
    assert group["weight_decay"] == 0.1 and group["decoupled_weight_decay"] is True
    assert "weight_decay" not in O.Adam().torch_kwargs()


def test_get_config_lists_the_arguments():
    config = O.SGD(0.1, momentum=0.9, clipnorm=1.0).get_config()
    assert config == {
        "class_name": "SGD",
        "learning_rate": 0.1,
        "weight_decay": None,
        "clipnorm": 1.0,
        "clipvalue": None,
        "global_clipnorm": None,
        "momentum": 0.9,
        "nesterov": False,
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"learning_rate": -1.0}, "Expected learning_rate"),
        ({"clipnorm": -1.0}, "Expected clipnorm"),
        ({"clipnorm": 1.0, "global_clipnorm": 1.0}, "Expected at most one"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        O.Adam(**kwargs)
    with pytest.raises(ValueError, match="Expected momentum > 0 with nesterov"):
        O.SGD(nesterov=True)


def _grads(*values):
    params = [nn.Parameter(torch.zeros(len(v))) for v in values]
    for p, v in zip(params, values):
        p.grad = torch.tensor(v)
    return params


def test_clipping_matches_torch():
    assert not O.Clipping() and O.Clipping(clipvalue=1.0)
    params = _grads([3.0, -4.0], [0.5, 0.5])
    O.clip_gradients(params, O.Clipping(clipvalue=1.0))
    assert params[0].grad.tolist() == [1.0, -1.0] and params[1].grad.tolist() == [0.5, 0.5]
    params = _grads([3.0, 4.0], [0.3, 0.4])
    O.clip_gradients(params, O.Clipping(clipnorm=1.0))  # each tensor to norm 1
    assert params[0].grad.norm().item() == pytest.approx(1.0)
    assert params[1].grad.tolist() == pytest.approx([0.3, 0.4])
    params = _grads([3.0, 4.0], [0.0, 0.0])
    O.clip_gradients(params, O.Clipping(global_clipnorm=1.0))
    norm = torch.cat([p.grad for p in params]).norm().item()
    assert norm == pytest.approx(1.0)


def test_clipping_skips_params_without_grads():
    params = _grads([3.0, 4.0]) + [nn.Parameter(torch.zeros(2))]
    O.clip_gradients(params, O.Clipping(clipvalue=1.0, global_clipnorm=1.0))
    assert params[1].grad is None


def test_torch_class_uses_torch_defaults_and_no_clipping():
    recipe = O.TorchClass(torch.optim.Adam)
    assert not recipe.clipping and recipe.torch_kwargs() == {}
    opt = recipe.build(_params())
    assert isinstance(opt, torch.optim.Adam) and type(opt).__name__ == "Adam"
    assert opt.param_groups[0]["lr"] == torch.optim.Adam(_params()).param_groups[0]["lr"]
    assert recipe.get_config() == {"class_name": "Adam", "torch": True}
