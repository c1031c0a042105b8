"""Keras's automatic layer names: the class name in snake_case, made unique per process."""

from __future__ import annotations

import re

__all__ = ["to_snake_case", "unique_name", "reset_names"]

_NAME_COUNTS: dict[str, int] = {}


def to_snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: ``"Conv2DTranspose"`` -> ``"conv2d_transpose"``.

    Example:
        >>> to_snake_case("BatchNormalization"), to_snake_case("LSTM")
        ('batch_normalization', 'lstm')
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ... (per process, as Keras).

    Example:
        >>> reset_names()
        >>> unique_name("dense"), unique_name("dense")
        ('dense', 'dense_1')
    """
    count = _NAME_COUNTS.get(prefix, 0)
    _NAME_COUNTS[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names() -> None:
    """Restart the automatic names (Keras's ``clear_session`` does the same).

    Example:
        >>> reset_names()
    """
    _NAME_COUNTS.clear()
