"""CSVLogger: stream each epoch's logs to a CSV file."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from typing import Any

from kerasish.callbacks.callback import Callback

__all__ = ["CSVLogger"]


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class CSVLogger(Callback):
    """Write a row per epoch (``epoch`` then the log keys, sorted) to a CSV file.

    The columns are fixed by the first epoch: when it has no ``val_`` keys (validation every
    few epochs, say), ``val_`` columns are added for the loss and metrics and read "NA" where
    an epoch has no value. The file is flushed after every row and closed at the end of
    training.

    Args:
        filename: the CSV file (str or path).
        separator: the field separator.
        append: append to an existing file (writing the header only when it is empty) instead of
            overwriting it.

    Raises:
        TypeError: when ``filename`` is not a path or ``separator`` not one character.

    Example:
        >>> model.fit(x, y, epochs=5, callbacks=[CSVLogger("training.log")])
        >>> open("training.log").readline()
        'epoch,accuracy,learning_rate,loss\\n'
    """

    rank_zero_only = True  # writes a file: rank 0 only in distributed training

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(filename, str | os.PathLike):
            raise TypeError(f"Expected filename to be a path. Received: filename={filename!r}")
        if not isinstance(separator, str) or len(separator) != 1:
            raise TypeError(
                f"Expected separator to be one character. Received: separator={separator!r}"
            )
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys: list[str] | None = None
        self.writer: csv.DictWriter | None = None
        self.csv_file: Any = None
        self.append_header = True

    def on_train_begin(self, logs: dict | None = None) -> None:
        mode = "w"
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, encoding="utf-8") as f:
                    self.append_header = not f.readline()
            mode = "a"
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")  # noqa: SIM115

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = _columns(logs)
        if self.writer is None:
            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch", *self.keys], delimiter=self.sep
            )
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch, **{k: _cell(logs.get(k, "NA")) for k in self.keys}}
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


def _columns(logs: dict) -> list[str]:
    keys = sorted(logs)
    if not any(k.startswith("val_") for k in keys):
        keys += [f"val_{k}" for k in keys if k != "learning_rate"]
    return keys
