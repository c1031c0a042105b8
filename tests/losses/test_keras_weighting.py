"""Keras's numbers for the losses: per-timestep weights, renormalised probabilities, the
per-element output of reduction None and ignore_class's mask.

Where each number comes from is cited next to it: keras/src/losses/losses_test.py in Keras 3
(the test named), or a Keras 3.15.1 run on the torch backend ("Keras 3.15.1 run").
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from kerasish import losses as L

# losses_test.py::MeanSquaredErrorTest::test_timestep_weighted (and MAE, MSLE alike)
Y_TRUE = torch.tensor([1.0, 9, 2, -5, -2, 6]).reshape(2, 3, 1)
Y_PRED = torch.tensor([4.0, 8, 12, 8, 1, 3]).reshape(2, 3, 1)
STEP_WEIGHTS = torch.tensor([3.0, 6, 5, 0, 4, 2]).reshape(2, 3)

# losses_test.py::CategoricalCrossentropyTest: rows that do not sum to 1 ([0.5, 0.89, 0.6])
CCE_TRUE = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]])
CCE_PRED = torch.tensor([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]])


# --------------------------------------------------------------------------- 12.18 timesteps


@pytest.mark.parametrize(
    ("loss", "expected"),
    [
        (L.MeanSquaredError(), 97.833336),  # MeanSquaredErrorTest::test_timestep_weighted
        (L.MeanAbsoluteError(), 13.833333),  # MeanAbsoluteErrorTest::test_timestep_weighted
        (L.MeanSquaredLogarithmicError(), 2.647374),  # MSLE...Test::test_timestep_weighted
    ],
)
def test_per_timestep_weights_match_keras(loss, expected):
    assert loss(Y_TRUE, Y_PRED, STEP_WEIGHTS).item() == pytest.approx(expected, rel=1e-6)
    # (N, T, 1) weights are the same weights
    assert loss(Y_TRUE, Y_PRED, STEP_WEIGHTS[..., None]).item() == pytest.approx(expected, rel=1e-6)


def test_huber_per_timestep_weights_match_keras():
    y_pred = torch.tensor([[0.9, 0.2, 0.2], [0.8, 0.4, 0.6]]).reshape(2, 3, 1)
    y_true = torch.tensor([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]]).reshape(2, 3, 1)
    w = torch.tensor([3.0, 6, 5, 0, 4, 2]).reshape(2, 3, 1)
    # HuberLossTest::test_timestep_weighted inputs; value from a Keras 3.15.1 run (torch)
    assert L.Huber()(y_true, y_pred, w).item() == pytest.approx(0.4025000333786011, rel=1e-6)
    assert L.Huber()(y_true, y_pred, w[..., 0]).item() == pytest.approx(
        0.4025000333786011, rel=1e-6
    )


def test_per_timestep_weights_with_each_reduction():
    # Keras 3.15.1 run (torch backend), MeanSquaredError(reduction=...) on the inputs above
    mse = {r: L.MeanSquaredError(reduction=r) for r in ("sum", "none", "mean_with_sample_weight")}
    assert mse["sum"](Y_TRUE, Y_PRED, STEP_WEIGHTS).item() == pytest.approx(587.0)
    expected_none = torch.tensor([[27.0, 6.0, 500.0], [0.0, 36.0, 18.0]])
    assert torch.allclose(mse["none"](Y_TRUE, Y_PRED, STEP_WEIGHTS), expected_none)
    weighted_mean = mse["mean_with_sample_weight"](Y_TRUE, Y_PRED, STEP_WEIGHTS)
    assert weighted_mean.item() == pytest.approx(29.350000381469727, rel=1e-6)


def test_per_sample_weights_still_weigh_whole_samples():
    # losses_test.py::MeanSquaredErrorTest::test_sample_weighted: 767.8 / 6
    y_true = torch.tensor([[1.0, 9, 2], [-5, -2, 6]])
    y_pred = torch.tensor([[4.0, 8, 12], [8, 1, 3]])
    w = torch.tensor([[1.2], [3.4]])
    assert L.MeanSquaredError()(y_true, y_pred, w).item() == pytest.approx(767.8 / 6, rel=1e-6)
    assert L.MeanSquaredError()(y_true, y_pred, w[:, 0]).item() == pytest.approx(
        767.8 / 6, rel=1e-6
    )


def test_timestep_weights_of_another_shape_raise():
    with pytest.raises(
        ValueError, match=r"Expected sample_weight .* Received: sample_weight.shape"
    ):
        L.MeanSquaredError()(Y_TRUE, Y_PRED, torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"Expected sample_weight"):
        L.MeanSquaredError()(Y_TRUE, Y_PRED, torch.ones(3, 3))


def test_function_wrapper_takes_per_timestep_weights():
    loss = L.LossFunctionWrapper(lambda y, p: (y - p).square(), name="se")
    assert loss(Y_TRUE, Y_PRED, STEP_WEIGHTS).item() == pytest.approx(97.833336, rel=1e-6)


# --------------------------------------------------------------------------- 12.19 renormalise


@pytest.mark.parametrize(
    ("weight", "expected"),
    [
        (None, 0.3239),  # CategoricalCrossentropyTest::test_unweighted
        (2.3, 0.7449),  # CategoricalCrossentropyTest::test_scalar_weighted
        (torch.tensor([[1.2], [3.4], [5.6]]), 1.0696),  # ...::test_sample_weighted
    ],
)
def test_probability_rows_are_renormalised_as_keras(weight, expected):
    cce = L.CategoricalCrossentropy()(CCE_TRUE, CCE_PRED, weight)
    scce = L.SparseCategoricalCrossentropy()(torch.tensor([0, 1, 2]), CCE_PRED, weight)
    # Keras's assertAlmostEqual compares to 3 decimals; without renormalising it is 0.4060
    assert cce.item() == pytest.approx(expected, abs=1e-3)
    assert scce.item() == pytest.approx(expected, abs=1e-3)


def test_logits_are_not_renormalised():
    logits = torch.tensor([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
    # CategoricalCrossentropyTest::test_unweighted (logits) and ::test_scalar_weighted
    # (compared to 3 decimals, as Keras's assertAlmostEqual does)
    cce = L.CategoricalCrossentropy(from_logits=True)
    assert cce(CCE_TRUE, logits).item() == pytest.approx(0.0573, abs=1e-3)
    scce = L.SparseCategoricalCrossentropy(from_logits=True)
    assert scce(torch.tensor([0, 1, 2]), logits, 2.3).item() == pytest.approx(0.1317, abs=1e-3)


def test_softmax_outputs_still_give_minus_log_p():
    probs = torch.randn(6, 4).softmax(1)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    expected = F.nll_loss(torch.log(probs.clamp(1e-7, 1 - 1e-7)), y)
    assert torch.allclose(L.SparseCategoricalCrossentropy()(y, probs), expected, atol=1e-6)


# --------------------------------------------------------------------------- 12.20 reduction None


def test_sparse_reduction_none_per_sample():
    logits = torch.tensor([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
    scce = L.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    # SparseCategoricalCrossentropyTest::test_no_reduction
    expected = torch.tensor([0.001822, 0.000459, 0.169846])
    assert torch.allclose(scce(torch.tensor([[0], [1], [2]]), logits), expected, atol=1e-5)


def test_sparse_reduction_none_keeps_the_per_element_shape_with_ignore_class():
    # SparseCategoricalCrossentropyTest::test_ignore_class: Keras's logits are (1, 2, 3)
    # channels-last; kerasish takes PyTorch's (N, C, d) layout.
    logits = torch.tensor([[[0.854, 0.698, 0.598], [0.088, 0.86, 0.018]]]).permute(0, 2, 1)
    scce = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=None)
    expected = torch.tensor([[0.0, 1.480129]])
    for labels in (torch.tensor([[-1, 2]]), torch.tensor([[[-1, 2]]])):
        out = scce(labels, logits)
        assert out.shape == (1, 2)
        assert torch.allclose(out, expected, atol=1e-5)
    # Keras 3.15.1 run: with "sum" and the mean, ignored labels add nothing
    for reduction in ("sum", "sum_over_batch_size"):
        loss = L.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=-1, reduction=reduction
        )
        assert loss(torch.tensor([[-1, 2]]), logits).item() == pytest.approx(1.480129, rel=1e-5)


def test_ignore_class_with_element_weights_matches_keras():
    # Keras 3.15.1 run (torch backend) on these logits, channels-last there: (2, 3, 3)
    logits = torch.tensor(
        [
            [
                [1.764052, 0.400157, 0.978738],
                [1.867558, -0.977278, 0.950088],
                [-0.103219, 0.410599, 0.144044],
            ],
            [
                [0.761038, 0.121675, 0.443863],
                [1.494079, -0.205158, 0.313068],
                [-2.552990, 0.653619, 0.864436],
            ],
        ]
    ).permute(0, 2, 1)
    labels = torch.tensor([[0, 2, -1], [1, -1, 1]])
    w = torch.tensor([[2.0, 1.0, 3.0], [0.5, 1.5, 1.0]])
    expected = {
        "sum": 3.9177141189575195,
        "sum_over_batch_size": 0.9794285893440247,
        "mean_with_sample_weight": 0.8706031441688538,
    }
    for reduction, value in expected.items():
        loss = L.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=-1, reduction=reduction
        )
        assert loss(labels, logits, w).item() == pytest.approx(value, rel=1e-5)
    none = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=None)
    expected_none = torch.tensor([[1.074903, 1.294311, 0.0], [0.726441, 0.0, 0.822060]])
    assert torch.allclose(none(labels, logits, w), expected_none, atol=1e-5)


def test_categorical_reduction_none_keeps_the_spatial_shape():
    # Keras 3.15.1 run: CategoricalCrossentropy(reduction=None) on (2, 2, 3) gives (2, 2)
    # (kerasish's layout: classes in dimension 1, so (2, 3, 2) gives (2, 2))
    target = F.one_hot(torch.tensor([[0, 1], [2, 0]]), 3).permute(0, 2, 1).float()
    probs = torch.full((2, 3, 2), 1 / 3)
    out = L.CategoricalCrossentropy(reduction=None)(target, probs)
    assert out.shape == (2, 2)
    assert torch.allclose(out, torch.full((2, 2), 1.0986123))


def test_reduction_none_of_regression_losses_stays_per_sample():
    out = L.MeanSquaredError(reduction="none")(torch.zeros(4, 3), torch.ones(4, 3))
    assert out.shape == (4,)


def test_pixel_weights_for_segmentation_follow_keras_formula():
    # Keras's reduce_weighted_values: sum(loss * w) / number of weighted values
    logits, labels, w = torch.randn(2, 4, 3, 5), torch.randint(0, 4, (2, 3, 5)), torch.rand(2, 3, 5)
    expected = (F.cross_entropy(logits, labels, reduction="none") * w).mean()
    loss = L.SparseCategoricalCrossentropy(from_logits=True)
    assert torch.allclose(loss(labels, logits, w), expected)
    assert torch.allclose(loss(labels, logits, w[:, None]), expected)  # (N, 1, H, W) too
