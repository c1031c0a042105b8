"""Keras's optimizer attributes (``learning_rate``, ``lr``, ``iterations``) on the torch
optimizers kerasish builds, and the per-step learning-rate schedule.

``with_keras_attributes(opt, schedule)`` gives a torch optimizer instance a subclass of its
own class (same name, same ``step``, ``state_dict`` layout plus an ``"iterations"`` entry) whose
``learning_rate`` property reads and writes the param groups' ``"lr"``. One step post-hook
counts the steps taken and, with a schedule, writes ``schedule(iterations)`` into every
group's ``"lr"``: the value the next step uses, the one TensorBoard and the callbacks read.
The hook does host arithmetic only (no device sync, no allocation). Torch optimizers the user
passes in as instances are left as torch made them.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import torch

from kerasish.optimizers import schedules
from kerasish.optimizers.clipping import clip_gradients

__all__ = ["KerasAttributes", "with_keras_attributes"]


class KerasAttributes:
    """Mixed into a torch optimizer class: Keras's ``learning_rate``/``lr``/``iterations``.

    With several param groups, each group keeps its ratio to torch's ``defaults["lr"]``
    (discriminative learning rates): ``learning_rate`` is that base rate, and setting it, or a
    schedule, scales every group alike.

    Example:
        >>> opt = K.optimizers.SGD(0.1).build(nn.Linear(2, 1).parameters())
        >>> opt.learning_rate = 0.5
        >>> opt.param_groups[0]["lr"], opt.lr, opt.iterations
        (0.5, 0.5, 0)
    """

    _kerasish_iterations: int = 0
    _kerasish_schedule: Any = None
    _kerasish_ratios: tuple[float, ...] = ()
    _kerasish_clipping: Any = None  # the recipe's ``Clipping``, used by ``apply``

    # ------------------------------------------------------------------ Keras methods
    def apply(self, grads: Any, trainable_variables: Any = None) -> None:
        """Keras's ``optimizer.apply``: one step with these gradients, on these variables only.

        Each gradient is in its variable's layout (Keras's for a kerasish weight view: a Dense
        kernel's is ``(in, out)``) and becomes the torch parameter's ``.grad`` for the step
        (replacing what ``backward`` left there); variables not given, and those given a None
        gradient (warned about, as Keras does), are not moved, and their ``.grad`` is kept.
        The optimizer's clipping (``clipnorm``, ``clipvalue``, ``global_clipnorm``) applies.

        Args:
            grads: one gradient per variable (tensors, or None to skip one); an empty list
                does nothing.
            trainable_variables: the parameters, kerasish weights (``layer.trainable_weights``)
                or their ``.value``; None: every parameter the optimizer holds, in order.

        Raises:
            ValueError: for a count or shape that differs, a variable the optimizer does not
                hold, or no gradient at all.

        Example:
            >>> layer = nn.Linear(2, 1)
            >>> opt = K.optimizers.SGD(0.1).build(layer.parameters())
            >>> opt.apply([torch.ones(1, 2), torch.ones(1)], [layer.weight, layer.bias])
            >>> opt.iterations
            1
        """
        grads = list(grads)
        if not grads:
            return
        held = [p for group in self.param_groups for p in group["params"]]
        pairs = self._given_gradients(
            grads, held if trainable_variables is None else trainable_variables, held
        )
        kept = {id(p): p.grad for p in held}
        try:
            for p in held:
                p.grad = pairs[id(p)][1] if id(p) in pairs else None
            clipping = self._kerasish_clipping
            if clipping:
                params = [param for param, _ in pairs.values()]
                for param in params:  # clip a copy: the caller's gradients stay as given
                    param.grad = param.grad.clone()
                clip_gradients(params, clipping)
            self.step()
        finally:
            for p in held:
                if id(p) not in pairs:
                    p.grad = kept[id(p)]

    def _given_gradients(self, grads: list, variables: Any, held: list) -> dict[int, tuple]:
        """``{id(param): (param, gradient in torch's layout)}`` for the gradients given; a
        None gradient is warned about (as Keras does) and left out."""
        from kerasish.layers.weights import torch_gradient

        variables = list(variables)
        if len(grads) != len(variables):
            raise ValueError(
                f"Expected one gradient per variable ({len(variables)}). "
                f"Received: {len(grads)} gradients"
            )
        known = {id(p) for p in held}
        pairs, missing = {}, []
        for g, v in zip(grads, variables):
            param, grad, name = torch_gradient(v, g)
            if id(param) not in known:
                raise ValueError(
                    "Expected variables the optimizer was built with. Received: a variable "
                    f"it does not hold ({name}, shape={tuple(param.shape)})"
                )
            if grad is None:
                missing.append(name)
            else:
                pairs[id(param)] = (param, grad)
        if not pairs:
            raise ValueError(
                f"Expected a gradient for at least one variable. Received: None for all "
                f"{len(variables)} variables"
            )
        if missing:
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. "
                "If using `model.compile()`, did you forget to provide a `loss` argument?",
                stacklevel=3,
            )
        return pairs

    def apply_gradients(self, grads_and_vars: Any) -> None:
        """Keras's ``optimizer.apply_gradients([(grad, variable), ...])``: one step."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    # ------------------------------------------------------------------ Keras attributes
    @property
    def iterations(self) -> int:
        """The number of optimizer steps taken (restored with ``load_state_dict``)."""
        return self._kerasish_iterations

    @property
    def learning_rate(self) -> float:
        """The learning rate the next step uses (the first param group's, over its ratio)."""
        group, ratio = self.param_groups[0], self._ratio(0)
        return float(group["lr"]) / ratio

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if self._kerasish_schedule is not None:
            raise TypeError(
                "Expected an optimizer built with a float learning rate: this one follows a "
                "LearningRateSchedule, so its learning rate is not settable. Received: "
                f"learning_rate={value!r}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(
                f"Expected learning_rate to be a float >= 0. Received: learning_rate={value!r}"
            )
        self._set_lr(float(value))

    lr = learning_rate  # Keras 2's alias

    @property
    def schedule(self) -> schedules.LearningRateSchedule | None:
        """The ``LearningRateSchedule`` the learning rate follows, or None."""
        return self._kerasish_schedule

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """torch's state dict with ``"iterations"`` added."""
        state = super().state_dict()  # type: ignore[misc]
        state["iterations"] = self._kerasish_iterations
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """torch's ``load_state_dict``; also restores ``iterations`` (and the scheduled LR)."""
        state_dict = dict(state_dict)
        iterations = state_dict.pop("iterations", None)
        super().load_state_dict(state_dict)  # type: ignore[misc]
        if iterations is not None:
            self._kerasish_iterations = int(iterations)
        if self._kerasish_schedule is not None:
            self._set_lr(float(self._kerasish_schedule(self._kerasish_iterations)))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()  # type: ignore[misc]
        mine = (
            self._kerasish_iterations,
            self._kerasish_schedule,
            self._kerasish_ratios,
            self._kerasish_clipping,
        )
        return {**state, "kerasish": mine}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        mine = state.pop("kerasish", None)
        super().__setstate__(state)  # type: ignore[misc]
        if mine is not None:  # unpickling (torch's load_state_dict also calls __setstate__)
            _install(self, *mine)

    def __reduce_ex__(self, protocol: Any) -> Any:
        base = next(c for c in type(self).__mro__[1:] if c is not KerasAttributes)
        return (_rebuild, (base,), self.__getstate__())

    # ------------------------------------------------------------------ helpers
    def _ratio(self, index: int) -> float:
        ratios = self._kerasish_ratios
        return ratios[index] if index < len(ratios) and ratios[index] else 1.0

    def _set_lr(self, value: float) -> None:
        for i, group in enumerate(self.param_groups):
            lr = value * self._ratio(i)
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr


def _after_step(opt: Any, args: Any, kwargs: Any) -> None:
    """The step post-hook: count the step; with a schedule, set the next step's rate."""
    opt._kerasish_iterations += 1
    schedule = opt._kerasish_schedule
    if schedule is not None:
        opt._set_lr(float(schedule(opt._kerasish_iterations)))


@functools.cache
def keras_class(cls: type[torch.optim.Optimizer]) -> type[torch.optim.Optimizer]:
    """The subclass of a torch optimizer class with Keras's attributes (same name)."""
    return type(cls.__name__, (KerasAttributes, cls), {"__module__": __name__})


def _rebuild(cls: type[torch.optim.Optimizer]) -> Any:
    return keras_class(cls).__new__(keras_class(cls))


def _install(
    opt: Any, iterations: int, schedule: Any, ratios: tuple[float, ...], clipping: Any = None
) -> None:
    opt._kerasish_ratios = ratios
    opt._kerasish_clipping = clipping
    opt._kerasish_iterations = iterations
    opt._kerasish_schedule = schedule
    opt.register_step_post_hook(_after_step)


def with_keras_attributes(
    opt: torch.optim.Optimizer,
    schedule: schedules.LearningRateSchedule | None = None,
    clipping: Any = None,
) -> torch.optim.Optimizer:
    """Give an optimizer kerasish just built Keras's attributes (and a schedule); returns it.

    Args:
        opt: a torch optimizer instance, fresh (no step taken).
        schedule: a ``LearningRateSchedule`` the learning rate follows per step, or None.
        clipping: the recipe's ``Clipping``, which ``apply`` uses (the trainer clips itself
            before ``step``), or None.

    Returns:
        The same object, now an instance of ``keras_class(type(opt))``.

    Raises:
        TypeError: when ``opt`` is not a torch optimizer.

    Example:
        >>> opt = torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1)
        >>> with_keras_attributes(opt).learning_rate
        0.1
    """
    if not isinstance(opt, torch.optim.Optimizer):
        raise TypeError(f"Expected a torch.optim.Optimizer. Received: optimizer={opt!r}")
    if isinstance(opt, KerasAttributes):
        return opt
    base = opt.defaults.get("lr")
    base = float(base) if isinstance(base, int | float | torch.Tensor) else 0.0
    ratios = tuple(float(g["lr"]) / base if base else 1.0 for g in opt.param_groups)
    opt.__class__ = keras_class(type(opt))
    _install(opt, 0, schedule, ratios, clipping if clipping else None)
    if schedule is not None:
        opt._set_lr(float(schedule(0)))  # type: ignore[attr-defined]
    return opt
