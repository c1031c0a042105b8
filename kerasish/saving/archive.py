"""The model file's container: a zip of named members, with ``metadata.json`` saying its format.

``read_archive`` checks that a file is a model file of a version this kerasish reads and
returns its members; ``write_archive`` writes members atomically. ``model_file`` fills and
reads the members; ``weights`` reads a model file's ``model.safetensors``.

Example:
    >>> members = read_archive("model.kerasish")
    >>> json.loads(members["metadata.json"])["format_version"]
    1
"""

from __future__ import annotations

import json
import os
import zipfile

from kerasish.saving.atomic import atomic_write

__all__ = ["FORMAT", "FORMAT_VERSION", "is_model_file", "read_archive", "write_archive"]

FORMAT = "kerasish.model"
FORMAT_VERSION = 1


def is_model_file(path: str | os.PathLike) -> bool:
    """True when ``path`` is a zip with a ``metadata.json`` member."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return "metadata.json" in zf.namelist()


def read_archive(path: str) -> dict[str, bytes]:
    """The members of the model file ``path``.

    Raises:
        FileNotFoundError: when there is no such file.
        ValueError: when it is not a model file, or one of a newer format version.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected an existing model file. Received: path={path!r}")
    if not is_model_file(path):
        raise ValueError(
            "Expected a model file written by model.save() (a zip with metadata.json); for "
            f"weights files use model.load_weights(). Received: path={path!r}"
        )
    with zipfile.ZipFile(path) as zf:
        archive = {name: zf.read(name) for name in zf.namelist()}
    meta = json.loads(archive["metadata.json"])
    if meta.get("format") != FORMAT or meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"Expected a {FORMAT} file of version <= {FORMAT_VERSION}. Received: "
            f"format={meta.get('format')!r}, format_version={meta.get('format_version')!r} "
            f"in {path!r} (saved by kerasish {meta.get('kerasish_version')})"
        )
    return archive


def write_archive(path: str, members: dict[str, bytes], *, overwrite: bool = True) -> None:
    """Write ``members`` as one zip file, atomically (see ``atomic.atomic_write``)."""
    with atomic_write(path, overwrite=overwrite) as f, zipfile.ZipFile(f, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
