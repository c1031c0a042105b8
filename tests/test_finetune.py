"""Freezing, fine_tune and discriminative learning rates.

Frozen weights must stay bit-identical (torch.equal) through fit while the head changes; a
change of ``trainable`` after compile takes effect at the next fit; unfreezing trains them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

import kerasish as K
from kerasish import applications as A
from kerasish import finetune as FT
from tests.conftest import params_of, same_params


@pytest.fixture
def images():
    g = torch.Generator().manual_seed(0)
    return torch.rand(48, 3, 32, 32, generator=g), torch.randint(0, 5, (48,), generator=g)


def issue_model(base: nn.Module) -> K.Sequential:
    """The issue's head: Dense(256, relu), Dropout(0.5), Dense(5) (smaller here)."""
    return K.Sequential(
        [base, K.layers.Dense(16, activation="relu"), K.layers.Dropout(0.5), K.layers.Dense(5)]
    )


def head_params(model: K.Sequential) -> list[torch.Tensor]:
    return [p.detach().clone() for layer in list(model.layers)[1:] for p in layer.parameters()]


def buffers_of(module: nn.Module) -> list[torch.Tensor]:
    return [b.detach().clone() for b in module.buffers()]


# --------------------------------------------------------------------------- freezing


def test_issue_example_frozen_then_unfrozen(images):
    x, y = images
    base = A.MobileNetV3Small(weights=None, include_top=False, pooling="avg")
    base.trainable = False
    model = issue_model(base)
    model.compile(
        optimizer=K.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.build((None, 3, 32, 32))
    frozen, stats, head = params_of(base), buffers_of(base), head_params(model)
    model.fit(x, y, validation_data=(x, y), batch_size=16, epochs=2, verbose=0)
    assert same_params(frozen, params_of(base))
    assert same_params(stats, buffers_of(base))  # frozen BatchNorm ran in inference mode
    assert not same_params(head, head_params(model))

    base.trainable = True  # takes effect in the next fit
    model.compile(optimizer=K.optimizers.Adam(1e-5), loss="sparse_categorical_crossentropy")
    model.fit(x, y, validation_data=(x, y), batch_size=16, epochs=1, verbose=0)
    after = params_of(base)
    assert sum(not torch.equal(a, b) for a, b in zip(frozen, after)) == len(after)


def test_trainable_change_after_compile_takes_effect_at_next_fit(images):
    x, y = images
    base = A.ResNet18(weights=None, include_top=False, pooling="avg")
    model = issue_model(base)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # everything trains, Adam has state
    base.trainable = False  # no re-compile
    frozen, head = params_of(base), head_params(model)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert same_params(frozen, params_of(base))  # momentum does not move frozen weights
    assert not same_params(head, head_params(model))
    base.trainable = True  # no re-compile either
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert not same_params(frozen, params_of(base))


def test_frozen_batchnorm_runs_in_inference_mode():
    base = A.MobileNetV3Small(weights=None, include_top=False, pooling="avg")
    model = issue_model(base)
    base.trainable = False
    model.train()
    bns = [m for m in base.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and not any(m.training for m in bns)
    base.trainable = True
    model.train()
    assert all(m.training for m in bns)


def test_freeze_unfreeze_and_utils(images):
    base = A.ResNet18(weights=None, include_top=False, pooling="avg")
    assert base.freeze() is base and not base.trainable
    assert base.unfreeze().trainable
    K.utils.freeze(base.net.layer1)
    assert not any(p.requires_grad for p in base.net.layer1.parameters())
    assert base.trainable  # other parameters still train


def test_layer_trainable_property(images):
    x = torch.rand(32, 4)
    y = torch.randint(0, 3, (32,))
    first, last = K.layers.Dense(8), K.layers.Dense(3)
    first.trainable = False  # before it is built: the lazy weights take it
    model = K.Sequential([first, last])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.build((None, 4))
    assert first.trainable is False and last.trainable is True
    frozen, head = params_of(first), params_of(last)
    model.fit(x, y, epochs=2, verbose=0)
    assert same_params(frozen, params_of(first)) and not same_params(head, params_of(last))
    assert K.layers.Dropout(0.5).trainable is True  # no parameters
    with pytest.raises(TypeError, match="Received: trainable=1"):
        first.trainable = 1


# --------------------------------------------------------------------------- blocks and groups


def test_blocks_follow_application_stages_then_layers():
    base = A.VGG16(weights=None, include_top=False, pooling="avg")
    model = issue_model(base)
    model.build((None, 3, 32, 32))
    found = FT.blocks(model)
    assert len(found) == 5 + 2  # VGG's five conv blocks, then the two Dense layers
    ids = [id(p) for b in found for p in b]
    assert sorted(ids) == sorted(id(p) for p in model.parameters())
    wrapped = K.Model.wrap(torchvision.models.resnet18(weights=None))
    assert len(FT.blocks(wrapped)) == 7  # conv1, bn1, layer1..4, fc
    full = A.ResNet18(weights=None)
    assert len(FT.blocks(full)) == 6  # the classifier is the last stage


def test_param_groups_decay_and_build(images):
    x, y = images
    base = A.ResNet18(weights=None, include_top=False, pooling="avg")
    model = K.Sequential([base, K.layers.Dense(5)])
    model.build((None, 3, 32, 32))
    groups = FT.param_groups(model, 1e-3, decay=0.5)
    assert [g["lr"] for g in groups] == pytest.approx([1e-3 * 0.5**k for k in range(5, -1, -1)])
    opt = K.optimizers.Adam(1e-3).build(groups)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert model.optimizer is opt
    with pytest.raises(ValueError, match="Received: decay=0"):
        FT.param_groups(model, 1e-3, decay=0)


def test_discriminative_recipe_in_compile(images):
    x, y = images
    base = A.MobileNetV3Small(weights=None, include_top=False, pooling="avg")
    model = K.Sequential([base, K.layers.Dense(5)])
    opt = FT.Discriminative(K.optimizers.Adam(1e-3, clipnorm=1.0), model, decay=0.8)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # the Dense is built by now
    lrs = [g["lr"] for g in model.optimizer.param_groups]
    assert len(lrs) == len(base.stages()) + 1 and lrs[-1] == pytest.approx(1e-3)
    assert lrs == sorted(lrs)
    held = {id(p) for g in model.optimizer.param_groups for p in g["params"]}
    assert held == {id(p) for p in model.parameters()}
    with pytest.raises(TypeError, match="optimizer recipe"):
        FT.Discriminative(torch.optim.SGD(model.parameters(), lr=0.1), model)


# --------------------------------------------------------------------------- fine_tune


def test_fine_tune_two_phases(images):
    x, y = images
    base = A.ResNet18(weights=None, include_top=False, pooling="avg")
    model = issue_model(base)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.build((None, 3, 32, 32))
    start, head = params_of(base), head_params(model)
    snapshots = []

    rates = []

    class Spy(K.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rates.append(self.model.optimizer.param_groups[0]["lr"])

        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((epoch, params_of(base), [p.requires_grad for p in base.parameters()]))

    history = FT.fine_tune(
        model,
        x,
        y,
        base=base,
        epochs=2,
        freeze_epochs=1,
        learning_rate=1e-3,
        fine_tune_learning_rate=1e-4,
        train_batchnorm=True,
        batch_size=16,
        callbacks=[Spy()],
        validation_data=(x, y),
        verbose=0,
    )
    assert [s[0] for s in snapshots] == [0, 1, 2]
    assert same_params(start, snapshots[0][1]) and not any(snapshots[0][2])
    assert not same_params(start, snapshots[1][1]) and all(snapshots[1][2])
    assert not same_params(head, head_params(model))
    assert history.epoch == [0, 1, 2] and model.history is history
    assert rates == pytest.approx([1e-3, 1e-4, 1e-4])  # each epoch's (Keras: not in logs)
    assert "learning_rate" not in history.history
    assert len(history.history["val_accuracy"]) == 3
    assert base.trainable


def test_fine_tune_keeps_batchnorm_frozen_by_default(images):
    x, y = images
    base = A.ResNet18(weights=None, include_top=False, pooling="avg")
    model = issue_model(base)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.build((None, 3, 32, 32))
    bns = [m for m in base.modules() if isinstance(m, nn.BatchNorm2d)]
    convs = [m.weight for m in base.modules() if isinstance(m, nn.Conv2d)]
    bn_state = [t.clone() for m in bns for t in m.state_dict().values()]
    conv_start = [w.detach().clone() for w in convs]
    FT.fine_tune(model, x, y, base=base, epochs=1, freeze_epochs=1, batch_size=16, verbose=0)
    assert same_params(bn_state, [t for m in bns for t in m.state_dict().values()])
    assert not any(torch.equal(a, b) for a, b in zip(conv_start, convs))
    model.train()
    assert not any(m.training for m in bns)
    assert FT.freeze_batchnorm(nn.Sequential(nn.BatchNorm1d(3)))[0].weight.requires_grad is False


def test_fine_tune_keeps_the_compiled_optimizer_kind_and_decays(images):
    x, y = images
    base = A.MobileNetV3Small(weights=None, include_top=False, pooling="avg")
    model = K.Sequential([base, K.layers.Dense(5)])
    model.compile(
        optimizer=K.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy"
    )
    FT.fine_tune(model, x, y, base=base, epochs=1, freeze_epochs=0, lr_decay=0.5, verbose=0)
    opt = model.optimizer
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["momentum"] == 0.9
    recipe = model.compile_config.optimizer  # the phase's recipe replaced the compiled one
    assert isinstance(recipe, FT.Discriminative) and recipe.learning_rate == pytest.approx(1e-5)
    lrs = [g["lr"] for g in opt.param_groups]
    assert lrs[-1] == pytest.approx(1e-5) and lrs[0] == pytest.approx(1e-5 * 0.5 ** (len(lrs) - 1))


def test_fine_tune_errors(images):
    x, y = images
    base = A.MobileNetV3Small(weights=None, include_top=False, pooling="avg")
    model = K.Sequential([base, K.layers.Dense(5)])
    with pytest.raises(RuntimeError, match="compile"):
        FT.fine_tune(model, x, y, base=base, epochs=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="sub-module"):
        FT.fine_tune(model, x, y, base=nn.Linear(2, 2), epochs=1)
    with pytest.raises(ValueError, match="Received: epochs=0"):
        FT.fine_tune(model, x, y, base=base, epochs=0)
    with pytest.raises(TypeError, match="initial_epoch"):
        FT.fine_tune(model, x, y, base=base, epochs=1, initial_epoch=1)
    with pytest.raises(ValueError, match="Received: fine_tune_learning_rate=0"):
        FT.fine_tune(model, x, y, base=base, epochs=1, fine_tune_learning_rate=0)
    with pytest.raises(ValueError, match="Received: lr_decay=1.5"):
        FT.fine_tune(model, x, y, base=base, epochs=1, lr_decay=1.5)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 1)
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", lr_scheduler=sched)
    with pytest.raises(ValueError, match="scheduler instance"):
        FT.fine_tune(model, x, y, base=base, epochs=1)


# --------------------------------------------------------------------------- examples


def load_example(name: str):
    path = Path(__file__).parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, argv",
    [
        ("finetune_alexnet", ["--limit", "96"]),
        ("finetune_vgg16", ["--limit", "64", "--image-size", "32"]),
    ],
)
def test_finetune_examples_learn_the_digits(name, argv, capsys):
    quick = "--quick --weights none --batch-size 16 --epochs 3 --verbose 0".split()
    logs = load_example(name).main(quick + argv)
    assert logs["accuracy"] > 0.2  # chance is 0.1 (random weights, ~100 digits, a few epochs)
    assert "validation accuracy after fine-tuning" in capsys.readouterr().out
