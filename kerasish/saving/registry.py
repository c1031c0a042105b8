"""The registry of serializable classes and functions, as Keras's ``keras.saving`` has it.

``@register_keras_serializable(package, name)`` files a class (with ``get_config``) or a
function under ``"package>name"``; model files then name it by that key, and loading finds it
without ``custom_objects``. Registering is the owner's statement that the object may be built
from a file's config, so safe mode trusts registered objects (Keras's semantics).

Example:
    >>> @register_keras_serializable(package="my_project")
    ... class Scale(nn.Module):
    ...     def __init__(self, factor=2.0):
    ...         super().__init__()
    ...         self.factor = factor
    ...     def get_config(self):
    ...         return {"factor": self.factor}
    >>> get_registered_name(Scale)
    'my_project>Scale'
    >>> get_registered_object("my_project>Scale") is Scale
    True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = [
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
    "registered_object_at",
]

T = TypeVar("T")

_OBJECTS: dict[str, Any] = {}  # "package>name" -> object
_NAMES: dict[Any, str] = {}  # object -> "package>name"


def register_keras_serializable(
    package: str = "Custom", name: str | None = None
) -> Callable[[T], T]:
    """A decorator that registers a class or function under ``"package>name"``.

    Args:
        package: the first part of the key (default "Custom", as in Keras).
        name: the second part (default: the object's ``__name__``).

    Returns:
        The decorator; it returns the object unchanged.

    Raises:
        TypeError: for a package or name that is not a string.
        ValueError: when a class without ``get_config()`` is registered.

    Example:
        >>> @register_keras_serializable(package="my_project", name="double")
        ... def double(x):
        ...     return 2 * x
        >>> get_registered_name(double)
        'my_project>double'
    """
    for arg, value in (("package", package), ("name", name)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"Expected {arg} to be a string. Received: {arg}={value!r}")

    def decorator(obj: T) -> T:
        key = f"{package}>{name if name is not None else obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                "Expected a class with a get_config() method (or a function) to register. "
                f"Received: {obj.__qualname__} without get_config()"
            )
        _OBJECTS[key] = obj
        _NAMES[obj] = key
        return obj

    return decorator


def get_registered_name(obj: Any) -> str:
    """The key ``obj`` is registered under, or its ``__name__`` when it is not registered.

    Example:
        >>> get_registered_name(len)
        'len'
    """
    return _NAMES.get(obj, obj.__name__)


def get_registered_object(
    name: str,
    custom_objects: Mapping[str, Any] | None = None,
    module_objects: Mapping[str, Any] | None = None,
) -> Any:
    """The object registered as ``name``, else ``custom_objects[name]``, else
    ``module_objects[name]``, else None (Keras's order).

    Example:
        >>> get_registered_object("no>such") is None
        True
    """
    if name in _OBJECTS:
        return _OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def registered_object_at(module: str, qualname: str) -> Any:
    """The registered object defined as ``module.qualname``, or None.

    Lets a file that names a class by its import path (``"module:qualname"``) reach a
    registered class without importing anything on the file's say.
    """
    for obj in _OBJECTS.values():
        if getattr(obj, "__module__", None) == module and getattr(obj, "__qualname__", None) == (
            qualname
        ):
            return obj
    return None
