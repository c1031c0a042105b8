"""kerasish.ops' less common NumPy-like ops (statistics, searching, joining, bit ops) vs NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kerasish import ops

RNG = np.random.default_rng(1)
A = RNG.normal(size=(3, 4))
B = RNG.normal(size=(3, 4))
N = RNG.integers(-20, 21, size=(3, 4))
J = RNG.integers(1, 9, size=(3, 4))
S = RNG.integers(0, 4, size=(3, 4))
NAN = A.copy()
NAN[0, 1] = NAN[2, 3] = np.nan

CASES = [
    # (name, numpy function, args, kwargs)
    ("cbrt", np.cbrt, (A,), {}), ("deg2rad", np.deg2rad, (A,), {}), ("rad2deg", np.rad2deg, (A,), {}),
    ("signbit", np.signbit, (np.array([-0.0, 0.0, -1.0]),), {}), ("fabs", np.fabs, (A,), {}),
    ("isneginf", np.isneginf, (np.array([-np.inf, np.inf, 1.0]),), {}),
    ("isposinf", np.isposinf, (np.array([-np.inf, np.inf, 1.0]),), {}),
    ("sinc", np.sinc, (A,), {}), ("i0", np.i0, (A,), {}), ("angle", np.angle, (A,), {}),
    ("imag", np.imag, (A,), {}), ("bitwise_not", np.bitwise_not, (N,), {}),
    ("fmod", np.fmod, (N, J), {}), ("fmod", np.fmod, (A, 0.7), {}),
    ("fmax", np.fmax, (NAN, B), {}), ("fmin", np.fmin, (NAN, B), {}),
    ("logaddexp2", np.logaddexp2, (A, B), {}), ("heaviside", np.heaviside, (np.round(A), 0.5), {}),
    ("ldexp", np.ldexp, (A, S), {}), ("gcd", np.gcd, (N, J), {}), ("lcm", np.lcm, (N, J), {}),
    ("bitwise_and", np.bitwise_and, (N, J), {}), ("bitwise_or", np.bitwise_or, (N, J), {}),
    ("bitwise_xor", np.bitwise_xor, (N, J), {}), ("left_shift", np.left_shift, (N, S), {}),
    ("right_shift", np.right_shift, (N, S), {}), ("nextafter", np.nextafter, (A, B), {}),
    ("amax", np.amax, (A,), {"axis": 1}), ("amin", np.amin, (A,), {"axis": (0, 1)}),
    ("ptp", np.ptp, (A,), {"axis": 0}), ("quantile", np.quantile, (A, 0.3), {}),
    ("quantile", np.quantile, (A, np.array([0.1, 0.9])), {"axis": 1, "keepdims": True}),
    ("quantile", np.quantile, (A, 0.4), {"axis": 0, "method": "nearest"}),
    ("percentile", np.percentile, (A, 75), {"axis": 1}),
    ("average", np.average, (A,), {}), ("average", np.average, (A,), {"axis": 1, "weights": J[0]}),
    ("average", np.average, (A,), {"axis": 0, "weights": J}),
    ("bincount", np.bincount, (S.ravel(),), {"minlength": 6}),
    ("bincount", np.bincount, (S.ravel(),), {"weights": A.ravel()}),
    ("nansum", np.nansum, (NAN,), {"axis": 0}), ("nanprod", np.nanprod, (NAN,), {}),
    ("nanmax", np.nanmax, (NAN,), {"axis": 1}), ("nanmin", np.nanmin, (NAN,), {"keepdims": True}),
    ("nanmean", np.nanmean, (NAN,), {"axis": 0}), ("nanvar", np.nanvar, (NAN,), {"axis": 1}),
    ("nanstd", np.nanstd, (NAN,), {}),
    ("searchsorted", np.searchsorted, (np.sort(A.ravel()), B.ravel()), {}),
    ("searchsorted", np.searchsorted, (np.array([1, 2, 2, 3]), np.array([2, 3])), {"side": "right"}),
    ("digitize", np.digitize, (A, np.array([-1.0, 0.0, 0.5])), {}),
    ("isin", np.isin, (N, J), {}), ("isin", np.isin, (N, J), {"invert": True}),
    ("isclose", np.isclose, (A, A + 1e-6), {}), ("isclose", np.isclose, (NAN, NAN), {"equal_nan": True}),
    ("allclose", np.allclose, (A, A + 1e-9), {}), ("nonzero", np.nonzero, (N,), {}),
    ("unravel_index", np.unravel_index, (np.array([0, 5, 11]), (3, 4)), {}),
    ("select", np.select, ([A > 0.5, A < -0.5], [A, -A]), {"default": 9.0}),
    ("diff", np.diff, (A,), {"n": 2, "axis": 0}), ("diff", np.diff, (N,), {}),
    ("cross", np.cross, (RNG.normal(size=(4, 3)), RNG.normal(size=(4, 3))), {}),
    ("cross", np.cross, (RNG.normal(size=(3, 5)), RNG.normal(size=(3, 5))), {"axis": 0}),
    ("hstack", np.hstack, ([A, B],), {}), ("vstack", np.vstack, ([A, B[0]],), {}),
    ("dstack", np.dstack, ([A, B],), {}), ("append", np.append, (A, B), {}),
    ("append", np.append, (A, B), {"axis": 1}), ("array_split", np.array_split, (A, 3), {"axis": 1}),
    ("hsplit", np.hsplit, (A, 2), {}), ("vsplit", np.vsplit, (A, [1]), {}),
    ("dsplit", np.dsplit, (RNG.normal(size=(2, 2, 4)), 2), {}),
    ("rot90", np.rot90, (A,), {}), ("rot90", np.rot90, (RNG.normal(size=(2, 3, 4)),), {"k": 3, "axes": (1, 2)}),
    ("fliplr", np.fliplr, (A,), {}), ("flipud", np.flipud, (A,), {}),
    ("tri", np.tri, (3, 5), {"k": 1}), ("tri", np.tri, (4,), {}), ("array", np.array, (A,), {}),
    ("copy", np.copy, (A,), {}),
]  # fmt: skip


def _check(ours, theirs):
    if isinstance(theirs, list | tuple):
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _check(o, t)
        return
    ours, theirs = ops.convert_to_numpy(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape
    if theirs.dtype == bool:
        np.testing.assert_array_equal(ours, theirs)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "name,ref,args,kwargs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_against_numpy(name, ref, args, kwargs):
    _check(getattr(ops, name)(*args, **kwargs), ref(*args, **kwargs))


def test_edge_cases_and_errors():
    assert ops.divide_no_nan(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 0.0])).tolist() == [
        0.0,
        0.0,
    ]
    assert ops.divide_no_nan(6, torch.tensor([3])).tolist() == [2.0]
    assert [t.tolist() for t in ops.unstack(torch.tensor([[1, 2], [3, 4]]), axis=1)] == [
        [1, 3],
        [2, 4],
    ]
    with pytest.raises(ValueError, match="num"):
        ops.unstack(torch.zeros(2, 3), num=3)
    with pytest.raises(ValueError, match="evenly"):
        ops.hsplit(torch.zeros(2, 3), 2)
    with pytest.raises(ValueError, match="side"):
        ops.searchsorted(torch.tensor([1, 2]), torch.tensor([1]), side="middle")
    with pytest.raises(ValueError, match="sparse"):
        ops.bincount(torch.tensor([1]), sparse=True)
    assert (
        ops.empty((2, 3)).shape == (2, 3)
        and ops.empty_like(torch.zeros(2, dtype=torch.int8)).dtype == torch.int8
    )
    t = torch.zeros(2)
    assert ops.copy(t).data_ptr() != t.data_ptr()
