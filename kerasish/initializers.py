"""Keras's ``keras.initializers``: weight initializers as ``init(shape, dtype) -> Tensor``.

Shapes follow KERAS's layout, because the fan-in and fan-out come from it (as in Keras's
``compute_fans``): a Dense kernel is ``(in, out)``; a conv kernel ``(*kernel_size, in, out)``,
whose fans are ``in * receptive_field`` and ``out * receptive_field``; a 1-D shape has
``fan_in = fan_out = shape[0]``. torch stores the same weights as ``(out, in)`` (``nn.Linear``,
the RNN weights) and ``(out, in, *kernel_size)`` (``nn.ConvNd``; ``nn.ConvTransposeNd``'s
``(in, out, *k)`` maps to Keras's transposed kernel ``(*k, out, in)`` the same way). To fill a
torch parameter use :func:`fill_`, which draws in the Keras shape and moves the values to the
torch layout, so ``fill_(linear.weight, "glorot_uniform")`` matches Keras's Dense.

Seeds follow :mod:`kerasish.random`: an int gives the same values on every call (as Keras),
a :class:`~kerasish.random.SeedGenerator` new ones each call; ``None`` draws from torch's
global generator (new values each call, reproducible with ``torch.manual_seed``), where Keras
fixes a random seed per instance.

Example:
    >>> init = get("he_normal")
    >>> init((64, 32)).shape
    torch.Size([64, 32])
    >>> layer = nn.Linear(64, 32)
    >>> fill_(layer.weight, "zeros").abs().sum().item()
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish import identifiers, random
from kerasish.ops.core import standardize_dtype

__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
    "Initializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal",
    "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros", "compute_fans",
    "deserialize", "fill_", "get", "keras_shape_of", "serialize", "to_torch_layout",
]  # fmt: skip

# The standard deviation of a unit normal cut at +-2 (Keras's constant).
_TRUNCATED_STD = 0.87962566103423978
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
_EXPECTED = {
    "scale": "`scale` to be a positive float",
    "mode": "`mode` to be one of 'fan_in', 'fan_out', 'fan_avg'",
    "distribution": "`distribution` to be one of 'truncated_normal', 'untruncated_normal', "
    "'normal', 'uniform'",
}


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """Fan-in and fan-out of a weight of KERAS shape ``shape`` (Keras's ``compute_fans``).

    Args:
        shape: ``(in, out)`` for a Dense kernel, ``(*kernel_size, in, out)`` for a conv one.

    Returns:
        ``(fan_in, fan_out)``.

    Example:
        >>> compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def keras_shape_of(torch_shape: Sequence[int]) -> tuple[int, ...]:
    """The Keras shape of a torch weight: ``(out, in)`` -> ``(in, out)``, ``(out, in, *k)`` -> ``(*k, in, out)``.

    Args:
        torch_shape: the torch parameter's shape.

    Returns:
        The Keras shape (1-D and 0-D shapes are unchanged).

    Example:
        >>> keras_shape_of((32, 16, 3, 3))
        (3, 3, 16, 32)
    """
    s = tuple(int(d) for d in torch_shape)
    return s if len(s) < 2 else (*s[2:], s[1], s[0])


def to_torch_layout(values: Tensor) -> Tensor:
    """Values in a Keras layout moved to torch's (the inverse of :func:`keras_shape_of`).

    Args:
        values: ``(in, out)`` or ``(*k, in, out)`` values.

    Returns:
        A view shaped ``(out, in)`` or ``(out, in, *k)``.

    Example:
        >>> to_torch_layout(torch.zeros(3, 3, 16, 32)).shape
        torch.Size([32, 16, 3, 3])
    """
    n = values.ndim
    return values if n < 2 else values.permute(n - 1, n - 2, *range(n - 2))


def _dtype(dtype: Any) -> torch.dtype:
    return standardize_dtype(dtype) or torch.get_default_dtype()


class Initializer:
    """Base class: ``__call__(shape, dtype=None)`` returns a new tensor.

    Subclasses implement ``__call__`` and, when they take arguments, ``get_config``.

    Example:
        >>> class Twos(Initializer):
        ...     def __call__(self, shape, dtype=None, *, device=None):
        ...         return torch.full(tuple(shape), 2.0, dtype=dtype, device=device)
        >>> Twos()((2,))
        tensor([2., 2.])
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__.")

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments.

        Returns:
            A JSON-friendly dict.

        Example:
            >>> Zeros().get_config()
            {}
        """
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Rebuild from :meth:`get_config`.

        Args:
            config: the dict.

        Returns:
            A new initializer.

        Example:
            >>> RandomNormal.from_config({"stddev": 2.0}).stddev
            2.0
        """
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros.

    Example:
        >>> Zeros()((2,))
        tensor([0., 0.])
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        return torch.zeros(tuple(shape), dtype=_dtype(dtype), device=device)


class Ones(Initializer):
    """All ones.

    Example:
        >>> Ones()((2,), dtype="int32")
        tensor([1, 1], dtype=torch.int32)
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        return torch.ones(tuple(shape), dtype=_dtype(dtype), device=device)


class Constant(Initializer):
    """Every entry equal to ``value`` (a number, or an array broadcast to the shape).

    Args:
        value: the constant (Keras's default 0.0).

    Example:
        >>> Constant(3.5)((2,))
        tensor([3.5000, 3.5000])
    """

    def __init__(self, value: Any = 0.0) -> None:
        self.value = value

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        value = torch.as_tensor(self.value, dtype=_dtype(dtype), device=device)
        return value.broadcast_to(tuple(shape)).clone()

    def get_config(self) -> dict[str, Any]:
        value = self.value
        return {"value": value.tolist() if hasattr(value, "tolist") else value}


class RandomInitializer(Initializer):
    """Base of the random initializers: holds ``seed`` (int, SeedGenerator or None).

    Args:
        seed: see the module docstring.

    Raises:
        TypeError: for a seed of another type.

    Example:
        >>> RandomInitializer(3).seed
        3
    """

    def __init__(self, seed: Any = None) -> None:
        ok = seed is None or isinstance(seed, int | random.SeedGenerator)
        if not ok or isinstance(seed, bool):
            msg = "Expected `seed` to be an int, a SeedGenerator or None. Received: seed="
            raise TypeError(f"{msg}{seed!r}")
        self.seed = seed

    def get_config(self) -> dict[str, Any]:
        seed = self.seed
        return {"seed": seed.seed if isinstance(seed, random.SeedGenerator) else seed}


class RandomNormal(RandomInitializer):
    """Normal draws: ``N(mean, stddev**2)``.

    Args:
        mean: the mean (Keras's default 0.0).
        stddev: the standard deviation (default 0.05).
        seed: see the module docstring.

    Example:
        >>> torch.equal(RandomNormal(seed=1)((3,)), RandomNormal(seed=1)((3,)))
        True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        return random.normal(shape, self.mean, self.stddev, _dtype(dtype), self.seed, device)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform draws on ``[minval, maxval)``.

    Args:
        minval: the lower bound (Keras's default -0.05).
        maxval: the upper bound (default 0.05).
        seed: see the module docstring.

    Example:
        >>> bool(RandomUniform(0.0, 1.0, seed=0)((100,)).min() >= 0)
        True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None) -> None:
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        return random.uniform(shape, self.minval, self.maxval, _dtype(dtype), self.seed, device)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class TruncatedNormal(RandomNormal):
    """Normal draws cut (redrawn) beyond two standard deviations from the mean.

    Args:
        mean: the mean (Keras's default 0.0).
        stddev: the standard deviation before the cut (default 0.05).
        seed: see the module docstring.

    Example:
        >>> bool(TruncatedNormal(stddev=1.0, seed=0)((1000,)).abs().max() <= 2)
        True
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        args = (self.mean, self.stddev, _dtype(dtype), self.seed, device)
        return random.truncated_normal(shape, *args)


class VarianceScaling(RandomInitializer):
    """Draws whose variance is ``scale / n``, ``n`` the fan-in, fan-out or their mean.

    ``"truncated_normal"`` (or ``"normal"``) draws a normal cut at 2 std with
    ``stddev = sqrt(scale / n) / 0.8796...``; ``"untruncated_normal"`` a plain normal with
    ``stddev = sqrt(scale / n)``; ``"uniform"`` draws on ``[-limit, limit)`` with
    ``limit = sqrt(3 * scale / n)``. Fans come from the KERAS shape (:func:`compute_fans`).

    Args:
        scale: a positive factor (Keras's default 1.0).
        mode: ``"fan_in"`` (default), ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"`` (default), ``"untruncated_normal"``,
            ``"normal"`` or ``"uniform"``.
        seed: see the module docstring.

    Raises:
        ValueError: for a non-positive scale, or an unknown mode or distribution.

    Example:
        >>> VarianceScaling(2.0, "fan_in", "uniform", seed=0)((3, 3, 8, 16)).shape
        torch.Size([3, 3, 8, 16])
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: Any = None) -> None:  # fmt: skip
        super().__init__(seed)
        distribution = str(distribution).lower()
        distribution = "truncated_normal" if distribution == "normal" else distribution
        for name, value, ok in (
            ("scale", scale, scale > 0),
            ("mode", mode, mode in ("fan_in", "fan_out", "fan_avg")),
            ("distribution", distribution, distribution in _DISTRIBUTIONS),
        ):
            if not ok:
                raise ValueError(f"Expected {_EXPECTED[name]}. Received: {name}={value!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        dtype = _dtype(dtype)
        if self.distribution == "truncated_normal":
            std = math.sqrt(scale) / _TRUNCATED_STD
            return random.truncated_normal(shape, 0.0, std, dtype, self.seed, device)
        if self.distribution == "untruncated_normal":
            return random.normal(shape, 0.0, math.sqrt(scale), dtype, self.seed, device)
        limit = math.sqrt(3.0 * scale)
        return random.uniform(shape, -limit, limit, dtype, self.seed, device)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution}  # fmt: skip


def _variance_scaling(name: str, scale: float, mode: str, distribution: str, doc: str) -> type:
    """A named VarianceScaling with fixed arguments and ``seed`` as its only one."""

    def __init__(self: VarianceScaling, seed: Any = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self: VarianceScaling) -> dict[str, Any]:
        return RandomInitializer.get_config(self)

    cls = type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config})
    cls.__doc__ = (
        f"{doc}: ``VarianceScaling({scale}, {mode!r}, {distribution!r})``.\n\n"
        "    Args:\n        seed: see the module docstring.\n\n    Example:\n"
        f"        >>> {name}(seed=0)((64, 32)).shape\n        torch.Size([64, 32])\n"
    )
    cls.__module__ = __name__
    return cls


# fmt: off
GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform", "Glorot (Xavier) uniform")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal", "Glorot (Xavier) normal")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform", "He (Kaiming) uniform")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal", "He (Kaiming) normal")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform", "LeCun uniform")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal", "LeCun normal")
# fmt: on


class Orthogonal(RandomInitializer):
    """An orthogonal matrix (of the shape flattened to ``(prod(shape[:-1]), shape[-1])``).

    Args:
        gain: a factor on the matrix (Keras's default 1.0).
        seed: see the module docstring.

    Raises:
        ValueError: at the call, for a shape of rank below 2.

    Example:
        >>> q = Orthogonal(seed=0)((4, 4), dtype="float64")
        >>> torch.allclose(q.T @ q, torch.eye(4, dtype=torch.float64))
        True
    """

    def __init__(self, gain: float = 1.0, seed: Any = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        shape = tuple(int(s) for s in shape)
        if len(shape) < 2:
            raise ValueError(
                f"Expected a shape of rank at least 2 for Orthogonal. Received: shape={shape}"
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        dtype = _dtype(dtype)
        work = torch.float64 if dtype == torch.float64 else torch.float32
        a = random.normal(
            (max(rows, cols), min(rows, cols)), dtype=work, seed=self.seed, device=device
        )
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        q = q.T if rows < cols else q
        return (self.gain * q.reshape(shape)).to(dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "gain": self.gain}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; rectangular allowed).

    Args:
        gain: the factor (Keras's default 1.0).

    Raises:
        ValueError: at the call, for a shape that is not 2-D.

    Example:
        >>> Identity(2.0)((2, 3))
        tensor([[2., 0., 0.],
                [0., 2., 0.]])
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Sequence[int], dtype: Any = None, *, device: Any = None) -> Tensor:
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2:
            raise ValueError(f"Expected a 2-D shape for Identity. Received: shape={shape}")
        return self.gain * torch.eye(*shape, dtype=_dtype(dtype), device=device)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


_CLASSES: dict[str, type[Initializer]] = {
    cls.__name__: cls
    for cls in (Zeros, Ones, Constant, RandomNormal, RandomUniform, TruncatedNormal,
                VarianceScaling, GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform,
                LecunNormal, Orthogonal, Identity)
}  # fmt: skip
_ALIASES = {
    "zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
    "random_normal": RandomNormal, "normal": RandomNormal, "random_uniform": RandomUniform,
    "uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "OrthogonalInitializer": Orthogonal, "identity": Identity, "IdentityInitializer": Identity,
}  # fmt: skip
_ALL = {**_CLASSES, **_ALIASES}


def serialize(initializer: Initializer) -> dict[str, Any]:
    """The Keras-style config dict of an initializer.

    Args:
        initializer: an :class:`Initializer`.

    Returns:
        ``{"module", "class_name", "config", "registered_name"}``, as Keras's ``serialize``.

    Raises:
        TypeError: for anything that is not an Initializer.

    Example:
        >>> serialize(GlorotUniform(seed=1))["config"]
        {'seed': 1}
    """
    return identifiers.serialize(initializer, Initializer, "kerasish.initializers", "initializer")


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> Initializer:
    """An initializer from :func:`serialize`'s dict (``{"class_name", "config"}``).

    Args:
        config: the dict.
        custom_objects: extra classes by name.

    Returns:
        The initializer.

    Raises:
        ValueError: for an unknown class name or a malformed dict.

    Example:
        >>> deserialize({"class_name": "HeNormal", "config": {"seed": 2}})
        HeNormal(seed=2)
    """
    return identifiers.deserialize(config, _ALL, "initializer", custom_objects)


def get(identifier: Any) -> Callable[..., Tensor] | None:
    """Resolve an initializer identifier, as Keras's ``initializers.get``.

    Args:
        identifier: ``None`` (returned), a name (``"glorot_uniform"``, ``"HeNormal"``), a
            config dict, an :class:`Initializer` class (instantiated) or any callable
            ``(shape, dtype) -> tensor`` (returned as is).

    Returns:
        The initializer, or None.

    Raises:
        ValueError: for an unknown name or anything else.

    Example:
        >>> get("glorot_uniform")
        GlorotUniform(seed=None)
    """
    return identifiers.get(identifier, _ALL, Initializer, "initializer")


@torch.no_grad()
def fill_(tensor: Tensor, initializer: Any, keras_shape: Sequence[int] | None = None) -> Tensor:
    """Fill a torch parameter in place, drawing in its Keras shape (so the fans are Keras's).

    The values are drawn in ``keras_shape`` (default: :func:`keras_shape_of` of the tensor,
    i.e. ``(in, out)`` for ``(out, in)``, ``(*k, in, out)`` for ``(out, in, *k)``) on the
    tensor's device, then moved to the tensor's layout with :func:`to_torch_layout`; a
    ``keras_shape`` equal to the tensor's shape is copied as is.

    Args:
        tensor: the parameter (``nn.Linear.weight``, ``nn.Conv2d.weight``, a bias, ...).
        initializer: anything :func:`get` takes.
        keras_shape: the weight's Keras shape, when it is not the default mapping.

    Returns:
        ``tensor``, filled.

    Raises:
        ValueError: if the drawn values do not fit the tensor.

    Example:
        >>> conv = nn.Conv2d(3, 8, 3)
        >>> fill_(conv.weight, GlorotUniform(seed=0)).shape
        torch.Size([8, 3, 3, 3])
    """
    init = get(initializer)
    target = tuple(tensor.shape)
    shape = tuple(keras_shape) if keras_shape is not None else keras_shape_of(target)
    if isinstance(init, Initializer):
        values = init(shape, dtype=tensor.dtype, device=tensor.device)
    else:
        values = torch.as_tensor(init(shape, dtype=tensor.dtype), device=tensor.device)
    if tuple(values.shape) != target:
        values = to_torch_layout(values)
    if tuple(values.shape) != target:
        raise ValueError(
            f"Expected `keras_shape` to match the tensor's shape {target} in Keras or torch "
            f"layout. Received: keras_shape={shape}"
        )
    return tensor.copy_(values)
