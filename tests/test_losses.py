"""kerasish.losses: bit-exact fast paths, Keras weighting and values, from_logits, get, checks."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from kerasish import losses as L

N, C = 8, 5


def _logits(*shape: int) -> torch.Tensor:
    return torch.randn(*shape)


def _labels(*shape: int, classes: int = C) -> torch.Tensor:
    return torch.randint(0, classes, shape)


def _probs(n: int = N) -> torch.Tensor:
    return torch.rand(n, 1) * 0.98 + 0.01


def _bits(n: int = N) -> torch.Tensor:
    return torch.randint(0, 2, (n, 1)).float()


@pytest.fixture
def no_host_sync(monkeypatch):
    """Make every host sync a Python can trigger on a tensor raise."""

    def boom(*args, **kwargs):
        raise AssertionError("host sync on the hot path")

    for attr in ("item", "cpu", "tolist", "numpy", "__bool__", "__float__", "__int__"):
        monkeypatch.setattr(torch.Tensor, attr, boom)


# --------------------------------------------------------------------------- bit-exact fast paths


def test_sparse_crossentropy_logits_equals_cross_entropy():
    x, y = _logits(N, C), _labels(N)
    assert torch.equal(
        L.SparseCategoricalCrossentropy(from_logits=True)(y, x), F.cross_entropy(x, y)
    )


def test_sparse_crossentropy_segmentation_layout_equals_cross_entropy():
    x, y = _logits(2, C, 4, 3), _labels(2, 4, 3)
    loss = L.SparseCategoricalCrossentropy(from_logits=True)
    assert torch.equal(loss(y, x), F.cross_entropy(x, y))
    assert torch.equal(loss(y.unsqueeze(1), x), F.cross_entropy(x, y))


def test_sparse_crossentropy_accepts_int32_and_column_labels():
    x, y = _logits(N, C), _labels(N)
    loss = L.SparseCategoricalCrossentropy(from_logits=True)
    assert torch.equal(loss(y.int(), x), F.cross_entropy(x, y))
    assert torch.equal(loss(y[:, None], x), F.cross_entropy(x, y))


@pytest.mark.parametrize("one_hot", [True, False])
def test_categorical_crossentropy_logits_equals_cross_entropy(one_hot):
    x = _logits(N, C)
    t = F.one_hot(_labels(N), C).float() if one_hot else torch.rand(N, C).softmax(1)
    assert torch.equal(L.CategoricalCrossentropy(from_logits=True)(t, x), F.cross_entropy(x, t))


def test_categorical_crossentropy_label_smoothing_matches_torch():
    x, t = _logits(N, C), F.one_hot(_labels(N), C).float()
    loss = L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    assert torch.equal(loss(t, x), F.cross_entropy(x, t, label_smoothing=0.1))


@pytest.mark.parametrize(
    ("loss", "functional"),
    [
        (L.MeanSquaredError(), F.mse_loss),
        (L.MeanAbsoluteError(), F.l1_loss),
        (L.Huber(), F.huber_loss),
        (L.Huber(delta=2.0), lambda p, t: F.huber_loss(p, t, delta=2.0)),
        (L.get("mse_loss"), F.mse_loss),
        (L.get("l1_loss"), F.l1_loss),
        (L.get("smooth_l1_loss"), F.smooth_l1_loss),
        (L.get("huber_loss"), F.huber_loss),
    ],
)
def test_regression_losses_equal_functionals(loss, functional):
    p, t = torch.randn(N, 3) * 3, torch.randn(N, 3)
    assert torch.equal(loss(t, p), functional(p, t))


def test_regression_target_of_shape_n_is_reshaped_not_broadcast():
    p, t = torch.randn(N, 1), torch.randn(N)
    assert torch.equal(L.MeanSquaredError()(t, p), F.mse_loss(p, t.view(N, 1)))
    assert torch.equal(L.MeanSquaredError()(t.view(N, 1), p.view(N)), F.mse_loss(p.view(N), t))


def test_regression_integer_targets_are_cast():
    p, t = torch.randn(N), torch.randint(0, 3, (N,))
    assert torch.equal(L.MeanSquaredError()(t, p), F.mse_loss(p, t.float()))


def test_binary_crossentropy_logits_equals_bce_with_logits():
    x, y = _logits(N, 1), _bits()
    assert torch.equal(
        L.BinaryCrossentropy(from_logits=True)(y, x), F.binary_cross_entropy_with_logits(x, y)
    )
    assert torch.equal(L.get("bce_with_logits")(y, x), F.binary_cross_entropy_with_logits(x, y))
    assert torch.equal(
        L.get("binary_cross_entropy_with_logits")(y.view(N).long(), x),
        F.binary_cross_entropy_with_logits(x, y),
    )


def test_binary_crossentropy_probabilities_equals_bce():
    p, y = _probs(), _bits()
    assert torch.equal(L.BinaryCrossentropy()(y, p), F.binary_cross_entropy(p, y))
    assert torch.equal(L.get("binary_cross_entropy")(y, p), F.binary_cross_entropy(p, y))


def test_torch_names_with_torch_conventions():
    x, y = _logits(N, C), _labels(N)
    assert torch.equal(L.get("cross_entropy")(y, x), F.cross_entropy(x, y))
    t = torch.rand(N, C).softmax(1)
    assert torch.equal(L.get("cross_entropy")(t, x), F.cross_entropy(x, t))
    logp = x.log_softmax(1)
    assert torch.equal(L.get("nll_loss")(y, logp), F.nll_loss(logp, y))
    assert torch.equal(L.get("kl_div")(t, logp), F.kl_div(logp, t, reduction="batchmean"))


def test_torch_loss_module_is_called_as_is():
    x, y = _logits(N, C), _labels(N)
    module = nn.CrossEntropyLoss(weight=torch.rand(C), label_smoothing=0.05)
    assert torch.equal(L.get(module)(y, x), module(x, y))
    p, t = torch.randn(N, 1), torch.randn(N, 1)
    assert torch.equal(L.get(nn.MSELoss())(t, p), F.mse_loss(p, t))
    assert torch.equal(L.get(nn.MSELoss)(t.view(N), p), F.mse_loss(p, t))


# --------------------------------------------------------------------------- sample weights


def test_sample_weight_reductions_by_hand():
    y_true, y_pred = torch.zeros(4, 1), torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    w = torch.tensor([1.0, 0.0, 2.0, 0.5])  # weighted per-sample losses: 1, 0, 18, 8 -> 27
    assert L.MeanSquaredError()(y_true, y_pred, w).item() == pytest.approx(27 / 4)
    assert L.MeanSquaredError(reduction="mean")(y_true, y_pred, w).item() == pytest.approx(27 / 4)
    assert L.MeanSquaredError(reduction="sum")(y_true, y_pred, w).item() == pytest.approx(27)
    weighted_mean = L.MeanSquaredError(reduction="mean_with_sample_weight")
    assert weighted_mean(y_true, y_pred, w).item() == pytest.approx(27 / 3.5)
    none = L.MeanSquaredError(reduction="none")(y_true, y_pred, w)
    assert torch.allclose(none, torch.tensor([1.0, 0.0, 18.0, 8.0]))
    assert L.MeanSquaredError()(y_true, y_pred, w[:, None]).item() == pytest.approx(27 / 4)
    assert L.MeanSquaredError()(y_true, y_pred, 2).item() == pytest.approx(2 * 30 / 4)
    assert L.MeanSquaredError(reduction="sum")(y_true, y_pred).item() == pytest.approx(30)


def test_sample_weight_averages_non_batch_dimensions_first():
    y_true, y_pred = torch.zeros(2, 2), torch.tensor([[1.0, 3.0], [2.0, 2.0]])  # per-sample 5, 4
    loss = L.MeanSquaredError()(y_true, y_pred, torch.tensor([1.0, 3.0]))
    assert loss.item() == pytest.approx((5 + 12) / 2)


def test_sample_weight_sparse_crossentropy():
    x, y, w = _logits(N, C), _labels(N), torch.rand(N)
    expected = (F.cross_entropy(x, y, reduction="none") * w).sum() / N
    assert torch.allclose(L.SparseCategoricalCrossentropy(from_logits=True)(y, x, w), expected)
    ones = L.SparseCategoricalCrossentropy(from_logits=True)(y, x, torch.ones(N))
    assert torch.allclose(ones, F.cross_entropy(x, y))


def test_sample_weight_bad_shape_raises():
    with pytest.raises(
        ValueError, match=r"Expected sample_weight .* Received: sample_weight.shape"
    ):
        L.MeanSquaredError()(torch.zeros(4), torch.ones(4), torch.ones(3))


def test_ignore_class_averages_over_the_other_labels():
    x, y = _logits(N, C), _labels(N)
    y[:3] = 2
    loss = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    valid = y != 2
    expected = F.cross_entropy(x[valid], y[valid])
    assert torch.equal(loss(y, x), F.cross_entropy(x, y, ignore_index=2))
    assert torch.allclose(loss(y, x), expected)
    assert torch.allclose(loss(y, x, torch.ones(N)), expected)


def test_torch_loss_with_sample_weight_uses_keras_weighting():
    module = nn.MSELoss()
    y_true, y_pred = torch.zeros(4, 1), torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    w = torch.tensor([1.0, 0.0, 2.0, 0.5])
    assert L.get(module)(y_true, y_pred, w).item() == pytest.approx(27 / 4)
    assert module.reduction == "mean"
    summed = L.get(nn.MSELoss(reduction="sum"))(y_true, y_pred, w)
    assert summed.item() == pytest.approx(27)


def test_torch_loss_copy_shares_buffers_after_to():
    module = nn.CrossEntropyLoss(weight=torch.ones(C))
    loss = L.TorchLoss(module).to(torch.float64)
    assert loss._unreduced.weight.dtype == torch.float64
    assert loss.from_logits is True
    assert L.TorchLoss(nn.BCELoss()).from_logits is False


# --------------------------------------------------------------------------- Keras values


def test_binary_crossentropy_on_probabilities_is_the_formula():
    p, y = _probs(), _bits()
    expected = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    assert torch.allclose(L.BinaryCrossentropy()(y, p), expected)


def test_binary_crossentropy_clips_probabilities():
    value = L.BinaryCrossentropy()(torch.tensor([1.0]), torch.tensor([0.0]))
    assert value.item() == pytest.approx(-math.log(1e-7), rel=1e-4)


def test_binary_crossentropy_label_smoothing():
    x, y = _logits(N, 1), _bits()
    loss = L.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)
    smoothed = y * 0.8 + 0.1
    assert torch.allclose(loss(y, x), F.binary_cross_entropy_with_logits(x, smoothed))


def test_categorical_crossentropy_on_probabilities_is_the_formula():
    p, t = torch.randn(N, C).softmax(1), F.one_hot(_labels(N), C).float()
    expected = -(t * p.log()).sum(1).mean()
    assert torch.allclose(L.CategoricalCrossentropy()(t, p), expected)
    smooth = L.CategoricalCrossentropy(label_smoothing=0.1)(t, p)
    assert torch.allclose(smooth, -((t * 0.9 + 0.1 / C) * p.log()).sum(1).mean())


def test_cosine_similarity_is_negative():
    a = torch.tensor([[1.0, 2.0, 3.0]])
    assert L.CosineSimilarity()(a, 2 * a).item() == pytest.approx(-1.0)
    assert L.CosineSimilarity()(a, -a).item() == pytest.approx(1.0)
    assert L.CosineSimilarity()(a, torch.tensor([[-2.0, 1.0, 0.0]])).item() == pytest.approx(0.0)


def test_other_keras_formulas():
    t, p = torch.rand(N, 3) * 0.9 + 0.1, torch.rand(N, 3) * 0.9 + 0.1
    eps = 1e-7
    cases = {
        L.MeanAbsolutePercentageError(): (100 * ((t - p) / t).abs()).mean(),
        L.MeanSquaredLogarithmicError(): ((p + 1).log() - (t + 1).log()).square().mean(),
        L.LogCosh(): torch.log(torch.cosh(p - t)).mean(),
        L.Poisson(): (p - t * torch.log(p + eps)).mean(),
        L.KLDivergence(): (t * torch.log(t / p)).sum(1).mean(),
    }
    for loss, expected in cases.items():
        assert torch.allclose(loss(t, p), expected, atol=1e-6), loss


def test_hinge_maps_zero_one_labels():
    y01, p = torch.tensor([[1.0], [0.0]]), torch.tensor([[0.5], [0.5]])
    y_pm = torch.tensor([[1.0], [-1.0]])
    expected = (1 - y_pm * p).clamp(min=0).mean()
    assert torch.allclose(L.Hinge()(y01, p), expected)
    assert torch.allclose(L.Hinge()(y_pm, p), expected)
    assert torch.allclose(L.SquaredHinge()(y01, p), (1 - y_pm * p).clamp(min=0).square().mean())


def test_categorical_hinge():
    t, p = torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([[0.3, 0.5, 0.9]])
    assert L.CategoricalHinge()(t, p).item() == pytest.approx(0.9 - 0.5 + 1)


def test_custom_loss_subclass_and_function_wrapper():
    class Cube(L.Loss):
        def call(self, y_true, y_pred):
            return (y_pred - y_true).abs().pow(3)

    assert Cube()(torch.zeros(4, 2), torch.ones(4, 2)).item() == 1.0
    wrapped = L.LossFunctionWrapper(lambda y, p: (y - p).abs(), name="abs")
    value = wrapped(torch.zeros(2), torch.ones(2), sample_weight=torch.tensor([1.0, 0.0]))
    assert value.item() == pytest.approx(0.5)


def test_function_returning_scalar_rejects_sample_weight():
    wrapped = L.get(lambda y, p: F.mse_loss(p, y))
    assert isinstance(wrapped, L.LossFunctionWrapper)
    assert wrapped(torch.zeros(2), torch.ones(2)).item() == 1.0
    with pytest.raises(ValueError, match="Expected the loss function .* per-sample losses"):
        wrapped(torch.zeros(2), torch.ones(2), torch.ones(2))


# --------------------------------------------------------------------------- from_logits


def test_auto_from_logits_softmax_outputs_are_not_softmaxed_again():
    x, y = _logits(N, C), _labels(N)
    p = x.softmax(1)
    loss = L.get("sparse_categorical_crossentropy")
    assert loss.from_logits is None
    value = loss(y, p)
    assert loss.from_logits is False
    assert torch.allclose(value, -p[torch.arange(N), y].log().mean())
    assert not torch.allclose(value, F.cross_entropy(p, y))


def test_auto_from_logits_logits():
    x, y = _logits(N, C), _labels(N)
    loss = L.get("sparse_categorical_crossentropy")
    assert torch.equal(loss(y, x), F.cross_entropy(x, y))
    assert loss.from_logits is True


def test_auto_from_logits_categorical_and_binary():
    x, t = _logits(N, C), F.one_hot(_labels(N), C).float()
    cce = L.get("categorical_crossentropy")
    cce(t, x.softmax(1))
    assert cce.from_logits is False
    # In [0, 1] but rows not summing to 1: not probabilities.
    cce2 = L.get("categorical_crossentropy")
    cce2(t, torch.rand(N, C))
    assert cce2.from_logits is True
    bce = L.get("binary_crossentropy")
    bce(_bits(), torch.sigmoid(_logits(N, 1)))
    assert bce.from_logits is False
    bce2 = L.get("bce")
    x, y = _logits(N, 1), _bits()
    assert torch.equal(bce2(y, x), F.binary_cross_entropy_with_logits(x, y))
    assert bce2.from_logits is True


def test_auto_from_logits_decided_once(monkeypatch):
    x, y = _logits(N, C), _labels(N)
    loss = L.get("sparse_categorical_crossentropy")
    calls = []
    original = torch.Tensor.item
    monkeypatch.setattr(torch.Tensor, "item", lambda t: calls.append(1) or original(t))
    loss(y, x.softmax(1))
    loss(y, x)  # logits later: the first decision stands
    loss(y, x)
    assert len(calls) == 1
    assert loss.from_logits is False


def test_from_logits_set_by_compile_skips_detection(no_host_sync):
    x, y = _logits(N, C), _labels(N)
    loss = L.get("sparse_categorical_crossentropy")
    loss.from_logits = True
    assert torch.equal(loss(y, x), F.cross_entropy(x, y))


def test_from_logits_must_be_bool_or_none():
    with pytest.raises(TypeError, match="Expected from_logits"):
        L.BinaryCrossentropy(from_logits="yes")


# --------------------------------------------------------------------------- hot path


@pytest.mark.parametrize(
    ("loss", "y_true", "y_pred"),
    [
        (L.SparseCategoricalCrossentropy(from_logits=True), _labels(N), _logits(N, C)),
        (L.SparseCategoricalCrossentropy(), _labels(N, 1), _logits(N, C).softmax(1)),
        (L.SparseCategoricalCrossentropy(True, ignore_class=0), _labels(N), _logits(N, C)),
        (L.CategoricalCrossentropy(), F.one_hot(_labels(N), C).float(), _logits(N, C).softmax(1)),
        (L.BinaryCrossentropy(from_logits=True), _bits(N).view(N), _logits(N, 1)),
        (L.MeanSquaredError(), torch.randn(N), torch.randn(N, 1)),
        (L.Hinge(), _bits(), torch.randn(N, 1)),
        (L.get(nn.CrossEntropyLoss()), _labels(N), _logits(N, C)),
        (L.get("kl_div"), torch.rand(N, C).softmax(1), _logits(N, C).log_softmax(1)),
    ],
)
def test_loss_calls_do_not_sync(no_host_sync, loss, y_true, y_pred):
    loss(y_true, y_pred)
    loss(y_true, y_pred, torch.rand(N))
    loss(y_true, y_pred, 3.0)


# --------------------------------------------------------------------------- get / serialize

KERAS_NAMES = [
    "mse",
    "mean_squared_error",
    "mae",
    "mean_absolute_error",
    "mape",
    "msle",
    "huber",
    "huber_loss",
    "log_cosh",
    "logcosh",
    "poisson",
    "hinge",
    "squared_hinge",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "binary_crossentropy",
    "bce",
    "bce_with_logits",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy",
]
DISTRIBUTION_NAMES = [
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "cosine_similarity",
    "categorical_hinge",
    "categorical_crossentropy",
]


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_get_elementwise_names(name):
    loss = L.get(name)
    assert isinstance(loss, L.Loss) and loss.name == name
    value = loss(_bits(), _probs())
    assert value.ndim == 0 and torch.isfinite(value)


@pytest.mark.parametrize("name", DISTRIBUTION_NAMES)
def test_get_distribution_names(name):
    loss = L.get(name)
    value = loss(torch.rand(N, C).softmax(1), torch.rand(N, C).softmax(1))
    assert value.ndim == 0 and torch.isfinite(value)


@pytest.mark.parametrize("name", ["sparse_categorical_crossentropy", "cross_entropy", "nll_loss"])
def test_get_label_names(name):
    value = L.get(name)(_labels(N), _logits(N, C).log_softmax(1))
    assert value.ndim == 0 and torch.isfinite(value)


def test_get_from_logits_per_name():
    assert L.get("categorical_crossentropy").from_logits is None
    assert L.get("binary_crossentropy").from_logits is None
    assert L.get("cross_entropy").from_logits is True
    assert L.get("bce_with_logits").from_logits is True
    assert L.get("binary_cross_entropy").from_logits is False
    assert L.BinaryCrossentropy().from_logits is False


def test_get_objects():
    loss = L.Huber()
    assert L.get(loss) is loss
    assert isinstance(L.get(L.Huber), L.Huber)
    assert isinstance(L.get(nn.SmoothL1Loss()), L.TorchLoss)
    assert isinstance(L.get(nn.SmoothL1Loss), L.TorchLoss)
    assert L.get(F.mse_loss).name == "mse_loss"


@pytest.mark.parametrize("bad", ["nope", 3, None, object])
def test_get_unknown_raises_with_names(bad):
    with pytest.raises(ValueError, match="Could not interpret loss identifier") as err:
        L.get(bad)
    assert "sparse_categorical_crossentropy" in str(err.value) and "Received: " in str(err.value)


def test_bad_reduction_raises():
    with pytest.raises(ValueError, match="Expected reduction to be one of"):
        L.MeanSquaredError(reduction="avg")


def test_serialize_round_trip():
    for loss in (L.Huber(delta=2.0), L.get("sparse_categorical_crossentropy"), L.get("kl_div")):
        again = L.deserialize(L.serialize(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()
    resolved = L.get("binary_crossentropy")
    resolved(_bits(), _probs())
    assert L.serialize(resolved)["config"]["from_logits"] is False
    with pytest.raises(TypeError, match="Expected a built-in kerasish Loss"):
        L.serialize(L.get(nn.MSELoss()))
    with pytest.raises(ValueError, match="Could not interpret serialized loss"):
        L.deserialize({"class_name": "Nope"})


# --------------------------------------------------------------------------- check_targets


def test_check_targets_float_labels_for_sparse():
    loss = L.get("sparse_categorical_crossentropy")
    with pytest.raises(ValueError) as err:
        L.check_targets(loss, torch.zeros(N), _logits(N, C))
    assert str(err.value).startswith(
        "Expected integer class labels for sparse_categorical_crossentropy. "
        "Received: y.dtype=torch.float32"
    )
    assert "y_pred.shape=(8, 5)" in str(err.value)


def test_check_targets_sparse_shapes_and_range():
    loss = L.SparseCategoricalCrossentropy(from_logits=True)
    with pytest.raises(ValueError, match=r"Expected y_pred of shape \(N, C\)"):
        L.check_targets(loss, _labels(N), _logits(N))
    with pytest.raises(ValueError, match=r"Expected y of shape \(8,\).*y.shape=\(8, 3\)"):
        L.check_targets(loss, _labels(N, 3), _logits(N, C))
    with pytest.raises(ValueError, match=r"Expected class labels in \[0, 5\).*\[0, 7\]"):
        L.check_targets(loss, torch.tensor([0, 7]), _logits(2, C))
    L.check_targets(loss, _labels(N, 1), _logits(N, C))
    L.check_targets(loss, _labels(2, 4, 3), _logits(2, C, 4, 3))
    L.check_targets(
        L.SparseCategoricalCrossentropy(ignore_class=-1), torch.tensor([-1, 2]), _logits(2, C)
    )


def test_check_targets_categorical_shape():
    with pytest.raises(
        ValueError, match=r"same shape as y_pred .*y.shape=\(8,\), y_pred.shape=\(8, 5\)"
    ):
        L.check_targets(L.get("categorical_crossentropy"), _labels(N), _logits(N, C))
    with pytest.raises(ValueError, match="Expected y of the same shape"):
        L.get("categorical_crossentropy")(_labels(N), _logits(N, C))


def test_check_targets_broadcasting_regression_shapes():
    with pytest.raises(ValueError, match=r"y.shape=\(8, 3\), y_pred.shape=\(8, 1\)"):
        L.check_targets(L.get("mse"), torch.zeros(N, 3), torch.zeros(N, 1))
    with pytest.raises(ValueError, match="would broadcast silently"):
        L.get("mse")(torch.zeros(N, 3), torch.zeros(N, 1))
    with pytest.raises(ValueError, match="binary_crossentropy"):
        L.check_targets(L.get("binary_crossentropy"), torch.zeros(N), torch.zeros(N, 2))
    L.check_targets(L.get("mse"), torch.zeros(N), torch.zeros(N, 1))


def test_check_targets_torch_modules_and_cross_entropy():
    with pytest.raises(ValueError, match="Expected integer class labels for cross_entropy_loss"):
        L.check_targets(L.get(nn.CrossEntropyLoss()), torch.zeros(N), _logits(N, C))
    with pytest.raises(ValueError, match="same shape for mse_loss"):
        L.check_targets(L.get(nn.MSELoss()), torch.zeros(N, 3), torch.zeros(N, 1))
    L.check_targets(L.get(nn.CrossEntropyLoss()), torch.rand(N, C), _logits(N, C))
    L.check_targets(L.get("cross_entropy"), torch.rand(N, C).softmax(1), _logits(N, C))
    L.check_targets(L.get(lambda y, p: (y - p).sum()), torch.zeros(3), torch.zeros(7))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_loss_calls_never_synchronize():
    device = torch.device("cuda")
    cases = [
        (L.SparseCategoricalCrossentropy(from_logits=True), _labels(N), _logits(N, C)),
        (L.SparseCategoricalCrossentropy(ignore_class=0), _labels(N, 1), _logits(N, C).softmax(1)),
        (L.CategoricalCrossentropy(True), F.one_hot(_labels(N), C).float(), _logits(N, C)),
        (
            L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
            _bits(N).view(N),
            _logits(N, 1),
        ),
        (L.MeanSquaredError(), torch.randn(N), torch.randn(N, 1)),
        (L.Hinge(), _bits(), torch.randn(N, 1)),
        (L.get(nn.CrossEntropyLoss()), _labels(N), _logits(N, C)),
    ]
    cases = [(loss.to(device), y.to(device), p.to(device)) for loss, y, p in cases]
    w = torch.rand(N, device=device)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for loss, y_true, y_pred in cases:
            loss(y_true, y_pred)
            loss(y_true, y_pred, w)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    x, y = _logits(N, C).to(device), _labels(N).to(device)
    assert torch.equal(L.get("cross_entropy")(y, x), F.cross_entropy(x, y))


# --------------------------------------------------------------------------- public helpers


def test_shape_helpers_shared_with_metrics():
    assert L.per_sample(torch.ones(4, 3, 2)).shape == (4,)
    assert L.per_sample(torch.ones(4)).shape == (4,)
    assert L.align(torch.zeros(3), torch.zeros(3, 1), "mse").shape == (3, 1)
    with pytest.raises(ValueError, match="Expected y and y_pred of the same shape for mse"):
        L.align(torch.zeros(3, 2), torch.zeros(3, 1), "mse")
    labels = L.class_labels(torch.tensor([[1.0], [0.0]]), torch.zeros(2, 3))
    assert labels.tolist() == [1, 0] and labels.dtype == torch.long
    assert L.snake_case("BinaryF1Score") == "binary_f1_score"
    assert L.snake_case("MSELoss") == "mse_loss"


def test_functional_names_serialize_to_their_identifier():
    loss = L.get("smooth_l1_loss")
    assert isinstance(loss, L.Functional) and loss.identifier == "smooth_l1_loss"
    assert L.serialize(loss) == "smooth_l1_loss"
    assert isinstance(L.deserialize("kl_div"), L.Functional)


def test_public_objects_name_the_package_as_their_module():
    # Saved files name objects as "module:qualname"; the package layout must not leak into them.
    for obj in (L.Huber, L.get, L.TorchLoss, L.per_sample, L.Functional):
        assert obj.__module__ == "kerasish.losses", obj
