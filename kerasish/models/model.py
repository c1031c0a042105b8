"""Model: a ``torch.nn.Module`` with Keras's compile/fit/evaluate/predict/summary.

Three ways to get one: ``Sequential([...])``; subclassing ``Model`` with ``__init__`` and
``forward`` (or Keras-style ``build``/``call``); or ``Model.wrap(module)`` for any existing
``nn.Module`` (a torchvision network, say), which keeps the module as ``model.net``.
Every model has Keras's layer API (``kerasish.layers.api.KerasLayerAPI``): ``name``,
``weights``, ``get_weights``/``set_weights``, ``losses``/``add_loss``, ``layers``,
``get_layer``, ``model(x, training=False)``.

``Model(inputs, outputs)`` (the functional API) is built by the class that
``kerasish.models.functional`` registers with :func:`set_functional_factory`.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from kerasish import optimizers
from kerasish.layers.api import KerasLayerAPI, default_build
from kerasish.models.input import KerasTensor, as_symbolic, leaves
from kerasish.saving import SavingMixin, register_keras_serializable
from kerasish.training.state import TrainState
from kerasish.training.trainer import Trainer

__all__ = ["Model", "Wrapped", "set_functional_factory"]

_BATCHNORM = (nn.modules.batchnorm._BatchNorm,)
_FUNCTIONAL: list[Any] = []


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def _functional_subclass(cls: type) -> type:
    """``cls`` with the functional model class after it (made once per class)."""
    made = _FUNCTIONAL_SUBCLASSES.get(cls)
    if made is None:
        made = type(cls.__name__, (cls, _FUNCTIONAL[0]), {"__module__": cls.__module__})
        made.__qualname__ = cls.__qualname__
        _FUNCTIONAL_SUBCLASSES[cls] = made
    return made


def _graph_arguments(args: tuple, kwargs: dict) -> bool:
    """Whether a model class was called as ``(inputs, outputs)`` (positional or keywords),
    both structures of ``KerasTensor`` objects (or ``K.layers.Input`` layers)."""
    if len(args) >= 2:
        inputs, outputs = args[0], args[1]
    elif len(args) == 1 and "outputs" in kwargs:
        inputs, outputs = args[0], kwargs["outputs"]
    elif not args and "inputs" in kwargs and "outputs" in kwargs:
        inputs, outputs = kwargs["inputs"], kwargs["outputs"]
    else:
        return False
    return all(
        (flat := leaves(as_symbolic(part))) and all(isinstance(t, KerasTensor) for t in flat)
        for part in (inputs, outputs)
    )


def _defines_forward(cls: type) -> bool:
    """Whether a model class (or a base below ``Model``) defines ``forward`` or ``call``."""
    for klass in cls.__mro__:
        if klass is Model:
            return False
        if "forward" in vars(klass) or "call" in vars(klass):
            return True
    return False


def set_functional_factory(factory: Any) -> None:
    """Make ``Model(inputs, outputs, ...)`` return ``factory(inputs, outputs, ...)``.

    Args:
        factory: the functional model class (``kerasish.models.functional`` sets it).

    Example:
        >>> from kerasish.models.functional import Functional
        >>> set_functional_factory(Functional)  # what kerasish.models.functional does
    """
    _FUNCTIONAL[:] = [] if factory is None else [factory]


class Model(KerasLayerAPI, SavingMixin, Trainer, nn.Module):
    """Base class of kerasish models; subclass it like ``nn.Module``.

    Example:
        >>> class Net(Model):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return self.fc(x)
        >>> net = Net(); net.compile(optimizer="sgd", loss="mse")
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if _FUNCTIONAL and cls is Model and (args or "inputs" in kwargs):
            return super().__new__(_FUNCTIONAL[0])  # a subclass: Python then runs its __init__
        model = super().__new__(cls)
        if _FUNCTIONAL and not issubclass(cls, _FUNCTIONAL[0]) and _graph_arguments(args, kwargs):
            # called as Custom(inputs, outputs): Model.__init__ says so when the class's own
            # __init__ drops them (Keras's functional subclass is made by Model.__init__)
            model.__dict__["_called_with_graph"] = True
        return model

    def __init__(self, *args: Any, name: str | None = None, **kwargs: Any) -> None:
        if (args or kwargs) and not _graph_arguments(args, kwargs):
            raise TypeError(
                "Expected Model.__init__ to get (inputs, outputs) of K.Input tensors, or only "
                f"name=. Received: {len(args)} positional argument(s), keywords {sorted(kwargs)}"
            )
        if args or kwargs:
            # Keras's functional subclass: `class Custom(K.Model)` (its own __init__ passing
            # inputs and outputs on to super().__init__, or none) built as
            # Custom(inputs, outputs): the graph comes from a Functional mixed into its class
            functional = _FUNCTIONAL[0]
            if not isinstance(self, functional):
                object.__setattr__(self, "__class__", _functional_subclass(type(self)))
            functional.__init__(self, *args, name=name, **kwargs)
            return
        if self.__dict__.pop("_called_with_graph", False) and not _defines_forward(type(self)):
            raise TypeError(
                f"Expected {type(self).__name__}.__init__ to pass the inputs and outputs it was "
                "called with on to super().__init__(inputs, outputs, ...), or the class to "
                "define call() or forward(). Received: super().__init__() without them"
            )
        nn.Module.__init__(self)
        self.compiled = False
        self.stop_training = False
        self.train_state = TrainState()
        self.name = name
        _ = self.name  # the automatic name is taken at construction, as in Keras

    # ---------------------------------------------------------------- wrapping
    @staticmethod
    def wrap(module: nn.Module) -> Model:
        """Make any ``nn.Module`` a kerasish model without rewriting it.

        The module becomes ``model.net``; its attributes stay reachable on the model
        (``model.fc`` is ``model.net.fc``) and its state dict keys gain a ``net.`` prefix.

        Raises:
            TypeError: when ``module`` is not an ``nn.Module``.

        Example:
            >>> import torchvision
            >>> model = Model.wrap(torchvision.models.resnet18(num_classes=10))
            >>> model.fc is model.net.fc, next(iter(model.state_dict()))
            (True, 'net.conv1.weight')
        """
        if isinstance(module, Model):
            return module
        if not isinstance(module, nn.Module):
            raise TypeError(
                f"Expected an nn.Module to wrap. Received: module of type {type(module).__name__}"
            )
        return Wrapped(module)

    # ---------------------------------------------------------------- tools
    def lr_find(self, x: Any, y: Any = None, **kwargs: Any) -> Any:
        """An exponential learning-rate sweep that leaves the model as it was (fastai's
        ``lr_find``); see :func:`kerasish.optimizers.lr_find` for the arguments.

        Returns:
            An ``LRFindResult`` (``lrs``, ``losses``, ``suggestion_valley``,
            ``suggestion_steepest``).

        Example:
            >>> result = model.lr_find(x, y, num_iter=20, batch_size=8)
            >>> len(result.lrs) <= 20
            True
        """
        return optimizers.lr_find(self, x, y, **kwargs)

    # ---------------------------------------------------------------- building
    @default_build
    def build(self, input_shape: tuple | list | dict) -> None:
        """Materialise lazy layers from an input shape (Keras style, batch dimension first).

        Args:
            input_shape: e.g. ``(None, 64)`` or ``(None, 1, 28, 28)``; a list of shapes for
                several inputs, or a dict of them for keyword inputs.

        Example:
            >>> model.build((None, 64))
        """
        example = _zeros(input_shape, self._device_guess())
        with torch.no_grad():
            was = self.training
            self.eval()
            try:
                self.forward_batch(example)
            finally:
                self.train(was)
        self.example_input = example
        self.built = True

    def _device_guess(self) -> torch.device:
        if getattr(self, "device", None) is not None:
            return self.device
        for p in self.parameters():
            return p.device
        return torch.device("cpu")

    # ---------------------------------------------------------------- freezing
    @property
    def trainable(self) -> bool:
        """False when every parameter is frozen. Setting it sets ``requires_grad`` on all of
        them; frozen BatchNorm layers run in inference mode, as in Keras. Takes effect at the
        next ``fit``."""
        params = list(self.parameters())
        return not params or any(p.requires_grad for p in params)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError(
                f"Expected trainable to be True or False. Received: trainable={value!r}"
            )
        self.requires_grad_(value)
        self.train(self.training)

    def freeze(self) -> Model:
        """Freeze every parameter (``trainable = False``); returns self."""
        self.trainable = False
        return self

    def unfreeze(self) -> Model:
        """Unfreeze every parameter (``trainable = True``); returns self."""
        self.trainable = True
        return self

    def train(self, mode: bool = True) -> Model:
        """As ``nn.Module.train``, but BatchNorm layers whose parameters are all frozen stay in
        inference mode (Keras's rule for frozen layers)."""
        super().train(mode)
        if mode:
            for m in self.modules():
                params = list(m.parameters(recurse=False))
                if (
                    isinstance(m, _BATCHNORM)
                    and params
                    and not any(p.requires_grad for p in params)
                ):
                    m.eval()
        return self

    # ---------------------------------------------------------------- summary
    def summary(
        self, print_fn: Any = None, expand_nested: bool = False, show_trainable: bool = False
    ) -> None:
        """Print a table: layer (type), output shape, parameters, and totals (as Keras,
        it returns None; ``kerasish.summary.summarize(model)`` returns the text).

        Args:
            print_fn: called with the table's text (default ``print``).
            expand_nested: also list the layers of nested models, indented.
            show_trainable: add a "Trainable" column (Y, N, or - for a layer without weights).

        Raises:
            ValueError: when lazy layers are not built yet, saying how to build them.
        """
        from kerasish.summary import summarize

        text = summarize(self, expand_nested=expand_nested, show_trainable=show_trainable)
        (print if print_fn is None else print_fn)(text)

    def fine_tune(self, x: Any = None, y: Any = None, **kwargs: Any) -> Any:
        """Train the head with ``base`` frozen, then unfreeze it at lower learning rates.

        See ``kerasish.finetune.fine_tune`` for the arguments (``base``, ``epochs``,
        ``freeze_epochs``, ``learning_rate``, ``fine_tune_learning_rate``, ``lr_decay``).

        Example:
            >>> base = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
            ...                      nn.AdaptiveAvgPool2d(1), nn.Flatten())  # or a pretrained backbone
            >>> model = K.Sequential([base, K.layers.Dense(5)])
            >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            >>> images, labels = torch.rand(16, 3, 32, 32), torch.randint(0, 5, (16,))
            >>> history = model.fine_tune(images, labels, base=base, epochs=2, freeze_epochs=1,
            ...                           verbose=0)
            >>> history.epoch
            [0, 1, 2]
        """
        from kerasish.finetune import fine_tune

        return fine_tune(self, x, y, **kwargs)

    # ---------------------------------------------------------------- layers
    @property
    def layers(self) -> list[nn.Module]:
        """The model's layers: its ``layers`` module list when it has one, else its direct
        submodules (``Input`` markers left out), as Keras lists a subclassed model's layers."""
        own = self._modules.get("layers")
        if own is not None:
            return own
        return [m for m in self.children() if type(m).__name__ != "Input"]

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """A layer by its name or its index in :attr:`layers`.

        Raises:
            ValueError: when neither or both are given, or no layer has that name/index.

        Example:
            >>> model = K.Sequential([K.layers.Dense(3, name="hidden"), K.layers.Dense(1)])
            >>> model.get_layer("hidden") is model.layers[0], model.get_layer(index=1).units
            (True, 1)
        """
        if (name is None) == (index is None):
            raise ValueError(
                f"Expected exactly one of name or index. Received: name={name!r}, index={index!r}"
            )
        layers = list(self.layers)
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"Expected index < {len(layers)} (the number of layers). Received: "
                    f"index={index}"
                )
            return layers[index]
        for layer in layers:
            if getattr(layer, "name", None) == name:
                return layer
        names = [getattr(m, "name", type(m).__name__) for m in layers]
        raise ValueError(f"Expected a layer name among {names}. Received: name={name!r}")

    @property
    def metrics_names(self) -> list[str]:
        """The names of :attr:`metrics` (``["loss", ...]`` once compiled and fit/evaluated)."""
        return [m.name for m in self.metrics]


