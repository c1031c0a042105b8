"""Keras's numbers for F1Score/FBetaScore, R2Score, IoU/MeanIoU, the per-sample mean metrics
(MAPE, cosine similarity, log-cosh, Poisson, KL divergence), weighted accuracies and Mean; and
their string names and compile-config round trip.

Numbers come from Keras 3's own tests (keras/src/metrics/<file>_test.py::<test>) or from a
Keras 3.15.1 run on the torch backend ("Keras 3.15.1 run").
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import kerasish as K
from kerasish import metrics as M


def _result(metric, *batches):
    for batch in batches:
        metric.update_state(*batch)
    return metric.result()


# f_score_metrics_test.py::FBetaScoreTest::test_fbeta_random_score_none (and the weighted one)
F_TRUE = torch.tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [1, 0, 0], [0, 0, 1]])
F_PRED = torch.tensor(
    [[0.9, 0.1, 0], [0.2, 0.6, 0.2], [0, 0, 1], [0.4, 0.3, 0.3], [0, 0.9, 0.1], [0, 0, 1]]
)


@pytest.mark.parametrize(
    ("average", "beta", "expected"),
    [
        (None, 0.5, [0.9090904, 0.555556, 1.0]),
        (None, 2.0, [0.71428573, 0.833334, 1.0]),
        ("micro", 1.0, 0.833334),
        ("macro", 0.5, 0.821549),
        ("weighted", 2.0, 0.829365),
    ],
)
def test_fbeta_matches_keras(average, beta, expected):
    result = _result(M.FBetaScore(average=average, beta=beta), (F_TRUE, F_PRED))
    assert result.tolist() == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("average", "beta", "weights", "expected"),
    [
        (None, 0.5, [0.5, 1.0, 1.0, 1.0, 0.5, 1.0], [0.9375, 0.714286, 1.0]),
        ("micro", 2.0, [0.5, 1.0, 1.0, 1.0, 0.5, 1.0], 0.9),
        ("macro", 1.0, [1.0, 0.0, 1.0, 1.0, 0.0, 1.0], 0.666667),
        ("weighted", 0.5, [0.5, 1.0, 1.0, 1.0, 0.5, 1.0], 0.917857),
    ],
)
def test_weighted_fbeta_matches_keras(average, beta, weights, expected):
    # FBetaScoreTest::test_fbeta_weighted_random_score_none
    metric = M.FBetaScore(average=average, beta=beta)
    result = _result(metric, (F_TRUE, F_PRED, torch.tensor(weights)))
    assert result.tolist() == pytest.approx(expected, abs=1e-5)


def test_f1_score_matches_keras():
    # FBetaScoreTest::test_fbeta_random_score (threshold 0.66), macro, beta 1
    y_pred = torch.tensor([[0.7, 0.7, 0.7], [1, 0, 0], [0.9, 0.8, 0]])
    y_true = torch.tensor([[0, 0, 1], [1, 1, 0], [1, 1, 1]])
    macro = M.F1Score(average="macro", threshold=0.66)
    assert _result(macro, (y_true, y_pred)).item() == pytest.approx(0.6555555, abs=1e-5)
    # Keras 3.15.1 run: F1Score() per class; micro at 0.5; weighted FBeta over two updates
    assert _result(M.F1Score(), (F_TRUE, F_PRED)).tolist() == pytest.approx(
        [0.8, 0.666667, 1.0], abs=1e-5
    )
    micro = M.F1Score(average="micro", threshold=0.5)
    assert _result(micro, (F_TRUE, F_PRED)).item() == pytest.approx(0.7272727, abs=1e-5)
    fbeta = M.FBetaScore(average="weighted", beta=2.0)
    first = (F_TRUE[:3], F_PRED[:3], torch.tensor([1.0, 2.0, 0.5]))
    assert _result(fbeta, first, (F_TRUE[3:], F_PRED[3:])).item() == pytest.approx(
        0.8401598, abs=1e-5
    )
    assert "beta" not in M.F1Score().get_config()


def test_fbeta_arguments_and_shapes_are_checked():
    with pytest.raises(ValueError, match="Expected average"):
        M.FBetaScore(average="wrong")
    with pytest.raises(ValueError, match="Expected beta"):
        M.FBetaScore(beta=0.0)
    with pytest.raises(ValueError, match="Expected threshold"):
        M.FBetaScore(threshold=1.5)
    with pytest.raises(ValueError, match=r"Expected 2-D y and y_pred"):
        M.F1Score().update_state(torch.zeros(3), torch.zeros(3))


# --------------------------------------------------------------------------- R2

R2_TRUE = torch.tensor([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
R2_PRED = torch.tensor([[0.1, 0.2, 0.9], [0.3, 0.4, 0.5], [0.8, 0.9, 0.1]])


def test_r2_score_matches_keras():
    # Keras 3.15.1 run on these inputs (each class_aggregation), and adjusted R2 with weights
    per_output = _result(M.R2Score(class_aggregation=None), (R2_TRUE, R2_PRED))
    assert per_output.tolist() == pytest.approx([0.79, -0.815, 0.595], abs=1e-5)
    for aggregation in ("uniform_average", "variance_weighted_average"):
        r2 = M.R2Score(class_aggregation=aggregation)
        assert _result(r2, (R2_TRUE, R2_PRED)).item() == pytest.approx(0.19, abs=1e-5)
    adjusted = M.R2Score(num_regressors=1)
    y_true, y_pred = torch.cat([R2_TRUE, R2_TRUE]), torch.cat([R2_PRED, R2_PRED.flip(0)])
    weights = torch.tensor([1.0, 2, 3, 1, 2, 3])
    assert _result(adjusted, (y_true, y_pred, weights)).item() == pytest.approx(
        -0.97259020, abs=1e-5
    )


def test_r2_score_falls_back_with_too_many_regressors():
    r2 = M.R2Score(num_regressors=20)
    with pytest.warns(UserWarning, match="Falling back to standard R2 score"):
        value = _result(r2, (R2_TRUE, R2_PRED))
    assert value.item() == pytest.approx(0.19, abs=1e-5)
    with pytest.raises(ValueError, match="Expected class_aggregation"):
        M.R2Score(class_aggregation="sum")


# --------------------------------------------------------------------------- IoU


def test_iou_and_mean_iou_match_keras():
    y_true, y_pred = torch.tensor([0, 0, 1, 1]), torch.tensor([0.0, 1.0, 0.0, 1.0])
    weights = torch.tensor([0.2, 0.3, 0.4, 0.1])
    expected = (0.2 / (0.6 + 0.5 - 0.2) + 0.1 / (0.4 + 0.5 - 0.1)) / 2
    # iou_metrics_test.py::MeanIoUTest::test_weighted and IoUTest::test_weighted
    assert _result(M.MeanIoU(num_classes=2), (y_true, y_pred, weights)).item() == pytest.approx(
        expected
    )
    iou = M.IoU(num_classes=2, target_class_ids=[1, 0])
    assert _result(iou, (y_true, y_pred, weights)).item() == pytest.approx(expected)
    # Keras 3.15.1 run: unweighted; three classes; ignore_class; 2-D weights; class scores
    assert _result(M.MeanIoU(num_classes=2), (y_true, y_pred)).item() == pytest.approx(1 / 3)
    three = M.IoU(num_classes=3, target_class_ids=[0, 2])
    assert _result(
        three, (torch.tensor([0, 2, 1, 2]), torch.tensor([0, 2, 2, 1]))
    ).item() == pytest.approx(2 / 3)
    ignoring = M.MeanIoU(num_classes=3, ignore_class=0)
    assert _result(
        ignoring, (torch.tensor([0, 1, 2, 2]), torch.tensor([1, 1, 2, 0]))
    ).item() == pytest.approx(0.5)
    grid = (
        torch.tensor([[0, 1], [2, 2]]),
        torch.tensor([[0, 2], [2, 1]]),
        torch.tensor([[1, 0.5], [2, 1]]),
    )
    assert _result(M.MeanIoU(num_classes=3), grid).item() == pytest.approx(0.5238095, abs=1e-6)
    scores = torch.tensor([[0.9, 0.1, 0], [0.2, 0.3, 0.5], [0, 0, 1], [0.5, 0.4, 0.1]])
    dense = M.MeanIoU(num_classes=3, sparse_y_pred=False)
    assert _result(dense, (torch.tensor([0, 1, 2, 2]), scores)).item() == pytest.approx(
        0.2777778, abs=1e-6
    )
    assert M.MeanIoU(num_classes=2).name == "mean_io_u" and iou.name == "io_u"  # Keras's names


def test_iou_arguments_are_checked():
    with pytest.raises(ValueError, match="Expected num_classes"):
        M.MeanIoU(num_classes=0)
    with pytest.raises(
        ValueError, match=r"Expected target_class_ids to be class indices in \[0, 2\)"
    ):
        M.IoU(num_classes=2, target_class_ids=[2])


# --------------------------------------------------------------------------- per-sample means

REG_TRUE = torch.tensor([[1.0, 9, 2], [-5, -2, 6]])
REG_PRED = torch.tensor([[4.0, 8, 12], [8, 1, 3]])
PROB_TRUE, PROB_PRED = REG_TRUE.abs() / 10, REG_PRED / 20
ROW_WEIGHTS = torch.tensor([[1.2], [3.4]])


@pytest.mark.parametrize(
    ("cls", "y_true", "y_pred", "unweighted", "weighted"),
    [
        # Keras 3.15.1 run, each metric on these inputs, unweighted and with [[1.2], [3.4]]
        (M.MeanAbsolutePercentageError, REG_TRUE, REG_PRED, 211.85183716, 183.86471558),
        (M.CosineSimilarity, REG_TRUE, REG_PRED, 0.18721905, -0.06782262),
        (M.LogCoshError, REG_TRUE, REG_PRED, 4.82924509, 5.21787500),
        (M.Poisson, PROB_TRUE, PROB_PRED, 0.84722221, 0.88769835),
        (M.KLDivergence, PROB_TRUE, PROB_PRED, 0.83070362, 1.01717925),
    ],
)
def test_mean_metrics_match_keras(cls, y_true, y_pred, unweighted, weighted):
    assert _result(cls(), (y_true, y_pred)).item() == pytest.approx(unweighted, rel=1e-5)
    assert _result(cls(), (y_true, y_pred, ROW_WEIGHTS)).item() == pytest.approx(weighted, rel=1e-5)


# --------------------------------------------------------------------------- 12.21 weights


def test_accuracy_with_element_and_broadcast_weights_matches_keras():
    y_true, y_pred = torch.tensor([[1, 2], [3, 4]]), torch.tensor([[0, 2], [3, 4]])
    # accuracy_metrics_test.py::AccuracyTest::test_weighted_nd_weights / _broadcast_weights
    assert _result(M.Accuracy(), (y_true, y_pred, torch.tensor([[1, 0], [0, 1]]))).item() == 0.5
    assert _result(M.Accuracy(), (y_true, y_pred, torch.tensor([[1, 0]]))).item() == 0.5
    assert _result(M.Accuracy(), (y_true[:, :1], y_pred[:, :1], torch.tensor([1, 1]))).item() == 0.5


def test_binary_accuracy_with_element_and_broadcast_weights_matches_keras():
    y_true, y_pred = torch.tensor([[1, 1], [0, 0]]), torch.tensor([[0.98, 1], [0, 0.6]])
    # BinaryAccuracyTest::test_weighted_nd_weights / ::test_weighted_nd_broadcast_weights
    assert (
        _result(M.BinaryAccuracy(), (y_true, y_pred, torch.tensor([[1, 0], [0, 1]]))).item() == 0.5
    )
    assert _result(M.BinaryAccuracy(), (y_true, y_pred, torch.tensor([[1, 0]]))).item() == 1.0
    # BinaryAccuracyTest::test_weighted: per-sample weights on (N, 1)
    column = (torch.tensor([[1], [1], [0], [0]]), torch.tensor([[0.98], [1], [0], [0.6]]))
    assert _result(M.BinaryAccuracy(), (*column, torch.tensor([1, 0, 0, 1]))).item() == 0.5


def test_mean_with_negative_weights_matches_keras():
    # reduction_metrics_test.py::MeanTest::test_weighted_negative_weights
    mean = M.Mean()
    mean.update_state(torch.tensor([1.0, 3, 5, 7]), sample_weight=torch.tensor([-1.0, -1, 0, 0]))
    assert mean.result().item() == pytest.approx(2.0)
    # ...::test_weighted_nd and ::test_weighted_nd_broadcast
    nd = M.Mean()
    nd.update_state(
        torch.tensor([[1.0, 3], [5, 7]]), sample_weight=torch.tensor([[1.0, 1], [1, 0]])
    )
    assert nd.result().item() == pytest.approx(3.0)
    broadcast = M.Mean()
    broadcast.update_state(torch.tensor([[1.0, 3], [5, 7]]), sample_weight=torch.tensor([[1.0, 0]]))
    assert broadcast.result().item() == pytest.approx(3.0)


# --------------------------------------------------------------------------- names and saving

NEW_NAMES = [
    "f1_score",
    "fbeta_score",
    "f_beta_score",
    "r2_score",
    "mape",
    "mean_absolute_percentage_error",
    "cosine_similarity",
    "log_cosh_error",
    "poisson",
    "kl_divergence",
    "true_positives",
    "false_positives",
    "true_negatives",
    "false_negatives",
]


@pytest.mark.parametrize("name", NEW_NAMES)
def test_new_names_are_keras_strings_and_describe_back(name):
    metric = M.get(name)
    assert metric.name == name
    assert M.describe(metric) == name


@pytest.mark.parametrize(
    "metric",
    [
        M.F1Score(average="macro", threshold=0.4, name="f1"),
        M.FBetaScore(beta=2.0),
        M.R2Score(class_aggregation=None, num_regressors=1),
        M.MeanIoU(num_classes=3, ignore_class=0),
        M.IoU(num_classes=3, target_class_ids=[0, 2]),
        M.TruePositives(thresholds=[0.3, 0.7]),
        M.Precision(top_k=2, class_id=1),
        M.AUC(thresholds=[0.2, 0.6], curve="PR"),
        M.SensitivityAtSpecificity(0.4, num_thresholds=7),
        M.RecallAtPrecision(0.8, class_id=0),
        M.CosineSimilarity(axis=1, name="cos"),
    ],
    ids=lambda m: type(m).__name__,
)
def test_described_metrics_rebuild_with_their_arguments(metric):
    kind, cls, config = M.describe(metric)
    assert (kind, cls) == ("class", type(metric))
    rebuilt = cls(**config)
    assert M.describe(rebuilt) == (kind, cls, config)
    assert M.public_config(rebuilt) == M.public_config(metric)


def test_compile_config_round_trip_restores_new_metrics(tmp_path):
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    model = K.Sequential([nn.Linear(4, 3), nn.Softmax(dim=1)])
    chosen = [
        M.F1Score(average="macro"),
        M.MeanIoU(num_classes=3, sparse_y_true=False, sparse_y_pred=False),
    ]
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["f1_score", *chosen])
    model.fit(x, nn.functional.one_hot(y, 3).float(), epochs=1, verbose=0)
    model.save(tmp_path / "m.kerasish")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing left out
        loaded = K.models.load_model(tmp_path / "m.kerasish")
    restored = loaded.compile_config.metrics
    assert [type(m) for m in restored] == [M.F1Score, M.F1Score, M.MeanIoU]
    assert [M.describe(m) for m in restored] == [
        M.describe(m) for m in model.compile_config.metrics
    ]
