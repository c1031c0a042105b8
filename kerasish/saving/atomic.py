"""Atomic file writes: a temporary file next to the target, fsync'd, renamed over it.

A crash (or a kill) at any moment leaves the previous file whole: readers see the old file
or the new one, never a partial file. ``is_chief`` says whether this process writes the
files of a ``torchrun`` job.

Example:
    >>> with atomic_write("state.pt") as f:
    ...     torch.save(state, f)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO

import torch

__all__ = ["atomic_path", "atomic_write", "is_chief", "write_bytes"]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success fsync it and rename it to ``path``.

    The rename is atomic, so readers see the old file or the new one, never a partial file; if
    the body raises (or the process dies) the old file is untouched and the temporary file is
    removed (or left under a hidden ``.name.*.tmp`` name).

    Args:
        path: the final file.
        overwrite: when False, raise FileExistsError if ``path`` exists.

    Raises:
        FileExistsError: when ``overwrite=False`` and the file exists.

    Example:
        >>> with atomic_path("model.onnx") as tmp:
        ...     torch.onnx.export(model, args, tmp)
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"Expected a path that does not exist yet (overwrite=False). Received: path={path!r}"
        )
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = ".tmp" + os.path.splitext(path)[1]  # some writers (torch.export) check it
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        with contextlib.suppress(OSError):
            os.chmod(tmp, os.stat(path).st_mode if os.path.exists(path) else 0o644)
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(directory)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[IO[bytes]]:
    """Open a temporary file next to ``path`` for binary writing; rename it over ``path`` when
    the block ends without error (see ``atomic_path``).

    Example:
        >>> with atomic_write("state.pt") as f:
        ...     torch.save(state, f)
    """
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as f:
        yield f


def write_bytes(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_write``)."""
    with atomic_write(path, overwrite=overwrite) as f:
        f.write(data)


def is_chief() -> bool:
    """True unless this process is a non-zero rank of an initialised process group (torchrun);
    checkpoint callbacks write files only on the chief."""
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized() and dist.get_rank() != 0)


def _fsync_file(path: str) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(directory: str) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
