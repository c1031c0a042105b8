"""Integrity: a flipped bit in a saved file is an error naming the file, never other weights.

Every check flips single bits at random positions of real files written by kerasish, and
checks against the reference of the same file loaded with ``check_integrity=False`` (or by
torch/safetensors directly) that the flip did change what would have loaded.
"""

from __future__ import annotations

import io
import json
import pathlib
import random
import re
import struct
import zipfile

import numpy as np
import pytest
import safetensors.torch
import torch
from torch import nn

import kerasish as K
from kerasish import saving
from kerasish.saving import integrity
from tests.saving.edit import rewrite

FLIPS = 60
V1_FILE = pathlib.Path(__file__).parent / "data" / "v1_sequential.kerasish"


def _net():
    torch.manual_seed(0)
    return K.Sequential([nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4)])


def _fitted():
    model = _net()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = np.random.default_rng(0).normal(size=(2, 32, 16)).astype("float32")
    model.fit(x, y[:, :4], epochs=1, batch_size=8, verbose=0)
    return model


def _flipped(data: bytes, span: tuple[int, int], rng: random.Random) -> tuple[bytes, int]:
    """``data`` with one random bit flipped at a random position in ``span``."""
    out = bytearray(data)
    pos = rng.randrange(*span)
    out[pos] ^= 1 << rng.randrange(8)
    return bytes(out), pos


def _bytes_of(state):
    return {k: v.contiguous().view(-1).view(torch.uint8).clone() for k, v in state.items()}


def _same_bytes(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _safetensors_data_span(data: bytes) -> tuple[int, int]:
    (size,) = struct.unpack("<Q", data[:8])
    return 8 + size, len(data)


def _zip_spans(data: bytes) -> dict[str, tuple[int, int]]:
    """``{member: (start, end)}`` of each zip member's stored bytes in ``data``."""
    spans = {}
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 :][:4])
            start = info.header_offset + 30 + name_len + extra_len
            spans[info.filename] = (start, start + info.compress_size)
    return spans


def _storage_spans(data: bytes) -> list[tuple[int, int]]:
    """The spans of a torch.save file's tensor storages (``<archive>/data/<n>`` records)."""
    spans = [s for n, s in _zip_spans(data).items() if re.search(r"/data/\d+$", n)]
    assert spans
    return spans


# --------------------------------------------------------------------------- safetensors


def test_every_bit_flip_in_safetensors_tensor_data_is_an_error_naming_the_file(tmp_path):
    model = _net()
    good = tmp_path / "good.safetensors"
    model.save_weights(good)
    data = good.read_bytes()
    assert (
        integrity.DIGEST_KEY
        in json.loads(data[8 : _safetensors_data_span(data)[0]])["__metadata__"]
    )
    before = _bytes_of(model.state_dict())
    rng, bad, detected = random.Random(0), tmp_path / "bad.safetensors", 0
    for _ in range(FLIPS):
        flipped, pos = _flipped(data, _safetensors_data_span(data), rng)
        bad.write_bytes(flipped)
        # the reference: safetensors itself reads other weights from the flipped file
        assert not _same_bytes(_bytes_of(safetensors.torch.load_file(bad)), before), pos
        with pytest.raises(ValueError) as info:
            model.load_weights(bad)
        message = str(info.value)
        assert f"Expected the weights in {str(bad)!r} to match their sha256 digest" in message
        assert "tensor data changed" in message and "check_integrity=False" in message
        assert _same_bytes(_bytes_of(model.state_dict()), before)  # nothing was overwritten
        detected += 1
    assert detected == FLIPS
    other = _net()
    with torch.no_grad():
        other[0].weight.zero_()
    other.load_weights(bad, check_integrity=False)  # the opt-out loads what the file holds
    assert _same_bytes(_bytes_of(other.state_dict()), _bytes_of(safetensors.torch.load_file(bad)))


