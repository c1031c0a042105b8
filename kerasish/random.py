"""Keras's ``keras.random``: seeded draws on torch generators.

``seed`` is, as in Keras, an int (the same numbers on every call: a stateless draw), a
:class:`SeedGenerator` (new numbers on every call, reproducible from its seed), or ``None``:
torch's global generator, so ``torch.manual_seed`` makes the draws reproducible (Keras uses its
own global seed there). Numbers are drawn on the ``device`` asked for (torch's default device
unless given, a torch extension); a seed gives the same numbers on the same kind of device.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, standardize_dtype

__all__ = [
    "SeedGenerator",
    "categorical",
    "dropout",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]

_MAX_SEED = 2**63 - 1


class SeedGenerator:
    """A stream of seeds: each draw that takes it gets new, reproducible numbers.

    Args:
        seed: the initial seed; ``None`` draws one from torch's global generator.

    Raises:
        TypeError: if ``seed`` is not an int or None.

    Example:
        >>> a, b = normal((2,), seed=SeedGenerator(1)), normal((2,), seed=SeedGenerator(1))
        >>> torch.equal(a, b)
        True
        >>> gen = SeedGenerator(1)
        >>> torch.equal(normal((2,), seed=gen), normal((2,), seed=gen))
        False
    """

    def __init__(self, seed: int | None = None) -> None:
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, ()).item())
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"Expected `seed` to be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self._stream = torch.Generator().manual_seed(seed)

    def next(self) -> int:
        """The next seed of the stream.

        Returns:
            A non-negative int.

        Example:
            >>> SeedGenerator(0).next() == SeedGenerator(0).next()
            True
        """
        return int(torch.randint(0, _MAX_SEED, (), generator=self._stream).item())

    def get_config(self) -> dict[str, Any]:
        """``{"seed": seed}``.

        Returns:
            The config.

        Example:
            >>> SeedGenerator(3).get_config()
            {'seed': 3}
        """
        return {"seed": self.seed}


def _generator(seed: Any, device: Any) -> torch.Generator | None:
    """The generator a draw uses: None (torch's global one), or one seeded from ``seed``."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        seed = seed.next()
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(
            f"Expected `seed` to be an int, a SeedGenerator or None. Received: seed={seed!r}"
        )
    device = torch.device(device if device is not None else torch.get_default_device())
    return torch.Generator(device=device).manual_seed(seed % _MAX_SEED)


def _float_dtype(dtype: Any) -> torch.dtype:
    dtype = standardize_dtype(dtype) or torch.get_default_dtype()
    if not dtype.is_floating_point:
        raise ValueError(f"Expected a floating dtype. Received: dtype={dtype}")
    return dtype


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)


def normal(
    shape: Sequence[int],
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Any = None,
    device: Any = None,
) -> Tensor:
    """Draw from a normal distribution.

    Args:
        shape: the output shape.
        mean: the mean.
        stddev: the standard deviation.
        dtype: a floating dtype (default: torch's default dtype).
        seed: an int, a :class:`SeedGenerator` or None (see the module docstring).
        device: where to draw (default: torch's default device).

    Returns:
        The tensor.

    Raises:
        ValueError: for a non-floating dtype.
        TypeError: for a seed of another type.

    Example:
        >>> torch.equal(normal((3,), seed=7), normal((3,), seed=7))
        True
    """
    gen = _generator(seed, device)
    out = torch.randn(_shape(shape), generator=gen, dtype=_float_dtype(dtype), device=device)
    return out.mul_(stddev).add_(mean)


def uniform(
    shape: Sequence[int],
    minval: float = 0.0,
    maxval: float = 1.0,
    dtype: Any = None,
    seed: Any = None,
    device: Any = None,
) -> Tensor:
    """Draw from the uniform distribution on ``[minval, maxval)``.

    Args:
        shape: the output shape.
        minval: the lower bound (included).
        maxval: the upper bound (excluded).
        dtype: a floating dtype (default: torch's default dtype).
        seed: an int, a :class:`SeedGenerator` or None.
        device: where to draw.

    Returns:
        The tensor.

    Raises:
        ValueError: for a non-floating dtype.

    Example:
        >>> bool(((uniform((100,), 2.0, 3.0, seed=1) >= 2) & (uniform((100,), 2.0, 3.0) < 3)).all())
        True
    """
    gen = _generator(seed, device)
    out = torch.rand(_shape(shape), generator=gen, dtype=_float_dtype(dtype), device=device)
    return out.mul_(maxval - minval).add_(minval)


