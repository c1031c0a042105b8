"""kerasish.devices: resolve, move and pin nested batches, autocast (on CPU; CUDA skips)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
import torch

from kerasish import devices

CPU = torch.device("cpu")
Pair = namedtuple("Pair", "x y")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_resolve_cpu_and_devices_as_given():
    assert devices.resolve("cpu") == CPU
    assert devices.resolve(CPU) is CPU


def test_resolve_auto_follows_the_environment(monkeypatch):
    monkeypatch.setenv("KERASISH_DEVICE", "cpu")
    assert devices.resolve("auto") == CPU and devices.resolve(None) == CPU


def test_resolve_rejects_unknown_devices_and_types():
    with pytest.raises(ValueError, match="Expected a device such as .* Received: device='tpu9'"):
        devices.resolve("tpu9")
    with pytest.raises(TypeError, match="Received: device=3"):
        devices.resolve(3)  # type: ignore[arg-type]


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_resolve_rejects_an_absent_cuda():
    with pytest.raises(ValueError, match="CUDA is not available here. Received: device='cuda'"):
        devices.resolve("cuda")


def test_move_keeps_structure_and_tensors_already_there():
    t = torch.ones(2)
    batch = (t, {"a": [t, (t,)], "n": None, "k": "text"}, Pair(t, 3))
    moved = devices.move(batch, CPU)
    assert moved[0] is t and moved[1]["a"][1][0] is t
    assert moved[1]["n"] is None and moved[1]["k"] == "text"
    assert type(moved[2]) is Pair and moved[2].x is t and moved[2].y == 3
    assert devices.move(t, CPU) is t and devices.move(None, CPU) is None


def test_move_turns_numpy_arrays_and_scalars_into_tensors():
    moved = devices.move({"a": np.ones(2, np.float32), "s": np.float32(2.0)}, CPU)
    assert isinstance(moved["a"], torch.Tensor) and moved["a"].dtype == torch.float32
    assert isinstance(moved["s"], torch.Tensor) and float(moved["s"]) == 2.0


def test_pin_leaves_non_tensors_alone():
    batch = (None, [1, "a"], {"k": np.zeros(1)})
    pinned = devices.pin(batch)
    assert pinned[0] is None and pinned[1] == [1, "a"] and pinned[2]["k"] is batch[2]["k"]


@needs_cuda
def test_pin_and_move_to_cuda():
    t = torch.ones(3)
    pinned = devices.pin((t, {"a": t}))
    assert pinned[0].is_pinned() and pinned[1]["a"].is_pinned()
    cuda = torch.device("cuda", torch.cuda.current_device())
    moved = devices.move(pinned, cuda)
    assert moved[0].device == cuda and moved[1]["a"].device == cuda
    assert devices.pin(moved)[0] is moved[0]  # CUDA tensors are not pinned again


@pytest.mark.parametrize("precision", [None, "fp32", "float32"])
def test_autocast_is_a_no_op_at_full_precision(precision):
    with devices.autocast(CPU, precision):
        assert not torch.is_autocast_enabled("cpu")


@pytest.mark.parametrize("precision", ["bf16", "bfloat16"])
def test_autocast_bf16_on_cpu(precision):
    with devices.autocast(CPU, precision):
        assert torch.is_autocast_enabled("cpu")
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    assert not torch.is_autocast_enabled("cpu")


def test_precisions_name_the_dtypes():
    assert devices.PRECISIONS["fp16"] is torch.float16
    assert devices.PRECISIONS["float16"] is torch.float16
    with pytest.raises(KeyError):
        devices.autocast(CPU, "fp8")
