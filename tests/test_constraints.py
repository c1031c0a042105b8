"""kerasish.constraints against Keras 3's numbers and NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from kerasish import constraints as C

W = ((np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5) / 3).astype(np.float32)

# Keras 3.15.1 run, torch backend: keras.constraints.X(...)(torch.tensor(W)).tolist()
KERAS = {
    "max_norm": [[-1.3253120183944702, -1.1795004606246948, -0.9173892140388489, -0.6024145483970642],
                 [-0.361448734998703, -0.13105560839176178, 0.13105560839176178, 0.361448734998703],
                 [0.6024145483970642, 0.9173892140388489, 1.1795004606246948, 1.3253120183944702]],
    "max_norm_axis1": [[-0.9931832551956177, -0.8126044273376465, -0.6320256590843201, -0.45144692063331604],
                       [-0.49999991059303284, -0.166666641831398, 0.166666641831398, 0.49999991059303284],
                       [0.45144692063331604, 0.6320256590843201, 0.8126044273376465, 0.9931832551956177]],
    "min_max": [[-1.8002079725265503, -1.4999998807907104, -1.1666665077209473, -0.8182763457298279],
                [-0.4909658133983612, -0.1666666567325592, 0.1666666567325592, 0.4909658133983612],
                [0.8182763457298279, 1.1666665077209473, 1.4999998807907104, 1.8002079725265503]],
    "unit": [[-0.8835413455963135, -0.7863336205482483, -0.6115927696228027, -0.4016096889972687],
             [-0.2409658133983612, -0.08737040311098099, 0.08737040311098099, 0.2409658133983612],
             [0.4016096889972687, 0.6115927696228027, 0.7863336205482483, 0.8835413455963135]],
}  # fmt: skip


@pytest.mark.parametrize(
    "constraint,key",
    [(C.MaxNorm(1.5), "max_norm"), (C.MaxNorm(1.5, axis=1), "max_norm_axis1"),
     (C.MinMaxNorm(1.0, 2.0, rate=0.5), "min_max"), (C.UnitNorm(), "unit")],
)  # fmt: skip
def test_keras_numbers(constraint, key):
    out = constraint(torch.tensor(W))
    np.testing.assert_allclose(out.numpy(), np.array(KERAS[key]), rtol=1e-6, atol=1e-7)


def test_non_neg():
    np.testing.assert_array_equal(C.NonNeg()(torch.tensor(W)).numpy(), np.where(W >= 0, W, 0))


def test_max_norm_numpy_multi_axis():
    rng = np.random.default_rng(0)
    k = rng.normal(size=(3, 3, 4, 5)) * 3  # a Keras conv kernel
    norms = np.sqrt((k**2).sum(axis=(0, 1, 2), keepdims=True))
    expected = k * np.clip(norms, 0, 2.0) / (1e-7 + norms)
    out = C.MaxNorm(2.0, axis=[0, 1, 2])(torch.tensor(k)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_torch_axis_mapping_linear_and_conv():
    assert C.torch_axis(0, 2) == 1 and C.torch_axis(1, 2) == 0
    assert C.torch_axis([0, 1, 2], 4) == (2, 3, 1)
    assert C.torch_axis(-1, 4) == 0 and C.torch_axis(0, 1) == 0
    linear = nn.Linear(6, 4)
    kernel = linear.weight.detach().T * 10  # the Keras kernel (in, out)
    keras_way = C.MaxNorm(1.0, axis=0)(kernel)
    torch_way = C.MaxNorm(1.0, axis=C.torch_axis(0, 2))(kernel.T)
    torch.testing.assert_close(torch_way, keras_way.T)
    conv = nn.Conv2d(3, 5, 3)
    k = conv.weight.detach().permute(2, 3, 1, 0) * 10  # (kh, kw, in, out)
    keras_way = C.UnitNorm(axis=[0, 1, 2])(k)
    torch_way = C.UnitNorm(axis=C.torch_axis([0, 1, 2], 4))(conv.weight.detach() * 10)
    torch.testing.assert_close(torch_way, keras_way.permute(3, 2, 0, 1))


def test_get_and_config():
    assert isinstance(C.get("max_norm"), C.MaxNorm) and isinstance(C.get("NonNeg"), C.NonNeg)
    assert isinstance(C.get("unit_norm"), C.UnitNorm)
    assert isinstance(C.get("min_max_norm"), C.MinMaxNorm)
    assert C.get(None) is None
    # Keras 3.15.1: serialize(MaxNorm()), MinMaxNorm().get_config(), UnitNorm().get_config().
    assert C.serialize(C.MaxNorm())["config"] == {"max_value": 2, "axis": 0}
    assert C.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0,
                                           "axis": 0}  # fmt: skip
    assert C.UnitNorm().get_config() == {"axis": 0}
    back = C.deserialize(C.serialize(C.MaxNorm(3, axis=[0, 1])))
    assert back.get_config() == {"max_value": 3, "axis": [0, 1]}
    with pytest.raises(ValueError, match="Could not interpret constraint"):
        C.get("max")
