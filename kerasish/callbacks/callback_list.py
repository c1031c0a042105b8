"""CallbackList: calls each hook on the callbacks that override it, and on no others."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kerasish.callbacks.callback import ALIASES, HOOKS, Callback
from kerasish.distribute.env import get_rank

__all__ = ["CallbackList", "overrides", "hook_method"]


def overrides(cb: Any, hook: str) -> bool:
    """Whether ``cb`` implements ``hook``, so that a ``CallbackList`` calls it there.

    True for a ``Callback`` whose class overrides the hook, or that has a function assigned
    to it on the instance (``cb.on_epoch_end = fn``), or, for the training batch hooks, that
    implements Keras's alias ``on_batch_begin``/``on_batch_end``; never for a hook the
    instance lists in ``skipped_hooks``. For any other object: whether it has such a method.

    Example:
        >>> class OnlyEpochs(Callback):
        ...     def on_epoch_end(self, epoch, logs=None): ...
        >>> overrides(OnlyEpochs(), "on_epoch_end"), overrides(OnlyEpochs(), "on_train_batch_end")
        (True, False)
        >>> cb = Callback()
        >>> cb.on_batch_end = lambda batch, logs: None  # Keras's alias, on the instance
        >>> overrides(cb, "on_train_batch_end")
        True
    """
    return hook_method(cb, hook) is not None


def hook_method(cb: Any, hook: str) -> Any:
    """The function a ``CallbackList`` calls for ``cb``'s ``hook``, or None (see ``overrides``).

    For a training batch hook that ``cb`` only implements under Keras's alias, the alias.
    """
    skipped = getattr(cb, "skipped_hooks", ())
    if hook in skipped:
        return None
    if not isinstance(cb, Callback):
        fn = getattr(cb, hook, None)
        return fn if callable(fn) else None
    if _defines(cb, hook):
        return getattr(cb, hook)
    alias = ALIASES.get(hook)
    if alias is not None and alias not in skipped and _defines(cb, alias):
        return getattr(cb, alias)
    return None


def _defines(cb: Callback, name: str) -> bool:
    """``cb`` defines ``name`` itself: assigned on the instance, or in a class below Callback."""
    if name in getattr(cb, "__dict__", {}):
        return callable(cb.__dict__[name])
    return getattr(type(cb), name, None) is not getattr(Callback, name)


class CallbackList:
    """A group of callbacks called in order.

    For each hook the list of callbacks that override it (see ``overrides``) is made once, when
    the list is made (once per ``fit``), so a batch hook that no callback overrides costs one
    attribute test per batch (``callbacks.on_train_batch_end`` is None then). On ranks other
    than 0 of a distributed job, callbacks whose ``rank_zero_only`` is True are not called at
    all. Callbacks whose ``dispatch_late`` is True (``History``, ``ProgbarLogger``) are called
    after the others, and those whose ``dispatch_last`` is True after all of them (each group
    in list order); a callback with a ``set_callbacks`` method is given the whole list
    (``BackupAndRestore`` saves the others' ``state_dict()``).

    ``logs`` are given as Keras's ``CallbackList`` gives them: the ``*_begin`` hooks and
    ``on_predict_end`` get ``{}`` for None; ``on_epoch_end``, ``on_test_end`` and
    ``on_train_end`` get a new dict with the keys sorted (keys a callback adds there are seen
    by the callbacks after it); batch-end hooks get the loop's logs as they are (read lazily).

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
        active.sort(key=_dispatch_rank)  # stable: list order within a rank
        for hook in HOOKS:
            users = [m for m in (hook_method(cb, hook) for cb in active) if m is not None]
            setattr(self, hook, _dispatcher(hook, users))

    #: ``overrides(cb, hook)``, also reachable from a list (as the strategy uses it).
    overrides = staticmethod(overrides)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)


def _dispatch_rank(cb: Any) -> int:
    if getattr(cb, "dispatch_last", False):
        return 2
    return 1 if getattr(cb, "dispatch_late", False) else 0


# Hooks whose logs Keras gives as {} when None (``python_utils.pythonify_logs``).
_EMPTY_IF_NONE = frozenset(
    {
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_test_begin",
        "on_test_batch_begin",
        "on_predict_begin",
        "on_predict_batch_begin",
        "on_predict_end",
    }
)
# Epoch-level hooks whose logs Keras gives as a new dict with sorted keys.
_SORTED = frozenset({"on_epoch_end", "on_test_end", "on_train_end"})
# Hooks that take an index (epoch or batch) before ``logs``.
_INDEXED = frozenset(h for h in HOOKS if "batch" in h or "epoch" in h)


def _dispatcher(hook: str, methods: list) -> Any:
    """One function calling ``methods`` in order with the same (normalised) ``logs``."""
    if not methods:
        return None
    if hook in _EMPTY_IF_NONE:
        norm = _empty_if_none
    elif hook in _SORTED:
        norm = _sorted_logs
    elif len(methods) == 1:
        return methods[0]  # batch-end hooks of one callback: called directly
    else:
        norm = _same
    if hook in _INDEXED:

        def call_indexed(index: int, logs: Any = None) -> None:
            logs = norm(logs)
            for m in methods:
                m(index, logs)

        return call_indexed

    def call(logs: Any = None) -> None:
        logs = norm(logs)
        for m in methods:
            m(logs)

    return call


def _empty_if_none(logs: Any) -> Any:
    return {} if logs is None else logs


def _sorted_logs(logs: Any) -> dict:
    return {} if logs is None else dict(sorted(logs.items()))


def _same(logs: Any) -> Any:
    return logs
