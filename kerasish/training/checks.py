"""Argument checks of fit/evaluate/predict, run before anything touches the model.

Each raises ``ValueError``/``TypeError`` in the "Expected …. Received: name=value" form.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kerasish import data as data_lib

__all__ = ["positive_int", "check_fit_args", "check_compiled", "check_shuffle", "callback_list"]


def positive_int(value: Any, name: str, allow_none: bool = False) -> None:
    """Raise unless ``value`` is a positive int (or None when allowed).

    Example:
        >>> positive_int(0, "epochs")
        Traceback (most recent call last):
        ValueError: Expected epochs to be a positive integer. Received: epochs=0
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"Expected {name} to be a positive integer. Received: {name}={value!r}")


def check_compiled(model: Any, what: str) -> None:
    """Raise unless ``compile`` was called."""
    if not getattr(model, "compiled", False):
        raise RuntimeError(
            f"Expected compile() to be called before {what}(). Received: an uncompiled model"
        )


def check_fit_args(model: Any, x: Any, y: Any, args: dict[str, Any]) -> None:
    """The checks of ``fit``'s arguments that need no data pass."""
    check_compiled(model, "fit")
    if x is None:
        raise ValueError("Expected training data. Received: x=None")
    positive_int(args["batch_size"], "batch_size", allow_none=True)
    positive_int(args["epochs"], "epochs")
    positive_int(args["gradient_accumulation_steps"], "gradient_accumulation_steps")
    positive_int(args["steps_per_epoch"], "steps_per_epoch", allow_none=True)
    positive_int(args["validation_steps"], "validation_steps", allow_none=True)
    check_shuffle(args["shuffle"])
    callback_list(args["callbacks"])
    initial_epoch, epochs = args["initial_epoch"], args["epochs"]
    if not isinstance(initial_epoch, int) or not 0 <= initial_epoch < epochs:
        raise ValueError(
            f"Expected 0 <= initial_epoch < epochs. Received: "
            f"initial_epoch={initial_epoch!r}, epochs={epochs}"
        )
    split = args["validation_split"]
    if not isinstance(split, int | float) or not 0 <= split < 1:
        raise ValueError(
            f"Expected validation_split in [0, 1). Received: validation_split={split!r}"
        )
    _check_validation_freq(args["validation_freq"])
    on_device = args["data_on_device"]
    if on_device != "auto" and not isinstance(on_device, bool):
        raise ValueError(
            f"Expected data_on_device to be 'auto', True or False. Received: "
            f"data_on_device={on_device!r}"
        )
    if y is None and data_lib.is_arraylike(x) and model.uses_compiled_loss():
        raise ValueError(
            "Expected targets y with array inputs (the compiled loss needs them). Received: y=None"
        )


def _check_validation_freq(freq: Any) -> None:
    if not isinstance(freq, int | list | tuple) or (isinstance(freq, int) and freq <= 0):
        raise ValueError(
            f"Expected validation_freq to be a positive integer or a list of "
            f"epochs. Received: validation_freq={freq!r}"
        )


def check_shuffle(shuffle: Any) -> None:
    """Raise unless ``shuffle`` is a bool or "batch" (as Keras).

    Example:
        >>> check_shuffle("yes")
        Traceback (most recent call last):
        ValueError: Expected shuffle to be True, False or "batch". Received: shuffle='yes'
    """
    if isinstance(shuffle, bool | np.bool_) or (isinstance(shuffle, str) and shuffle == "batch"):
        return
    raise ValueError(
        f'Expected shuffle to be True, False or "batch". Received: shuffle={shuffle!r}'
    )


def callback_list(callbacks: Any) -> list[Any]:
    """``callbacks`` as a list of callback instances; a single callback is accepted (as Keras).

    Raises:
        TypeError: for a callback class instead of an instance, or an object with no hooks.

    Example:
        >>> from kerasish.callbacks import EarlyStopping
        >>> callback_list(EarlyStopping)
        Traceback (most recent call last):
        TypeError: Expected callback instances (call the class: EarlyStopping(...)). Received: the class EarlyStopping
    """
    if callbacks is None:
        return []
    items = list(callbacks) if isinstance(callbacks, list | tuple) else [callbacks]
    for cb in items:
        if isinstance(cb, type):
            raise TypeError(
                f"Expected callback instances (call the class: {cb.__name__}(...)). "
                f"Received: the class {cb.__name__}"
            )
        if not hasattr(cb, "on_epoch_end") and not hasattr(cb, "on_train_begin"):
            raise TypeError(
                f"Expected callbacks to be kerasish.callbacks.Callback objects. Received: {cb!r}"
            )
    return items
