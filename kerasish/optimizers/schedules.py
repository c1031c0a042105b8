"""Keras's learning-rate schedules: ``schedule(step) -> learning rate``, as plain Python floats.

A ``LearningRateSchedule`` given as ``learning_rate=`` of a kerasish optimizer sets the torch
optimizer's learning rate before every optimizer step: step ``i`` (counted from 0, as
``optimizer.iterations``) runs with ``schedule(i)``. The formulas and defaults are Keras 3's
(``keras/src/optimizers/schedules/learning_rate_schedule.py``); they are computed in float64 on
the host, so reading a schedule never touches the device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = [
    "LearningRateSchedule",
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
    "serialize",
    "deserialize",
]

_REGISTRY: dict[str, type[LearningRateSchedule]] = {}


class LearningRateSchedule:
    """The base of learning-rate schedules: subclass it and define ``__call__(step)``.

    Define ``get_config`` too (and ``from_config`` when the constructor does not take the
    config's keys) to save a model compiled with the schedule.

    Example:
        >>> class Halving(K.optimizers.schedules.LearningRateSchedule):
        ...     def __init__(self, initial_learning_rate):
        ...         self.initial_learning_rate = initial_learning_rate
        ...     def __call__(self, step):
        ...         return self.initial_learning_rate / (step + 1)
        ...     def get_config(self):
        ...         return {"initial_learning_rate": self.initial_learning_rate}
        >>> Halving(0.1)(1)
        0.05
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        known = _REGISTRY.get(cls.__name__)
        if known is None or not known.__module__.startswith("kerasish."):
            _REGISTRY[cls.__name__] = cls  # a built-in's name keeps naming the built-in

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (subclasses define it to be saved)."""
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """A schedule from ``get_config``'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def _positive(value: Any, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value!r}")


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored when
    ``staircase``).

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps per factor of ``decay_rate`` (> 0).
        decay_rate: the factor.
        staircase: decay at whole multiples of ``decay_steps`` only.
        name: Keras's name of the schedule.

    Raises:
        ValueError: when ``decay_steps <= 0``.

    Example:
        >>> round(K.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)(10), 6)
        0.05
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ):
        _positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` up to ``boundaries[1]``, ...

    Args:
        boundaries: increasing step numbers.
        values: one more value than boundaries.
        name: Keras's name of the schedule.

    Raises:
        ValueError: when ``len(values) != len(boundaries) + 1``.

    Example:
        >>> s = K.optimizers.schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
        >>> s(10), s(11), s(21)
        (1.0, 0.5, 0.1)
    """

    def __init__(
        self, boundaries: Sequence[int], values: Sequence[float], name: str = "PiecewiseConstant"
    ):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps``, as
    ``(initial - end) * (1 - step / decay_steps) ** power + end``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps to reach ``end_learning_rate`` (> 0).
        end_learning_rate: the final rate.
        power: the polynomial's power.
        cycle: restart past ``decay_steps`` with the next multiple of it.
        name: Keras's name of the schedule.

    Raises:
        ValueError: when ``decay_steps <= 0``.

    Example:
        >>> round(K.optimizers.schedules.PolynomialDecay(0.1, 10, 0.01)(5), 6)
        0.055
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ):
        _positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: int) -> float:
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        span = self.initial_learning_rate - self.end_learning_rate
        return span * (1 - p) ** self.power + self.end_learning_rate

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored when
    ``staircase``).

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: how often to apply decay (> 0).
        decay_rate: the decay rate.
        staircase: decay at whole multiples of ``decay_steps`` only.
        name: Keras's name of the schedule.

    Raises:
        ValueError: when ``decay_steps <= 0``.

    Example:
        >>> K.optimizers.schedules.InverseTimeDecay(0.1, 1, 0.5)(2)
        0.05
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ):
        _positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: int) -> float:
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """Cosine decay to ``alpha`` times the start over ``decay_steps``, after an optional
    linear warmup from ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps of the cosine part (> 0).
        alpha: the final rate as a fraction of the decay's start.
        name: Keras's name of the schedule.
        warmup_target: the rate the warmup reaches (None: no warmup).
        warmup_steps: steps of the warmup.

    Raises:
        ValueError: when ``decay_steps <= 0``.

    Example:
        >>> s = K.optimizers.schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=10)
        >>> round(s(5), 6), round(s(10), 6), round(s(15), 6)
        (0.05, 0.1, 0.05)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ):
        _positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: float, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (step / self.warmup_steps) + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by ``t_mul``, peaks by ``m_mul``.

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: steps of the first period (> 0).
        t_mul: the factor on each period's length.
        m_mul: the factor on each period's starting rate.
        alpha: the minimum rate as a fraction of ``initial_learning_rate``.
        name: Keras's name of the schedule.

    Raises:
        ValueError: when ``first_decay_steps <= 0``.

    Example:
        >>> s = K.optimizers.schedules.CosineDecayRestarts(0.1, 10)
        >>> round(s(5), 6), s(10)  # a restart after the first 10 steps
        (0.05, 0.1)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ):
        _positive(first_decay_steps, "first_decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: int) -> float:
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(
                math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul)
            )
            done = (1.0 - self.t_mul**restart) / (1.0 - self.t_mul)
            fraction = (fraction - done) / self.t_mul**restart
        cosine = 0.5 * self.m_mul**restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """A JSON-able ``{"class_name": ..., "config": ...}`` for a schedule (Keras's layout).

    Args:
        schedule: a ``LearningRateSchedule``.

    Returns:
        The dict ``deserialize`` turns back into the schedule.

    Raises:
        TypeError: for anything but a ``LearningRateSchedule``.

    Example:
        >>> serialize(PiecewiseConstantDecay([5], [0.1, 0.01]))["class_name"]
        'PiecewiseConstantDecay'
    """
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"Expected a LearningRateSchedule. Received: schedule={schedule!r}")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """The schedule of a ``serialize`` dict; only ``LearningRateSchedule`` subclasses already
    defined in this process (the built-in ones and any the program imported) are made.

    Args:
        config: ``{"class_name": ..., "config": {...}}``.

    Returns:
        The schedule.

    Raises:
        ValueError: for an unknown class name, listing the known ones.

    Example:
        >>> deserialize(serialize(ExponentialDecay(0.1, 10, 0.9)))(0)
        0.1
    """
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in _REGISTRY:
        raise ValueError(
            f"Expected a learning rate schedule config with a class_name among "
            f"{sorted(_REGISTRY)}. Received: config={config!r}"
        )
    return _REGISTRY[name].from_config(dict(config.get("config", {})))
