"""The Callback base class: Keras's hook names, all empty."""

from __future__ import annotations

from typing import Any

__all__ = ["Callback", "HOOKS", "ALIASES"]

HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)

#: Keras's backwards-compatible names of the training batch hooks: a callback that defines
#: ``on_batch_begin``/``on_batch_end`` (and not the ``on_train_batch_*`` hook itself) has it
#: called at every training batch.
ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


class Callback:
    """Base class for callbacks: override the hooks you need.

    Callbacks observe training; the one way to steer it is ``self.model.stop_training = True``.
    ``self.model`` is the model being trained and ``self.params`` holds ``epochs``, ``steps``
    and ``verbose``. Batch-hook ``logs`` hold running means of the loss and metrics, read on
    access (reading them waits for the device); epoch-hook ``logs`` hold plain floats.

    Hooks nobody overrides are never dispatched, so an empty callback costs nothing per batch.
    A hook counts as overridden when the callback's class defines it or when a function is
    assigned to it on the instance (``cb.on_epoch_end = fn``, as Keras allows); Keras's
    aliases ``on_batch_begin``/``on_batch_end`` stand for ``on_train_batch_begin``/``_end``.
    The ``*_begin`` hooks and ``on_predict_end`` get ``logs={}`` (never None); the epoch-end
    logs come with sorted keys, as Keras's ``CallbackList`` gives them.

    In distributed training every rank runs the callbacks with the same (all-reduced) epoch
    logs, so callbacks that decide (``EarlyStopping``) decide alike on all ranks. Callbacks
    that print or write files set the class attribute ``rank_zero_only = True``: they run on
    rank 0 only. They must not set ``stop_training``.

    Callbacks that keep state across epochs (a best value, a patience counter, a file
    position) return it from ``state_dict()`` and take it back in ``load_state_dict()``, so
    that ``BackupAndRestore`` resumes them with the training; the default state is ``{}``.

    Attributes:
        rank_zero_only: run this callback on rank 0 only (default False: on every rank).
        dispatch_last: call this callback's hooks after all the others' (BackupAndRestore:
            it saves the state the other callbacks reached, and restores it after their
            ``on_train_begin``).
        dispatch_late: call it after the others but before ``dispatch_last`` ones (History,
            ProgbarLogger: they see the keys other callbacks add to the epoch logs).
        steers_training: False for a callback whose batch hooks never set
            ``model.stop_training`` (under DDP/FSDP the ranks then skip agreeing on it after
            every batch).

    Example:
        >>> class Stopper(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         if logs["loss"] < 0.1:
        ...             self.model.stop_training = True
    """

    rank_zero_only: bool = False
    dispatch_last: bool = False
    #: Call this callback after the others (but before ``dispatch_last`` ones): ``History`` and
    #: ``ProgbarLogger`` see the keys other callbacks add to the epoch logs (such as
    #: ``ReduceLROnPlateau``'s ``learning_rate``), as in Keras, whose ``fit`` appends them
    #: after the user's callbacks.
    dispatch_late: bool = False
    steers_training: bool = True

    #: Hooks this instance defines but does not need (e.g. batch hooks of a TensorBoard that
    #: logs per epoch); the CallbackList never calls them.
    skipped_hooks: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def state_dict(self) -> dict[str, Any]:
        """The state a resumed run needs (plain values and tensors); ``{}`` when stateless."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Take back what ``state_dict`` returned (called after ``on_train_begin``)."""

    def on_train_begin(self, logs: dict | None = None) -> None: ...

    def on_train_end(self, logs: dict | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Keras's alias of ``on_train_batch_begin`` (which calls it unless overridden)."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Keras's alias of ``on_train_batch_end`` (which calls it unless overridden)."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs)  # Keras's backwards compatibility

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_end(batch, logs)  # Keras's backwards compatibility

    def on_test_begin(self, logs: dict | None = None) -> None: ...

    def on_test_end(self, logs: dict | None = None) -> None: ...

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    def on_predict_begin(self, logs: dict | None = None) -> None: ...

    def on_predict_end(self, logs: dict | None = None) -> None: ...

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