def randint(
    shape: Sequence[int],
    minval: int,
    maxval: int,
    dtype: Any = "int32",
    seed: Any = None,
    device: Any = None,
) -> Tensor:
    """Draw integers uniformly from ``[minval, maxval)``.

    Args:
        shape: the output shape.
        minval: the lowest value (included).
        maxval: the upper bound (excluded).
        dtype: an integer dtype (Keras's default ``"int32"``).
        seed: an int, a :class:`SeedGenerator` or None.
        device: where to draw.

    Returns:
        The tensor.

    Example:
        >>> randint((4,), 0, 3, seed=0).dtype
        torch.int32
    """
    gen = _generator(seed, device)
    dtype = standardize_dtype(dtype)
    return torch.randint(
        int(minval), int(maxval), _shape(shape), generator=gen, dtype=dtype, device=device
    )


def truncated_normal(
    shape: Sequence[int],
    mean: float = 0.0,
    stddev: float = 1.0,
    dtype: Any = None,
    seed: Any = None,
    device: Any = None,
) -> Tensor:
    """Draw from a normal distribution cut at two standard deviations from the mean.

    Args:
        shape: the output shape.
        mean: the mean of the normal distribution before the cut.
        stddev: its standard deviation (the cut one's is about ``0.88 * stddev``).
        dtype: a floating dtype.
        seed: an int, a :class:`SeedGenerator` or None.
        device: where to draw.

    Returns:
        The tensor.

    Example:
        >>> bool(truncated_normal((1000,), stddev=1.0, seed=0).abs().max() <= 2.0)
        True
    """
    gen = _generator(seed, device)
    out = torch.empty(_shape(shape), dtype=_float_dtype(dtype), device=device)
    return (
        torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=gen).mul_(stddev).add_(mean)
    )


def dropout(
    inputs: Any, rate: float, noise_shape: Sequence[int | None] | None = None, seed: Any = None
) -> Tensor:
    """Zero entries with probability ``rate`` and scale the rest by ``1 / (1 - rate)``.

    Args:
        inputs: a tensor.
        rate: the drop probability, in ``[0, 1)``.
        noise_shape: the shape of the mask, broadcast over ``inputs`` (``None`` entries take
            the input's size), e.g. ``(batch, 1, features)`` to drop whole features.
        seed: an int, a :class:`SeedGenerator` or None.

    Returns:
        The tensor with dropped entries.

    Raises:
        ValueError: if ``rate`` is outside ``[0, 1)``.

    Example:
        >>> out = dropout(torch.ones(1000), 0.5, seed=0)
        >>> sorted(set(out.tolist()))
        [0.0, 2.0]
    """
    if not 0 <= rate < 1:
        raise ValueError(f"Expected `rate` in [0, 1). Received: rate={rate}")
    inputs = convert_to_tensor(inputs)
    if noise_shape is None:
        noise_shape = inputs.shape
    noise_shape = [inputs.shape[i] if n is None else n for i, n in enumerate(noise_shape)]
    keep = uniform(noise_shape, dtype=inputs.dtype, seed=seed, device=inputs.device) >= rate
    return torch.where(
        keep, inputs / (1 - rate), torch.zeros((), dtype=inputs.dtype, device=inputs.device)
    )


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Tensor:
    """``x`` with its entries along ``axis`` in a random order.

    Args:
        x: a tensor.
        axis: the axis to shuffle.
        seed: an int, a :class:`SeedGenerator` or None.

    Returns:
        The shuffled tensor.

    Example:
        >>> sorted(shuffle(torch.arange(5), seed=0).tolist())
        [0, 1, 2, 3, 4]
    """
    x = convert_to_tensor(x)
    gen = _generator(seed, x.device)
    perm = torch.randperm(x.shape[axis], generator=gen, device=x.device)
    return x.index_select(axis, perm)


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> Tensor:
    """Draw class indices from the categorical distributions given by ``logits``.

    Args:
        logits: ``(batch, num_classes)`` unnormalized log-probabilities.
        num_samples: draws per row (with replacement).
        dtype: the integer dtype of the result (Keras's default ``"int32"``).
        seed: an int, a :class:`SeedGenerator` or None.

    Returns:
        A ``(batch, num_samples)`` tensor of class indices.

    Raises:
        ValueError: if ``logits`` is not 2-D.

    Example:
        >>> categorical(torch.tensor([[0.0, -1e9]]), 3, seed=0)
        tensor([[0, 0, 0]], dtype=torch.int32)
    """
    logits = convert_to_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(
            f"Expected `logits` of rank 2. Received: logits.shape={tuple(logits.shape)}"
        )
    probs = torch.softmax(logits.float(), dim=-1)
    gen = _generator(seed, logits.device)
    out = torch.multinomial(probs, int(num_samples), replacement=True, generator=gen)
    return out.to(standardize_dtype(dtype))
