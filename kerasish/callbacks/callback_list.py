"""CallbackList: calls each hook on the callbacks that override it, and on no others."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kerasish.callbacks.callback import HOOKS, Callback
from kerasish.distribute.env import get_rank

__all__ = ["CallbackList", "overrides"]


def overrides(cb: Any, hook: str) -> bool:
    """Whether ``cb`` implements ``hook``, so that a ``CallbackList`` calls it there.

    True for a ``Callback`` whose class overrides the hook (unless the instance lists it in
    ``skipped_hooks``), and for any other object with such a method.

    Example:
        >>> class OnlyEpochs(Callback):
        ...     def on_epoch_end(self, epoch, logs=None): ...
        >>> overrides(OnlyEpochs(), "on_epoch_end"), overrides(OnlyEpochs(), "on_train_batch_end")
        (True, False)
    """
    if hook in getattr(cb, "skipped_hooks", ()):
        return False
    if not isinstance(cb, Callback):
        return callable(getattr(cb, hook, None))
    return getattr(type(cb), hook, None) is not getattr(Callback, hook)


class CallbackList:
    """A group of callbacks called in order.

    For each hook the list of callbacks that override it is made once, so a batch hook that
    no callback overrides costs one attribute test per batch (``callbacks.on_train_batch_end`` is
    None then). On ranks other than 0 of a distributed job, callbacks whose ``rank_zero_only``
    is True are not called at all. Callbacks whose ``dispatch_last`` is True are called after
    the others (in their own order), and a callback with a ``set_callbacks`` method is given
    the whole list (``BackupAndRestore`` saves the others' ``state_dict()``).

    Args:
        callbacks: the callbacks, in call order.
        model: the model they observe.
        params: ``epochs``, ``steps``, ``verbose``.
        rank: this process's rank (None: ``kerasish.distribute.get_rank()``, 0 in one process).

    Example:
        >>> from kerasish.callbacks import CallbackList, History, ProgbarLogger
        >>> history = History()
        >>> cbs = CallbackList([history, ProgbarLogger(verbose=0)], model=model, params={"epochs": 1})
        >>> cbs.on_train_begin()
        >>> cbs.on_epoch_end(0, {"loss": 0.5})
        >>> history.history
        {'loss': [0.5]}
    """

    def __init__(
        self,
        callbacks: Iterable[Any],
        model: Any = None,
        params: dict[str, Any] | None = None,
        rank: int | None = None,
    ):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if model is not None and hasattr(cb, "set_model"):
                cb.set_model(model)
            if params is not None and hasattr(cb, "set_params"):
                cb.set_params(params)
            if hasattr(cb, "set_callbacks"):
                cb.set_callbacks(self.callbacks)
        if rank is None:
            rank = get_rank()
        active = [
            cb for cb in self.callbacks if rank == 0 or not getattr(cb, "rank_zero_only", False)
        ]
        active.sort(key=lambda cb: bool(getattr(cb, "dispatch_last", False)))  # stable
        for hook in HOOKS:
            users = [getattr(cb, hook) for cb in active if overrides(cb, hook)]
            setattr(self, hook, _dispatcher(users))

    #: ``overrides(cb, hook)``, also reachable from a list (as the strategy uses it).
    overrides = staticmethod(overrides)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)


def _dispatcher(methods: list) -> Any:
    if not methods:
        return None
    if len(methods) == 1:
        return methods[0]

    def call(*args: Any) -> None:
        for m in methods:
            m(*args)

    return call
