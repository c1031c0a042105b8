"""Integrity: sha256 digests written into every file kerasish saves, checked before loading.

A flipped bit (a bad disk, a torn copy, an edit by another tool) must not load as good
weights. Each format carries its digest where its own readers ignore it:

- safetensors (``save_weights``, a model file's ``model.safetensors``): the string
  ``__metadata__["kerasish_sha256"]``, the sha256 of each tensor's name, dtype, shape and bytes
  (``sign_safetensors`` / ``check_safetensors``);
- ``torch.save`` files (``.pt`` weights, ``BackupAndRestore``'s checkpoint): one more zip record,
  ``<archive>/kerasish_sha256``, holding the sha256 of every other record. ``torch.load`` (with
  or without ``weights_only``) reads the file exactly as before (``save_checked`` /
  ``load_checked``);
- model files: ``metadata.json["sha256"]``, the sha256 of every other member
  (``member_digests`` / ``check_members``).

Files without a digest (other tools, older kerasish) load as before; ``check_integrity=False``
loads a file whose digest does not match. A digest is not a signature: whoever can write a file
can write a matching digest. Safe mode, not the digest, keeps a crafted file from running code.

Example:
    >>> net = nn.Linear(3, 2)
    >>> save_checked({"model": net.state_dict(), "epoch": 3}, "checkpoint.pt")
    >>> state = load_checked("checkpoint.pt")  # ValueError if a bit changed
    >>> state["epoch"], sorted(state["model"])
    (3, ['bias', 'weight'])
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import mmap
import os
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from typing import IO, Any

import torch

from kerasish.saving.atomic import atomic_path
from kerasish.saving.safe_load import safe_torch_load

__all__ = [
    "DIGEST_KEY",
    "check_members",
    "check_safetensors",
    "check_torch_file",
    "load_checked",
    "member_digests",
    "save_checked",
    "sign_safetensors",
    "torch_bytes",
]

DIGEST_KEY = "kerasish_sha256"
_OPT_OUT = "pass check_integrity=False to load it anyway"
_REMEDY = f"Restore it from a good copy, or {_OPT_OUT}."
_CHUNK = 1 << 20


def _mismatch(contents: str, what: str, part: str, remedy: str | None = None) -> ValueError:
    return ValueError(
        f"Expected the {contents} in {what} to match their sha256 digest (written with the "
        f"file). Received: a file whose {part} changed since it was written (corrupt or "
        f"tampered). {remedy or _REMEDY}"
    )


def _unreadable(what: str, why: Any) -> ValueError:
    return ValueError(
        f"Expected a readable file. Received: {what}, which is corrupt or truncated ({why})."
    )


# --------------------------------------------------------------------------- safetensors


def _safetensors_parts(blob: Any, what: str) -> tuple[dict[str, Any], memoryview]:
    """The JSON header and the data buffer of safetensors bytes (``blob``: a buffer)."""
    view = memoryview(blob)
    try:
        (size,) = struct.unpack("<Q", view[:8])
        if size > len(view) - 8:
            raise ValueError(f"a header of {size} bytes in a file of {len(view)} bytes")
        header = json.loads(bytes(view[8 : 8 + size]))
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (struct.error, ValueError, UnicodeDecodeError) as e:
        raise _unreadable(what, f"its safetensors header cannot be read: {e}") from e
    return header, view[8 + size :]


def _tensor_digest(header: Mapping[str, Any], data: memoryview, what: str) -> str:
    """sha256 over each tensor (by sorted name) of its name, dtype, shape and bytes: the same
    for any layout of the same tensors."""
    digest = hashlib.sha256()
    try:
        for name in sorted(k for k in header if k != "__metadata__"):
            info = header[name]
            begin, end = info["data_offsets"]
            digest.update(json.dumps([name, info["dtype"], info["shape"], end - begin]).encode())
            digest.update(data[begin:end])
    except (KeyError, TypeError, ValueError) as e:
        raise _unreadable(what, f"its safetensors header is malformed: {e!r}") from e
    return digest.hexdigest()


def sign_safetensors(blob: bytes) -> bytes:
    """``blob`` (safetensors bytes) with its digest in ``__metadata__["kerasish_sha256"]``.

    Args:
        blob: bytes from ``safetensors.torch.save``.

    Returns:
        The same tensors, readable by any safetensors reader, with the digest added.

    Example:
        >>> import safetensors.torch
        >>> blob = sign_safetensors(safetensors.torch.save({"w": torch.ones(2)}))
        >>> check_safetensors(blob, what="'w.safetensors'")  # passes: no output
        >>> safetensors.torch.load(blob)
        {'w': tensor([1., 1.])}
    """
    header, data = _safetensors_parts(blob, "the new safetensors bytes")
    metadata = dict(header.get("__metadata__") or {})
    metadata[DIGEST_KEY] = _tensor_digest(header, data, "the new safetensors bytes")
    header = {"__metadata__": metadata, **{k: v for k, v in header.items() if k != "__metadata__"}}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # the data stays 8-byte aligned, as safetensors writes it
    return b"".join([struct.pack("<Q", len(text)), text, data])


@contextlib.contextmanager
def _buffer(source: str | os.PathLike | bytes) -> Iterator[Any]:
    """The bytes of ``source``: itself, or a read-only memory map of the file."""
    if isinstance(source, bytes | bytearray | memoryview):
        yield source
        return
    with open(source, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            yield b""
            return
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield mapped
        finally:
            with contextlib.suppress(BufferError):  # a view still held by a traceback: GC closes
                mapped.close()


def check_safetensors(source: str | os.PathLike | bytes, *, what: str) -> None:
    """Raise when a safetensors file (a path, or its bytes) has a digest its tensors do not
    match; a file without a digest (written by another tool) passes.

    Args:
        source: the file's path or bytes.
        what: how errors name the file, e.g. ``"'weights.safetensors'"``.

    Raises:
        ValueError: when the tensors do not match the digest, or the header is unreadable.

    Example:
        >>> model.save_weights("weights.safetensors")
        >>> check_safetensors("weights.safetensors", what="'weights.safetensors'")  # passes
        >>> blob = bytearray(open("weights.safetensors", "rb").read())
        >>> blob[-1] ^= 1  # flip one bit of the last weight
        >>> check_safetensors(bytes(blob), what="'weights.safetensors'")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: Expected the weights in 'weights.safetensors' to match their sha256 digest ...
    """
    with _buffer(source) as buf:
        header, data = _safetensors_parts(buf, what)
        try:
            metadata = header.get("__metadata__")
            expected = metadata.get(DIGEST_KEY) if isinstance(metadata, dict) else None
            actual = None if expected is None else _tensor_digest(header, data, what)
        finally:
            data.release()  # before the mapping closes
    if actual != expected:
        raise _mismatch("weights", what, "tensor data")


# --------------------------------------------------------------------------- torch.save files


def _record_digests(zf: zipfile.ZipFile, what: str, remedy: str | None) -> dict[str, str]:
    """``{record: sha256}`` of every record of a torch zip file except the digest record."""
    digests = {}
    for info in zf.infolist():
        if info.filename.rsplit("/", 1)[-1] == DIGEST_KEY:
            continue
        digest = hashlib.sha256()
        try:
            with zf.open(info) as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
        except zipfile.BadZipFile as e:  # a record's CRC-32 does not match
            if "CRC" not in str(e):
                raise _unreadable(what, e) from e
            raise _mismatch("data", what, f"record {info.filename!r}", remedy) from e
        except (OSError, EOFError, zlib.error, NotImplementedError) as e:
            raise _unreadable(what, f"record {info.filename!r}: {e}") from e
        digests[info.filename] = digest.hexdigest()
    return digests


def _digest_record(zf: zipfile.ZipFile) -> str:
    """The digest record's name: in the folder of the archive's first record, as torch has."""
    first = zf.infolist()[0].filename
    return f"{first.split('/', 1)[0]}/{DIGEST_KEY}"


def _sign_torch_zip(file: str | IO[bytes]) -> None:
    """Append the digest record to a ``torch.save`` zip file (a path or a seekable file)."""
    with zipfile.ZipFile(file, "a") as zf:
        digests = _record_digests(zf, "the new checkpoint", None)
        zf.writestr(_digest_record(zf), json.dumps(digests, separators=(",", ":")))


def torch_bytes(obj: Any) -> bytes:
    """``torch.save(obj)`` as bytes, with the digest record (see ``save_checked``)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    _sign_torch_zip(buf)
    return buf.getvalue()