def test_a_flipped_bit_in_the_safetensors_header_never_loads_other_weights(tmp_path):
    model = _net()
    model.save_weights(tmp_path / "good.safetensors")
    data = (tmp_path / "good.safetensors").read_bytes()
    before = _bytes_of(model.state_dict())
    rng, bad, errors = random.Random(1), tmp_path / "bad.safetensors", 0
    for _ in range(FLIPS):
        flipped, _ = _flipped(data, (0, _safetensors_data_span(data)[0]), rng)
        bad.write_bytes(flipped)
        fresh = _net()
        try:
            fresh.load_weights(bad)
        except ValueError as e:
            assert str(bad) in str(e)
            errors += 1
            continue
        assert _same_bytes(_bytes_of(fresh.state_dict()), before)  # e.g. a flip in padding
    assert errors > FLIPS // 2


def test_safetensors_of_other_tools_and_without_a_digest_still_load(tmp_path):
    model = _net()
    plain = tmp_path / "plain.safetensors"
    safetensors.torch.save_file(dict(model.state_dict()), plain)  # no metadata at all
    other = _net()
    with torch.no_grad():
        other[0].weight.zero_()
    other.load_weights(plain)
    assert _same_bytes(_bytes_of(other.state_dict()), _bytes_of(model.state_dict()))
    model.save_weights(tmp_path / "ours.safetensors")  # readable by safetensors as it is
    read = safetensors.torch.load_file(tmp_path / "ours.safetensors")
    assert _same_bytes(_bytes_of(read), _bytes_of(model.state_dict()))


def test_the_safetensors_digest_does_not_depend_on_the_layout(tmp_path):
    """A tool that rewrites the same tensors in another order keeps the digest valid; a tool
    that renames a tensor and keeps the metadata does not."""
    model = _net()
    model.save_weights(tmp_path / "w.safetensors")
    path = tmp_path / "w.safetensors"
    with safetensors.safe_open(path, "pt") as f:
        metadata, tensors = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    reordered = dict(reversed(list(tensors.items())))
    safetensors.torch.save_file(reordered, tmp_path / "r.safetensors", metadata=metadata)
    _net().load_weights(tmp_path / "r.safetensors")
    renamed = {("extra." + k if k == "layers.2.bias" else k): v for k, v in tensors.items()}
    safetensors.torch.save_file(renamed, tmp_path / "n.safetensors", metadata=metadata)
    with pytest.raises(ValueError, match="tensor data changed"):
        _net().load_weights(tmp_path / "n.safetensors", strict=False, skip_mismatch=True)


# --------------------------------------------------------------------------- .pt weights


def test_every_bit_flip_in_pt_tensor_data_is_an_error_naming_the_file(tmp_path):
    model = _net()
    good = tmp_path / "good.pt"
    model.save_weights(good)
    data = good.read_bytes()
    before = _bytes_of(model.state_dict())
    # a plain torch.load user reads the flat state dict, with or without weights_only
    for weights_only in (True, False):
        assert _same_bytes(_bytes_of(torch.load(good, weights_only=weights_only)), before)
    rng, bad = random.Random(2), tmp_path / "bad.pt"
    spans, detected = _storage_spans(data), 0
    for _ in range(FLIPS):
        flipped, pos = _flipped(data, rng.choice(spans), rng)
        bad.write_bytes(flipped)
        # the reference: torch.load itself reads other weights from the flipped file
        assert not _same_bytes(_bytes_of(torch.load(bad, weights_only=True)), before), pos
        with pytest.raises(ValueError) as info:
            model.load_weights(bad)
        message = str(info.value)
        assert f"Expected the data in {str(bad)!r} to match their sha256 digest" in message
        assert re.search(r"record '[^']*/data/\d+' changed", message), message
        assert _same_bytes(_bytes_of(model.state_dict()), before)
        detected += 1
    assert detected == FLIPS
    other = _net()
    other.load_weights(bad, check_integrity=False)
    assert _same_bytes(_bytes_of(other.state_dict()), _bytes_of(torch.load(bad)))


