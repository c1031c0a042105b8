"""Walk nested data: map a function over, or list, the leaves of tuples, lists and dicts.

A structure is a leaf (anything else: a tensor, an array, a number, a string) or a container
of structures: a tuple (namedtuples keep their type), a list, or a mapping (rebuilt as a plain
``dict`` in the mapping's key order). ``None`` is an empty structure: it has no leaves and maps
to ``None``, so ``(x, y, None)`` batches need no special case.

Example:
    >>> map_structure(lambda t: t * 2, {"a": (1, 2), "b": None})
    {'a': (2, 4), 'b': None}
    >>> flatten([1, {"k": 2}, None])
    [1, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["map_structure", "flatten", "is_nested", "first_leaf"]

_LEAF, _NONE, _SEQ, _NAMEDTUPLE, _MAP = range(5)
# The kind of each type seen, so that walking a batch costs one dict look-up per node.
_KINDS: dict[type, int] = {type(None): _NONE, tuple: _SEQ, list: _SEQ, dict: _MAP}


def _kind(obj: Any) -> int:
    kind = _KINDS.get(type(obj))
    if kind is None:
        kind = _KINDS[type(obj)] = _classify(type(obj))
    return kind


def _classify(cls: type) -> int:
    if issubclass(cls, tuple):
        return _NAMEDTUPLE if hasattr(cls, "_fields") else _SEQ
    if issubclass(cls, list):
        return _SEQ
    if issubclass(cls, Mapping):
        return _MAP
    return _LEAF


def is_nested(x: Any) -> bool:
    """Whether ``x`` is a container (tuple, list or mapping) rather than a leaf or None.

    Example:
        >>> is_nested((1, 2)), is_nested(1), is_nested(None)
        (True, False, False)
    """
    return _kind(x) >= _SEQ


def map_structure(fn: Callable[..., Any], structure: Any, *structures: Any) -> Any:
    """Apply ``fn`` to the leaves of one or several structures of the same shape.

    With several structures, ``fn`` receives the corresponding leaves of each, in order; the
    result has the shape of the first (mappings are matched by key).

    Args:
        fn: called once per leaf (or per tuple of corresponding leaves).
        structure: a nested structure.
        *structures: more structures shaped like ``structure``.

    Returns:
        A structure like ``structure``, holding ``fn``'s results.

    Raises:
        ValueError: when the structures differ in shape.

    Example:
        >>> from collections import namedtuple
        >>> P = namedtuple("P", "a b")
        >>> map_structure(lambda u, v: u + v, P(1, [2]), P(10, [20]))
        P(a=11, b=[22])
    """
    if structures:
        return _map_many(fn, (structure, *structures))
    kind = _kind(structure)
    if kind == _LEAF:
        return fn(structure)
    if kind == _NONE:
        return None
    if kind == _MAP:
        return {k: map_structure(fn, v) for k, v in structure.items()}
    # Leaves are mapped in place: one call per leaf, as a hand-written walker makes.
    items = [fn(v) if _KINDS.get(type(v)) == _LEAF else map_structure(fn, v) for v in structure]
    return type(structure)(*items) if kind == _NAMEDTUPLE else type(structure)(items)


def _map_many(fn: Callable[..., Any], structures: tuple[Any, ...]) -> Any:
    first = structures[0]
    kind = _kind(first)
    if kind == _LEAF:
        return fn(*structures)
    _check_same_shape(first, kind, structures)
    if kind == _NONE:
        return None
    if kind == _MAP:
        return {k: _map_many(fn, tuple(s[k] for s in structures)) for k in first}
    items = [_map_many(fn, parts) for parts in zip(*structures)]
    return type(first)(*items) if kind == _NAMEDTUPLE else type(first)(items)


def _check_same_shape(first: Any, kind: int, structures: tuple[Any, ...]) -> None:
    for other in structures[1:]:
        other_kind = _kind(other)
        same = other_kind == kind or {kind, other_kind} <= {_SEQ, _NAMEDTUPLE}
        if same and kind == _MAP:
            same = set(first) == set(other)
        elif same and kind != _NONE:
            same = len(first) == len(other)
        if not same:
            raise ValueError(
                f"Expected structures of the same shape. Received: {_describe(first)} "
                f"and {_describe(other)}"
            )


def _describe(s: Any) -> str:
    kind = _kind(s)
    if kind == _MAP:
        return f"a mapping with keys {sorted(map(str, s))}"
    if kind in (_SEQ, _NAMEDTUPLE):
        return f"a {type(s).__name__} of {len(s)} items"
    return "None" if kind == _NONE else f"a leaf of type {type(s).__name__}"


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure``, depth first, mappings in their key order; None has none.

    Example:
        >>> flatten({"a": [1, 2], "b": (3, None)})
        [1, 2, 3]
    """
    out: list[Any] = []
    _collect(structure, out)
    return out


def _collect(s: Any, out: list[Any]) -> None:
    kind = _kind(s)
    if kind == _LEAF:
        out.append(s)
    elif kind == _MAP:
        for v in s.values():
            _collect(v, out)
    elif kind != _NONE:
        for v in s:
            _collect(v, out)


def first_leaf(structure: Any) -> Any:
    """The first leaf of ``structure`` (as ``flatten(structure)[0]``), or None when it has none.

    Example:
        >>> first_leaf(({"a": None, "b": 7}, 8))
        7
    """
    kind = _kind(structure)
    if kind == _LEAF:
        return structure
    if kind == _NONE:
        return None
    for v in structure.values() if kind == _MAP else structure:
        leaf = first_leaf(v)
        if leaf is not None:
            return leaf
    return None
