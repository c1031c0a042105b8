"""kerasish.ops core, linalg, math and image ops against NumPy, torch and Keras 3's numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kerasish import ops

RNG = np.random.default_rng(0)


def test_conversion_and_dtypes():
    t = ops.convert_to_tensor(np.arange(3, dtype=np.int32))
    assert ops.is_tensor(t) and t.dtype == torch.int32
    assert ops.convert_to_tensor([1.5], dtype="float64").dtype == torch.float64
    assert ops.cast(np.array([1.7, -1.7]), "int32").tolist() == [1, -1]
    assert ops.convert_to_numpy(torch.tensor([1.0], dtype=torch.bfloat16)).tolist() == [1.0]
    assert ops.standardize_dtype(np.float16) == torch.float16
    assert (
        ops.standardize_dtype("torch.int8") == torch.int8
        and ops.standardize_dtype(bool) == torch.bool
    )
    x = torch.ones(2, requires_grad=True)
    assert not ops.stop_gradient(x * 2).requires_grad


def test_control_flow():
    assert ops.cond(torch.tensor(False), lambda: "a", lambda: "b") == "b"
    assert ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (0, 0)) == (5, 10)
    assert ops.while_loop(lambda i: i < 100, lambda i: i + 1, 0, maximum_iterations=7) == 7
    assert ops.fori_loop(1, 5, lambda i, v: v * i, 1) == 24
    x = torch.randn(4, 3)
    torch.testing.assert_close(ops.vectorized_map(lambda r: r @ r, x), (x * x).sum(1))


def test_slice_and_scatter_against_numpy():
    a = RNG.normal(size=(4, 5))
    np.testing.assert_allclose(ops.slice(a, (1, 2), (2, 3)).numpy(), a[1:3, 2:5])
    upd = np.ones((2, 2))
    ref = a.copy()
    ref[2:4, 0:2] = upd
    out = ops.slice_update(torch.tensor(a), (2, 0), torch.tensor(upd))
    np.testing.assert_allclose(out.numpy(), ref)
    # Keras 3.15.1 run: scatter([[0,1],[0,1],[1,0]], [1,2,3], (2,2)) = [[0,3],[3,0]] (adds up).
    out = ops.scatter(np.array([[0, 1], [0, 1], [1, 0]]), np.array([1.0, 2.0, 3.0]), (2, 2))
    assert out.tolist() == [[0.0, 3.0], [3.0, 0.0]]
    ref = a.copy()
    ref[[0, 3], [1, 4]] = [7.0, 8.0]
    out = ops.scatter_update(torch.tensor(a), np.array([[0, 1], [3, 4]]), np.array([7.0, 8.0]))
    np.testing.assert_allclose(out.numpy(), ref)
    rows = ops.scatter_update(torch.zeros(3, 2), [[1]], torch.ones(1, 2))  # whole-row updates
    assert rows.tolist() == [[0, 0], [1, 1], [0, 0]]


def test_linalg_against_numpy():
    a = RNG.normal(size=(4, 4))
    spd = a @ a.T + 4 * np.eye(4)
    b = RNG.normal(size=(4, 2))
    t = torch.tensor(a)
    for kwargs in ({}, {"ord": 1}, {"ord": "fro"}, {"ord": 2, "axis": 1}, {"axis": (0, 1)},
                   {"ord": np.inf, "axis": 0, "keepdims": True}, {"ord": "nuc"}):  # fmt: skip
        np.testing.assert_allclose(ops.norm(t, **kwargs).numpy(), np.linalg.norm(a, **kwargs))
    x3 = RNG.normal(size=(2, 3, 4))
    np.testing.assert_allclose(ops.norm(x3).numpy(), np.linalg.norm(x3))
    np.testing.assert_allclose(ops.inv(t).numpy(), np.linalg.inv(a), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ops.det(t).numpy(), np.linalg.det(a))
    np.testing.assert_allclose(ops.solve(t, b).numpy(), np.linalg.solve(a, b))
    np.testing.assert_allclose(ops.cholesky(spd).numpy(), np.linalg.cholesky(spd))
    q, r = ops.qr(t)
    np.testing.assert_allclose((q @ r).numpy(), a, atol=1e-12)
    np.testing.assert_allclose(
        ops.svd(t, compute_uv=False).numpy(), np.linalg.svd(a, compute_uv=False)
    )
    u, s, vh = ops.svd(t)
    np.testing.assert_allclose((u * s @ vh).numpy(), a, atol=1e-12)
    np.testing.assert_allclose(ops.eigh(spd)[0].numpy(), np.linalg.eigh(spd)[0])
    tall = RNG.normal(size=(6, 3))
    y = RNG.normal(size=6)
    np.testing.assert_allclose(ops.lstsq(tall, y).numpy(), np.linalg.lstsq(tall, y, rcond=None)[0])
    assert ops.linalg.norm is ops.norm


def test_math_against_numpy_and_keras():
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(ops.erf(x).numpy(), [math.erf(v) for v in x], rtol=1e-12)
    np.testing.assert_allclose(ops.erfinv(ops.erf(x)).numpy(), x, atol=1e-6)
    a = RNG.normal(size=(3, 4))
    ref = np.log(np.exp(a).sum(axis=1))
    np.testing.assert_allclose(ops.logsumexp(a, axis=1).numpy(), ref)
    np.testing.assert_allclose(ops.logsumexp(a).numpy(), np.log(np.exp(a).sum()))
    values, indices = ops.top_k(np.array([1.0, 4.0, 2.0, 3.0]), 2)
    assert values.tolist() == [4.0, 3.0] and indices.tolist() == [1, 3]  # Keras run
    scores = np.array([[0.1, 0.9, 0.0], [0.5, 0.5, 0.0], [0.2, 0.2, 0.2]], np.float32)
    assert ops.in_top_k(np.array([1, 0, 2]), scores, 1).tolist() == [True, True, True]  # Keras run
    assert ops.in_top_k(np.array([0]), np.array([[0.1, 0.9, 0.5]]), 2).tolist() == [False]
    data = RNG.normal(size=(5, 2))
    ids = np.array([0, 2, 0, 1, 2])
    ref = np.stack([data[ids == i].sum(0) for i in range(3)])
    np.testing.assert_allclose(ops.segment_sum(data, ids).numpy(), ref)
    ref = np.stack([data[ids == i].max(0) for i in range(3)])
    np.testing.assert_allclose(ops.segment_max(data, ids, num_segments=3).numpy(), ref)
    # Keras 3.15.1 run: an empty segment's max is -inf.
    empty = ops.segment_max(np.array([1.0, 5.0, 3.0]), np.array([0, 0, 2]), num_segments=3)
    assert empty.tolist() == [5.0, -math.inf, 3.0]


IMG = np.array([[0.0, 1.0], [2.0, 3.0]], np.float32)[None, :, :, None]
IMG2 = np.arange(24, dtype=np.float32).reshape(1, 4, 6, 1)


@pytest.mark.parametrize(
    "images,size,kwargs,expected",
    [  # Keras 3.15.1 run, torch backend: keras.ops.image.resize(images, size, **kwargs)
        (IMG, (3, 3), {}, [[0.0, 0.5, 1.0], [1.0, 1.5, 2.0], [2.0, 2.5, 3.0]]),
        (IMG, (3, 3), {"interpolation": "nearest"}, [[0, 1, 1], [2, 3, 3], [2, 3, 3]]),
        (IMG2, (2, 2), {"crop_to_aspect_ratio": True}, [[4.5, 6.5], [16.5, 18.5]]),
        (IMG2, (3, 3), {"pad_to_aspect_ratio": True, "fill_value": -1.0},
         [[-0.25, 0.75, 1.75], [9.5, 11.5, 13.5], [8.75, 9.75, 10.75]]),
    ],
)  # fmt: skip
def test_resize_matches_keras(images, size, kwargs, expected):
    out = ops.image.resize(images, size, data_format="channels_last", **kwargs)
    np.testing.assert_allclose(out[0, :, :, 0].numpy(), expected, atol=1e-5)


def test_resize_layouts_dtypes_and_errors():
    x = torch.rand(2, 3, 8, 6)
    ref = F.interpolate(x, size=(4, 5), mode="bilinear", align_corners=False)
    torch.testing.assert_close(ops.image.resize(x, (4, 5), data_format="channels_first"), ref)
    single = ops.image.resize(x[0].permute(1, 2, 0), (4, 5), data_format="channels_last")
    torch.testing.assert_close(single, ref[0].permute(1, 2, 0))
    u8 = torch.tensor([[[0, 255], [255, 0]]], dtype=torch.uint8)  # (C, H, W)
    out = ops.image.resize(u8, (3, 3), interpolation="bicubic", data_format="channels_first")
    assert out.dtype == torch.uint8
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(x, (2, 2), interpolation="lanczos3", data_format="channels_first")
    with pytest.raises(ValueError, match="rank 3 or 4"):
        ops.image.resize(torch.zeros(4, 4), (2, 2))


def test_non_tensors_follow_the_tensor_device():
    meta = torch.ones(2, device="meta")  # a second device that runs without hardware
    assert ops.add(meta, np.ones(2)).device.type == "meta"
    assert ops.where(meta > 0, np.zeros(2), 1.0).device.type == "meta"
    assert ops.matmul(np.ones((3, 2)), torch.ones(2, 2, device="meta")).device.type == "meta"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_ops_and_fill():
    from kerasish import initializers

    x = torch.randn(2, 6, 6, 3, device="cuda")
    out = ops.conv(
        x, np.ones((3, 3, 3, 4), np.float32), padding="same", data_format="channels_last"
    )
    assert out.device.type == "cuda" and out.shape == (2, 6, 6, 4)
    layer = torch.nn.Linear(8, 4).cuda()
    initializers.fill_(layer.weight, initializers.GlorotUniform(seed=0))
    assert layer.weight.device.type == "cuda"


def test_ops_and_activations_pickle_by_reference():
    import pickle

    from kerasish import activations

    for fn in (
        ops.add,
        ops.relu,
        ops.conv,
        ops.image.resize,
        ops.sum,
        activations.gelu,
        activations.silu,
    ):
        assert pickle.loads(pickle.dumps(fn)) is fn