@register_keras_serializable(package="kerasish.models")
class Wrapped(Model):
    """A kerasish model around an existing ``nn.Module`` (see ``Model.wrap``)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def get_config(self) -> dict[str, Any]:
        """``{"net": the wrapped module}``, what ``from_config`` rebuilds from."""
        return {"net": self.net}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Wrapped:
        """A ``Wrapped`` around ``config["net"]``."""
        return cls(config["net"])

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.net(*args, **kwargs)

    @property
    def layers(self) -> list[nn.Module]:
        """The wrapped module's ``layers`` when it has them, else its direct submodules."""
        own = getattr(self.net, "layers", None)
        return own if isinstance(own, nn.Module | list) else list(self.net.children())

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules", {})
            if name != "net" and "net" in modules:
                return getattr(modules["net"], name)
            raise


def _zeros(shape: Any, device: torch.device) -> Any:
    if isinstance(shape, dict):
        return {k: _zeros(v, device) for k, v in shape.items()}
    if isinstance(shape, list) and shape and isinstance(shape[0], tuple | list):
        return [_zeros(s, device) for s in shape]
    sizes_ok = isinstance(shape, tuple | list) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in shape
    )
    if not isinstance(shape, tuple | list) or len(shape) < 2 or not sizes_ok or shape[-1] is None:
        raise ValueError(
            "Expected input_shape to be a tuple like (None, 64): the batch dimension first, then "
            f"at least one dimension, the last one a positive size. Received: input_shape={shape!r}"
        )
    dims = [2 if d is None else d for d in shape]
    return torch.zeros(*dims, device=device)
