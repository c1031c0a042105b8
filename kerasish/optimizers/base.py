"""Optimizer recipes: ``get(identifier)`` and Keras-named optimizers over ``torch.optim``.

A Keras-named optimizer (``Adam(learning_rate=1e-3, clipnorm=1.0)``) is a recipe: kerasish builds
the torch optimizer from it once the model is on its device and its lazy layers exist. Keras's
defaults are kept (for example ``epsilon=1e-7``); ``weight_decay`` is decoupled for Adam and AdamW
(as in Keras) and torch's L2 form for the others. Gradient clipping (``clipnorm``, ``clipvalue``,
``global_clipnorm``) is applied by the trainer between backward and step, after unscaling under
fp16. ``learning_rate`` may be a ``LearningRateSchedule`` (stepped per optimizer step); the
torch optimizers recipes build carry Keras's ``learning_rate``/``lr``/``iterations``
(``kerasish.optimizers.attributes``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

import torch

from kerasish.optimizers import schedules
from kerasish.optimizers.attributes import with_keras_attributes
from kerasish.optimizers.clipping import Clipping, clip_gradients

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Nadam",
    "get",
    "Clipping",
    "clip_gradients",
    "TorchClass",
    "TorchFactory",
]


class Optimizer:
    """Base of Keras-named optimizers: holds arguments, builds a ``torch.optim.Optimizer``.

    Args:
        learning_rate: the step size: a float, or a ``LearningRateSchedule`` (step ``i`` uses
            ``schedule(i)``).
        weight_decay: decoupled for Adam/AdamW, L2 for the others; None for none.
        clipnorm: clip each parameter's gradient to this norm.
        clipvalue: clip each gradient element to [-clipvalue, clipvalue].
        global_clipnorm: clip all gradients together to this global norm.

    Example:
        >>> opt = Adam(learning_rate=1e-3, clipnorm=1.0)
        >>> torch_opt = opt.build(torch.nn.Linear(2, 2).parameters())
    """

    torch_class: type[torch.optim.Optimizer] = torch.optim.SGD
    default_lr = 0.001

    def __init__(
        self,
        learning_rate: float | None = None,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **kwargs: Any,
    ):
        lr = _learning_rate(self.default_lr if learning_rate is None else learning_rate)
        for name, v in (
            ("weight_decay", weight_decay),
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
        ):
            if v is not None and (not isinstance(v, int | float) or v < 0):
                raise ValueError(
                    f"Expected {name} to be None or a float >= 0. Received: {name}={v!r}"
                )
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(
                "Expected at most one of clipnorm and global_clipnorm. Received: "
                f"clipnorm={clipnorm}, global_clipnorm={global_clipnorm}"
            )
        self.learning_rate = lr
        self.weight_decay = weight_decay
        self.clipping = Clipping(clipnorm, clipvalue, global_clipnorm)
        self.kwargs = kwargs

    def torch_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the torch optimizer, from Keras's."""
        lr = self.learning_rate
        kw = {"lr": float(lr(0)) if isinstance(lr, schedules.LearningRateSchedule) else lr}
        kw.update(self.kwargs)
        if self.weight_decay:
            kw["weight_decay"] = self.weight_decay
        return kw

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:  # every recipe's build keeps what it built (Keras-style)
            cls.build = _keeping(cls.__dict__["build"])

    def build(self, params: Iterable[Any]) -> torch.optim.Optimizer:
        """Create the torch optimizer over ``params`` (tensors, kerasish weights such as
        ``model.trainable_weights``, or param-group dicts), with Keras's
        ``learning_rate``/``lr``/``iterations`` attributes.

        The recipe keeps it too, as Keras's ``optimizer.build(variables)`` does, for its
        ``apply``/``apply_gradients``; the last one built is kept.
        """
        kw = self.torch_kwargs()
        accepted = inspect.signature(self.torch_class).parameters
        if "foreach" in accepted and "foreach" not in kw and "fused" not in kw:
            kw["foreach"] = None  # torch picks the fastest path for the device
        return with_keras_attributes(
            self.torch_class(_torch_params(params), **kw), self.schedule, self.clipping
        )

    @property
    def built(self) -> bool:
        """Whether ``build`` (or a first ``apply``) made its torch optimizer."""
        return self.__dict__.get("_kerasish_built") is not None

    @property
    def torch_optimizer(self) -> torch.optim.Optimizer | None:
        """The torch optimizer ``build`` made last, or None before."""
        return self.__dict__.get("_kerasish_built")

    @property
    def iterations(self) -> int:
        """The number of steps its torch optimizer took (0 before it is built)."""
        built = self.torch_optimizer
        return 0 if built is None else int(getattr(built, "iterations", 0))

    def apply(self, grads: Any, trainable_variables: Any = None) -> None:
        """Keras's ``optimizer.apply``: one step; the first call builds the optimizer over
        ``trainable_variables`` (kerasish weights or tensors), as Keras does.

        Raises:
            ValueError: on the first call without ``trainable_variables`` (see
                ``KerasAttributes.apply`` for the others).

        Example:
            >>> layer = K.layers.Dense(1)
            >>> _ = layer(torch.ones(2, 4))
            >>> opt = Adam(1e-3)
            >>> opt.apply([torch.ones(4, 1), torch.ones(1)], layer.trainable_weights)
            >>> opt.iterations
            1
        """
        built = self.torch_optimizer
        if built is None:
            if trainable_variables is None:
                raise ValueError(
                    "Expected trainable_variables on the first apply (it builds the "
                    "optimizer), or a call to optimizer.build(trainable_variables) first. "
                    "Received: trainable_variables=None"
                )
            trainable_variables = list(trainable_variables)
            built = self.build(trainable_variables)
        elif trainable_variables is None:  # Keras: the variables it was built with
            trainable_variables = self.__dict__.get("_kerasish_variables")
        built.apply(grads, trainable_variables)  # type: ignore[attr-defined]

    def apply_gradients(self, grads_and_vars: Any) -> None:
        """Keras's ``optimizer.apply_gradients([(grad, variable), ...])``: one step (the first
        builds the optimizer over these variables)."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles are recipes: the torch optimizer built is left out."""
        state = dict(self.__dict__)
        state.pop("_kerasish_built", None)
        state.pop("_kerasish_variables", None)
        return state

    @property
    def schedule(self) -> schedules.LearningRateSchedule | None:
        """The ``LearningRateSchedule`` given as ``learning_rate``, or None."""
        lr = self.learning_rate
        return lr if isinstance(lr, schedules.LearningRateSchedule) else None

    def get_config(self) -> dict[str, Any]:
        """The arguments, for saving (a schedule as ``schedules.serialize``'s dict)."""
        lr = self.learning_rate
        return {
            "class_name": type(self).__name__,
            "learning_rate": schedules.serialize(lr) if self.schedule is not None else lr,
            "weight_decay": self.weight_decay,
            **asdict(self.clipping),
            **self.kwargs,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self.learning_rate})"