def save_checked(obj: Any, file: str | os.PathLike | IO[bytes], *, overwrite: bool = True) -> None:
    """``torch.save(obj, file)`` plus a digest record that ``load_checked`` verifies.

    A path is written atomically (a temporary file, fsync'd, renamed). The file stays a plain
    ``torch.save`` file: ``torch.load(file, weights_only=True)`` reads ``obj`` as before.

    Args:
        obj: what ``torch.save`` takes (tensors, containers of tensors and plain values).
        file: a path, or a binary file object to write to.
        overwrite: when False, refuse to replace an existing path.

    Raises:
        FileExistsError: when ``overwrite=False`` and the path exists.

    Example:
        >>> save_checked({"model": model.state_dict(), "epoch": 3}, "checkpoint.pt")
        >>> torch.load("checkpoint.pt")["epoch"]  # a plain torch.save file to torch.load
        3
    """
    if not isinstance(file, str | os.PathLike):
        file.write(torch_bytes(obj))
        return
    with atomic_path(file, overwrite=overwrite) as tmp, open(tmp, "w+b") as f:
        torch.save(obj, f)  # to a file object, torch names the zip's folder "archive"
        _sign_torch_zip(f)


def check_torch_file(
    source: str | os.PathLike | IO[bytes], *, what: str, remedy: str | None = None
) -> None:
    """Raise when a ``torch.save`` file has a digest record its other records do not match; a
    file without one (written by another tool) passes. A file object is read from its current
    position and left there.

    Args:
        source: a path or a binary file object.
        what: how errors name the file, e.g. ``"'run/checkpoint.pt'"``.
        remedy: the error's last sentence (default: restore a good copy, or pass
            ``check_integrity=False``).

    Raises:
        ValueError: naming the changed record, or when the file is unreadable.

    Example:
        >>> check_torch_file("run/checkpoint.pt", what="'run/checkpoint.pt'")
    """
    start = None if isinstance(source, str | os.PathLike) else source.tell()
    try:
        _check_torch_zip(source, what, remedy)
    finally:
        if start is not None:
            source.seek(start)


