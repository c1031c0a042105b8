"""``keras.ops``' element-wise NumPy-like ops (arithmetic, comparisons, math functions).

Each op is a thin torch call under Keras's name and argument order; inputs may be tensors,
NumPy arrays or Python numbers, which follow torch's type promotion (an ``int`` tensor
divided by one gives the default float dtype; comparisons give ``bool``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, tensors_like

_UNARY: list[tuple[str, Callable[[Tensor], Tensor], str, str, str]] = [
    # (name, torch function, summary, example input, example output)
    ("negative", torch.neg, "``-x``.", "[1, -2]", "tensor([-1,  2])"),
    ("abs", torch.abs, "``|x|`` (also ``absolute``).", "[-1.5, 2.0]", "tensor([1.5000, 2.0000])"),
    ("absolute", torch.abs, "``|x|`` (also ``abs``).", "[-1, 2]", "tensor([1, 2])"),
    ("sqrt", torch.sqrt, "The square root.", "[4.0, 9.0]", "tensor([2., 3.])"),
    ("rsqrt", torch.rsqrt, "``1 / sqrt(x)``.", "[4.0]", "tensor([0.5000])"),
    ("square", torch.square, "``x * x``.", "[-3, 2]", "tensor([9, 4])"),
    ("exp", torch.exp, "``e ** x``.", "[0.0]", "tensor([1.])"),
    ("exp2", torch.exp2, "``2 ** x``.", "[3.0]", "tensor([8.])"),
    ("expm1", torch.expm1, "``exp(x) - 1``, precise near 0.", "[0.0]", "tensor([0.])"),
    ("log", torch.log, "The natural logarithm.", "[1.0]", "tensor([0.])"),
    ("log1p", torch.log1p, "``log(1 + x)``, precise near 0.", "[0.0]", "tensor([0.])"),
    ("log2", torch.log2, "The base-2 logarithm.", "[8.0]", "tensor([3.])"),
    ("log10", torch.log10, "The base-10 logarithm.", "[100.0]", "tensor([2.])"),
    ("sign", torch.sign, "-1, 0 or 1 by the sign of ``x``.", "[-2.0, 0.0, 3.0]", "tensor([-1.,  0.,  1.])"),
    ("floor", torch.floor, "The largest integer <= ``x``.", "[1.5, -1.5]", "tensor([ 1., -2.])"),
    ("ceil", torch.ceil, "The smallest integer >= ``x``.", "[1.5, -1.5]", "tensor([ 2., -1.])"),
    ("trunc", torch.trunc, "``x`` rounded toward 0.", "[1.5, -1.5]", "tensor([ 1., -1.])"),
    ("reciprocal", torch.reciprocal, "``1 / x``.", "[2.0]", "tensor([0.5000])"),
    ("sin", torch.sin, "The sine.", "[0.0]", "tensor([0.])"),
    ("cos", torch.cos, "The cosine.", "[0.0]", "tensor([1.])"),
    ("tan", torch.tan, "The tangent.", "[0.0]", "tensor([0.])"),
    ("arcsin", torch.asin, "The inverse sine.", "[0.0]", "tensor([0.])"),
    ("arccos", torch.acos, "The inverse cosine.", "[1.0]", "tensor([0.])"),
    ("arctan", torch.atan, "The inverse tangent.", "[0.0]", "tensor([0.])"),
    ("sinh", torch.sinh, "The hyperbolic sine.", "[0.0]", "tensor([0.])"),
    ("cosh", torch.cosh, "The hyperbolic cosine.", "[0.0]", "tensor([1.])"),
    ("tanh", torch.tanh, "The hyperbolic tangent.", "[0.0]", "tensor([0.])"),
    ("arcsinh", torch.asinh, "The inverse hyperbolic sine.", "[0.0]", "tensor([0.])"),
    ("arccosh", torch.acosh, "The inverse hyperbolic cosine.", "[1.0]", "tensor([0.])"),
    ("arctanh", torch.atanh, "The inverse hyperbolic tangent.", "[0.0]", "tensor([0.])"),
    ("logical_not", torch.logical_not, "Element-wise NOT.", "[True, False]", "tensor([False,  True])"),
    ("isnan", torch.isnan, "Whether ``x`` is NaN.", "[float('nan'), 1.0]", "tensor([ True, False])"),
    ("isinf", torch.isinf, "Whether ``x`` is +-inf.", "[float('inf'), 1.0]", "tensor([ True, False])"),
    ("isfinite", torch.isfinite, "Whether ``x`` is finite.", "[float('inf'), 1.0]", "tensor([False,  True])"),
    ("conj", torch.conj_physical, "The complex conjugate (also ``conjugate``).", "[1.0]", "tensor([1.])"),
    ("real", torch.real, "The real part.", "[1.0]", "tensor([1.])"),
    ("imag", lambda x: torch.imag(x) if x.is_complex() else torch.zeros_like(x), "The imaginary part.", "[1.0]", "tensor([0.])"),
    ("angle", torch.angle, "The complex argument (0 or pi for reals).", "[-1.0, 1.0]", "tensor([3.1416, 0.0000])"),
    ("fabs", torch.abs, "``|x|``.", "[-1.5]", "tensor([1.5000])"),
    ("cbrt", lambda x: torch.sign(x) * torch.abs(x).pow(1 / 3), "The cube root.", "[-8.0, 27.0]", "tensor([-2.,  3.])"),
    ("deg2rad", torch.deg2rad, "Degrees to radians.", "[180.0]", "tensor([3.1416])"),
    ("rad2deg", torch.rad2deg, "Radians to degrees.", "[3.14159265]", "tensor([180.])"),
    ("signbit", torch.signbit, "Whether the sign bit is set (true for -0.0).", "[-0.0, 1.0]", "tensor([ True, False])"),
    ("isneginf", torch.isneginf, "Whether ``x`` is -inf.", "[float('-inf'), 1.0]", "tensor([ True, False])"),
    ("isposinf", torch.isposinf, "Whether ``x`` is +inf.", "[float('inf'), 1.0]", "tensor([ True, False])"),
    ("isreal", torch.isreal, "Whether the imaginary part is 0.", "[1.0]", "tensor([True])"),
    ("sinc", torch.sinc, "``sin(pi x) / (pi x)``, 1 at 0.", "[0.0]", "tensor([1.])"),
    ("i0", torch.i0, "The modified Bessel function of order 0.", "[0.0]", "tensor([1.0000])"),
    ("bitwise_not", torch.bitwise_not, "Bit-wise NOT (also ``bitwise_invert``).", "[0, 1]", "tensor([-1, -2])"),
    ("bitwise_invert", torch.bitwise_not, "Bit-wise NOT (also ``bitwise_not``).", "[0, 1]", "tensor([-1, -2])"),
]  # fmt: skip

_BINARY: list[tuple[str, Callable[[Tensor, Tensor], Tensor], str, str, str]] = [
    ("add", torch.add, "``x1 + x2``.", "[1, 2], 3", "tensor([4, 5])"),
    ("subtract", torch.subtract, "``x1 - x2``.", "[1, 2], 3", "tensor([-2, -1])"),
    ("multiply", torch.multiply, "``x1 * x2``.", "[1, 2], 3", "tensor([3, 6])"),
    ("divide", torch.true_divide, "``x1 / x2`` (true division).", "[1, 2], 4", "tensor([0.2500, 0.5000])"),
    ("true_divide", torch.true_divide, "``x1 / x2``.", "[1, 2], 4", "tensor([0.2500, 0.5000])"),
    ("floor_divide", torch.floor_divide, "``x1 // x2`` (rounds down).", "[-7, 7], 2", "tensor([-4,  3])"),
    ("mod", torch.remainder, "``x1 % x2`` with the sign of ``x2`` (NumPy's).", "[-7, 7], 3", "tensor([2, 1])"),
    ("power", torch.pow, "``x1 ** x2``.", "[2, 3], 2", "tensor([4, 9])"),
    ("maximum", torch.maximum, "The element-wise larger.", "[1, 5], [3, 2]", "tensor([3, 5])"),
    ("minimum", torch.minimum, "The element-wise smaller.", "[1, 5], [3, 2]", "tensor([1, 2])"),
    ("arctan2", torch.atan2, "The angle of ``(x2, x1)``.", "[0.0], [1.0]", "tensor([0.])"),
    ("hypot", torch.hypot, "``sqrt(x1**2 + x2**2)``.", "[3.0], [4.0]", "tensor([5.])"),
    ("equal", torch.eq, "``x1 == x2``.", "[1, 2], 2", "tensor([False,  True])"),
    ("not_equal", torch.ne, "``x1 != x2``.", "[1, 2], 2", "tensor([ True, False])"),
    ("greater", torch.gt, "``x1 > x2``.", "[1, 3], 2", "tensor([False,  True])"),
    ("greater_equal", torch.ge, "``x1 >= x2``.", "[1, 2], 2", "tensor([False,  True])"),
    ("less", torch.lt, "``x1 < x2``.", "[1, 3], 2", "tensor([ True, False])"),
    ("less_equal", torch.le, "``x1 <= x2``.", "[2, 3], 2", "tensor([ True, False])"),
    ("logical_and", torch.logical_and, "Element-wise AND.", "[True, True], [True, False]", "tensor([ True, False])"),
    ("logical_or", torch.logical_or, "Element-wise OR.", "[True, False], [False, False]", "tensor([ True, False])"),
    ("logical_xor", torch.logical_xor, "Element-wise XOR.", "[True, True], [True, False]", "tensor([False,  True])"),
    ("copysign", torch.copysign, "``|x1|`` with the sign of ``x2``.", "[1.0], [-2.0]", "tensor([-1.])"),
    ("fmod", torch.fmod, "The remainder with the sign of ``x1`` (C's).", "[-7, 7], 3", "tensor([-1,  1])"),
    ("fmax", torch.fmax, "The larger, ignoring NaN.", "[float('nan')], [1.0]", "tensor([1.])"),
    ("fmin", torch.fmin, "The smaller, ignoring NaN.", "[float('nan')], [1.0]", "tensor([1.])"),
    ("logaddexp2", torch.logaddexp2, "``log2(2**x1 + 2**x2)``.", "[1.0], [1.0]", "tensor([2.])"),
    ("nextafter", torch.nextafter, "The next float after ``x1`` toward ``x2``.", "[1.0], [1.0]", "tensor([1.])"),
    ("heaviside", lambda a, b: torch.heaviside(a, b.to(a.dtype)), "0 below 0, ``x2`` at 0, 1 above.", "[-1.0, 0.0, 2.0], 0.5", "tensor([0.0000, 0.5000, 1.0000])"),
    ("ldexp", lambda a, b: torch.ldexp(a, b), "``x1 * 2**x2``.", "[1.0], [3]", "tensor([8.])"),
    ("gcd", torch.gcd, "The greatest common divisor.", "[12, 9], 6", "tensor([6, 3])"),
    ("lcm", torch.lcm, "The least common multiple.", "[4, 3], 6", "tensor([12,  6])"),
    ("bitwise_and", torch.bitwise_and, "Bit-wise AND.", "[12, 5], 6", "tensor([4, 4])"),
    ("bitwise_or", torch.bitwise_or, "Bit-wise OR.", "[12, 5], 6", "tensor([14,  7])"),
    ("bitwise_xor", torch.bitwise_xor, "Bit-wise XOR.", "[12, 5], 6", "tensor([10,  3])"),
    ("bitwise_left_shift", torch.bitwise_left_shift, "``x1 << x2`` (also ``left_shift``).", "[1, 2], 2", "tensor([4, 8])"),
    ("left_shift", torch.bitwise_left_shift, "``x1 << x2``.", "[1, 2], 2", "tensor([4, 8])"),
    ("bitwise_right_shift", torch.bitwise_right_shift, "``x1 >> x2`` (also ``right_shift``).", "[8, 4], 2", "tensor([2, 1])"),
    ("right_shift", torch.bitwise_right_shift, "``x1 >> x2``.", "[8, 4], 2", "tensor([2, 1])"),
]  # fmt: skip

_ARGS = "    Args:\n        {args}\n\n    Returns:\n        The result, a tensor.\n\n"


def _make_unary(name: str, fn: Callable[..., Tensor], doc: str, ex: str, out: str) -> Callable:
    def op(x: Any) -> Tensor:
        return fn(convert_to_tensor(x))

    op.__doc__ = f"{doc}\n\n{_ARGS.format(args='x: a tensor, array or number.')}"
    op.__doc__ += f"    Example:\n        >>> {name}({ex})\n        {out}\n"
    return op


def _make_binary(name: str, fn: Callable[..., Tensor], doc: str, ex: str, out: str) -> Callable:
    def op(x1: Any, x2: Any) -> Tensor:
        return fn(*tensors_like(x1, x2))

    args = "x1: a tensor, array or number.\n        x2: another, broadcast against ``x1``."
    op.__doc__ = f"{doc}\n\n{_ARGS.format(args=args)}"
    op.__doc__ += f"    Example:\n        >>> {name}({ex})\n        {out}\n"
    return op


for _name, _fn, _doc, _ex, _out in _UNARY:
    _op = _make_unary(_name, _fn, _doc, f"torch.tensor({_ex})", _out)
    _op.__name__ = _op.__qualname__ = _name
    globals()[_name] = _op
for _name, _fn, _doc, _ex, _out in _BINARY:
    _x1, _x2 = _ex[: _ex.index("]") + 1], _ex[_ex.index("]") + 3 :]
    _op = _make_binary(_name, _fn, _doc, f"torch.tensor({_x1}), {_x2}", _out)
    _op.__name__ = _op.__qualname__ = _name
    globals()[_name] = _op
conjugate = globals()["conj"]


def clip(x: Any, x_min: Any, x_max: Any) -> Tensor:
    """``x`` limited to ``[x_min, x_max]``.

    Args:
        x: a tensor.
        x_min: the lower bound (a number or tensor).
        x_max: the upper bound.

    Returns:
        The clipped tensor.

    Example:
        >>> clip(torch.tensor([-2.0, 0.5, 3.0]), 0.0, 1.0)
        tensor([0.0000, 0.5000, 1.0000])
    """
    x = convert_to_tensor(x)
    lo = x_min if isinstance(x_min, int | float) else convert_to_tensor(x_min, device=x.device)
    hi = x_max if isinstance(x_max, int | float) else convert_to_tensor(x_max, device=x.device)
    return torch.clamp(x, lo, hi)


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001
    """Round to ``decimals`` places, halves to even (NumPy's rule).

    Args:
        x: a tensor.
        decimals: the number of decimals.

    Returns:
        The rounded tensor.

    Example:
        >>> round(torch.tensor([0.5, 1.5, 2.567]))
        tensor([0., 2., 3.])
        >>> round(torch.tensor([2.567]), decimals=1)
        tensor([2.6000])
    """
    x = convert_to_tensor(x)
    return x if not x.is_floating_point() else torch.round(x, decimals=decimals)


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """``x1`` where ``condition`` holds, else ``x2``; with one argument, the nonzero indices.

    Args:
        condition: a boolean tensor.
        x1: the values where true.
        x2: the values where false.

    Returns:
        A tensor, or (one argument) a tuple of index tensors, as ``np.where``.

    Example:
        >>> where(torch.tensor([True, False]), 1.0, torch.tensor([5.0, 6.0]))
        tensor([1., 6.])
    """
    if x1 is None and x2 is None:
        return torch.where(convert_to_tensor(condition))
    condition, x1, x2 = tensors_like(condition, x1, x2)
    return torch.where(condition.bool(), x1, x2)


def divide_no_nan(x1: Any, x2: Any) -> Tensor:
    """``x1 / x2``, with 0 where ``x2`` is 0.

    Args:
        x1: a tensor.
        x2: the divisor.

    Returns:
        The quotient.

    Example:
        >>> divide_no_nan(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 4.0]))
        tensor([0.0000, 0.5000])
    """
    a, b = tensors_like(x1, x2)
    out = torch.true_divide(a, b)
    return torch.where(b == 0, torch.zeros((), dtype=out.dtype, device=out.device), out)


def nan_to_num(
    x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """``x`` with NaN and infinities replaced (by default 0 and the dtype's extremes).

    Args:
        x: a tensor.
        nan: the value for NaN.
        posinf: the value for +inf (default: the largest finite value).
        neginf: the value for -inf (default: the smallest).

    Returns:
        The tensor.

    Example:
        >>> nan_to_num(torch.tensor([float("nan"), 1.0]))
        tensor([0., 1.])
    """
    return torch.nan_to_num(convert_to_tensor(x), nan=nan, posinf=posinf, neginf=neginf)


__all__ = [
    *(row[0] for row in _UNARY),
    *(row[0] for row in _BINARY),
    "clip",
    "conjugate",
    "divide_no_nan",
    "nan_to_num",
    "round",
    "where",
]