def _keeping(build: Callable[..., torch.optim.Optimizer]) -> Callable[..., Any]:
    """``build`` that also keeps the torch optimizer on the recipe."""
    if getattr(build, "_kerasish_keeping", False):
        return build

    @functools.wraps(build)
    def wrapper(self: Optimizer, params: Iterable[Any]) -> torch.optim.Optimizer:
        if not isinstance(params, torch.Tensor):
            params = list(params)
        opt = build(self, params)
        flat = isinstance(params, list) and not any(isinstance(p, dict) for p in params)
        self.__dict__["_kerasish_built"] = opt
        self.__dict__["_kerasish_variables"] = params if flat else None
        return opt

    wrapper._kerasish_keeping = True  # type: ignore[attr-defined]
    return wrapper


def _torch_params(params: Iterable[Any]) -> Any:
    """``params`` with kerasish weights (and their ``.value``) replaced by their tensors."""
    from kerasish.layers.weights import KerasLayoutView, Weight

    def tensor(p: Any) -> Any:
        if isinstance(p, KerasLayoutView):
            p = p._kerasish_weight
        return p.tensor if isinstance(p, Weight) else p

    if isinstance(params, torch.Tensor):
        return params  # torch's own error names it
    out = []
    for p in params:
        if isinstance(p, dict) and "params" in p:
            group = p["params"]
            group = [group] if isinstance(group, torch.Tensor) else group
            p = {**p, "params": [tensor(q) for q in group]}
        out.append(tensor(p))
    return out


