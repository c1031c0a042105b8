"""LambdaCallback: a callback made of plain functions, built on the fly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kerasish.callbacks.callback import ALIASES, HOOKS, Callback

__all__ = ["LambdaCallback"]

_HOOK_NAMES = frozenset(HOOKS) | frozenset(ALIASES.values())


class LambdaCallback(Callback):
    """A callback whose hooks are the functions you pass (Keras's ``LambdaCallback``).

    The functions take the hook's arguments: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``,
    ``on_train_batch_begin(batch, logs)`` and ``on_train_batch_end(batch, logs)``. As in
    Keras, every other keyword argument becomes an attribute of the callback, so any other
    hook of ``Callback`` (``on_test_end=...``, Keras's ``on_batch_end=...``) is set that way
    too, and so is any extra state (``LambdaCallback(on_epoch_end=f, name="x").name``). Only
    the hooks given are dispatched, so a LambdaCallback without batch functions costs
    nothing per batch.

    Args:
        on_epoch_begin, on_epoch_end, on_train_begin, on_train_end, on_train_batch_begin,
        on_train_batch_end: functions, or None.
        **kwargs: attributes to set: functions for other hooks, or any values.

    Raises:
        TypeError: when a hook is given something that is neither callable nor None.

    Example:
        >>> print_epoch = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, sorted(logs)))
        >>> history = model.fit(x, y, epochs=2, callbacks=[print_epoch], verbose=0)
        0 ['accuracy', 'loss']
        1 ['accuracy', 'loss']
    """

    def __init__(
        self,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        on_train_batch_begin: Callable | None = None,
        on_train_batch_end: Callable | None = None,
        **kwargs: Any,
    ):
        super().__init__()
        given = {
            "on_epoch_begin": on_epoch_begin,
            "on_epoch_end": on_epoch_end,
            "on_train_begin": on_train_begin,
            "on_train_end": on_train_end,
            "on_train_batch_begin": on_train_batch_begin,
            "on_train_batch_end": on_train_batch_end,
        }
        for name, fn in {**kwargs, **given}.items():
            if name in _HOOK_NAMES and fn is not None and not callable(fn):
                raise TypeError(f"Expected {name} to be a function. Received: {name}={fn!r}")
        self.__dict__.update(
            {k: v for k, v in kwargs.items() if v is not None or k not in _HOOK_NAMES}
        )
        for name, fn in given.items():
            if fn is not None:
                setattr(self, name, fn)  # an instance attribute: the CallbackList calls it
