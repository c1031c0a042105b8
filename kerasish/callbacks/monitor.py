"""Monitor: the monitored key, its mode and min_delta, shared by the callbacks that watch a metric.

EarlyStopping and ReduceLROnPlateau (and ModelCheckpoint) compare each epoch's value of one log
key with the best so far. ``Monitor`` holds the rules Keras uses for that comparison:

- ``mode="auto"`` reads the direction from the key's name (``val_`` prefix stripped): accuracy-,
  AUC-, precision-, recall-, F1- and IoU-like names are maximised, everything else (losses and
  errors) is minimised.
- an improvement must beat the reference by more than ``min_delta`` (its absolute value):
  ``current < best - min_delta`` in "min" mode, ``current > best + min_delta`` in "max" mode.
- a key missing from the logs warns once per epoch and lists the keys that are there.
- as in Keras 3, "auto" is checked against the model at the first epoch end (``resolve``): a
  key that is neither ``loss`` nor the name of one of the model's metrics (``val_`` prefix
  stripped) raises a ValueError, since there is no telling whether to minimise or maximise it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

__all__ = ["Monitor", "resolve_mode"]

MODES = ("auto", "min", "max")

# Name fragments of metrics where higher is better ("auto" mode maximises them).
_MAX_FRAGMENTS = (
    "acc",
    "auc",
    "precision",
    "recall",
    "f1",
    "fbeta",
    "fmeasure",
    "iou",
    "dice",
    "r2",
    "top_k",
    "sensitivity",
    "specificity",
)
# Fragments that mark a quantity to minimise even when a max fragment is also present.
_MIN_FRAGMENTS = ("loss", "error", "crossentropy", "hinge", "divergence")


def resolve_mode(monitor: str, mode: str = "auto") -> str:
    """Map ``mode`` to "min" or "max"; "auto" decides from the monitored key's name.

    Args:
        monitor: the log key, e.g. "val_loss" or "val_accuracy".
        mode: "auto", "min" or "max".

    Returns:
        "min" or "max".

    Raises:
        ValueError: when ``mode`` is not "auto", "min" or "max".

    Example:
        >>> resolve_mode("val_accuracy"), resolve_mode("val_loss"), resolve_mode("mae")
        ('max', 'min', 'min')
    """
    if mode not in MODES:
        raise ValueError(f"Expected mode to be 'auto', 'min' or 'max'. Received: mode={mode!r}")
    if mode != "auto":
        return mode
    name = monitor.lower().removeprefix("val_")
    if any(f in name for f in _MIN_FRAGMENTS):
        return "min"
    return "max" if any(f in name for f in _MAX_FRAGMENTS) else "min"


class Monitor:
    """Reads one key from epoch logs and says whether a value improves on a reference.

    Args:
        monitor: the log key to watch.
        mode: "auto", "min" or "max" (see ``resolve_mode``).
        min_delta: the least change that counts as an improvement (its absolute value is used).
        owner: the callback's name, for the missing-key warning.

    Raises:
        TypeError: when ``monitor`` is not a string or ``min_delta`` not a number.
        ValueError: for an unknown ``mode``.

    Example:
        >>> m = Monitor("val_loss", min_delta=0.1)
        >>> m.is_improvement(0.85, 1.0), m.is_improvement(0.95, 1.0), m.is_improvement(2.0, None)
        (True, False, True)
    """

    def __init__(
        self, monitor: str, mode: str = "auto", min_delta: float = 0.0, owner: str = "Callback"
    ):
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(
                f"Expected monitor to be a log key such as 'val_loss'. Received: monitor={monitor!r}"
            )
        if isinstance(min_delta, bool) or not isinstance(min_delta, int | float):
            raise TypeError(f"Expected min_delta to be a number. Received: min_delta={min_delta!r}")
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode)
        self.min_delta = abs(float(min_delta))
        self.owner = owner
        self._unchecked = mode == "auto"

    def resolve(self, model: Any) -> str:
        """Check an "auto" mode against ``model``'s metrics (once); the mode, "min" or "max".

        Keras 3's rule: "auto" works for ``loss`` and for the model's metrics (with or without
        ``val_``); for any other key it raises. Without a model that lists its metrics (a
        callback driven by hand), the name rules of ``resolve_mode`` decide alone.

        Raises:
            ValueError: in "auto" mode, for a key that is neither ``loss`` nor a metric's name.

        Example:
            >>> Monitor("val_loss").resolve(model)
            'min'
        """
        if not self._unchecked:
            return self.mode
        name = self.monitor.removeprefix("val_")
        names = [getattr(m, "name", None) for m in getattr(model, "metrics", None) or []]
        if name != "loss" and names and name not in names:
            known = ", ".join(repr(n) for n in names if n)
            raise ValueError(
                "Expected monitor to be 'loss' or the name of one of the model's metrics "
                f"({known}), with or without 'val_', so that mode='auto' can tell whether to "
                "minimise or maximise it; pass mode='min' or mode='max' for any other key. "
                f"Received: monitor={self.monitor!r}"
            )
        self._unchecked = False
        return self.mode

    @property
    def worst(self) -> float:
        """The value every real value improves on: +inf in "min" mode, -inf in "max" mode."""
        return math.inf if self.mode == "min" else -math.inf

    def is_improvement(self, current: float, reference: float | None) -> bool:
        """True when ``current`` beats ``reference`` by more than ``min_delta``.

        A ``reference`` of None is always beaten; a NaN ``current`` never beats anything.
        """
        if reference is None:
            return not math.isnan(current)
        if self.mode == "min":
            return current + self.min_delta < reference
        return current - self.min_delta > reference

    def get(self, logs: Mapping[str, Any] | None) -> float | None:
        """The monitored value as a float, or None (with a warning listing the keys) if absent."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{self.owner} is conditioned on metric `{self.monitor}` which is not "
                f"available. Available metrics are: {','.join(logs.keys())}",
                stacklevel=3,
            )
            return None
        return float(value)

    def __repr__(self) -> str:
        return f"Monitor({self.monitor!r}, mode={self.mode!r}, min_delta={self.min_delta})"
