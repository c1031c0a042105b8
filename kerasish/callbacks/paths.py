"""Path checks for the callbacks that write files, run in ``on_train_begin`` before step 1.

``check_writable`` says, with an "Expected … Received: …" error, why a file or directory
could not be written (a regular file where a directory must be, a directory where a file
must be, a directory that refuses new files); ``check_format`` checks a ``str.format``
template (ModelCheckpoint's ``filepath``) for bad syntax and unknown fields.
"""

from __future__ import annotations

import os
import string
import tempfile
from collections.abc import Iterable

__all__ = ["check_format", "check_writable"]


def check_writable(path: str, what: str, *, is_dir: bool = False) -> None:
    """Raise unless ``path`` (a file, or a directory with ``is_dir``) could be written now.

    Missing directories are fine (the writers create them) as long as the nearest existing
    one is a directory that accepts new files (tested by making an unnamed temporary file).

    Args:
        path: the file or directory.
        what: how the error names it, e.g. "ModelCheckpoint filepath".
        is_dir: ``path`` is a directory (else a file).

    Raises:
        ValueError: when it cannot be written, saying why.

    Example:
        >>> check_writable("/tmp/run1/log.csv", "CSVLogger filename")
    """
    path = os.path.abspath(path)
    if os.path.exists(path):
        if is_dir and not os.path.isdir(path):
            _fail(what, path, f"{path!r} is a regular file, not a directory")
        if not is_dir and os.path.isdir(path):
            _fail(what, path, f"{path!r} is a directory, not a file")
    parent = path if is_dir else os.path.dirname(path)
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        _fail(what, path, f"{parent!r} is a regular file, not a directory")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as e:
        _fail(what, path, f"the directory {parent!r} is not writable ({e.strerror})")


def _fail(what: str, path: str, reason: str) -> None:
    raise ValueError(f"Expected {what} to be a writable path. Received: {path!r}: {reason}")


def check_format(template: str, known: Iterable[str] | None, what: str = "filepath") -> None:
    """Raise unless ``template`` is a valid ``str.format`` template over the ``known`` fields.

    Args:
        template: e.g. ``"ckpt/model.{epoch:02d}-{val_loss:.2f}.kerasish"``.
        known: the field names it may use (None: any name).
        what: the argument's name in the error.

    Raises:
        ValueError: for bad syntax, positional fields, unknown fields or a bad format spec.

    Example:
        >>> check_format("m.{epoch:02d}.kerasish", ["epoch", "loss"])
    """
    known = None if known is None else set(known)
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as e:
        raise ValueError(
            f"Expected {what} to be a valid format string. Received: {what}={template!r} ({e})"
        ) from e
    names = {f.split(".")[0].split("[")[0] for f in fields}
    bad = sorted(n for n in names if not n or (known is not None and n not in known))
    if bad:
        raise ValueError(
            f"Expected {what} fields among {sorted(known or ())}. Received: {what}={template!r} "
            f"(unknown fields {bad})"
        )
    try:  # the format specs, with a number for every field
        template.format(**dict.fromkeys(names, 1))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise ValueError(
            f"Expected {what} to be a valid format string. Received: {what}={template!r} ({e})"
        ) from e