def test_a_pt_record_rewritten_with_a_valid_crc_is_caught_by_the_digest(tmp_path):
    """zip's CRC-32 catches random flips; the sha256 also catches a record rewritten whole."""
    model = _net()
    model.save_weights(tmp_path / "w.pt")
    with zipfile.ZipFile(tmp_path / "w.pt") as src, zipfile.ZipFile(tmp_path / "x.pt", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/data/0"):
                data = bytes([data[0] ^ 1]) + data[1:]
            dst.writestr(info, data)
    with pytest.raises(ValueError, match=r"record '[^']*/data/0' changed"):
        _net().load_weights(tmp_path / "x.pt")


# --------------------------------------------------------------------------- model files


def test_every_bit_flip_in_a_model_file_is_an_error_naming_the_member(tmp_path):
    model = _fitted()
    good = tmp_path / "good.kerasish"
    model.save(good)
    data = good.read_bytes()
    spans = _zip_spans(data)
    assert {"config.json", "compile.json", "model.safetensors", "optimizer.pt"} <= set(spans)
    weights_start, weights_end = spans["model.safetensors"]
    inner = _safetensors_data_span(data[weights_start:weights_end])
    spans["model.safetensors"] = (weights_start + inner[0], weights_start + inner[1])
    members, rng, bad, detected = sorted(spans), random.Random(3), tmp_path / "bad.kerasish", 0
    for i in range(FLIPS):
        member = members[i % len(members)]
        flipped, _ = _flipped(data, spans[member], rng)
        bad.write_bytes(flipped)
        with pytest.raises(ValueError) as info:
            K.models.load_model(bad)
        assert repr(member) in str(info.value) and str(bad) in str(info.value)
        detected += 1
    assert detected == FLIPS


@pytest.mark.parametrize("member", ["config.json", "compile.json", "model.safetensors"])
def test_a_member_changed_with_a_valid_crc_is_caught_by_the_manifest(tmp_path, member):
    """A member rewritten whole (a hand edit, another tool) passes zip's CRC-32 check; the
    sha256 manifest in metadata.json names it, and check_integrity=False loads the file."""
    model = _fitted()
    model.save(tmp_path / "m.kerasish")

    def edit(name, data):
        if name != member:
            return data
        if name.endswith(".json"):
            return json.dumps(json.loads(data)).encode()  # same content, other bytes
        start, end = _safetensors_data_span(data)
        return data[:start] + bytes([data[start] ^ 0x40]) + data[start + 1 :]

    bad = rewrite(tmp_path / "m.kerasish", tmp_path / "bad.kerasish", edit, resign=False)
    with pytest.raises(ValueError, match=f"member '{member}' changed since") as info:
        K.models.load_model(bad)
    assert str(bad) in str(info.value) and "check_integrity=False" in str(info.value)
    with pytest.raises(ValueError, match=f"member '{member}' changed since"):
        _net().load_weights(bad)  # load_weights reads a model file's weights the same way
    loaded = K.models.load_model(bad, check_integrity=False)
    changed = member == "model.safetensors"
    assert _same_bytes(_bytes_of(loaded.state_dict()), _bytes_of(model.state_dict())) != changed


def test_an_added_or_removed_member_is_an_error(tmp_path):
    _fitted().save(tmp_path / "m.kerasish")
    src = tmp_path / "m.kerasish"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp_path / "less.kerasish", "w") as zout:
        for name in zin.namelist():
            if name != "optimizer.pt":
                zout.writestr(name, zin.read(name))
    with pytest.raises(ValueError, match="member 'optimizer.pt' is missing"):
        K.models.load_model(tmp_path / "less.kerasish")
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp_path / "more.kerasish", "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, zin.read(name))
        zout.writestr("scaler.pt", integrity.torch_bytes({"scale": torch.tensor(1.0)}))
    with pytest.raises(ValueError, match="member 'scaler.pt' was added"):
        K.models.load_model(tmp_path / "more.kerasish")