def _check_torch_zip(source: str | os.PathLike | IO[bytes], what: str, remedy: str | None) -> None:
    if not zipfile.is_zipfile(source):
        return  # torch's legacy format, or not a torch file: torch.load says which
    with zipfile.ZipFile(source) as zf:
        names = [i.filename for i in zf.infolist() if i.filename.endswith("/" + DIGEST_KEY)]
        if not names:
            return
        try:
            expected = json.loads(zf.read(names[-1]))
            if not isinstance(expected, dict):
                raise ValueError("not a JSON object")
        except (ValueError, zipfile.BadZipFile) as e:
            raise _mismatch("data", what, f"digest record {names[-1]!r}", remedy) from e
        actual = _record_digests(zf, what, remedy)
    for name in sorted(set(expected) | set(actual)):
        if expected.get(name) != actual.get(name):  # changed, added or missing
            raise _mismatch("data", what, f"record {name!r}", remedy)


def load_checked(
    source: str | os.PathLike | IO[bytes],
    *,
    safe_mode: bool = True,
    check_integrity: bool = True,
    what: str | None = None,
    remedy: str = "If you trust the file, pass safe_mode=False.",
    corrupt_remedy: str | None = None,
    map_location: Any = "cpu",
) -> Any:
    """Verify a ``torch.save`` file's digest (when it has one), then load it.

    The digest is checked before anything is unpickled; loading is ``safe_torch_load``
    (``torch.load(weights_only=True)`` unless ``safe_mode=False``).

    Args:
        source: a path or a binary file object.
        safe_mode: see ``safe_torch_load``.
        check_integrity: False loads a file whose digest does not match.
        what: how errors name the file (default: the path, quoted).
        remedy: the last sentence of the safe-mode error (see ``safe_torch_load``).
        corrupt_remedy: the last sentence of the integrity error (default: restore a good
            copy, or pass ``check_integrity=False``).
        map_location: where tensors go (default CPU).

    Returns:
        The loaded object.

    Raises:
        ValueError: when the file changed since it was written, or needs unpickling in safe
            mode.

    Example:
        >>> save_checked({"model": model.state_dict(), "epoch": 3}, "checkpoint.pt")
        >>> load_checked("checkpoint.pt")["epoch"]
        3
    """
    if what is None:
        what = repr(os.fspath(source)) if isinstance(source, str | os.PathLike) else "the file"
    if check_integrity:
        check_torch_file(source, what=what, remedy=corrupt_remedy)
    return safe_torch_load(
        source, safe_mode=safe_mode, map_location=map_location, what=what, remedy=remedy
    )


# --------------------------------------------------------------------------- model files


def member_digests(members: Mapping[str, bytes]) -> dict[str, str]:
    """``{name: sha256}`` of a model file's members (``metadata.json`` holds them).

    Example:
        >>> member_digests({"config.json": b"{}"})["config.json"][:8]
        '44136fa3'
    """
    return {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}


def check_members(members: Mapping[str, bytes], expected: Mapping[str, str], *, what: str) -> None:
    """Raise when a member of a model file is missing, added or changed against ``expected``
    (``metadata.json``'s digests; ``metadata.json`` itself is not among them).

    Raises:
        ValueError: naming the member and the file.

    Example:
        >>> check_members({"config.json": b"{}"}, member_digests({"config.json": b"{}"}), what="f")
    """
    actual = member_digests({k: v for k, v in members.items() if k != "metadata.json"})
    for name in sorted(set(actual) | set(expected)):
        if name not in expected:
            how = "was added"
        elif name not in actual:
            how = "is missing"
        elif actual[name] != expected[name]:
            how = "changed"
        else:
            continue
        raise ValueError(
            f"Expected the members of the model file {what} to match their sha256 digests "
            f"(in metadata.json). Received: member {name!r} {how} since the file was written "
            f"(corrupt or tampered). {_REMEDY}"
        )
