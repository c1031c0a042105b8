"""Argument checks shared by the layers, each raising "Expected ... Received: name=value"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "IntOrTuple",
    "check",
    "is_int",
    "check_positive_int",
    "check_bool",
    "check_int_tuple",
    "check_padding",
    "check_fraction",
    "check_positive_float",
    "check_data_format",
    "same_padding",
]


IntOrTuple = int | Sequence[int]


def check(ok: bool, expected: str, name: str, value: Any, error: type = ValueError) -> None:
    """Raise ``error`` worded "Expected `name` to be <expected>. Received: name=value"."""
    if not ok:
        raise error(f"Expected `{name}` to be {expected}. Received: {name}={value!r}")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_positive_int(name: str, value: Any) -> int:
    check(is_int(value), "an integer", name, value, TypeError)
    check(value > 0, "a positive integer", name, value)
    return value


def check_bool(name: str, value: Any) -> bool:
    check(isinstance(value, bool), "a boolean", name, value, TypeError)
    return value


def check_int_tuple(name: str, value: Any, rank: int) -> tuple[int, ...]:
    values = (value,) * rank if is_int(value) else value
    ok = (
        isinstance(values, (tuple, list))
        and len(values) == rank
        and all(is_int(v) and v > 0 for v in values)
    )
    check(ok, f"a positive integer or a tuple of {rank} positive integers", name, value)
    return tuple(values)


def check_padding(value: Any) -> str:
    ok = isinstance(value, str) and value.lower() in ("valid", "same")
    check(ok, "one of 'valid', 'same'", "padding", value)
    return value.lower()


def check_fraction(name: str, value: Any, *, closed: bool = False) -> float:
    upper = "1]" if closed else "1)"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = ok and (0 <= value <= 1 if closed else 0 <= value < 1)
    check(ok, f"a float in [0, {upper}", name, value)
    return float(value)


def check_positive_float(name: str, value: Any) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    check(ok, "a positive float", name, value)
    return float(value)


def check_data_format(value: Any) -> str:
    ok = value in ("channels_first", "channels_last")
    check(ok, "one of 'channels_first', 'channels_last'", "data_format", value)
    return value


def same_padding(
    sizes: Sequence[int], kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int]
) -> list[int]:
    """``F.pad`` amounts (last axis first) for Keras 'same': output ceil(size / stride).

    As TensorFlow does, an odd total goes one more to the right/bottom.
    """
    pads: list[int] = []
    for size, k, s, d in zip(*map(reversed, (sizes, kernel, strides, dilation))):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        pads += [total // 2, total - total // 2]
    return pads
