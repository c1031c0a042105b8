"""Edit model files as a crafted file would: change members, then rewrite the digests in
``metadata.json`` to match (a digest is not a signature; safe mode must still hold)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable

from kerasish.saving.integrity import member_digests


def rewrite(src, dst, edit: Callable[[str, bytes], bytes], *, resign: bool = True):
    """Copy the model file ``src`` to ``dst`` with ``edit(name, data)`` applied to each member;
    ``resign`` rewrites the sha256 digests in ``metadata.json`` to match the edited members."""
    with zipfile.ZipFile(src) as zin:
        members = {name: edit(name, zin.read(name)) for name in zin.namelist()}
    meta = json.loads(members["metadata.json"])
    if resign and "sha256" in meta:
        others = {k: v for k, v in members.items() if k != "metadata.json"}
        meta["sha256"] = member_digests(others)
        members["metadata.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(dst, "w") as zout:
        for name, data in members.items():
            zout.writestr(name, data)
    return dst


def edit_json(member: str, edit: Callable[[dict], None]) -> Callable[[str, bytes], bytes]:
    """An ``edit`` for ``rewrite`` applying ``edit(cfg)`` to the JSON member ``member``."""

    def apply(name: str, data: bytes) -> bytes:
        if name != member:
            return data
        cfg = json.loads(data)
        edit(cfg)
        return json.dumps(cfg).encode()

    return apply
