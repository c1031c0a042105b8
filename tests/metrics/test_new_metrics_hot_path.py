"""The new metrics update without host syncs, and reset, move and restore their state."""

from __future__ import annotations

import pytest
import torch

from kerasish import metrics as M


@pytest.fixture
def no_host_sync(monkeypatch):
    """Make every host sync a Python can trigger on a tensor raise."""

    def boom(*args, **kwargs):
        raise AssertionError("host sync on the hot path")

    for attr in ("item", "cpu", "tolist", "numpy", "__bool__", "__float__", "__int__"):
        monkeypatch.setattr(torch.Tensor, attr, boom)


def _cases():
    y_bin, p_bin = torch.randint(0, 2, (8, 3)), torch.rand(8, 3)
    labels, scores = torch.randint(0, 3, (8,)), torch.rand(8, 3)
    one_hot = torch.nn.functional.one_hot(labels, 3)
    y_reg, p_reg = torch.rand(8, 3), torch.rand(8, 3)
    return [
        (M.TruePositives(thresholds=[0.2, 0.6]), y_bin, p_bin),
        (M.FalseNegatives(), y_bin, p_bin),
        (M.Precision(top_k=2), y_bin, p_bin),
        (M.Recall(class_id=1), y_bin, p_bin),
        (M.AUC(thresholds=[0.3, 0.5]), y_bin, p_bin),
        (M.SensitivityAtSpecificity(0.5), y_bin, p_bin),
        (M.RecallAtPrecision(0.5, class_id=2), y_bin, p_bin),
        (M.F1Score(), one_hot, scores),
        (M.FBetaScore(average="micro", threshold=0.5), one_hot, scores),
        (M.R2Score(), y_reg, p_reg),
        (M.MeanIoU(num_classes=3, sparse_y_pred=False, ignore_class=0), labels, scores),
        (M.IoU(num_classes=3, target_class_ids=[1]), labels, scores.argmax(1)),
        (M.MeanAbsolutePercentageError(), y_reg, p_reg),
        (M.CosineSimilarity(), y_reg, p_reg),
        (M.LogCoshError(), y_reg, p_reg),
        (M.Poisson(), y_reg, p_reg),
        (M.KLDivergence(), y_reg, p_reg),
    ]


def test_updates_do_not_sync(no_host_sync):
    for metric, y_true, y_pred in _cases():
        metric.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred, sample_weight=torch.rand(y_true.shape[0]))


def _rebuilt(metric):
    described = M.describe(metric)
    if isinstance(described, str):
        return M.get(described)
    _, cls, config = described
    return cls(**config)


def test_state_survives_a_state_dict_round_trip_and_resets():
    for metric, y_true, y_pred in _cases():
        metric.update_state(y_true, y_pred)
        before = metric.result().clone()
        fresh = _rebuilt(metric)
        fresh.load_state_dict(metric.state_dict())
        assert torch.allclose(fresh.result(), before, equal_nan=True), type(metric).__name__
        fresh.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred)
        assert torch.allclose(fresh.result(), metric.result(), equal_nan=True)
        metric.reset_state()
        assert all(
            torch.count_nonzero(getattr(metric, s)) == 0
            for s in metric.state_names
            if isinstance(getattr(metric, s), torch.Tensor)
        ), type(metric).__name__