Optimizer.build = _keeping(Optimizer.build)  # type: ignore[method-assign]


def _learning_rate(value: Any) -> float | schedules.LearningRateSchedule:
    """A float >= 0 or a schedule (a ``schedules.serialize`` dict is turned back into one)."""
    if isinstance(value, dict):
        value = schedules.deserialize(value)
    if isinstance(value, schedules.LearningRateSchedule):
        return value
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ValueError(
            "Expected learning_rate to be a float >= 0 or a LearningRateSchedule. Received: "
            f"learning_rate={value!r}"
        )
    return float(value)


class SGD(Optimizer):
    """Stochastic gradient descent (Keras defaults: learning_rate=0.01, momentum=0)."""

    torch_class = torch.optim.SGD
    default_lr = 0.01

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        **kwargs: Any,
    ):
        if nesterov and momentum <= 0:
            raise ValueError(
                f"Expected momentum > 0 with nesterov=True. Received: momentum={momentum}"
            )
        super().__init__(learning_rate, momentum=momentum, nesterov=nesterov, **kwargs)


class Adam(Optimizer):
    """Adam (Keras defaults: learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)."""

    torch_class = torch.optim.Adam

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, betas=(beta_1, beta_2), eps=epsilon, amsgrad=amsgrad, **kwargs
        )

    def torch_kwargs(self) -> dict[str, Any]:
        kw = super().torch_kwargs()
        if self.weight_decay and self.torch_class is torch.optim.Adam:
            kw["decoupled_weight_decay"] = True
        return kw


