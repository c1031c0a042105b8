"""Keras's numbers for the confusion-count metrics: TP/FP/TN/FN, Precision and Recall with
top_k and class_id, AUC with given thresholds, and the metrics at a sensitivity, specificity,
precision or recall.

Numbers come from keras/src/metrics/confusion_metrics_test.py in Keras 3 (the test named), or
from a Keras 3.15.1 run on the torch backend ("Keras 3.15.1 run").
"""

from __future__ import annotations

import pytest
import torch

from kerasish import metrics as M

# confusion_metrics_test.py: FalsePositivesTest / TruePositiveTest ... ::test_unweighted
BIN_TRUE = torch.tensor([[0, 1, 0, 1, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]])
BIN_PRED = torch.tensor(
    [[0, 0, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.float32
)
ROW_WEIGHTS = torch.tensor([1.0, 1.5, 2.0, 2.5])
# ...::test_unweighted_with_thresholds
T_PRED = torch.tensor(
    [[0.9, 0.2, 0.8, 0.1], [0.2, 0.9, 0.7, 0.6], [0.1, 0.2, 0.4, 0.3], [0, 1, 0.7, 0.3]]
)
T_TRUE = torch.tensor([[0, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]])
THRESHOLDS = [0.15, 0.5, 0.85]


def _result(metric, *batches):
    for batch in batches:
        metric.update_state(*batch)
    return metric.result()


@pytest.mark.parametrize(
    ("cls", "unweighted", "weighted"),
    [
        (M.FalsePositives, 7.0, 14.0),
        (M.FalseNegatives, 3.0, 5.0),
        (M.TrueNegatives, 3.0, 4.0),
        (M.TruePositives, 7.0, 12.0),
    ],
)
def test_confusion_counts_match_keras(cls, unweighted, weighted):
    # <Class>Test::test_unweighted and ::test_weighted
    assert _result(cls(), (BIN_TRUE, BIN_PRED)).item() == pytest.approx(unweighted)
    assert _result(cls(), (BIN_TRUE, BIN_PRED, ROW_WEIGHTS)).item() == pytest.approx(weighted)


@pytest.mark.parametrize(
    ("cls", "unweighted", "weight", "weighted"),
    [
        (
            M.FalsePositives,
            [7.0, 4.0, 2.0],
            [[1.0, 2, 3, 5], [7, 11, 13, 17], [19, 23, 29, 31], [5, 15, 10, 0]],
            [125.0, 42.0, 12.0],
        ),
        (M.FalseNegatives, [1.0, 4.0, 6.0], [[3.0], [5.0], [7.0], [4.0]], [4.0, 16.0, 23.0]),
        (M.TrueNegatives, [2.0, 5.0, 7.0], [[0.0, 2.0, 3.0, 5.0]], [5.0, 15.0, 23.0]),
        (M.TruePositives, [6.0, 3.0, 1.0], 37.0, [222.0, 111.0, 37.0]),
    ],
)
def test_confusion_counts_at_thresholds_match_keras(cls, unweighted, weight, weighted):
    # <Class>Test::test_unweighted_with_thresholds and ::test_weighted_with_thresholds
    metric = cls(thresholds=THRESHOLDS)
    assert _result(metric, (T_TRUE, T_PRED)).tolist() == pytest.approx(unweighted)
    if not isinstance(weight, float):
        weight = torch.tensor(weight)
    assert _result(cls(thresholds=THRESHOLDS), (T_TRUE, T_PRED, weight)).tolist() == pytest.approx(
        weighted
    )


@pytest.mark.parametrize("cls", [M.TruePositives, M.FalseNegatives, M.Precision, M.Recall])
def test_thresholds_outside_zero_one_raise(cls):
    with pytest.raises(ValueError, match=r"Expected thresholds .* Received: thresholds="):
        cls(thresholds=[-1, 0.5, 2])
    with pytest.raises(ValueError, match="Expected thresholds"):
        cls(thresholds=[None])


def test_precision_and_recall_top_k_match_keras():
    y_pred, y_true = torch.tensor([0.2, 0.1, 0.5, 0, 0.2]), torch.tensor([0, 1, 1, 0, 0])
    # PrecisionTest::test_unweighted_top_k, RecallTest::test_unweighted_top_k
    assert _result(M.Precision(top_k=3), (y_true, y_pred)).item() == pytest.approx(1 / 3)
    assert _result(M.Recall(top_k=3), (y_true, y_pred)).item() == pytest.approx(0.5)
    # ...::test_weighted_top_k: a (1, 5) batch with element weights, then a scalar weight
    first = (
        torch.tensor([[0, 1, 1, 0, 1]]),
        torch.tensor([[0.2, 0.1, 0.4, 0, 0.2]]),
        torch.tensor([[1.0, 4, 2, 3, 5]]),
    )
    second = (torch.tensor([1, 0, 1, 1, 1]), torch.tensor([0.2, 0.6, 0.4, 0.2, 0.2]), 3.0)
    precision = _result(M.Precision(top_k=3), first, second)
    recall = _result(M.Recall(top_k=3), first, second)
    assert precision.item() == pytest.approx(13 / 17)
    assert recall.item() == pytest.approx(13 / 23)


def test_top_k_and_threshold_together_match_keras():
    y_pred = torch.tensor([0.2, 0.8, 0.6, 0, 0.2])
    # PrecisionTest/RecallTest::test_unweighted_top_k_and_threshold
    precision = M.Precision(thresholds=0.7, top_k=2)
    assert _result(precision, (torch.tensor([0, 1, 1, 0, 1]), y_pred)).item() == pytest.approx(1.0)
    assert precision.true_positives.item() == 1 and precision.false_positives.item() == 0
    recall = M.Recall(thresholds=0.7, top_k=2)
    assert _result(recall, (torch.tensor([1, 1, 1, 0, 1]), y_pred)).item() == pytest.approx(0.25)
    assert recall.false_negatives.item() == 3


def test_class_id_matches_keras():
    y_pred = torch.tensor(
        [[0.1, 0.2, 0.7], [0.5, 0.3, 0.2], [0.2, 0.6, 0.2], [0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]
    )
    y_true = torch.nn.functional.one_hot(torch.tensor([2, 0, 1, 0, 2]), 3)
    # PrecisionTest/RecallTest::test_unweighted_class_id_multiclass
    assert _result(M.Precision(class_id=1), (y_true, y_pred)).item() == pytest.approx(1.0)
    assert _result(M.Recall(class_id=1), (y_true, y_pred)).item() == pytest.approx(1.0)
    # Keras 3.15.1 run: top_k with class_id, and top_k with row weights
    scores = torch.tensor([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    labels = torch.tensor([[0, 1, 0], [1, 0, 0], [0, 1, 0]])
    assert _result(M.Precision(top_k=2, class_id=1), (labels, scores)).item() == pytest.approx(0.5)
    weights = torch.tensor([1.0, 2.0, 3.0])
    assert _result(M.Recall(top_k=1), (labels, scores, weights)).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match=r"Expected y_pred of shape \(num_samples, num_classes\)"):
        M.Precision(class_id=2).update_state(torch.tensor([0, 1]), torch.tensor([0.2, 0.6]))


def test_one_threshold_in_a_list_gives_a_scalar_as_keras():
    metric = M.Precision(thresholds=[0.5])
    assert _result(metric, (torch.tensor([1, 0]), torch.tensor([0.9, 0.8]))).shape == ()


# --------------------------------------------------------------------------- AUC thresholds

AUC_TRUE, AUC_PRED = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 0.5, 0.3, 0.9])


def test_auc_with_given_thresholds_matches_keras():
    # AUCTest::test_manual_thresholds
    auc = M.AUC(num_thresholds=2, thresholds=[0.5])
    assert auc.num_thresholds == 3
    assert auc.thresholds.tolist() == pytest.approx([0.0, 0.5, 1.0], abs=1e-6)
    assert _result(auc, (AUC_TRUE, AUC_PRED)).item() == pytest.approx(0.75, abs=1e-6)
    # Keras 3.15.1 run: AUC(thresholds=[0.25, 0.5, 0.75], curve="PR") with weights 1..4
    pr = M.AUC(thresholds=[0.75, 0.25, 0.5], curve="PR")  # sorted, as Keras sorts them
    weights = torch.tensor([1.0, 2, 3, 4])
    assert _result(pr, (AUC_TRUE, AUC_PRED, weights)).item() == pytest.approx(
        0.9397847652, rel=1e-5
    )
    with pytest.raises(ValueError, match="Expected thresholds"):
        M.AUC(thresholds=[1.5])


def test_auc_weighted_summation_methods_match_keras():
    weights = torch.tensor([1.0, 2, 3, 4])
    # AUCTest::test_weighted_roc_majoring / _minoring / _pr_majoring / _pr_minoring
    cases = [("ROC", "majoring", 1.0), ("ROC", "minoring", 0.571), ("PR", "majoring", 1.0)]
    cases.append(("PR", "minoring", 0.7 * 0.429))
    for curve, method, expected in cases:
        auc = M.AUC(num_thresholds=3, curve=curve, summation_method=method)
        assert _result(auc, (AUC_TRUE, AUC_PRED, weights)).item() == pytest.approx(
            expected, abs=1e-3
        )


# --------------------------------------------------------------------------- operating points

OP_PRED = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4, 0.01, 0.02, 0.25, 0.26, 0.26])
OP_TRUE = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
OP_WEIGHTS = torch.arange(1.0, 11.0)


