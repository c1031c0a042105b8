"""kerasish.metrics: values by hand across updates and resets, accuracy resolution, get, no syncs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from kerasish import losses as L
from kerasish import metrics as M


@pytest.fixture
def no_host_sync(monkeypatch):
    """Make every host sync a Python can trigger on a tensor raise."""

    def boom(*args, **kwargs):
        raise AssertionError("host sync in update_state")

    for attr in ("item", "cpu", "tolist", "numpy", "__bool__", "__float__", "__int__"):
        monkeypatch.setattr(torch.Tensor, attr, boom)


def _value(metric: M.Metric) -> float:
    return metric.result().item()


# --------------------------------------------------------------------------- Mean


def test_mean_loss_tracker_path():
    m = M.Mean(name="loss")
    m.update_state(torch.tensor(2.0), sample_weight=3)
    m.update_state(torch.tensor(4.0), sample_weight=1)
    assert m.name == "loss"
    assert m.count == 4 and isinstance(m.count, int | float)
    assert _value(m) == pytest.approx(2.5)
    m.reset_state()
    assert _value(m) == 0.0 and m.count == 0
    m.update_state(torch.tensor(7.0), sample_weight=2)
    assert _value(m) == pytest.approx(7.0)


def test_mean_values_and_tensor_weights():
    m = M.Mean()
    m.update_state(torch.tensor([1.0, 2.0, 3.0]))
    m.update_state(torch.tensor([[4.0, 6.0]]))  # one sample, its mean is 5
    assert _value(m) == pytest.approx((1 + 2 + 3 + 5) / 4)
    m.reset_state()
    m.update_state(torch.tensor([1.0, 3.0]), sample_weight=torch.tensor([3.0, 1.0]))
    m.update_state(5.0)
    assert _value(m) == pytest.approx((3 + 3 + 5) / 5)
    m.reset_state()
    m.update_state(
        torch.tensor([[1.0, 3.0], [5.0, 5.0]]), sample_weight=torch.tensor([[1.0], [0.0]])
    )
    assert _value(m) == pytest.approx(2.0)


def test_mean_bad_weight_shape_raises():
    with pytest.raises(ValueError, match="Expected sample_weight with no more dimensions"):
        M.Mean().update_state(torch.ones(2), sample_weight=torch.ones(2, 3))


def test_mean_metric_wrapper_per_sample_and_scalar_functions():
    m = M.MeanMetricWrapper(lambda y, p: (y - p).abs(), name="abs_error")
    m.update_state(torch.zeros(2), torch.tensor([1.0, 3.0]))
    m.update_state(torch.zeros(1), torch.tensor([5.0]), sample_weight=torch.tensor([2.0]))
    assert m.name == "abs_error"
    assert _value(m) == pytest.approx((1 + 3 + 10) / 4)

    def batch_mean(y, p):
        return (y - p).abs().mean()

    s = M.get(batch_mean)
    assert s.name == "batch_mean"
    s.update_state(torch.zeros(3), torch.ones(3))  # three samples of 1
    s.update_state(torch.zeros(1), torch.full((1,), 5.0))  # one sample of 5
    assert _value(s) == pytest.approx((3 + 5) / 4)


# --------------------------------------------------------------------------- accuracy family


def test_binary_accuracy_across_updates_and_reset():
    m = M.BinaryAccuracy()
    m.update_state(torch.tensor([1.0, 0.0, 1.0]), torch.tensor([[0.9], [0.7], [0.2]]))
    m.update_state(torch.tensor([[0], [1]]), torch.tensor([[0.1], [0.6]]))
    assert _value(m) == pytest.approx(3 / 5)
    m.reset_state()
    m.update_state(torch.tensor([1.0]), torch.tensor([0.4]))
    assert _value(m) == 0.0
    t = M.BinaryAccuracy(threshold=0.3)
    t.update_state(torch.tensor([1.0]), torch.tensor([0.4]))
    assert _value(t) == 1.0


def test_categorical_and_sparse_accuracy():
    p = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
    y = torch.tensor([1, 1, 2])
    sparse = M.SparseCategoricalAccuracy()
    sparse.update_state(y, p)
    sparse.update_state(y[:, None].float(), p)
    assert _value(sparse) == pytest.approx(4 / 6)
    cat = M.CategoricalAccuracy()
    cat.update_state(torch.eye(3)[y], p)
    assert _value(cat) == pytest.approx(2 / 3)
    cat.reset_state()
    cat.update_state(torch.eye(3)[torch.tensor([0, 0, 0])], p)
    assert _value(cat) == pytest.approx(1 / 3)


def test_top_k_accuracy():
    p = torch.tensor([[0.5, 0.1, 0.4], [0.5, 0.1, 0.4], [0.1, 0.2, 0.7]])
    y = torch.tensor([2, 1, 0])
    m = M.SparseTopKCategoricalAccuracy(k=2)
    m.update_state(y, p)
    assert _value(m) == pytest.approx(1 / 3)
    one_hot = M.TopKCategoricalAccuracy(k=2)
    one_hot.update_state(torch.eye(3)[y], p)
    assert _value(one_hot) == pytest.approx(1 / 3)
    everything = M.SparseTopKCategoricalAccuracy()  # k=5 > 3 classes
    everything.update_state(y, p)
    assert _value(everything) == 1.0
    with pytest.raises(ValueError, match="Expected k to be a positive integer"):
        M.TopKCategoricalAccuracy(k=0)


def test_exact_accuracy_and_regression_metrics():
    acc = M.Accuracy()
    acc.update_state(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 0]))
    assert _value(acc) == pytest.approx(0.5)
    y, p = torch.zeros(2), torch.tensor([[1.0], [3.0]])
    for cls, expected in [
        (M.MeanSquaredError, 5.0),
        (M.MeanAbsoluteError, 2.0),
        (M.RootMeanSquaredError, 5.0**0.5),
    ]:
        m = cls()
        m.update_state(y, p)
        assert _value(m) == pytest.approx(expected)
    rmse = M.RootMeanSquaredError()
    rmse.update_state(y, p)
    rmse.update_state(torch.zeros(1), torch.tensor([[0.0]]), sample_weight=torch.tensor([2.0]))
    assert _value(rmse) == pytest.approx((10 / 4) ** 0.5)


# --------------------------------------------------------------------------- precision / recall / AUC


def test_precision_and_recall_by_hand():
    y = torch.tensor([1, 0, 1, 1, 0])
    p = torch.tensor([0.9, 0.8, 0.2, 0.6, 0.1])  # tp=2, fp=1, fn=1
    prec, rec = M.Precision(), M.Recall()
    prec.update_state(y[:2], p[:2])
    prec.update_state(y[2:], p[2:])
    rec.update_state(y, p)
    assert _value(prec) == pytest.approx(2 / 3) and _value(rec) == pytest.approx(2 / 3)
    prec.reset_state()
    assert _value(prec) == 0.0
    weighted = M.Precision()
    weighted.update_state(y, p, sample_weight=torch.tensor([1.0, 3.0, 1.0, 1.0, 1.0]))
    assert _value(weighted) == pytest.approx(2 / 5)
    several = M.Recall(thresholds=[0.1, 0.5, 0.95])
    several.update_state(y, p)
    assert torch.allclose(several.result(), torch.tensor([1.0, 2 / 3, 0.0]))
    with pytest.raises(ValueError, match="Expected thresholds"):
        M.Precision(thresholds=2.0)


def _exact_roc_auc(y: torch.Tensor, s: torch.Tensor) -> float:
    pos, neg = s[y == 1], s[y == 0]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).float() + 0.5 * (diff == 0).float()).mean().item()


def test_auc_matches_exact_roc_auc():
    y = torch.randint(0, 2, (400,))
    s = torch.rand(400) * 0.7 + 0.3 * y
    m = M.AUC(num_thresholds=1000)
    m.update_state(y[:150], s[:150])
    m.update_state(y[150:], s[150:])
    assert _value(m) == pytest.approx(_exact_roc_auc(y, s), abs=2e-3)
    separable = M.AUC()
    separable.update_state(torch.tensor([0, 0, 1, 1]), torch.tensor([0.1, 0.2, 0.8, 0.9]))
    assert _value(separable) == pytest.approx(1.0)
    separable.reset_state()
    separable.update_state(torch.tensor([1, 1, 0, 0]), torch.tensor([0.1, 0.2, 0.8, 0.9]))
    assert _value(separable) == pytest.approx(0.0)


def test_auc_pr_and_logits():
    y = torch.tensor([0, 0, 1, 1])
    pr = M.AUC(curve="PR")
    pr.update_state(y, torch.tensor([0.1, 0.2, 0.8, 0.9]))
    assert _value(pr) == pytest.approx(1.0, abs=1e-3)
    logits = torch.tensor([-2.0, 0.5, -0.5, 3.0])
    on_logits = M.AUC(from_logits=True)
    on_logits.update_state(y, logits)
    on_probs = M.AUC()
    on_probs.update_state(y, torch.sigmoid(logits))
    assert _value(on_logits) == pytest.approx(_value(on_probs)) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="Expected curve"):
        M.AUC(curve="XY")


# --------------------------------------------------------------------------- "accuracy"


def test_accuracy_string_resolves_sparse():
    m = M.get("accuracy")
    m.update_state(torch.tensor([1, 0]), torch.tensor([[0.2, 0.8], [0.4, 0.6]]))
    assert isinstance(m.resolved, M.SparseCategoricalAccuracy)
    assert m.name == "accuracy" and _value(m) == pytest.approx(0.5)


def test_accuracy_string_resolves_categorical():
    m = M.get("acc")
    m.update_state(torch.tensor([[0.0, 1.0], [1.0, 0.0]]), torch.tensor([[0.2, 0.8], [0.4, 0.6]]))
    assert isinstance(m.resolved, M.CategoricalAccuracy)
    assert m.name == "acc" and _value(m) == pytest.approx(0.5)
    m.reset_state()
    assert _value(m) == 0.0 and isinstance(m.resolved, M.CategoricalAccuracy)


@pytest.mark.parametrize("y_pred_shape", [(4,), (4, 1)])
def test_accuracy_string_resolves_binary(y_pred_shape):
    y = torch.tensor([1.0, 0.0, 1.0, 0.0])
    p = torch.tensor([0.9, 0.4, 0.3, 0.2]).reshape(y_pred_shape)
    m = M.get("accuracy", loss=L.get("binary_crossentropy"))
    m.update_state(y, p)
    assert isinstance(m.resolved, M.BinaryAccuracy)
    assert _value(m) == pytest.approx(0.75)


def test_accuracy_on_logits_uses_threshold_zero():
    y = torch.tensor([1.0, 0.0, 1.0, 0.0])
    logits = torch.tensor([[0.3], [-0.2], [0.1], [-1.0]])  # all right at 0, half right at 0.5
    for name, loss in [
        ("accuracy", L.get("bce_with_logits")),
        ("binary_accuracy", L.BinaryCrossentropy(from_logits=True)),
        ("accuracy", L.get(nn.BCEWithLogitsLoss())),
    ]:
        m = M.get(name, loss=loss)
        m.update_state(y, logits)
        assert _value(m) == 1.0, (name, loss)
    probs_loss = M.get("binary_accuracy", loss=L.BinaryCrossentropy())
    probs_loss.update_state(y, logits)
    assert _value(probs_loss) == 0.5


def test_accuracy_reads_auto_loss_decision_at_first_update():
    y, logits = torch.tensor([1.0, 0.0]), torch.tensor([[0.3], [-0.2]])
    loss = L.get("binary_crossentropy")
    m = M.get("accuracy", loss=loss)
    loss(y, logits)  # the trainer computes the loss before updating metrics
    m.update_state(y, logits)
    assert loss.from_logits is True and _value(m) == 1.0


def test_precision_recall_auc_strings_follow_logits_loss():
    y, logits = torch.tensor([1, 0, 1]), torch.tensor([0.3, -0.2, -0.1])
    loss = L.get("bce_with_logits")
    prec, rec = M.get("precision", loss=loss), M.get("recall", loss=loss)
    prec.update_state(y, logits)
    rec.update_state(y, logits)
    assert _value(prec) == 1.0 and _value(rec) == pytest.approx(0.5)


# --------------------------------------------------------------------------- get


NAMES = [
    "accuracy",
    "acc",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "mse",
    "mean_squared_error",
    "mae",
    "mean_absolute_error",
    "rmse",
    "root_mean_squared_error",
    "precision",
    "recall",
    "auc",
]


@pytest.mark.parametrize("name", NAMES)
def test_get_names_keep_the_string_as_log_key(name):
    m = M.get(name)
    assert isinstance(m, M.Metric) and m.name == name
    assert m.result().ndim == 0


def test_get_objects_and_callables():
    metric = M.Precision()
    assert M.get(metric) is metric
    assert isinstance(M.get(M.AUC), M.AUC)
    wrapped = M.get(L.Huber())
    assert isinstance(wrapped, M.MeanMetricWrapper) and wrapped.name == "huber_loss"
    wrapped.update_state(
        torch.zeros(2), torch.tensor([1.0, 3.0]), sample_weight=torch.tensor([1.0, 0.0])
    )
    assert _value(wrapped) == pytest.approx(0.5)
    assert M.get(nn.MSELoss()).name == "mse_loss"
    assert M.get(lambda y, p: (y - p).abs()).name == "metric"


@pytest.mark.parametrize("bad", ["nope", 3, None, object])
def test_get_unknown_raises_with_names(bad):
    with pytest.raises(ValueError, match="Could not interpret metric identifier") as err:
        M.get(bad)
    assert "sparse_categorical_accuracy" in str(err.value) and "Received: " in str(err.value)


# --------------------------------------------------------------------------- torchmetrics


def test_torchmetrics_adapter():
    tm = pytest.importorskip("torchmetrics")
    y = torch.tensor([1, 0, 2, 2])
    p = torch.tensor([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    m = M.get(tm.classification.MulticlassAccuracy(num_classes=3, average="micro"))
    assert isinstance(m, M.TorchMetricsAdapter) and m.name == "multiclass_accuracy"
    m.update_state(y[:2], p[:2])
    m.update_state(y[2:], p[2:])
    ours = M.SparseCategoricalAccuracy()
    ours.update_state(y, p)
    assert _value(m) == pytest.approx(_value(ours)) == pytest.approx(0.75)
    m.reset_state()
    m.update_state(y[:1], p[:1])
    assert _value(m) == 1.0
    assert m.to("cpu") is m
    with pytest.raises(ValueError, match="Expected sample_weight=None"):
        m.update_state(y, p, torch.ones(4))


def test_torchmetrics_is_not_imported_by_kerasish():
    import subprocess
    import sys

    code = "import sys, kerasish.metrics; print('torchmetrics' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- hot path and devices


def _all_metric_updates():
    y_bin, p_bin = torch.randint(0, 2, (6, 1)).float(), torch.rand(6, 1)
    y_lab, p_cls = torch.randint(0, 4, (6,)), torch.rand(6, 4)
    logits_loss = L.BinaryCrossentropy(from_logits=True)
    return [
        (M.get("accuracy"), y_lab, p_cls),
        (M.get("acc"), torch.eye(4)[y_lab], p_cls),
        (M.get("accuracy", loss=logits_loss), y_bin, p_bin),
        (M.get("binary_accuracy", loss=logits_loss), y_bin, p_bin),
        (M.TopKCategoricalAccuracy(k=2), torch.eye(4)[y_lab], p_cls),
        (M.SparseTopKCategoricalAccuracy(k=2), y_lab, p_cls),
        (M.Accuracy(), y_lab, p_cls.argmax(1)),
        (M.RootMeanSquaredError(), y_bin, p_bin),
        (M.MeanAbsoluteError(), y_bin.view(6), p_bin),
        (M.Precision(thresholds=[0.3, 0.6]), y_bin, p_bin),
        (M.get("recall", loss=logits_loss), y_bin, p_bin),
        (M.AUC(), y_bin, p_bin),
        (M.get(L.get("mse")), y_bin, p_bin),
    ]


def test_updates_do_not_sync(no_host_sync):
    for metric, y_true, y_pred in _all_metric_updates():
        metric.update_state(y_true, y_pred)
        metric.update_state(y_true, y_pred, sample_weight=torch.rand(6))
    tracker = M.Mean(name="loss")
    tracker.update_state(torch.tensor(0.3), sample_weight=32)
    tracker.update_state(torch.tensor(0.3), sample_weight=torch.tensor(2.0))


def test_to_moves_every_state():
    for metric, y_true, y_pred in _all_metric_updates():
        metric.update_state(y_true, y_pred)
        metric.to("meta")
        tensors = [v for v in vars(metric).values() if isinstance(v, torch.Tensor)]
        assert all(t.device.type == "meta" for t in tensors), metric
        if isinstance(metric, M.AutoAccuracy):
            assert metric.resolved.total.device.type == "meta"


def test_metric_follows_the_batch_device():
    m = M.Mean()
    m.update_state(torch.tensor([1.0, 3.0], device="meta"))
    assert m.total.device.type == "meta" and m.count == 2


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_updates_never_synchronize():
    device = torch.device("cuda")
    updates = [(m.to(device), y.to(device), p.to(device)) for m, y, p in _all_metric_updates()]
    tracker = M.Mean(name="loss").to(device)
    loss = torch.tensor(0.5, device=device)
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for metric, y_true, y_pred in updates:
            metric.update_state(y_true, y_pred)
            metric.update_state(y_true, y_pred)
        tracker.update_state(loss, sample_weight=32)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert tracker.result().item() == pytest.approx(0.5)


# --------------------------------------------------------------------------- public seams


def _ae(y, p):
    return (y - p).abs()


def test_mean_metric_wrapper_fn_and_fn_kwargs_are_read_only():
    m = M.TopKCategoricalAccuracy(k=3)
    assert m.fn is M.top_k_categorical_accuracy and m.fn_kwargs == {"k": 3}
    m.fn_kwargs["k"] = 1  # a copy: the metric is unchanged
    assert m.fn_kwargs == {"k": 3}
    with pytest.raises(AttributeError):
        m.fn = _ae


@pytest.mark.parametrize("name", ["acc", "accuracy", "mae", "rmse", "binary_accuracy", "auc"])
def test_describe_names_what_get_rebuilds(name):
    assert M.describe(M.get(name)) == name


def test_describe_keeps_the_name_after_updates_and_strips_the_output_key():
    m = M.get("mse")
    m.update_state(torch.zeros(3), torch.ones(3))
    assert M.describe(m) == "mse"
    m.output_key, m.name = "head", "head_mse"
    assert M.describe(m) == "mse"


def test_describe_classes_and_functions():
    kind, cls, config = M.describe(M.TopKCategoricalAccuracy(k=3))
    assert (kind, cls, config) == (
        "class",
        M.TopKCategoricalAccuracy,
        {"k": 3, "name": config["name"]},
    )
    assert cls(**config).fn_kwargs == {"k": 3}
    kind, cls, config = M.describe(M.Precision(thresholds=[0.3, 0.6], name="p"))
    assert (kind, cls) == ("class", M.Precision)
    assert config["thresholds"] == pytest.approx([0.3, 0.6]) and config["name"] == "p"
    assert M.describe(M.MeanMetricWrapper(_ae, name="ae")) == ("mean_of", _ae, {"name": "ae"})


def test_describe_uses_get_config_and_refuses_the_undescribable():
    class WithConfig(M.Mean):
        def get_config(self):
            return {"name": self.name}

    assert M.describe(WithConfig(name="w")) == ("class", WithConfig, {"name": "w"})

    class Opaque(M.Mean):
        pass

    with pytest.raises(TypeError, match="Expected a metric with a get_config"):
        M.describe(Opaque())


def test_state_names_device_and_submetrics():
    mean = M.Mean()
    assert mean.state_names == ("total", "count") and mean.device == torch.device("cpu")
    assert M.AUC().state_names == (
        "true_positives",
        "false_positives",
        "true_negatives",
        "false_negatives",
    )
    acc = M.get("accuracy")
    assert acc.submetrics == ()
    acc.update_state(torch.tensor([1, 0]), torch.tensor([[0.2, 0.8], [0.9, 0.1]]))
    assert acc.submetrics == (acc.resolved,)


def test_state_dict_round_trip_rebuilds_a_resolved_accuracy():
    acc = M.get("accuracy")
    acc.update_state(torch.tensor([1, 0]), torch.tensor([[0.2, 0.8], [0.2, 0.8]]))
    state = acc.state_dict()
    fresh = M.get("accuracy")
    fresh.load_state_dict(state)
    assert isinstance(fresh.resolved, M.SparseCategoricalAccuracy)
    assert _value(fresh) == pytest.approx(0.5)
    mean = M.Mean()
    mean.update_state(torch.tensor([1.0, 3.0]))
    other = M.Mean()
    other.load_state_dict(mean.state_dict())
    assert other.count == 2 and _value(other) == pytest.approx(2.0)


def test_compiled_loss_is_given_by_get_and_to_a_restored_accuracy():
    logits_loss = L.BinaryCrossentropy(from_logits=True)
    acc = M.get("accuracy", loss=logits_loss)
    assert acc.compiled_loss is logits_loss
    acc.update_state(torch.tensor([1.0, 0.0]), torch.tensor([0.3, -0.2]))  # binary, on logits
    assert _value(acc) == 1.0
    fresh = M.get("accuracy", loss=logits_loss)
    fresh.load_state_dict(acc.state_dict())
    assert isinstance(fresh.resolved, M.BinaryAccuracy)
    assert fresh.resolved.compiled_loss is logits_loss
    fresh.update_state(torch.tensor([1.0]), torch.tensor([0.1]))
    assert _value(fresh) == 1.0


class _UserMetric(M.Mean):
    """A metric defined outside kerasish: a backup may not name it."""


@pytest.mark.parametrize("name", ["get", "Metric", "_UserMetric", "os", "torch.nn.Linear", 3])
def test_load_state_dict_refuses_an_unknown_metric_class(name):
    with pytest.raises(ValueError, match="Expected the name of a kerasish metric class"):
        M.get("accuracy").load_state_dict({"resolved": {"__metric__": name, "state": {}}})


def test_public_objects_name_the_package_as_their_module():
    # Saved files name metric functions as "kerasish.metrics:<name>" (safe mode checks it).
    for obj in (M.binary_accuracy, M.mean_squared_error, M.AUC, M.Mean, M.get, M.describe):
        assert obj.__module__ == "kerasish.metrics", obj


# --------------------------------------------------------------------------- memory
def _image_model():
    import kerasish as K

    torch.manual_seed(0)
    m = K.Sequential([nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 3, 3, padding=1)])
    m.compile(optimizer="adam", loss="mse", metrics=["mae", "mse", M.RootMeanSquaredError()])
    return m


def _grad_states(metric):
    out = []
    for key, value in vars(metric).items():
        if isinstance(value, torch.Tensor) and (value.requires_grad or value.grad_fn is not None):
            out.append(f"{metric.name}.{key}")
        elif isinstance(value, M.Metric):
            out += _grad_states(value)
    return out


def test_compiled_metric_states_hold_no_autograd_graph_after_a_step():
    m = _image_model()
    x = torch.randn(8, 3, 16, 16)
    m.fit(x, x, batch_size=4, epochs=1, verbose=0)
    assert len(m.metrics) == 4
    assert [s for metric in m.metrics for s in _grad_states(metric)] == []
    m.train_on_batch(x, x)
    assert [s for metric in m.metrics for s in _grad_states(metric)] == []


def _graphs_kept_alive(model, n_batches):
    """Tensors autograd saved for backward during a fit that are still alive after it.

    Each saved tensor is recorded by a weak reference; it dies with its graph. A graph kept
    by a metric state keeps its batch's saved tensors (here the output, 3x16x16 per sample).
    """
    import gc
    import weakref

    alive = []

    def pack(t):
        if not isinstance(t, nn.Parameter):
            alive.append(weakref.ref(t))
        return t

    x = torch.randn(4 * n_batches, 8)
    y = torch.randn(4 * n_batches, 3, 16, 16)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model.fit(x, y, batch_size=4, verbose=0)
    del x, y
    gc.collect()
    return sum(r() is not None for r in alive)


def test_memory_does_not_grow_with_the_number_of_batches():
    """metrics=["mae"] on an image-output model: no batch's graph outlives its step."""
    import kerasish as K

    torch.manual_seed(0)
    m = K.Sequential([nn.Linear(8, 3 * 16 * 16), nn.Unflatten(1, (3, 16, 16))])
    m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    few, many = _graphs_kept_alive(m, 10), _graphs_kept_alive(m, 100)
    assert few == many == 0