def test_model_files_without_a_manifest_still_load(tmp_path):
    assert "sha256" not in json.loads(zipfile.ZipFile(V1_FILE).read("metadata.json"))
    K.models.load_model(V1_FILE)
    model = _fitted()
    model.save(tmp_path / "m.kerasish")

    def strip(name, data):
        if name != "metadata.json":
            return data
        meta = json.loads(data)
        assert set(meta["sha256"]) == {"config.json", "compile.json", "model.safetensors"} | {
            "optimizer.pt",
            "optimizer.json",
        }
        del meta["sha256"]
        return json.dumps(meta).encode()

    plain = rewrite(tmp_path / "m.kerasish", tmp_path / "plain.kerasish", strip)
    loaded = K.models.load_model(plain)
    assert _same_bytes(_bytes_of(loaded.state_dict()), _bytes_of(model.state_dict()))


# --------------------------------------------------------------------------- checkpoints


def _backup_state(tmp_path):
    """A real BackupAndRestore checkpoint's contents (model, optimizer, RNG, history, ...)."""
    model = _net()
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(32, 16)).astype("float32")
    backup = K.callbacks.BackupAndRestore(tmp_path / "backup", delete_checkpoint=False)
    model.fit(x, x[:, :4], epochs=2, batch_size=8, verbose=0, callbacks=[backup])
    return torch.load(tmp_path / "backup" / "checkpoint.pt", weights_only=True)


def _same_tree(a, b):
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_tree(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_tree, a, b))
    return a == b


def test_every_bit_flip_in_a_backup_checkpoint_is_an_error_naming_the_file(tmp_path):
    state = _backup_state(tmp_path)
    good = tmp_path / "checkpoint.pt"
    saving.save_checked(state, good)
    assert _same_tree(saving.load_checked(good), state)
    assert _same_tree(torch.load(good, weights_only=True), state)  # still a torch.save file
    data = good.read_bytes()
    rng, bad, spans, detected = random.Random(4), tmp_path / "bad.pt", _storage_spans(data), 0
    for _ in range(FLIPS):
        flipped, pos = _flipped(data, rng.choice(spans), rng)
        bad.write_bytes(flipped)
        assert not _same_tree(torch.load(bad, weights_only=True), state), pos  # the reference
        with pytest.raises(ValueError, match=rf"in {re.escape(repr(str(bad)))} to match"):
            saving.load_checked(bad)
        detected += 1
    assert detected == FLIPS
    assert not _same_tree(saving.load_checked(bad, check_integrity=False), state)


def test_checked_files_in_memory_and_in_file_objects(tmp_path):
    state = {"w": torch.arange(6.0).reshape(2, 3), "step": 7, "rng": (1, 2, [3.5])}
    buf = io.BytesIO()
    saving.save_checked(state, buf)
    buf.seek(0)
    assert _same_tree(saving.load_checked(buf), state)
    data = bytearray(buf.getvalue())
    start, _ = _storage_spans(bytes(data))[0]
    data[start] ^= 0x01
    with pytest.raises(ValueError, match="Expected the data in the backup to match") as info:
        saving.load_checked(io.BytesIO(bytes(data)), what="the backup", corrupt_remedy="Delete it.")
    assert str(info.value).endswith("(corrupt or tampered). Delete it.")
    saving.save_checked(state, tmp_path / "s.pt")
    with pytest.raises(FileExistsError):
        saving.save_checked(state, tmp_path / "s.pt", overwrite=False)


def test_the_digest_is_checked_before_anything_is_unpickled(tmp_path):
    marker = tmp_path / "touched"
    saving.save_checked({"obj": _Touch(str(marker))}, tmp_path / "c.pt")
    data = bytearray((tmp_path / "c.pt").read_bytes())
    [(start, end)] = [s for n, s in _zip_spans(bytes(data)).items() if n.endswith("/data.pkl")]
    data[start + (end - start) // 2] ^= 0x01  # inside the pickle
    (tmp_path / "bad.pt").write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"record '[^']*/data\.pkl' changed"):
        saving.load_checked(tmp_path / "bad.pt", safe_mode=False)
    assert not marker.exists()
    saving.load_checked(tmp_path / "c.pt", safe_mode=False)  # the reference: it does run code
    assert marker.exists()


class _Touch:
    """Unpickling it creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))
