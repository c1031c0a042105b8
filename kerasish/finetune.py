"""Fine-tuning: train a new head on a frozen backbone, then unfreeze at lower learning rates.

``fine_tune(model, x, base=..., epochs=...)`` runs the two phases of the usual recipe (Keras's
transfer-learning guide, fastai's ``fine_tune``). Discriminative learning rates give earlier
blocks smaller steps: ``blocks(model)`` splits a model's parameters into blocks from input to
output (a kerasish application contributes its stages, every other layer with parameters is a
block), ``param_groups`` turns them into torch param groups whose learning rate decays by
``decay`` per block from the output down, and ``Discriminative`` is the same as an optimizer
recipe that ``compile`` accepts.

Example:
    The base is usually a pretrained backbone (``weights="imagenet"`` downloads its weights
    once); any sub-module of the model can be the base, such as the small stand-in that the
    example trains offline.

    >>> base = K.applications.ResNet18(weights="imagenet", include_top=False, pooling="avg")  # doctest: +SKIP
    >>> base = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
    ...                      nn.AdaptiveAvgPool2d(1), nn.Flatten())
    >>> model = K.Sequential([base, K.layers.Dense(5)])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    >>> images, labels = torch.rand(16, 3, 32, 32), torch.randint(0, 5, (16,))
    >>> history = fine_tune(model, images, labels, base=base, epochs=2, verbose=0)
    >>> history.epoch  # 1 epoch with base frozen, then 2 with everything training
    [0, 1, 2]
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import torch
from torch import nn

from kerasish import optimizers
from kerasish.callbacks.history import History
from kerasish.saving import get_registered_object

__all__ = ["Discriminative", "blocks", "fine_tune", "freeze_batchnorm", "param_groups"]

_BATCHNORM = nn.modules.batchnorm._BatchNorm

Block = list[nn.Parameter]
# kerasish.models registers these; finetune looks them up instead of importing kerasish.models
# (which imports finetune for Model.fine_tune).
_SEQUENTIAL, _WRAPPED = "kerasish.models>Sequential", "kerasish.models>Wrapped"


# --------------------------------------------------------------------------- blocks


def blocks(model: nn.Module) -> list[Block]:
    """Split ``model``'s parameters into blocks, from input to output.

    A module whose class has a ``stages()`` method (an
    :class:`~kerasish.applications.Application`) contributes its stages; a ``Sequential`` (or a module holding an application) is walked
    layer by layer, a ``Model.wrap`` model through its ``net``; any other layer with
    parameters is one block; a model's own loose parameters join the last block. Every
    parameter is in exactly one block.

    Example:
        >>> base = K.applications.ResNet18(weights=None, include_top=False, pooling="avg")
        >>> len(blocks(K.Sequential([base, K.layers.Dense(5)])))  # 5 ResNet stages + the head
        6
    """
    out = [b for b in _blocks(model, top=True) if b]
    seen: set[int] = set()
    unique = []
    for block in out:
        block = [p for p in block if id(p) not in seen]
        seen.update(id(p) for p in block)
        if block:
            unique.append(block)
    rest = [p for p in model.parameters() if id(p) not in seen]
    if rest and unique:
        unique[-1] = unique[-1] + rest
    elif rest:
        unique = [rest]
    return unique


def _blocks(module: nn.Module, top: bool) -> list[Block]:
    if _has_stages(module):
        return module.stages()
    if _is_registered(module, _WRAPPED):
        return _blocks(module.net, top)
    if not (top or _holds_application(module)):
        return [list(module.parameters())]
    out: list[Block] = []
    for child in _children(module):
        out += _blocks(child, top=False)
    return out


def _has_stages(module: nn.Module) -> bool:
    """An application: its class splits its parameters into ``stages()`` (a method, not a
    sub-module that happens to be called ``stages``)."""
    return inspect.isfunction(getattr(type(module), "stages", None))


def _is_registered(module: nn.Module, name: str) -> bool:
    cls = get_registered_object(name)
    return cls is not None and isinstance(module, cls)


def _children(module: nn.Module) -> list[nn.Module]:
    if _is_registered(module, _SEQUENTIAL):
        return list(module.layers)
    return list(module.children())


def _holds_application(module: nn.Module) -> bool:
    return any(_has_stages(m) for m in module.modules())


# --------------------------------------------------------------------------- param groups


def param_groups(
    model: nn.Module, learning_rate: float, *, decay: float = 0.75
) -> list[dict[str, Any]]:
    """Torch param groups with learning rates decaying from the output block down.

    The last block (the head) gets ``learning_rate``, the one before ``learning_rate * decay``,
    then ``learning_rate * decay**2``, and so on (see :func:`blocks`).

    Args:
        model: the model (any ``nn.Module``).
        learning_rate: the head's learning rate.
        decay: the factor per block, in (0, 1]; 1 gives every block the same rate.

    Returns:
        A list of ``{"params": [...], "lr": float}`` dicts, input side first, for any torch
        optimizer or ``kerasish.optimizers.Adam(...).build(groups)``.

    Raises:
        ValueError: for a non-positive learning rate or a decay outside (0, 1].

    Example:
        >>> groups = param_groups(model, 1e-4, decay=0.5)  # model: Input, Flatten, Dense, Dense
        >>> [g["lr"] for g in groups]
        [5e-05, 0.0001]
        >>> opt = K.optimizers.Adam(1e-4).build(groups)
        >>> model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    """
    _check_rate("learning_rate", learning_rate)
    _check_decay("decay", decay)
    found = blocks(model)
    last = len(found) - 1
    return [{"params": b, "lr": learning_rate * decay ** (last - i)} for i, b in enumerate(found)]


class Discriminative(optimizers.Optimizer):
    """An optimizer recipe whose learning rate decays per block (for ``compile``).

    Args:
        optimizer: a kerasish optimizer recipe or name; its learning rate is the head's.
        model: the model whose blocks set the groups (see :func:`blocks`).
        decay: the factor per block, in (0, 1].

    Raises:
        ValueError / TypeError: for a bad decay, or an optimizer that is not a recipe.

    Example:
        >>> model.compile(optimizer=Discriminative(K.optimizers.Adam(1e-4), model, decay=0.5),
        ...               loss="sparse_categorical_crossentropy")
    """

    def __init__(self, optimizer: Any, model: nn.Module, *, decay: float = 0.75):
        inner = optimizers.get(optimizer)
        if not isinstance(inner, optimizers.Optimizer) or inner.learning_rate is None:
            raise TypeError(
                "Expected a kerasish optimizer recipe or name, such as "
                f"optimizers.Adam(1e-4). Received: optimizer={optimizer!r}"
            )
        if not isinstance(inner.learning_rate, int | float):
            raise TypeError(
                "Expected a number as the learning rate of a Discriminative optimizer (each "
                "block's rate is a multiple of it; a LearningRateSchedule is not supported "
                f"here). Received: learning_rate={inner.learning_rate!r}"
            )
        param_groups(model, inner.learning_rate, decay=decay)  # validates decay early
        self.inner = inner
        self.model = model
        self.decay = decay
        self.learning_rate = inner.learning_rate
        self.weight_decay = inner.weight_decay
        self.clipping = inner.clipping
        self.kwargs = inner.kwargs

    def build(self, params: Any) -> torch.optim.Optimizer:
        """The inner optimizer over ``params`` in per-block groups (params outside the model's
        blocks join the head's group)."""
        wanted = list(params)
        keep = {id(p) for p in wanted}
        groups = param_groups(self.model, self.learning_rate, decay=self.decay)
        for g in groups:
            g["params"] = [p for p in g["params"] if id(p) in keep]
        covered = {id(p) for g in groups for p in g["params"]}
        groups[-1]["params"] += [p for p in wanted if id(p) not in covered]
        return self.inner.build([g for g in groups if g["params"]])

    def get_config(self) -> dict[str, Any]:
        return {**self.inner.get_config(), "discriminative_decay": self.decay}

    def __repr__(self) -> str:
        return f"Discriminative({self.inner!r}, decay={self.decay})"


# --------------------------------------------------------------------------- fine_tune


def freeze_batchnorm(module: nn.Module) -> nn.Module:
    """Freeze every BatchNorm layer in ``module``; returns it.

    Inside a kerasish model, BatchNorm layers whose parameters are all frozen run in
    inference mode, so their (pretrained) running statistics stay as they are: Keras's
    advice for fine-tuning an unfrozen base.

    Example:
        >>> base = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())
        >>> base = freeze_batchnorm(base)  # everything trains but the BatchNorm layers
        >>> [p.requires_grad for p in base.parameters()]  # conv w, b; batchnorm w, b
        [True, True, False, False]
    """
    for m in module.modules():
        if isinstance(m, _BATCHNORM):
            m.requires_grad_(False)
    return module


def fine_tune(
    model: Any,
    x: Any = None,
    y: Any = None,
    *,
    base: nn.Module,
    epochs: int,
    freeze_epochs: int = 1,
    learning_rate: float = 1e-3,
    fine_tune_learning_rate: float = 1e-5,
    lr_decay: float = 1.0,
    train_batchnorm: bool = False,
    **fit_kwargs: Any,
) -> History:
    """Train the head with ``base`` frozen, then everything at a lower learning rate.

    Phase 1 runs ``freeze_epochs`` epochs with ``base`` frozen (its BatchNorm layers in
    inference mode) at ``learning_rate``; phase 2 unfreezes ``base`` and runs ``epochs`` more
    at ``fine_tune_learning_rate`` (decaying by ``lr_decay`` per block towards the input when
    it is below 1), its BatchNorm layers kept frozen and in inference mode unless
    ``train_batchnorm=True`` (Keras's advice: batch statistics of a small dataset would
    overwrite the pretrained ones). Each phase gets a fresh optimizer of the compiled kind:
    the compiled recipe (clipping and betas kept) or torch optimizer class and settings, at
    the phase's rate. Loss, metrics and the other compile settings stay. ``base`` is left
    as phase 2 trained it.

    Args:
        model: a compiled kerasish model containing ``base``.
        x, y: the training data, as for ``fit``.
        base: the pretrained part to freeze, then unfreeze (any sub-module of ``model``).
        epochs: epochs of phase 2 (the total is ``freeze_epochs + epochs``).
        freeze_epochs: epochs of phase 1 (0 skips it).
        learning_rate: phase 1's learning rate.
        fine_tune_learning_rate: phase 2's learning rate (the head's, with ``lr_decay``).
        lr_decay: phase 2's per-block factor in (0, 1] (see :func:`param_groups`).
        train_batchnorm: train ``base``'s BatchNorm layers in phase 2 too (batch statistics).
        **fit_kwargs: passed to both ``fit`` calls (``validation_data``, ``callbacks``, ...).

    Returns:
        A ``History`` of both phases (epochs numbered across them); also ``model.history``.

    Raises:
        RuntimeError: when the model is not compiled.
        ValueError / TypeError: for bad arguments, before anything trains.

    Example:
        >>> base = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
        ...                      nn.AdaptiveAvgPool2d(1), nn.Flatten())  # or a pretrained backbone
        >>> model = K.Sequential([base, K.layers.Dense(5)])
        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        >>> images, labels = torch.rand(16, 3, 32, 32), torch.randint(0, 5, (16,))
        >>> history = fine_tune(model, images, labels, base=base, epochs=2, verbose=0,
        ...                     validation_split=0.25, lr_decay=0.5)
        >>> len(history.history["loss"]), len(history.history["val_loss"])  # 1 + 2 epochs
        (3, 3)
    """
    _check_fine_tune(model, base, epochs, freeze_epochs, fit_kwargs)
    _check_rate("learning_rate", learning_rate)
    _check_rate("fine_tune_learning_rate", fine_tune_learning_rate)
    _check_decay("lr_decay", lr_decay)
    spec = model.compile_config.optimizer
    phase2 = _recipe(spec, fine_tune_learning_rate)
    if lr_decay != 1:
        phase2 = Discriminative(phase2, model, decay=lr_decay)
    histories = []
    if freeze_epochs:
        _set_trainable(model, base, False)
        _use_optimizer(model, _recipe(spec, learning_rate))
        histories.append(model.fit(x, y, epochs=freeze_epochs, **fit_kwargs))
    _set_trainable(model, base, True)
    if not train_batchnorm:
        freeze_batchnorm(base)
        model.train(model.training)
    _use_optimizer(model, phase2)
    end = freeze_epochs + epochs
    histories.append(model.fit(x, y, epochs=end, initial_epoch=freeze_epochs, **fit_kwargs))
    model.history = _merge(histories)
    return model.history


def _check_fine_tune(
    model: Any, base: Any, epochs: Any, freeze_epochs: Any, fit_kwargs: dict
) -> None:
    if not getattr(model, "compiled", False):
        raise RuntimeError(
            "Expected compile() to be called before fine_tune() (it keeps the loss and "
            "metrics). Received: an uncompiled model"
        )
    if not isinstance(base, nn.Module) or not any(m is base for m in model.modules()):
        raise ValueError(
            f"Expected base to be a sub-module of the model. Received: base of type "
            f"{type(base).__name__}"
        )
    for name, value, low in (("epochs", epochs, 1), ("freeze_epochs", freeze_epochs, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(
                f"Expected {name} to be an integer >= {low}. Received: {name}={value!r}"
            )
    taken = {"epochs", "initial_epoch"} & set(fit_kwargs)
    if taken:
        raise TypeError(
            f"Expected fit arguments without epochs or initial_epoch (fine_tune sets them). "
            f"Received: {', '.join(sorted(taken))}"
        )
    sched = model.compile_config.lr_scheduler
    if sched is not None and hasattr(sched, "step"):
        raise ValueError(
            "Expected lr_scheduler to be a callable optimizer -> scheduler with fine_tune "
            "(each phase has a fresh optimizer). Received: a scheduler instance"
        )


def _check_decay(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ValueError(f"Expected {name} in (0, 1]. Received: {name}={value!r}")


def _check_rate(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"Expected {name} to be a positive float. Received: {name}={value!r}")


def _recipe(spec: Any, learning_rate: float) -> optimizers.Optimizer:
    """A fresh recipe like the compiled optimizer, at ``learning_rate``."""
    if isinstance(spec, torch.optim.Optimizer):
        kwargs = {k: v for k, v in spec.defaults.items() if k != "lr"}
        recipe = optimizers.Optimizer(learning_rate, **kwargs)
        recipe.torch_class = type(spec)
        return recipe
    if isinstance(spec, Discriminative):
        spec = spec.inner
    if isinstance(spec, optimizers.Optimizer) and spec.learning_rate is not None:
        recipe = copy.copy(spec)
        recipe.learning_rate = float(learning_rate)
        return recipe
    recipe = optimizers.Optimizer(learning_rate)  # a torch optimizer class
    recipe.torch_class = spec.torch_class
    return recipe


def _use_optimizer(model: Any, recipe: optimizers.Optimizer) -> None:
    """Make the next ``fit`` build a fresh optimizer (and scheduler) from ``recipe``."""
    model.compile_config = model.compile_config.replace(optimizer=recipe)


def _set_trainable(model: Any, base: nn.Module, value: bool) -> None:
    if isinstance(getattr(type(base), "trainable", None), property):  # a kerasish model/layer
        base.trainable = value
    else:
        base.requires_grad_(value)
    model.train(model.training)  # frozen BatchNorm layers switch to inference mode


def _merge(histories: list[History]) -> History:
    merged = History()
    merged.set_model(histories[-1].model)
    merged.set_params({**histories[-1].params, "epochs": histories[-1].params.get("epochs")})
    for h in histories:
        merged.epoch += h.epoch
        for k, v in h.history.items():
            merged.history.setdefault(k, []).extend(v)
    return merged
