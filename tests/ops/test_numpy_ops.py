"""kerasish.ops' NumPy-like ops, each against NumPy on the same inputs (table-driven)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kerasish import ops

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4))  # float64
B = RNG.normal(size=(3, 4))
P = np.abs(A) + 0.5  # positive
U = RNG.uniform(-0.9, 0.9, size=(3, 4))  # inside (-1, 1)
N = RNG.integers(-5, 6, size=(3, 4))
J = RNG.integers(1, 4, size=(3, 4))
M = RNG.normal(size=(4, 5))
L = A > 0

UNARY = [
    ("negative", np.negative, A), ("abs", np.abs, A), ("absolute", np.abs, N), ("sqrt", np.sqrt, P),
    ("square", np.square, A), ("exp", np.exp, A), ("exp2", np.exp2, A), ("expm1", np.expm1, A),
    ("log", np.log, P), ("log1p", np.log1p, P), ("log2", np.log2, P), ("log10", np.log10, P),
    ("sign", np.sign, A), ("floor", np.floor, A * 3), ("ceil", np.ceil, A * 3),
    ("trunc", np.trunc, A * 3), ("reciprocal", np.reciprocal, P), ("sin", np.sin, A),
    ("cos", np.cos, A), ("tan", np.tan, U), ("arcsin", np.arcsin, U), ("arccos", np.arccos, U),
    ("arctan", np.arctan, A), ("sinh", np.sinh, A), ("cosh", np.cosh, A), ("tanh", np.tanh, A),
    ("arcsinh", np.arcsinh, A), ("arccosh", np.arccosh, P + 1), ("arctanh", np.arctanh, U),
    ("logical_not", np.logical_not, L), ("isnan", np.isnan, np.array([np.nan, 1.0, np.inf])),
    ("isinf", np.isinf, np.array([np.nan, 1.0, -np.inf])),
    ("isfinite", np.isfinite, np.array([np.nan, 1.0, np.inf])), ("round", np.round, A * 3),
    ("rsqrt", lambda x: 1 / np.sqrt(x), P), ("nan_to_num", np.nan_to_num,
                                             np.array([np.nan, np.inf, -np.inf, 1.0])),
    ("ravel", np.ravel, A), ("transpose", np.transpose, A), ("diag", np.diag, M),
    ("triu", np.triu, M), ("tril", np.tril, M), ("trace", np.trace, M), ("diagonal", np.diagonal, M),
    ("sum", np.sum, A), ("mean", np.mean, A), ("max", np.max, A), ("min", np.min, A),
    ("prod", np.prod, A), ("std", np.std, A), ("var", np.var, A), ("median", np.median, A),
    ("argmax", np.argmax, A), ("argmin", np.argmin, A), ("cumsum", np.cumsum, A),
    ("cumprod", np.cumprod, A), ("all", np.all, L), ("any", np.any, L),
    ("count_nonzero", np.count_nonzero, N), ("sort", np.sort, A), ("argsort", np.argsort, A),
    ("unique", np.unique, N), ("flip", np.flip, A), ("zeros_like", np.zeros_like, A),
    ("ones_like", np.ones_like, N), ("squeeze", np.squeeze, A[None, :, None]),
]  # fmt: skip

BINARY = [
    ("add", np.add, A, B), ("subtract", np.subtract, A, B), ("multiply", np.multiply, A, B),
    ("divide", np.divide, A, P), ("true_divide", np.true_divide, N, J),
    ("floor_divide", np.floor_divide, N, J), ("mod", np.mod, N, J), ("mod", np.mod, A, P),
    ("power", np.power, P, B), ("maximum", np.maximum, A, B), ("minimum", np.minimum, A, B),
    ("arctan2", np.arctan2, A, B), ("hypot", np.hypot, A, B), ("copysign", np.copysign, A, B),
    ("equal", np.equal, N, J), ("not_equal", np.not_equal, N, J), ("greater", np.greater, A, B),
    ("greater_equal", np.greater_equal, N, J), ("less", np.less, A, B),
    ("less_equal", np.less_equal, N, J), ("logical_and", np.logical_and, L, B > 0),
    ("logical_or", np.logical_or, L, B > 0), ("logical_xor", np.logical_xor, L, B > 0),
    ("logaddexp", np.logaddexp, A, B), ("matmul", np.matmul, A, M), ("dot", np.dot, A, M),
    ("dot", np.dot, A[0], B[0]), ("dot", np.dot, RNG.normal(size=(2, 3, 4)), RNG.normal(size=(5, 4, 2))),
    ("outer", np.outer, A, B[0]), ("inner", np.inner, A, B), ("vdot", np.vdot, A, B),
    ("tensordot", np.tensordot, A, B), ("add", np.add, A, 2.5), ("multiply", np.multiply, N, 3),
    ("take", np.take, A, np.array([[0, 5], [-1, 2]])), ("tile", np.tile, A, (2, 1, 3)),
    ("repeat", np.repeat, A, 2), ("broadcast_to", np.broadcast_to, A[0], (2, 3, 4)),
    ("reshape", np.reshape, A, (2, -1)), ("roll", np.roll, A, 5),
]  # fmt: skip

# (name, numpy function, args, kwargs): ops taking an axis or other keywords.
KEYWORDS = [
    ("sum", np.sum, (A,), {"axis": (0, 1), "keepdims": True}),
    ("mean", np.mean, (N,), {"axis": 1}), ("max", np.max, (A,), {"axis": 0, "keepdims": True}),
    ("max", np.max, (A,), {"axis": 1, "initial": 0.5}), ("min", np.min, (A,), {"axis": (0,)}),
    ("prod", np.prod, (A,), {"axis": (0, 1)}), ("std", np.std, (A,), {"axis": 1}),
    ("var", np.var, (A,), {"axis": 0, "keepdims": True}), ("median", np.median, (A,), {"axis": 0}),
    ("argmax", np.argmax, (A,), {"axis": 1}), ("argmin", np.argmin, (A,), {"axis": 0, "keepdims": True}),
    ("cumsum", np.cumsum, (N,), {"axis": 1}), ("cumprod", np.cumprod, (A,), {"axis": 0}),
    ("all", np.all, (L,), {"axis": 0}), ("any", np.any, (L,), {"axis": (0, 1), "keepdims": True}),
    ("sort", np.sort, (A,), {"axis": 0}), ("argsort", np.argsort, (A,), {"axis": 0}),
    ("transpose", np.transpose, (RNG.normal(size=(2, 3, 4)),), {"axes": (1, 2, 0)}),
    ("expand_dims", np.expand_dims, (A,), {"axis": (0, -1)}),
    ("expand_dims", np.expand_dims, (A,), {"axis": 1}),
    ("squeeze", np.squeeze, (A[None, :, None],), {"axis": 2}),
    ("moveaxis", np.moveaxis, (RNG.normal(size=(2, 3, 4)), 0, -1), {}),
    ("swapaxes", np.swapaxes, (A, 0, 1), {}),
    ("concatenate", np.concatenate, ([A, B],), {"axis": 1}),
    ("concatenate", np.concatenate, ([A, B],), {"axis": None}),
    ("stack", np.stack, ([A, B],), {"axis": -1}), ("flip", np.flip, (A,), {"axis": 1}),
    ("roll", np.roll, (A, (1, -2)), {"axis": (0, 1)}), ("repeat", np.repeat, (A, 3), {"axis": 1}),
    ("repeat", np.repeat, (A, [1, 0, 2]), {"axis": 0}),
    ("take", np.take, (A, np.array([3, 0])), {"axis": 1}),
    ("take_along_axis", np.take_along_axis, (A, np.argsort(A, axis=1)), {"axis": 1}),
    ("clip", np.clip, (A, -0.5, 0.5), {}), ("where", np.where, (L, A, B), {}),
    ("where", np.where, (L, A, 0.0), {}), ("round", np.round, (A * 100,), {"decimals": -1}),
    ("round", np.round, (A,), {"decimals": 2}),
    ("nan_to_num", np.nan_to_num, (np.array([np.nan, np.inf]),), {"nan": 1.0, "posinf": 9.0}),
    ("triu", np.triu, (M,), {"k": 1}), ("tril", np.tril, (M,), {"k": -1}),
    ("diag", np.diag, (A[0],), {"k": 1}), ("diagonal", np.diagonal, (RNG.normal(size=(3, 4, 5)),),
                                             {"offset": 1, "axis1": 1, "axis2": 2}),
    ("trace", np.trace, (M,), {"offset": 1}),
    ("tensordot", np.tensordot, (RNG.normal(size=(3, 4, 5)), RNG.normal(size=(4, 3, 2))),
     {"axes": ([0, 1], [1, 0])}),
    ("tensordot", np.tensordot, (A, M), {"axes": 1}),
    ("einsum", np.einsum, ("ij,jk->ik", A, M), {}),
    ("einsum", np.einsum, ("bij,bjk->bik", RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 4, 5))), {}),
    ("pad", np.pad, (A, ((1, 2), (0, 3))), {}),
    ("pad", np.pad, (A, 1), {"constant_values": 7.0}),
    ("pad", np.pad, (A, ((2, 2), (3, 1))), {"mode": "reflect"}),
    ("pad", np.pad, (A, ((2, 4), (3, 1))), {"mode": "symmetric"}),
    ("pad", np.pad, (A, ((2, 2), (3, 5))), {"mode": "edge"}),
    ("pad", np.pad, (A, ((2, 5), (3, 6))), {"mode": "wrap"}),
    ("full_like", np.full_like, (A, 3.5), {}), ("zeros_like", np.zeros_like, (N,), {"dtype": "float32"}),
    ("full_like", np.full_like, (N, 2), {}),
]  # fmt: skip

CREATION = [
    ("zeros", np.zeros, ((2, 3),), {}), ("ones", np.ones, ((4,),), {}),
    ("full", np.full, ((2, 2), 7.0), {}), ("eye", np.eye, (3,), {}),
    ("eye", np.eye, (3, 5), {"k": 2}), ("eye", np.eye, (4, 2), {"k": -1}),
    ("identity", np.identity, (3,), {}), ("arange", np.arange, (5,), {}),
    ("arange", np.arange, (1, 10, 3), {}), ("arange", np.arange, (0.0, 1.0, 0.25), {}),
    ("linspace", np.linspace, (0, 1, 7), {}), ("linspace", np.linspace, (2, 3, 5), {"endpoint": False}),
    ("linspace", np.linspace, (np.array([0.0, 1.0]), np.array([1.0, 5.0]), 4), {"axis": 1}),
]  # fmt: skip


def _check(ours, theirs):
    if isinstance(theirs, list | tuple):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _check(o, t)
        return
    ours = ops.convert_to_numpy(ours)
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape
    if theirs.dtype == bool:
        assert ours.dtype == bool
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def _ids(rows):
    return [f"{row[0]}-{i}" for i, row in enumerate(rows)]


@pytest.mark.parametrize("name,ref,x", UNARY, ids=_ids(UNARY))
def test_unary_against_numpy(name, ref, x):
    _check(getattr(ops, name)(torch.tensor(x)), ref(x))
    _check(getattr(ops, name)(x), ref(x))  # NumPy input


@pytest.mark.parametrize("name,ref,x1,x2", BINARY, ids=_ids(BINARY))
def test_binary_against_numpy(name, ref, x1, x2):
    t2 = torch.tensor(x2) if isinstance(x2, np.ndarray) else x2
    _check(getattr(ops, name)(torch.tensor(x1), t2), ref(x1, x2))


@pytest.mark.parametrize("name,ref,args,kwargs", KEYWORDS, ids=_ids(KEYWORDS))
def test_keyword_ops_against_numpy(name, ref, args, kwargs):
    _check(getattr(ops, name)(*args, **kwargs), ref(*args, **kwargs))


@pytest.mark.parametrize("name,ref,args,kwargs", CREATION, ids=_ids(CREATION))
def test_creation_against_numpy(name, ref, args, kwargs):
    _check(getattr(ops, name)(*args, **kwargs), ref(*args, **kwargs))


def test_split_and_meshgrid():
    _check(ops.split(A, 2, axis=1), np.split(A, 2, axis=1))
    _check(ops.split(np.arange(7), [2, 5]), np.split(np.arange(7), [2, 5]))
    with pytest.raises(ValueError, match="evenly"):
        ops.split(np.arange(7), 2)
    x, y = np.arange(3.0), np.arange(4.0)
    _check(ops.meshgrid(x, y), np.meshgrid(x, y))
    _check(ops.meshgrid(x, y, indexing="ij"), np.meshgrid(x, y, indexing="ij"))
    _check(list(ops.where(torch.tensor(L))), list(np.where(L)))
    values, inverse, counts = ops.unique(N, return_inverse=True, return_counts=True)
    ref = np.unique(N, return_inverse=True, return_counts=True)
    _check(values, ref[0]), _check(inverse.reshape(-1), ref[1].reshape(-1)), _check(counts, ref[2])


def test_python_numbers_and_devices_meet_tensors():
    t = torch.tensor([1.0, 2.0], dtype=torch.float16)
    assert ops.add(t, 1).dtype == torch.float16  # a Python number does not upcast
    assert ops.add(1, t).tolist() == [2.0, 3.0]
    assert ops.divide(torch.tensor([1, 2]), 2).dtype == torch.get_default_dtype()
    assert ops.shape(np.zeros((2, 3))) == (2, 3) and ops.ndim(A) == 2 and ops.size(A) == 12
    assert ops.mean(torch.tensor([1, 2])).item() == 1.5


def test_errors():
    with pytest.raises(ValueError, match="size 1"):
        ops.squeeze(torch.zeros(2, 3), axis=0)
    with pytest.raises(ValueError, match="mode"):
        ops.pad(A, 1, mode="linear_ramp")
    with pytest.raises(ValueError, match="dtype"):
        ops.zeros((2,), dtype="float13")
