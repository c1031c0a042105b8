"""CSVLogger: stream each epoch's logs to a CSV file."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from typing import Any

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.paths import check_writable

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
    an epoch has no value. The file is opened when the first epoch begins, flushed after
    every row and closed at the end of training. Its state (the columns and the end of the
    last row written) goes into ``BackupAndRestore``'s backups: a resumed run drops the rows
    written after the backup and appends from there, with the header written once.

    Args:
        filename: the CSV file (str or path).
        separator: the field separator.
        append: append to an existing file (writing the header only when it is empty) instead of
            overwriting it.

    Raises:
        TypeError: when ``filename`` is not a path or ``separator`` not one character.
        ValueError: at the start of ``fit``, when ``filename`` cannot be written.

    Example:
        >>> history = model.fit(x, y, epochs=5, callbacks=[CSVLogger("training.log")], verbose=0)
        >>> lines = open("training.log").readlines()
        >>> lines[0]  # without validation data the val_ columns read NA
        'epoch,accuracy,loss,val_accuracy,val_loss\\n'
        >>> len(lines), lines[1].endswith(",NA,NA\\n")
        (6, True)
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
        self._resume: dict[str, Any] | None = None
        self._position: int | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        check_writable(self.filename, "CSVLogger filename")
        self.on_train_end()  # a file left open by a fit that raised
        self.keys, self.writer, self._resume, self._position = None, None, None, None

    def state_dict(self) -> dict[str, Any]:
        """The columns and the file's length after the last row written (None: not opened)."""
        return {"keys": self.keys, "position": self._position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume the file at ``state``'s position (rows written after it are dropped)."""
        self._resume = dict(state)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.csv_file is None:
            self._open()

    def _open(self) -> None:
        resume, mode = self._resume, "a" if self.append else "w"
        if resume is not None and resume["position"] is not None:
            mode, self.keys = "a", resume["keys"]
            if os.path.exists(self.filename):
                with open(self.filename, "r+b") as f:
                    f.truncate(resume["position"])
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")  # noqa: SIM115
        self._position = os.fstat(self.csv_file.fileno()).st_size
        self.append_header = self._position == 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.csv_file is None:
            self._open()
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
        self._position = os.fstat(self.csv_file.fileno()).st_size

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
