"""Keras's ``keras.regularizers``: weight penalties as ``regularizer(x) -> scalar tensor``.

The penalties are Keras's exactly: ``L1`` is ``l1 * sum(|x|)``, ``L2`` is ``l2 * sum(x**2)``
(no 1/2), ``L1L2`` their sum. A regularizer acts on the tensor it is given; only
:class:`OrthogonalRegularizer`'s ``mode`` depends on the layout: ``"rows"`` means the rows of
a KERAS Dense kernel ``(in, out)``, which are the columns of torch's ``nn.Linear.weight``
``(out, in)``: pass ``mode="columns"`` for the same penalty on a torch weight.

Example:
    >>> L2(0.5)(torch.tensor([1.0, -2.0]))
    tensor(2.5000)
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from kerasish import identifiers
from kerasish.ops.core import convert_to_tensor

__all__ = [
    "L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "deserialize", "get",
    "serialize",
]  # fmt: skip


def _factor(value: Any, name: str) -> float:
    """Keras's ``validate_float_arg``: a finite, non-negative number."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or math.isinf(value) or math.isnan(value) or value < 0:
        raise ValueError(
            f"Expected `{name}` to be a non-negative float. Received: {name}={value!r}"
        )
    return float(value)


class Regularizer:
    """Base class: ``__call__(x)`` returns a scalar penalty; ``get_config`` its arguments.

    Example:
        >>> class Sum(Regularizer):
        ...     def __call__(self, x):
        ...         return x.sum()
        >>> Sum()(torch.ones(3))
        tensor(3.)
    """

    def __call__(self, x: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__.")

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments.

        Returns:
            A dict.

        Example:
            >>> L1(0.1).get_config()
            {'l1': 0.1}
        """
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        """Rebuild from :meth:`get_config`.

        Args:
            config: the dict.

        Returns:
            A new regularizer.

        Example:
            >>> L2.from_config({"l2": 0.5}).l2
            0.5
        """
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1(Regularizer):
    """``l1 * sum(abs(x))``.

    Args:
        l1: the factor (Keras's default 0.01).

    Raises:
        ValueError: for a negative or non-finite factor.

    Example:
        >>> L1(0.1)(torch.tensor([1.0, -2.0]))
        tensor(0.3000)
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _factor(l1, "l1")

    def __call__(self, x: Tensor) -> Tensor:
        return self.l1 * convert_to_tensor(x).abs().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x ** 2)`` (Keras's; torch's ``weight_decay`` differs by the 1/2 and the step).

    Args:
        l2: the factor (Keras's default 0.01).

    Raises:
        ValueError: for a negative or non-finite factor.

    Example:
        >>> L2(0.1)(torch.tensor([1.0, -2.0]))
        tensor(0.5000)
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor(l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        return self.l2 * convert_to_tensor(x).square().sum()

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(abs(x)) + l2 * sum(x ** 2)``.

    Args:
        l1: the L1 factor (Keras's default 0.0).
        l2: the L2 factor (default 0.0).

    Raises:
        ValueError: for a negative or non-finite factor.

    Example:
        >>> L1L2(l1=0.1, l2=0.1)(torch.tensor([1.0, -2.0]))
        tensor(0.8000)
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = _factor(l1, "l1"), _factor(l2, "l2")

    def __call__(self, x: Tensor) -> Tensor:
        x = convert_to_tensor(x)
        penalty = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalize non-orthogonal rows (or columns) of a 2-D weight, as Keras does.

    With the rows L2-normalized (``mode="rows"``; columns for ``"columns"``), the penalty is
    ``factor * 0.5 * sum(|off-diagonal of W W^T|) / (n * (n - 1) / 2)``. ``"rows"`` are the
    rows of the tensor given: a Keras kernel's input units, a torch ``Linear.weight``'s
    output units (see the module docstring).

    Args:
        factor: the factor (Keras's default 0.01).
        mode: ``"rows"`` (default) or ``"columns"``.

    Raises:
        ValueError: for a bad factor or mode, and at the call for a tensor not 2-D.

    Example:
        >>> OrthogonalRegularizer(1.0)(torch.eye(3))
        tensor(0.)
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(f"Expected `mode` to be 'rows' or 'columns'. Received: mode={mode!r}")
        self.mode = mode

    def __call__(self, x: Tensor) -> Tensor:
        x = convert_to_tensor(x)
        if x.ndim != 2:
            raise ValueError(
                f"Expected a 2-D tensor for OrthogonalRegularizer. Received: x.shape={tuple(x.shape)}"
            )
        x = x if self.mode == "rows" else x.T
        x = x / x.norm(dim=1, keepdim=True).clamp_min(1e-7)  # Keras's epsilon()
        size = x.shape[0]
        product = (x @ x.T) * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        return self.factor * 0.5 * product.abs().sum() / (size * (size - 1.0) / 2.0)

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


_CLASSES = {cls.__name__: cls for cls in (L1, L2, L1L2, OrthogonalRegularizer)}
_ALL = {**_CLASSES, "l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": L1L2,
        "orthogonal_regularizer": OrthogonalRegularizer}  # fmt: skip


def serialize(regularizer: Regularizer) -> dict[str, Any]:
    """The Keras-style config dict of a regularizer.

    Args:
        regularizer: a :class:`Regularizer`.

    Returns:
        ``{"module", "class_name", "config", "registered_name"}``.

    Raises:
        TypeError: for anything else.

    Example:
        >>> serialize(L2())["config"]
        {'l2': 0.01}
    """
    return identifiers.serialize(regularizer, Regularizer, "kerasish.regularizers", "regularizer")


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> Regularizer:
    """A regularizer from :func:`serialize`'s dict.

    Args:
        config: ``{"class_name", "config"}``.
        custom_objects: extra classes by name.

    Returns:
        The regularizer.

    Raises:
        ValueError: for an unknown name or a malformed dict.

    Example:
        >>> deserialize({"class_name": "L1", "config": {"l1": 0.5}})
        L1(l1=0.5)
    """
    return identifiers.deserialize(config, _ALL, "regularizer", custom_objects)


def get(identifier: Any) -> Any:
    """Resolve a regularizer identifier, as Keras's ``regularizers.get``.

    Args:
        identifier: ``None`` (returned), a name (``"l2"``, ``"L1L2"``), a config dict, a
            :class:`Regularizer` class (instantiated) or any callable (returned as is).

    Returns:
        The regularizer, or None.

    Raises:
        ValueError: for an unknown name or anything else.

    Example:
        >>> get("l2")
        L2(l2=0.01)
    """
    return identifiers.get(identifier, _ALL, Regularizer, "regularizer")