class AdamW(Adam):
    """AdamW (Keras defaults: learning_rate=0.001, weight_decay=0.004, epsilon=1e-7)."""

    torch_class = torch.optim.AdamW

    def __init__(self, learning_rate: float = 0.001, weight_decay: float = 0.004, **kwargs: Any):
        super().__init__(learning_rate, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop (Keras defaults: learning_rate=0.001, rho=0.9, momentum=0, epsilon=1e-7)."""

    torch_class = torch.optim.RMSprop

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate, alpha=rho, momentum=momentum, eps=epsilon, centered=centered, **kwargs
        )


class Adagrad(Optimizer):
    """Adagrad (Keras defaults: learning_rate=0.001, initial_accumulator_value=0.1)."""

    torch_class = torch.optim.Adagrad

    def __init__(
        self,
        learning_rate: float = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ):
        super().__init__(
            learning_rate,
            initial_accumulator_value=initial_accumulator_value,
            eps=epsilon,
            **kwargs,
        )


class Adadelta(Optimizer):
    """Adadelta (Keras defaults: learning_rate=0.001, rho=0.95, epsilon=1e-7)."""

    torch_class = torch.optim.Adadelta

    def __init__(
        self, learning_rate: float = 0.001, rho: float = 0.95, epsilon: float = 1e-7, **kwargs: Any
    ):
        super().__init__(learning_rate, rho=rho, eps=epsilon, **kwargs)


class Adamax(Optimizer):
    """Adamax (Keras defaults: learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)."""

    torch_class = torch.optim.Adamax

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ):
        super().__init__(learning_rate, betas=(beta_1, beta_2), eps=epsilon, **kwargs)


class Nadam(Optimizer):
    """Nadam (Keras defaults: learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)."""

    torch_class = torch.optim.NAdam

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        **kwargs: Any,
    ):
        super().__init__(learning_rate, betas=(beta_1, beta_2), eps=epsilon, **kwargs)


_NAMES: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "adamax": Adamax,
    "nadam": Nadam,
}


def get(identifier: Any) -> Optimizer | torch.optim.Optimizer | type[torch.optim.Optimizer]:
    """Resolve an optimizer identifier.

    Args:
        identifier: a name ("adam", "sgd", ...), a kerasish ``Optimizer``, a torch optimizer
            class (built later with its defaults), a torch optimizer instance (used as is), or
            a callable ``params -> torch optimizer`` such as
            ``functools.partial(torch.optim.AdamW, lr=1e-3)``.

    Returns:
        A kerasish ``Optimizer`` recipe or the torch optimizer instance.

    Raises:
        ValueError: for an unknown name, listing the accepted names.

    Example:
        >>> get("adam").learning_rate
        0.001
        >>> import functools
        >>> type(get(functools.partial(torch.optim.AdamW, lr=1e-2))).__name__
        'TorchFactory'
    """
    if isinstance(identifier, Optimizer | torch.optim.Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _NAMES:
        return _NAMES[identifier.lower()]()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, type) and issubclass(identifier, torch.optim.Optimizer):
        return TorchClass(identifier)
    if callable(identifier) and not isinstance(identifier, type | torch.nn.Module):
        return TorchFactory(identifier)
    raise ValueError(
        f"Could not interpret optimizer identifier. Expected one of "
        f"{sorted(_NAMES)}, a kerasish.optimizers.Optimizer, a torch.optim "
        f"optimizer class or instance, or a callable params -> optimizer (such as "
        f"functools.partial(torch.optim.AdamW, lr=1e-3)). Received: optimizer={identifier!r}"
    )


class TorchClass(Optimizer):
    """A torch optimizer class given by the user, built with torch's own defaults.

    ``get(torch.optim.SGD)`` returns one; ``build`` calls the class with the parameters only,
    so torch's defaults apply, and it carries no clipping.

    Args:
        cls: a ``torch.optim.Optimizer`` subclass.

    Example:
        >>> opt = TorchClass(torch.optim.SGD)
        >>> type(opt.build(torch.nn.Linear(2, 2).parameters())).__name__
        'SGD'
    """

    def __init__(self, cls: type[torch.optim.Optimizer]):
        self.torch_class = cls
        self.learning_rate = None  # type: ignore[assignment]
        self.weight_decay = None
        self.clipping = Clipping()
        self.kwargs = {}

    def torch_kwargs(self) -> dict[str, Any]:
        return {}

    def build(self, params: Iterable[Any]) -> torch.optim.Optimizer:
        return with_keras_attributes(self.torch_class(_torch_params(params)))

    def get_config(self) -> dict[str, Any]:
        return {"class_name": self.torch_class.__name__, "torch": True}


class TorchFactory(Optimizer):
    """A callable ``params -> torch optimizer`` given by the user (``functools.partial`` of a
    torch optimizer class, or any function); ``build`` calls it, with no clipping.

    The optimizer it returns gets Keras's ``learning_rate``/``lr``/``iterations``. A partial of
    an importable class with JSON-able arguments is saved with the model.

    Args:
        factory: the callable.

    Raises:
        TypeError: (from ``build``) when the callable does not return a torch optimizer.

    Example:
        >>> import functools
        >>> recipe = TorchFactory(functools.partial(torch.optim.AdamW, lr=1e-2))
        >>> recipe.build(nn.Linear(2, 1).parameters()).learning_rate
        0.01
    """

    def __init__(self, factory: Callable[..., torch.optim.Optimizer]):
        self.factory = factory
        self.learning_rate = None  # type: ignore[assignment]
        self.weight_decay = None
        self.clipping = Clipping()
        self.kwargs = {}

    def torch_kwargs(self) -> dict[str, Any]:
        return {}

    def build(self, params: Iterable[Any]) -> torch.optim.Optimizer:
        opt = self.factory(_torch_params(params))
        if not isinstance(opt, torch.optim.Optimizer):
            raise TypeError(
                "Expected the optimizer callable to return a torch.optim.Optimizer. "
                f"Received: {type(opt).__name__} from optimizer={self.factory!r}"
            )
        return with_keras_attributes(opt)

    def get_config(self) -> dict[str, Any]:
        fn = self.factory
        if isinstance(fn, functools.partial):
            return {"factory": fn.func, "args": list(fn.args), "keywords": dict(fn.keywords)}
        return {"factory": fn, "args": [], "keywords": {}}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TorchFactory:
        """The recipe of ``get_config``'s dict."""
        fn, args, keywords = config["factory"], config["args"], config["keywords"]
        return cls(functools.partial(fn, *args, **keywords) if args or keywords else fn)

    def __repr__(self) -> str:
        return f"TorchFactory({self.factory!r})"
