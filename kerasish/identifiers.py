"""Keras's ``serialize`` / ``deserialize`` / ``get`` over a fixed table of names, shared by
``kerasish.initializers``, ``kerasish.regularizers`` and ``kerasish.constraints``.

A config names a class only through the module's own table (and the caller's
``custom_objects``), never through an attribute path, so a file can build nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["serialize", "deserialize", "get"]


def serialize(obj: Any, base: type, module: str, what: str) -> dict[str, Any]:
    """``{"module", "class_name", "config", "registered_name"}`` of ``obj``, as Keras's.

    Raises:
        TypeError: when ``obj`` is not a ``base``.

    Example:
        >>> from kerasish.regularizers import L2, Regularizer
        >>> serialize(L2(), Regularizer, "kerasish.regularizers", "regularizer")["class_name"]
        'L2'
    """
    if not isinstance(obj, base):
        raise TypeError(f"Expected a {base.__name__}. Received: {what}={obj!r}")
    return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
            "registered_name": None}  # fmt: skip


def deserialize(
    config: Any, table: Mapping[str, type], what: str, custom_objects: Mapping | None = None
) -> Any:
    """The object of a ``{"class_name", "config"}`` dict, its class looked up in ``table``.

    Raises:
        ValueError: for a malformed dict or a class name not in the table.

    Example:
        >>> from kerasish.regularizers import L1
        >>> deserialize({"class_name": "L1", "config": {"l1": 0.5}}, {"L1": L1}, "regularizer")
        L1(l1=0.5)
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"Expected a dict with 'class_name' and 'config'. Received: config={config!r}"
        )
    names = {**table, **(custom_objects or {})}
    name = config["class_name"]
    if name not in names:
        raise ValueError(
            f"Could not interpret {what} identifier. Expected one of {sorted(names)}. "
            f"Received: class_name={name!r}"
        )
    return names[name].from_config(config.get("config") or {})


def get(identifier: Any, table: Mapping[str, type], base: type, what: str) -> Any:
    """Keras's ``get``: None, a name, a config dict, a ``base`` class (instantiated) or any
    callable (returned as it is).

    Raises:
        ValueError: for an unknown name or anything else.

    Example:
        >>> from kerasish.regularizers import L2, Regularizer
        >>> get("l2", {"l2": L2}, Regularizer, "regularizer")
        L2(l2=0.01)
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier, table, what)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}}, table, what)
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {what} identifier: {identifier!r}")
