"""LambdaCallback: a callback made of plain functions, built on the fly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kerasish.callbacks.callback import HOOKS, Callback

__all__ = ["LambdaCallback"]

_ALIASES = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}


class LambdaCallback(Callback):
    """A callback whose hooks are the functions you pass.

    The functions take the hook's arguments: ``on_epoch_begin(epoch, logs)``,
    ``on_epoch_end(epoch, logs)``, ``on_train_begin(logs)``, ``on_train_end(logs)``,
    ``on_train_batch_begin(batch, logs)`` and ``on_train_batch_end(batch, logs)``; any other
    hook name of ``Callback`` (``on_test_end=...``, say) is accepted as a keyword too, as are
    Keras 2's ``on_batch_begin``/``on_batch_end``. Only the hooks given are dispatched, so a
    LambdaCallback without batch functions costs nothing per batch.

    Args:
        on_epoch_begin, on_epoch_end, on_train_begin, on_train_end, on_train_batch_begin,
        on_train_batch_end: functions, or None.
        **hooks: functions for other hooks.

    Raises:
        TypeError: for an unknown hook name or a value that is not callable.

    Example:
        >>> print_epoch = LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, sorted(logs)))
        >>> history = model.fit(x, y, epochs=2, callbacks=[print_epoch], verbose=0)
        0 ['accuracy', 'learning_rate', 'loss']
        1 ['accuracy', 'learning_rate', 'loss']
    """

    def __init__(
        self,
        on_epoch_begin: Callable | None = None,
        on_epoch_end: Callable | None = None,
        on_train_begin: Callable | None = None,
        on_train_end: Callable | None = None,
        on_train_batch_begin: Callable | None = None,
        on_train_batch_end: Callable | None = None,
        **hooks: Callable | None,
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
        for name, fn in hooks.items():
            hook = _ALIASES.get(name, name)
            if hook not in HOOKS:
                raise TypeError(
                    f"Expected hook names of Callback ({', '.join(HOOKS)}). Received: {name}"
                )
            given[hook] = fn
        self.functions: dict[str, Callable] = {}
        for name, fn in given.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"Expected {name} to be a function. Received: {name}={fn!r}")
            self.functions[name] = fn
        # Only the hooks given are dispatched.
        self.skipped_hooks = frozenset(HOOKS) - frozenset(self.functions)


def _forward(name: str) -> Callable[..., Any]:
    def hook(self: LambdaCallback, *args: Any) -> Any:
        return self.functions[name](*args)

    hook.__name__ = name
    return hook


for _hook in HOOKS:
    setattr(LambdaCallback, _hook, _forward(_hook))
