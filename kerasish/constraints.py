"""Keras's ``keras.constraints``: weight projections as ``constraint(w) -> w'``.

A constraint returns a new tensor; apply it after each optimizer step, e.g.
``with torch.no_grad(): p.copy_(constraint(p))``. ``axis`` is Keras's: it names axes of the
KERAS kernel layout, Dense ``(in, out)`` and conv ``(*kernel_size, in, out)``, and the
default ``axis=0`` makes each output unit's incoming weight vector the one constrained. In
torch's layout, ``nn.Linear.weight`` ``(out, in)`` and ``nn.ConvNd.weight``
``(out, in, *kernel_size)``, the same vectors lie along ``axis=1`` (Linear) and
``axis=(1, 2, ...)`` (conv); :func:`torch_axis` maps a Keras axis to the torch one.

Example:
    >>> linear = nn.Linear(4, 3)
    >>> w = MaxNorm(1.0, axis=torch_axis(0, 2))(linear.weight.detach() * 10)
    >>> bool((w.norm(dim=1) <= 1.0 + 1e-6).all())
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor

from kerasish import identifiers
from kerasish.ops.core import convert_to_tensor

__all__ = [
    "Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "deserialize", "get",
    "serialize", "torch_axis",
]  # fmt: skip

_EPSILON = 1e-7  # Keras's backend.epsilon()

Axis = int | Sequence[int]


def torch_axis(axis: Axis, ndim: int) -> int | tuple[int, ...]:
    """The torch-layout axis of a weight for a Keras-layout ``axis``.

    Keras's ``(*k, in, out)`` becomes torch's ``(out, in, *k)``: the last Keras axis is
    torch's 0, the one before it torch's 1, a kernel axis ``i`` torch's ``i + 2``.

    Args:
        axis: an axis or axes of the Keras layout (negative counts from the end).
        ndim: the weight's number of dimensions.

    Returns:
        The torch axis (a tuple for several).

    Example:
        >>> torch_axis(0, 2), torch_axis([0, 1, 2], 4)
        (1, (2, 3, 1))
    """
    if not isinstance(axis, int):
        return tuple(torch_axis(a, ndim) for a in axis)
    if ndim < 2:
        return axis
    a = axis % ndim
    return 0 if a == ndim - 1 else 1 if a == ndim - 2 else a + 2


def _norms(w: Tensor, axis: Axis) -> Tensor:
    dims = axis if isinstance(axis, int) else tuple(axis)
    return w.square().sum(dim=dims, keepdim=True).sqrt()


def _axis_config(axis: Axis) -> Any:
    return axis if isinstance(axis, int) else list(axis)


class Constraint:
    """Base class: ``__call__(w)`` returns the projected weight.

    Example:
        >>> class Clip(Constraint):
        ...     def __call__(self, w):
        ...         return w.clamp(-1, 1)
        >>> Clip()(torch.tensor([3.0]))
        tensor([1.])
    """

    def __call__(self, w: Tensor) -> Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments.

        Returns:
            A dict.

        Example:
            >>> NonNeg().get_config()
            {}
        """
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        """Rebuild from :meth:`get_config`.

        Args:
            config: the dict.

        Returns:
            A new constraint.

        Example:
            >>> MaxNorm.from_config({"max_value": 3}).max_value
            3
        """
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Scale down the vectors along ``axis`` whose L2 norm exceeds ``max_value``.

    ``w * clip(norms, 0, max_value) / (epsilon + norms)``, Keras's formula.

    Args:
        max_value: the largest norm (Keras's default 2).
        axis: the axis or axes the norm is taken over (Keras layout; see the module docstring).

    Example:
        >>> MaxNorm(1.0)(torch.tensor([[3.0], [4.0]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(self, max_value: float = 2, axis: Axis = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def __call__(self, w: Tensor) -> Tensor:
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        return w * (norms.clamp(0, self.max_value) / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": _axis_config(self.axis)}


class MinMaxNorm(Constraint):
    """Move the norms along ``axis`` toward ``[min_value, max_value]`` at ``rate``.

    ``w * (rate * clip(norms, min, max) + (1 - rate) * norms) / (epsilon + norms)``.

    Args:
        min_value: the smallest norm (Keras's default 0.0).
        max_value: the largest norm (default 1.0).
        rate: 1.0 (default) projects at once; below 1 moves part way.
        axis: the axis or axes of the norm (Keras layout).

    Example:
        >>> MinMaxNorm(1.0, 2.0)(torch.tensor([[0.3], [0.4]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Axis = 0
    ) -> None:
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w: Tensor) -> Tensor:
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = self.rate * norms.clamp(self.min_value, self.max_value)
        desired = desired + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": _axis_config(self.axis)}  # fmt: skip


class NonNeg(Constraint):
    """Zero the negative entries.

    Example:
        >>> NonNeg()(torch.tensor([-1.0, 2.0]))
        tensor([-0., 2.])
    """

    def __call__(self, w: Tensor) -> Tensor:
        w = convert_to_tensor(w)
        return w * (w >= 0).to(w.dtype)


class UnitNorm(Constraint):
    """Scale the vectors along ``axis`` to unit L2 norm: ``w / (epsilon + norms)``.

    Args:
        axis: the axis or axes of the norm (Keras's default 0, Keras layout).

    Example:
        >>> UnitNorm()(torch.tensor([[3.0], [4.0]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(self, axis: Axis = 0) -> None:
        self.axis = axis

    def __call__(self, w: Tensor) -> Tensor:
        w = convert_to_tensor(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": _axis_config(self.axis)}


_CLASSES = {cls.__name__: cls for cls in (MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_ALL = {**_CLASSES, "max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg,
        "unit_norm": UnitNorm}  # fmt: skip


def serialize(constraint: Constraint) -> dict[str, Any]:
    """The Keras-style config dict of a constraint.

    Args:
        constraint: a :class:`Constraint`.

    Returns:
        ``{"module", "class_name", "config", "registered_name"}``.

    Raises:
        TypeError: for anything else.

    Example:
        >>> serialize(MaxNorm())["config"]
        {'max_value': 2, 'axis': 0}
    """
    return identifiers.serialize(constraint, Constraint, "kerasish.constraints", "constraint")


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Constraint:
    """A constraint from :func:`serialize`'s dict.

    Args:
        config: ``{"class_name", "config"}``.
        custom_objects: extra classes by name.

    Returns:
        The constraint.

    Raises:
        ValueError: for an unknown name or a malformed dict.

    Example:
        >>> deserialize({"class_name": "UnitNorm", "config": {"axis": 1}})
        UnitNorm(axis=1)
    """
    return identifiers.deserialize(config, _ALL, "constraint", custom_objects)


def get(identifier: Any) -> Any:
    """Resolve a constraint identifier, as Keras's ``constraints.get``.

    Args:
        identifier: ``None`` (returned), a name (``"max_norm"``, ``"NonNeg"``), a config dict,
            a :class:`Constraint` class (instantiated) or any callable (returned as is).

    Returns:
        The constraint, or None.

    Raises:
        ValueError: for an unknown name or anything else.

    Example:
        >>> get("non_neg")
        NonNeg()
    """
    return identifiers.get(identifier, _ALL, Constraint, "constraint")
