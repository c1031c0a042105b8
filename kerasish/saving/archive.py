"""The model file's container: a zip of named members, with ``metadata.json`` saying its format.

``read_archive`` checks that a file is a model file of a version this kerasish reads, that no
member changed since it was written, and returns its members; ``write_archive`` writes members
atomically, with the sha256 of every other member in ``metadata.json["sha256"]`` (see
``integrity``; files without it, from kerasish 0.1, still load). ``model_file`` fills and reads
the members; ``weights`` reads a model file's ``model.safetensors``.

Example:
    >>> import json
    >>> model.save("model.kerasish")
    >>> members = read_archive("model.kerasish")
    >>> sorted(members)
    ['compile.json', 'config.json', 'metadata.json', 'model.safetensors']
    >>> json.loads(members["metadata.json"])["format_version"]
    1
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from typing import Any

from kerasish.saving.atomic import atomic_write
from kerasish.saving.integrity import check_members, member_digests

__all__ = ["FORMAT", "FORMAT_VERSION", "is_model_file", "read_archive", "write_archive"]

FORMAT = "kerasish.model"
FORMAT_VERSION = 1


def is_model_file(path: str | os.PathLike) -> bool:
    """True when ``path`` is a zip with a ``metadata.json`` member."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return "metadata.json" in zf.namelist()


def read_archive(path: str, *, check_integrity: bool = True) -> dict[str, bytes]:
    """The members of the model file ``path``, checked against their digests.

    Args:
        path: the model file.
        check_integrity: False skips the sha256 check of the members (zip's own CRC-32 check
            still runs).

    Raises:
        FileNotFoundError: when there is no such file.
        ValueError: when it is not a model file, one of a newer format version, or a member is
            corrupt or changed since it was written (the message names the member).
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected an existing model file. Received: path={path!r}")
    if not is_model_file(path):
        raise ValueError(
            "Expected a model file written by model.save() (a zip with metadata.json); for "
            f"weights files use model.load_weights(). Received: path={path!r}"
        )
    archive = _members(path)
    meta = _metadata(archive["metadata.json"], path)
    if meta.get("format") != FORMAT or meta.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"Expected a {FORMAT} file of version <= {FORMAT_VERSION}. Received: "
            f"format={meta.get('format')!r}, format_version={meta.get('format_version')!r} "
            f"in {path!r} (saved by kerasish {meta.get('kerasish_version')})"
        )
    if check_integrity and "sha256" in meta:
        check_members(archive, meta["sha256"], what=repr(path))
    return archive


def _members(path: str) -> dict[str, bytes]:
    archive = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            try:
                archive[name] = zf.read(name)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
                raise ValueError(
                    f"Expected a readable model file. Received: {path!r} whose member {name!r} "
                    f"is corrupt ({e}). Restore the file from a good copy."
                ) from e
    return archive


def _metadata(data: bytes, path: str) -> dict[str, Any]:
    try:
        meta = json.loads(data)
        if not isinstance(meta, dict) or not isinstance(meta.get("sha256", {}), dict):
            raise ValueError("not a JSON object of the expected layout")
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(
            f"Expected a readable model file. Received: {path!r} whose member 'metadata.json' "
            f"is corrupt ({e}). Restore the file from a good copy."
        ) from e
    return meta


def write_archive(
    path: str, metadata: dict[str, Any], members: dict[str, bytes], *, overwrite: bool = True
) -> None:
    """Write ``metadata.json`` (``metadata`` plus the sha256 of each member) and ``members``
    as one zip file, atomically (see ``atomic.atomic_write``)."""
    meta = {**metadata, "sha256": member_digests(members)}
    with atomic_write(path, overwrite=overwrite) as f, zipfile.ZipFile(f, "w") as zf:
        zf.writestr("metadata.json", json.dumps(meta, indent=2).encode())
        for name, data in members.items():
            zf.writestr(name, data)
