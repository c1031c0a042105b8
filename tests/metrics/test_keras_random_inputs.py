"""The new and extended metrics against a Keras 3.15.1 run (torch backend) on seeded random
inputs: binary targets over 4 labels, 4-class labels and scores, 3-output regression, weights.

The inputs are drawn here exactly as the Keras run drew them (NumPy RandomState(1), in this
order); every expected number below is that run's output ("Keras 3.15.1 run").
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from kerasish import losses as L
from kerasish import metrics as M


@pytest.fixture(scope="module")
def d():
    rs = np.random.RandomState(1)
    t = torch.tensor
    yb, pb = t(rs.randint(0, 2, (40, 4))), t(rs.rand(40, 4), dtype=torch.float32)
    w = t(rs.rand(40), dtype=torch.float32)
    lab, sc = t(rs.randint(0, 4, 40)), t(rs.rand(40, 4), dtype=torch.float32)
    yr = rs.randn(40, 3).astype("float32")
    pr = t((yr + rs.randn(40, 3) * 0.5).astype("float32"))
    elem_w, step_w = t(rs.rand(40, 4), dtype=torch.float32), t(rs.rand(40, 3), dtype=torch.float32)
    oh = torch.nn.functional.one_hot(lab, 4)
    return SimpleNamespace(
        yb=yb, pb=pb, w=w, lab=lab, sc=sc, oh=oh, yr=t(yr), pr=pr, elem_w=elem_w, step_w=step_w
    )


def _result(metric, *args, **kwargs):
    metric.update_state(*args, **kwargs)
    return metric.result().tolist()


CASES = [
    ("precision_top_k", lambda d: _result(M.Precision(top_k=2), d.yb, d.pb, d.w), 0.5740388),
    (
        "recall_top_k_class",
        lambda d: _result(M.Recall(top_k=1, class_id=2), d.yb, d.pb),
        0.23809524,
    ),
    (
        "precision_thresholds",
        lambda d: _result(M.Precision(thresholds=[0.1, 0.4, 0.9]), d.yb, d.pb, d.w),
        [0.56935143, 0.58053863, 0.57432759],
    ),
    (
        "true_negatives_thresholds",
        lambda d: _result(M.TrueNegatives(thresholds=[0.1, 0.4, 0.9]), d.yb, d.pb, d.w),
        [6.6714249, 17.35722, 35.255909],
    ),
    (
        "auc_thresholds",
        lambda d: _result(M.AUC(thresholds=[0.1, 0.33, 0.5, 0.77]), d.yb, d.pb, d.w),
        0.5563705,
    ),
    ("auc_pr", lambda d: _result(M.AUC(curve="PR"), d.yb, d.pb, d.w), 0.58338511),
    (
        "sens_at_spec",
        lambda d: _result(M.SensitivityAtSpecificity(0.6), d.yb, d.pb, d.w),
        0.44406766,
    ),
    (
        "spec_at_sens_class",
        lambda d: _result(M.SpecificityAtSensitivity(0.6, class_id=1), d.yb, d.pb),
        0.5714286,
    ),
    (
        "precision_at_recall",
        lambda d: _result(M.PrecisionAtRecall(0.5, num_thresholds=50), d.yb, d.pb, d.w),
        0.59245837,
    ),
    ("recall_at_precision", lambda d: _result(M.RecallAtPrecision(0.55), d.yb, d.pb), 0.97674417),
    ("f1_macro", lambda d: _result(M.F1Score(average="macro"), d.oh, d.sc, d.w), 0.236426),
    (
        "fbeta_threshold",
        lambda d: _result(M.FBetaScore(beta=0.5, threshold=0.5), d.yb, d.pb, d.w),
        [0.55396497, 0.71073478, 0.51093829, 0.49228132],
    ),
    (
        "fbeta_weighted",
        lambda d: _result(M.FBetaScore(average="weighted", beta=2.0), d.yb, d.pb),
        0.29204172,
    ),
    (
        "r2_variance_weighted",
        lambda d: _result(
            M.R2Score(class_aggregation="variance_weighted_average"), d.yr, d.pr, d.w
        ),
        0.73487544,
    ),
    (
        "r2_adjusted_per_output",
        lambda d: _result(M.R2Score(class_aggregation=None, num_regressors=3), d.yr, d.pr),
        [0.69420493, 0.79761326, 0.70304763],
    ),
    (
        "mean_iou_scores",
        lambda d: _result(M.MeanIoU(num_classes=4, sparse_y_pred=False), d.lab, d.sc, d.w),
        0.13542227,
    ),
    (
        "iou_one_hot",
        lambda d: _result(M.IoU(4, [1, 3], sparse_y_true=False, sparse_y_pred=False), d.oh, d.sc),
        0.14889705,
    ),
    ("mape", lambda d: _result(M.MeanAbsolutePercentageError(), d.yr, d.pr, d.w), 160.79843),
    ("cosine", lambda d: _result(M.CosineSimilarity(), d.yr, d.pr, d.w), 0.87840611),
    ("log_cosh", lambda d: _result(M.LogCoshError(), d.yr, d.pr), 0.12462853),
    (
        "binary_accuracy_element_weights",
        lambda d: _result(M.BinaryAccuracy(), d.yb, d.pb, d.elem_w),
        0.50559622,
    ),
    (
        "mse_loss_timestep_weights",
        lambda d: L.MeanSquaredError()(d.yr[..., None], d.pr[..., None], d.step_w).item(),
        0.12741084,
    ),
]


@pytest.mark.parametrize(("name", "compute", "expected"), CASES, ids=[c[0] for c in CASES])
def test_matches_a_keras_run_on_random_inputs(d, name, compute, expected):
    assert compute(d) == pytest.approx(expected, rel=1e-4, abs=1e-5)
