"""Atomic file writes: a temporary file next to the target, fsync'd, renamed over it.

A crash (or a kill) at any moment leaves the previous file whole: readers see the old file
or the new one, never a partial file. The temporary name holds the writer's host and pid
(``.name.<host>-<pid>.<random>.tmp<ext>``), so temporary files left by a killed writer are
removed at the next write of the same target (``remove_stale_temps``). ``atomic_dir`` does the
same for a directory written by another library (``save_pretrained``). ``is_chief`` says
whether this process writes the files of a ``torchrun`` job.

Example:
    >>> state = model.state_dict()
    >>> with atomic_write("state.pt") as f:
    ...     torch.save(state, f)
    >>> list(torch.load("state.pt")) == list(state)
    True
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

import torch

__all__ = [
    "atomic_dir",
    "atomic_path",
    "atomic_write",
    "is_chief",
    "remove_stale_temps",
    "write_bytes",
]

_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, overwrite: bool = True) -> Iterator[str]:
    """Yield a temporary path next to ``path``; on success fsync it and rename it to ``path``.

    The rename is atomic, so readers see the old file or the new one, never a partial file; if
    the body raises (or the process dies) the old file is untouched and the temporary file is
    removed (or left under a hidden ``.name.<host>-<pid>.*.tmp`` name, removed by the next
    write of ``path`` once that process is gone).

    Args:
        path: the final file.
        overwrite: when False, raise FileExistsError if ``path`` exists.

    Raises:
        FileExistsError: when ``overwrite=False`` and the file exists.

    Example:
        >>> import os
        >>> with atomic_path("weights.pt") as tmp:
        ...     torch.save(model.state_dict(), tmp)
        >>> os.listdir(".")  # the temporary file is gone, renamed over the target
        ['weights.pt']
    """
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"Expected a path that does not exist yet (overwrite=False). Received: path={path!r}"
        )
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temps(path)
    suffix = ".tmp" + os.path.splitext(path)[1]  # some writers (torch.export) check it
    prefix = f".{os.path.basename(path)}.{_HOST}-{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
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
        ...     torch.save(model.state_dict(), f)
        >>> list(torch.load("state.pt")) == list(model.state_dict())
        True
    """
    with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as f:
        yield f


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike,
    *,
    last: Iterable[str] = (),
    obsolete: Callable[[list[str], list[str]], Iterable[str]] | None = None,
) -> Iterator[str]:
    """Yield a temporary directory next to ``path``; on success move what was written there to
    ``path``.

    When ``path`` does not exist the temporary directory is renamed to it (atomic). Otherwise
    each file is fsync'd and renamed over its namesake in ``path`` (files named in ``last``
    after the others), files of ``path`` that ``obsolete(new_names, old_names)`` lists are then
    removed, and the other files of ``path`` stay: each file is old or new, never partial. If
    the body raises, ``path`` is untouched and the temporary directory is removed (one left by
    a killed process goes at the next write of ``path``, as in ``atomic_path``).

    Args:
        path: the final directory.
        last: names (relative to the directory) to move after the others, e.g. the file whose
            presence says the directory is complete.
        obsolete: ``(new file names, existing file names) -> names to remove`` from ``path``.

    Raises:
        ValueError: when ``path`` is a file.

    Example:
        >>> import os
        >>> with atomic_dir("export") as tmp:
        ...     torch.save(model.state_dict(), os.path.join(tmp, "state.pt"))
        >>> os.listdir("export")
        ['state.pt']
    """
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"Expected a directory path. Received: path={path!r}, a file")
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    remove_stale_temps(path)
    prefix = f".{os.path.basename(os.path.abspath(path))}.{_HOST}-{os.getpid()}."
    tmp = tempfile.mkdtemp(prefix=prefix, suffix=".tmp" + os.path.splitext(path)[1], dir=parent)
    try:
        yield tmp
        new = _files_under(tmp)
        for name in new:
            _fsync_file(os.path.join(tmp, name))
        if not os.path.isdir(path):
            os.chmod(tmp, 0o755)  # mkdtemp's 0o700 would hide the directory from others
            os.rename(tmp, path)
        else:
            _move_files(tmp, path, new, set(last), obsolete)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(parent)


def _files_under(directory: str) -> list[str]:
    names = []
    for root, _, files in os.walk(directory):
        rel = os.path.relpath(root, directory)
        names += [f if rel == "." else os.path.join(rel, f) for f in files]
    return sorted(names)


def _move_files(
    tmp: str,
    path: str,
    new: list[str],
    last: set[str],
    obsolete: Callable[[list[str], list[str]], Iterable[str]] | None,
) -> None:
    old = _files_under(path)
    for name in sorted(new, key=lambda n: n in last):
        target = os.path.join(path, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(os.path.join(tmp, name), target)
    _fsync_dir(path)
    for name in obsolete(new, old) if obsolete is not None else ():
        if name not in new:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(path, name))
    shutil.rmtree(tmp, ignore_errors=True)


def write_bytes(path: str | os.PathLike, data: bytes, *, overwrite: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (see ``atomic_write``)."""
    with atomic_write(path, overwrite=overwrite) as f:
        f.write(data)


def remove_stale_temps(path: str | os.PathLike) -> int:
    """Remove the temporary files of ``path`` left by writers of this host that are gone.

    Only names of ``path``'s own pattern (``.name.<host>-<pid>.<random>.tmp<ext>``) are
    touched, and only when no process ``pid`` is alive: a write in progress is never removed.

    Returns:
        How many files were removed.

    Example:
        >>> remove_stale_temps("ckpt/model.kerasish")
        0
    """
    path = os.path.abspath(os.fspath(path))
    directory, base = os.path.split(path)
    ext = os.path.splitext(base)[1]
    pattern = re.compile(
        rf"\.{re.escape(base)}\.{re.escape(_HOST)}-(\d+)\.[A-Za-z0-9_]+\.tmp{re.escape(ext)}"
    )
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    removed = 0
    for name in names:
        match = pattern.fullmatch(name)
        if match and not _alive(int(match.group(1))):
            full = os.path.join(directory, name)
            with contextlib.suppress(OSError):
                if os.path.isdir(full) and not os.path.islink(full):
                    shutil.rmtree(full)  # a temporary directory of atomic_dir
                else:
                    os.remove(full)
                removed += 1
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, another user's
        return True
    return True


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