@pytest.mark.parametrize(
    ("metric", "unweighted", "weighted"),
    [
        # SensitivityAtSpecificityTest::test_unweighted_low_specificity / ::test_weighted
        (lambda **kw: M.SensitivityAtSpecificity(0.4, **kw), 0.6, 0.675),
        # Keras 3.15.1 run for the rest (same inputs)
        (lambda **kw: M.SensitivityAtSpecificity(0.8, **kw), 0.0, 0.0),
        (lambda **kw: M.SpecificityAtSensitivity(0.4, **kw), 0.6, 0.4),
        (lambda **kw: M.PrecisionAtRecall(0.7, **kw), 0.5555555820, 0.7407407164),
        (lambda **kw: M.RecallAtPrecision(0.6, **kw), 0.6, 1.0),
    ],
)
def test_operating_point_metrics_match_keras(metric, unweighted, weighted):
    assert _result(metric(), (OP_TRUE, OP_PRED)).item() == pytest.approx(unweighted, abs=1e-6)
    assert _result(metric(), (OP_TRUE, OP_PRED, OP_WEIGHTS)).item() == pytest.approx(
        weighted, abs=1e-6
    )


def test_operating_points_with_few_thresholds_match_keras():
    # Keras 3.15.1 run, num_thresholds=7
    expected = {M.SensitivityAtSpecificity: 0.6, M.SpecificityAtSensitivity: 0.4}
    expected[M.PrecisionAtRecall] = 0.5555555820
    for cls, value in expected.items():
        metric = cls(0.4 if cls is not M.PrecisionAtRecall else 0.7, num_thresholds=7)
        assert _result(metric, (OP_TRUE, OP_PRED)).item() == pytest.approx(value, abs=1e-6)
    assert _result(M.RecallAtPrecision(0.6, num_thresholds=7), (OP_TRUE, OP_PRED)).item() == 0.0


def test_operating_points_class_id_and_high_specificity_match_keras():
    # SpecificityAtSensitivityTest::test_unweighted_class_id
    y_pred = OP_PRED[:, None].repeat(1, 3)
    y_true = torch.nn.functional.one_hot(OP_TRUE * 2, 3)
    metric = M.SpecificityAtSensitivity(0.4, class_id=2)
    assert _result(metric, (y_true, y_pred)).item() == pytest.approx(0.6, abs=1e-6)
    # SensitivityAtSpecificityTest::test_unweighted_high_specificity
    pred = torch.tensor([0.0, 0.1, 0.2, 0.3, 0.4, 0.1, 0.45, 0.5, 0.8, 0.9])
    assert _result(M.SensitivityAtSpecificity(0.8), (OP_TRUE, pred)).item() == pytest.approx(0.8)


def test_operating_point_arguments_are_checked():
    with pytest.raises(ValueError, match=r"Expected specificity to be in the range \[0, 1\]"):
        M.SensitivityAtSpecificity(-1)
    with pytest.raises(ValueError, match="Expected num_thresholds to be an integer > 0"):
        M.PrecisionAtRecall(0.4, num_thresholds=-1)
