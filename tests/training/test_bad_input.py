"""Bad input raises a clear error before any training step, and the model is untouched."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import kerasish as K
from tests.conftest import params_of, same_params


@pytest.fixture
def model():
    m = K.Sequential([nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def _raises_untouched(model, exc, match, **fit_kwargs):
    before = params_of(model)
    with pytest.raises(exc, match=match):
        model.fit(verbose=0, **fit_kwargs)
    assert same_params(before, params_of(model))


def test_fit_before_compile(blobs):
    x, y = blobs
    m = K.Sequential([nn.Linear(8, 3)])
    with pytest.raises(RuntimeError, match=r"Expected compile\(\) .*Received"):
        m.fit(x, y)


def test_length_mismatch(model, blobs):
    x, y = blobs
    _raises_untouched(
        model,
        ValueError,
        r"same number of samples.*x.shape\[0\]=240.*"
        r"y.shape\[0\]=239",
        x=x,
        y=y[:-1],
    )


def test_empty_data(model):
    _raises_untouched(
        model,
        ValueError,
        "at least one sample",
        x=np.zeros((0, 8), np.float32),
        y=np.zeros((0,), np.int64),
    )


def test_missing_y(model, blobs):
    _raises_untouched(model, ValueError, "Received: y=None", x=blobs[0])


def test_float_labels_with_sparse_loss(model, blobs):
    x, y = blobs
    _raises_untouched(model, ValueError, "integer class labels.*float", x=x, y=y.astype(np.float32))


def test_output_shape_that_does_not_fit_y(blobs):
    x, y = blobs
    m = K.Sequential([nn.Linear(8, 1)])
    m.compile(optimizer="adam", loss="mse")
    onehot = np.eye(3, dtype=np.float32)[y]
    before = params_of(m)
    with pytest.raises(ValueError, match=r"y.shape=\(240, 3\), y_pred.shape=\(240, 1\)"):
        m.fit(x, onehot, verbose=0)
    assert same_params(before, params_of(m))


def test_unknown_strings():
    m = K.Sequential([nn.Linear(8, 3)])
    with pytest.raises(ValueError, match="Could not interpret optimizer.*adam"):
        m.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="mse"):
        m.compile(optimizer="adam", loss="mean_sqared_error")
    with pytest.raises(ValueError, match="accuracy"):
        m.compile(optimizer="adam", loss="mse", metrics=["acuracy"])
    assert not getattr(m, "compiled", False)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"batch_size": 0}, "batch_size.*Received: batch_size=0"),
        ({"batch_size": -4}, "Received: batch_size=-4"),
        ({"epochs": 0}, "Received: epochs=0"),
        (
            {"validation_split": 1.0},
            r"validation_split in \[0, 1\).*Received: validation_split=1.0",
        ),
        ({"validation_split": -0.1}, "Received: validation_split=-0.1"),
        ({"initial_epoch": 5, "epochs": 2}, "initial_epoch=5"),
        ({"verbose": 3}, "Received: verbose=3"),
        ({"class_weight": [1, 2]}, "class_weight"),
        ({"data_on_device": "yes"}, "Received: data_on_device='yes'"),
        ({"prefetch_factor": 0}, "Received: prefetch_factor=0"),
    ],
)
def test_bad_arguments(model, blobs, kwargs, match):
    x, y = blobs
    before = params_of(model)
    with pytest.raises(ValueError, match=match):
        model.fit(x, y, **{"verbose": 0, **kwargs})
    assert same_params(before, params_of(model))


def test_validation_split_with_dataloader_or_generator(model, blobs):
    x, y = (torch.from_numpy(a) for a in blobs)
    loader = DataLoader(TensorDataset(x, y), batch_size=32)
    _raises_untouched(
        model, ValueError, "validation_split.*DataLoader", x=loader, validation_split=0.2
    )
    gen = ((x[i : i + 32], y[i : i + 32]) for i in range(0, 240, 32))
    _raises_untouched(model, ValueError, "validation_split", x=gen, validation_split=0.2)


def test_wrong_input_type(model):
    _raises_untouched(model, TypeError, "Expected x to be arrays.*Received: x of type int", x=3)


def test_model_untouched_includes_optimizer_state(model, blobs):
    x, y = blobs
    with pytest.raises(ValueError):
        model.fit(x, y.astype(np.float32), verbose=0)
    model.fit(x, y, epochs=1, verbose=0)
    assert model.optimizer.state  # a later good fit trains normally


# ---------------------------------------------------------------------- the table of bad inputs
# Each case: a fresh compiled model, one call with one bad input; the call must raise a
# ValueError/TypeError saying "Expected … Received …" (or, for NaN/inf data, warn so) before
# any parameter, buffer or optimizer exists or changes.

N, D, C = 64, 8, 3


def _clf():
    torch.manual_seed(0)
    m = K.Sequential([nn.Linear(D, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, C)])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def _reg():
    torch.manual_seed(0)
    m = K.Sequential([nn.Linear(D, 16), nn.ReLU(), nn.Linear(16, 1)])
    m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return m


def _cce():
    m = _clf()
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    return m


def _loss(fn):
    def build():
        m = _clf()
        m.compile(optimizer="adam", loss=fn)
        return m

    return build


MODELS = {"clf": _clf, "reg": _reg, "cce": _cce}


class _D:
    """The data of one case: float32 x (N, D), int64 labels y (N,), float targets yr (N, 1)."""

    def __init__(self):
        g = np.random.default_rng(0)
        self.x = g.normal(size=(N, D)).astype(np.float32)
        self.y = np.arange(N) % C
        self.yr = g.normal(size=(N, 1)).astype(np.float32)
        self.xt, self.yt = torch.from_numpy(self.x), torch.from_numpy(self.y)

    def loader(self, x=None, y=None, **kw):
        x = self.xt if x is None else x
        tensors = (x,) if y is False else (x, self.yt if y is None else y)
        return DataLoader(TensorDataset(*tensors), batch_size=8, **kw)

    def gen(self, x=None, y=None, n=8):
        x = self.xt if x is None else x
        y = self.yt if y is None else y
        return ((x[i : i + n], y[i : i + n]) for i in range(0, N, n))

    def at(self, i, value, a=None):
        a = (self.y if a is None else a).copy()
        a[i] = value
        return a


def _nan_x(d, value=np.nan, i=(5, 2)):
    x = d.x.copy()
    x[i] = value
    return x


class _Hooks(K.callbacks.Callback):
    pass


def _case(cid, match, exc=ValueError, op="fit", model="clf", **make):
    return pytest.param(op, model, make, exc, match, id=cid)


def _kw(**kw):
    return lambda d: {"x": d.x, "y": d.y, **kw}


BAD = [
    # --- fit's arguments
    _case("batch_size=0", "Received: batch_size=0", kw=_kw(batch_size=0)),
    _case("batch_size=-4", "Received: batch_size=-4", kw=_kw(batch_size=-4)),
    _case("batch_size=2.5", "Received: batch_size=2.5", kw=_kw(batch_size=2.5)),
    _case("batch_size=True", "Received: batch_size=True", kw=_kw(batch_size=True)),
    _case("epochs=0", "Received: epochs=0", kw=_kw(epochs=0)),
    _case("epochs=-1", "Received: epochs=-1", kw=_kw(epochs=-1)),
    _case("epochs='3'", "Received: epochs='3'", kw=_kw(epochs="3")),
    _case("validation_split=1", r"Received: validation_split=1", kw=_kw(validation_split=1.0)),
    _case("validation_split<0", "Received: validation_split=-0.1", kw=_kw(validation_split=-0.1)),
    _case(
        "validation_split=str", "Received: validation_split='0.1'", kw=_kw(validation_split="0.1")
    ),
    _case("validation_split=0.999", "leave samples", kw=_kw(validation_split=0.999)),
    _case("initial_epoch>epochs", "initial_epoch=5", kw=_kw(initial_epoch=5, epochs=2)),
    _case("initial_epoch<0", "initial_epoch=-1", kw=_kw(initial_epoch=-1)),
    _case("verbose=3", "Received: verbose=3", kw=_kw(verbose=3)),
    _case("data_on_device", "Received: data_on_device='yes'", kw=_kw(data_on_device="yes")),
    _case("prefetch_factor=0", "Received: prefetch_factor=0", kw=_kw(prefetch_factor=0)),
    _case("num_workers=-1", "Received: num_workers=-1", kw=_kw(num_workers=-1)),
    _case("steps_per_epoch=0", "Received: steps_per_epoch=0", kw=_kw(steps_per_epoch=0)),
    _case("validation_steps=0", "Received: validation_steps=0", kw=_kw(validation_steps=0)),
    _case("validation_freq=0", "Received: validation_freq=0", kw=_kw(validation_freq=0)),
    _case("validation_freq=str", "Received: validation_freq='2'", kw=_kw(validation_freq="2")),
    _case("accumulation=0", "gradient_accumulation_steps=0", kw=_kw(gradient_accumulation_steps=0)),
    _case("shuffle='yes'", "Received: shuffle='yes'", kw=_kw(shuffle="yes")),
    _case("shuffle=None", "Received: shuffle=None", kw=_kw(shuffle=None)),
    _case("shuffle=1", "Received: shuffle=1", kw=_kw(shuffle=1)),
    # --- labels (one pass over every label, train and validation)
    _case(
        "label=C at the end",
        r"\[0, 3\).*Received: labels in \[0, 3\]",
        kw=_kw(y=None),
        y=lambda d: d.at(-1, C),
    ),
    _case("label=-1 in the middle", r"Received: labels in \[-1, 2\]", y=lambda d: d.at(30, -1)),
    _case("label=100", r"Received: labels in \[0, 100\]", y=lambda d: d.at(N // 2, 100)),
    _case("float labels", "integer class labels.*float", y=lambda d: d.y.astype(np.float32)),
    _case("half labels", "integer class labels", y=lambda d: d.y + 0.5),
    _case("bool labels", "integer class labels", y=lambda d: d.y > 0),
    _case("one-hot with sparse loss", "integer class labels", y=lambda d: np.eye(C)[d.y]),
    _case(
        "int one-hot with sparse loss",
        r"Expected y of shape \(64,\)",
        y=lambda d: np.eye(C, dtype=np.int64)[d.y],
    ),
    _case("labels (N, 2)", r"Expected y of shape", y=lambda d: np.stack([d.y, d.y], 1)),
    _case(
        "val label=C",
        r"labels in \[0, 3\].*validation_data",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": (d.x, d.at(-1, C))},
    ),
    _case(
        "val label=-2",
        r"labels in \[-2, 2\].*validation_data",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": (d.x, d.at(9, -2))},
    ),
    _case(
        "val float labels",
        "integer class labels.*validation_data",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": (d.x, d.y * 1.0)},
    ),
    _case(
        "split label out of range",
        r"labels in \[0, 7\]",
        kw=lambda d: {"x": d.x, "y": d.at(-1, 7), "validation_split": 0.25},
    ),
    _case(
        "loader label out of range",
        r"labels in \[9, 9\]",
        kw=lambda d: {"x": d.loader(y=torch.full((N,), 9))},
    ),
    _case("cce with labels", "Expected y of the same shape as y_pred", model="cce"),
    _case(
        "mse (N, 3) vs (N, 1)",
        r"Received: y.shape=\(64, 3\)",
        model="reg",
        y=lambda d: np.zeros((N, 3), np.float32),
    ),
    # --- lengths and emptiness
    _case("y shorter", r"x.shape\[0\]=64.*y.shape\[0\]=63", y=lambda d: d.y[:-1]),
    _case(
        "sample_weight shorter", "sample_weight.shape\\[0\\]=10", kw=_kw(sample_weight=np.ones(10))
    ),
    _case("empty x", "at least one sample", kw=lambda d: {"x": d.x[:0], "y": d.y[:0]}),
    _case(
        "x list unequal", "same number of samples", kw=lambda d: {"x": [d.x, d.x[:10]], "y": d.y}
    ),
    _case(
        "val y shorter",
        "validation_data and y",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": (d.x, d.y[:5])},
    ),
    # --- missing or misplaced targets
    _case("y=None", "Received: y=None", kw=lambda d: {"x": d.x}),
    _case("x=None", "Received: x=None", kw=lambda d: {"x": None, "y": d.y}),
    _case("loader without y", "carry targets", kw=lambda d: {"x": d.loader(y=False)}),
    _case(
        "dataset with y", "Expected y=None", kw=lambda d: {"x": TensorDataset(d.xt, d.yt), "y": d.y}
    ),
    _case("generator with y", "Expected y=None", kw=lambda d: {"x": d.gen(), "y": d.y}),
    _case(
        "loader with sample_weight",
        "Expected sample_weight=None",
        kw=lambda d: {"x": d.loader(), "sample_weight": np.ones(N)},
    ),
    # --- validation_data
    _case(
        "val (x,)",
        "Received: a tuple of 1 item",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": (d.x,)},
    ),
    _case(
        "val 4-tuple",
        "Received: a tuple of 4 item",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": (d.x, d.y, d.y, d.y)},
    ),
    _case("val x only", "carry targets", kw=lambda d: {"x": d.x, "y": d.y, "validation_data": d.x}),
    _case(
        "val features",
        r"validation_data.*Linear 'layers.0'.*\(2, 7\)",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": (d.x[:, :7], d.y)},
    ),
    _case(
        "val loader features",
        r"validation_data.*mat1 and mat2",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": d.loader(x=d.xt[:, :5])},
    ),
    _case(
        "val generator features",
        r"validation_data.*mat1 and mat2",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": d.gen(x=d.xt[:, :5])},
    ),
    _case(
        "val generator without y",
        "validation_data to carry targets|batches of validation_data to carry targets",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": ((d.xt[:8],) for _ in range(3))},
    ),
    _case(
        "val one-shot generator, 3 epochs",
        "one-shot generator.*validation_steps=None",
        kw=lambda d: {"x": d.x, "y": d.y, "epochs": 3, "validation_data": d.gen()},
    ),
    _case(
        "val generator labels",
        r"labels in \[5, 5\]",
        kw=lambda d: {"x": d.x, "y": d.y, "validation_data": d.gen(y=torch.full((N,), 5))},
    ),
    _case(
        "split with loader",
        "validation_split.*DataLoader",
        kw=lambda d: {"x": d.loader(), "validation_split": 0.2},
    ),
    _case(
        "split with generator",
        "validation_split",
        kw=lambda d: {"x": d.gen(), "validation_split": 0.2},
    ),
    # --- class_weight
    _case("class_weight list", "class_weight", kw=_kw(class_weight=[1, 2])),
    _case("class_weight empty", "class_weight", kw=_kw(class_weight={})),
    _case(
        "class_weight missing class",
        r"no weight for classes \[2\]",
        kw=_kw(class_weight={0: 1.0, 1: 2.0}),
    ),
    _case(
        "class_weight negative key",
        r"Received: keys \[-1\]",
        kw=_kw(class_weight={0: 1.0, 1: 1.0, 2: 1.0, -1: 3.0}),
    ),
    _case(
        "class_weight str key",
        r"Received: keys \['a'\]",
        kw=_kw(class_weight={0: 1.0, 1: 1.0, 2: 1.0, "a": 3.0}),
    ),
    _case(
        "class_weight float key",
        r"Received: keys \[1.5\]",
        kw=_kw(class_weight={0: 1.0, 1.5: 1.0, 2: 1.0}),
    ),
    _case(
        "class_weight bool key",
        r"Received: keys \[True\]",
        kw=_kw(class_weight={True: 1.0, 0: 1.0, 2: 1.0}),
    ),
    _case(
        "class_weight NaN",
        r"finite numbers. Received: \{1: nan\}",
        kw=_kw(class_weight={0: 1.0, 1: float("nan"), 2: 1.0}),
    ),
    _case(
        "class_weight inf",
        r"Received: \{2: inf\}",
        kw=_kw(class_weight={0: 1.0, 1: 1.0, 2: float("inf")}),
    ),
    _case(
        "class_weight str weight",
        r"Received: \{0: 'x'\}",
        kw=_kw(class_weight={0: "x", 1: 1.0, 2: 1.0}),
    ),
    # (class_weight weighs training batches only, as Keras: validation classes need none)
    _case(
        "class_weight misses a loader class",
        r"no weight for classes \[1\]",
        kw=lambda d: {"x": d.loader(), "class_weight": {0: 1.0, 2: 1.0}},
    ),
    # --- sample weights
    _case(
        "sample_weight NaN",
        "1 NaN/inf values in sample_weight",
        kw=lambda d: {"x": d.x, "y": d.y, "sample_weight": d.at(3, np.nan, np.ones(N))},
    ),
    _case(
        "sample_weight inf",
        "NaN/inf values in sample_weight",
        kw=lambda d: {"x": d.x, "y": d.y, "sample_weight": d.at(3, np.inf, np.ones(N))},
    ),
    _case(
        "val sample_weight NaN",
        "sample_weight of validation_data",
        kw=lambda d: {
            "x": d.x,
            "y": d.y,
            "validation_data": (d.x, d.y, d.at(0, np.nan, np.ones(N))),
        },
    ),
    # --- shapes and types of x
    _case(
        "7 features",
        r"Expected x to fit the model.*Linear 'layers.0'.*mat1 and mat2",
        kw=lambda d: {"x": d.x[:, :7], "y": d.y},
    ),
    _case(
        "3-D x",
        r"Linear 'layers.0'|BatchNorm1d 'layers.1'",
        kw=lambda d: {"x": d.x[:, :, None].repeat(2, 2), "y": d.y},
    ),
    _case(
        "loader features",
        r"Expected x to fit.*shape \(8, 5\)",  # the first real batch (no extra forward)
        kw=lambda d: {"x": d.loader(x=d.xt[:, :5])},
    ),
    _case(
        "generator features",
        r"Expected x to fit.*mat1 and mat2",
        kw=lambda d: {"x": d.gen(x=d.xt[:, :5])},
    ),
    _case(
        "dict x for a positional model",
        "Expected x to fit",
        exc=TypeError,
        kw=lambda d: {"x": {"a": d.x}, "y": d.y},
    ),
    _case(
        "x=3",
        "Expected x to be arrays.*Received: x of type int",
        exc=TypeError,
        kw=lambda d: {"x": 3, "y": d.y},
    ),
    _case("x='abc'", "Received: x of type str", exc=TypeError, kw=lambda d: {"x": "abc", "y": d.y}),
    _case("x complex", "Expected x to fit", kw=lambda d: {"x": d.x.astype(np.complex64), "y": d.y}),
    # --- callbacks
    _case(
        "callback class",
        r"call the class: EarlyStopping.*Received: the class",
        exc=TypeError,
        kw=_kw(callbacks=[K.callbacks.EarlyStopping]),
    ),
    _case(
        "single callback class",
        "Received: the class ModelCheckpoint",
        exc=TypeError,
        kw=_kw(callbacks=K.callbacks.ModelCheckpoint),
    ),
    _case(
        "callback object()",
        "Callback objects. Received",
        exc=TypeError,
        kw=_kw(callbacks=[object()]),
    ),
    _case("callback 3", "Callback objects. Received: 3", exc=TypeError, kw=_kw(callbacks=3)),
    # --- losses of the wrong signature
    _case(
        "loss(y)",
        "loss.y_true, y_pred.*takes 1 positional",
        exc=TypeError,
        model=_loss(lambda y: y.sum()),
    ),
    _case(
        "loss(a, b, c)",
        "loss.y_true, y_pred.*missing 1 required",
        exc=TypeError,
        model=_loss(lambda a, b, c: (a - b).sum()),
    ),
    _case("loss returns float", "return a tensor", exc=TypeError, model=_loss(lambda y, p: 1.0)),
    # --- evaluate / predict / train_on_batch
    _case("evaluate float labels", "integer class labels", op="evaluate", y=lambda d: d.y + 0.25),
    _case("evaluate label=C", r"labels in \[0, 3\]", op="evaluate", y=lambda d: d.at(-1, C)),
    _case("evaluate steps=0", "Received: steps=0", op="evaluate", kw=_kw(steps=0)),
    _case("evaluate batch_size=0", "Received: batch_size=0", op="evaluate", kw=_kw(batch_size=0)),
    _case(
        "evaluate features",
        "Expected x to fit",
        op="evaluate",
        kw=lambda d: {"x": d.x[:, :7], "y": d.y},
    ),
    _case(
        "evaluate callback class",
        "Received: the class",
        exc=TypeError,
        op="evaluate",
        kw=_kw(callbacks=[K.callbacks.History]),
    ),
    _case(
        "predict steps=0", "Received: steps=0", op="predict", kw=lambda d: {"x": d.x, "steps": 0}
    ),
    _case("predict features", "Expected x to fit", op="predict", kw=lambda d: {"x": d.x[:, :7]}),
    _case(
        "predict batch_size=-1",
        "Received: batch_size=-1",
        op="predict",
        kw=lambda d: {"x": d.x, "batch_size": -1},
    ),
    _case(
        "train_on_batch float labels",
        "integer class labels",
        op="train_on_batch",
        y=lambda d: d.y * 1.0,
    ),
    _case(
        "train_on_batch class_weight",
        r"no weight for classes \[2\]",
        op="train_on_batch",
        kw=_kw(class_weight={0: 1.0, 1: 1.0}),
    ),
]

NAN_WARNINGS = [
    pytest.param(
        lambda d: {"x": _nan_x(d), "y": d.y}, r"1 NaN/inf values in x \(of 512\)", "clf", id="x NaN"
    ),
    pytest.param(
        lambda d: {"x": _nan_x(d, np.inf), "y": d.y}, "NaN/inf values in x", "clf", id="x inf"
    ),
    pytest.param(
        lambda d: {"x": [d.x, _nan_x(d, -np.inf)], "y": d.y},
        r"values in x\[1\]",
        "two_inputs",
        id="x[1] -inf",
    ),
    pytest.param(
        lambda d: {"x": d.x, "y": d.at(4, np.nan, d.yr)}, "NaN/inf values in y", "reg", id="y NaN"
    ),
    pytest.param(
        lambda d: {"x": d.x, "y": d.y, "validation_data": (_nan_x(d), d.y)},
        "values in validation_data",
        "clf",
        id="val x NaN",
    ),
]


def _two_inputs():
    class Two(K.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(D, C), nn.Linear(D, C)

        def forward(self, a, b):
            return self.a(a) + self.b(b)

    torch.manual_seed(0)
    m = Two()
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return m


MODELS["two_inputs"] = _two_inputs


def _build(model):
    return MODELS[model]() if isinstance(model, str) else model()


def _call(m, op, kwargs):
    if op == "train_on_batch":
        kwargs.pop("verbose", None)
        return m.train_on_batch(**kwargs)
    return getattr(m, op)(**kwargs)


def _state(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


@pytest.mark.parametrize("op,model,make,exc,match", BAD)
def test_bad_input_raises_before_anything_changes(op, model, make, exc, match):
    d = _D()
    m = _build(model)
    kwargs = make["kw"](d) if "kw" in make else {"x": d.x, "y": d.y}
    if "y" in make:
        kwargs["y"] = make["y"](d)
    if op != "train_on_batch":
        kwargs.setdefault("verbose", 0)
    before = _state(m)
    with pytest.raises(exc, match=match) as info:
        _call(m, op, kwargs)
    text = str(info.value)
    assert "Expected" in text and "Received" in text, text
    assert m.optimizer is None  # no optimizer was built, so no step ran
    after = m.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_table_has_at_least_80_cases():
    assert len(BAD) + len(NAN_WARNINGS) >= 80


@pytest.mark.parametrize("make,match,model", NAN_WARNINGS)
def test_non_finite_data_warns_before_training(make, match, model):
    d = _D()
    m = _build(model)
    before = _state(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("error", message="Expected finite values")
        with pytest.raises(UserWarning, match=match) as info:
            m.fit(verbose=0, **make(d))
    assert "Received" in str(info.value)
    assert m.optimizer is None
    assert all(torch.equal(v, m.state_dict()[k]) for k, v in before.items())
    with warnings.catch_warnings(record=True) as seen:  # as a warning, training goes on
        warnings.simplefilter("always")
        m.fit(verbose=0, **make(d))
    assert any("Expected finite values" in str(w.message) for w in seen)
    assert m.optimizer is not None
