"""Hugging Face datasets (issue 15) as fit/evaluate/predict data, checked against the same
rows given as arrays and a hand-built torch DataLoader."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K

datasets = pytest.importorskip("datasets", reason="needs the kerasish[hf] extra (datasets)")


class Net(nn.Module):
    """A classifier called with keyword columns (``features=``), as HF models are."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 2)

    def forward(self, features):
        return self.fc(features)


class SelfLoss(Net):
    """A model that takes ``labels`` and returns its own loss, as a HF model does."""

    def forward(self, features, labels=None):
        logits = self.fc(features)
        loss = None if labels is None else nn.functional.cross_entropy(logits, labels)
        return {"loss": loss, "logits": logits}


def _rows(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    return x, y


def _dataset(label="label", text=True):
    x, y = _rows()
    cols = {"features": x.tolist(), label: y.tolist()}
    if text:
        cols["text"] = [f"row {i}" for i in range(len(y))]
    return datasets.Dataset.from_dict(cols)


def _compiled(net_cls=Net, loss="sparse_categorical_crossentropy"):
    torch.manual_seed(0)
    model = K.Model.wrap(net_cls())
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.filterwarnings("ignore:Dropped the columns")
@pytest.mark.parametrize("fmt", [None, "torch"])
def test_dataset_trains_as_the_same_arrays(fmt):
    ds = _dataset() if fmt is None else _dataset().with_format(fmt)
    x, y = _rows()
    ours = _compiled()
    torch.manual_seed(1)
    h = ours.fit(ds, batch_size=8, epochs=2, verbose=0)  # batch_size applies (5 batches)
    ref = _compiled()
    torch.manual_seed(1)
    h_ref = ref.fit(x, y, batch_size=8, epochs=2, verbose=0)  # same shuffle draws
    for a, b in zip(_weights(ours), _weights(ref)):
        torch.testing.assert_close(a, b)
    assert h.history["loss"] == pytest.approx(h_ref.history["loss"], rel=1e-6)
    assert ours.evaluate(ds, batch_size=16, verbose=0) == pytest.approx(
        ref.evaluate(x, y, batch_size=16, verbose=0), rel=1e-6
    )
    np.testing.assert_allclose(
        ours.predict(ds, batch_size=16, verbose=0), ref.predict(x, verbose=0)
    )


def test_string_columns_are_dropped_with_a_note():
    model = _compiled()
    with pytest.warns(
        UserWarning, match=r"Dropped the columns \['text'\].*Kept: \['features', 'label'\]"
    ):
        model.evaluate(_dataset(), verbose=0)
    only_text = datasets.Dataset.from_dict({"text": ["a", "b"]})
    with pytest.raises(ValueError, match="Expected a dataset with numeric columns"):
        model.predict(only_text, verbose=0)


def test_a_datasetdict_needs_a_split():
    dd = datasets.DatasetDict(train=_dataset(text=False), test=_dataset(text=False))
    model = _compiled()
    with pytest.raises(ValueError, match=r"x=dataset\['train'\].*splits \['train', 'test'\]"):
        model.fit(dd, verbose=0)
    model.fit(dd["train"], validation_data=dd["test"], batch_size=8, verbose=0)


def test_validation_split_takes_the_last_rows():
    ds = _dataset(text=False)
    model = _compiled()
    model.compile(
        optimizer=K.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy"
    )
    h = model.fit(ds, batch_size=8, validation_split=0.25, verbose=0)
    x, y = _rows()
    assert h.history["val_loss"][0] == pytest.approx(model.evaluate(x[30:], y[30:], verbose=0))


def test_labels_go_back_to_a_model_that_computes_its_loss():
    # compile(loss=None): the training step gives the split-off labels back as labels=.
    ds = _dataset(label="labels", text=False)
    model = _compiled(SelfLoss, loss=None)
    got = model.evaluate(ds, batch_size=40, return_dict=True, verbose=0)
    x, y = _rows()
    with torch.no_grad():
        logits = model.net.fc(torch.from_numpy(x))
    want = nn.functional.cross_entropy(logits, torch.from_numpy(y))
    assert got["loss"] == pytest.approx(want.item(), rel=1e-6)
    assert got["accuracy"] == pytest.approx(
        (logits.argmax(1) == torch.from_numpy(y)).float().mean().item()
    )


def _ragged():
    ids = [[1, 2, 3], [4, 5], [6], [7, 8, 9, 10]] * 4
    return datasets.Dataset.from_dict({"input_ids": ids, "label": [0, 1] * 8})


class Bag(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(11, 2)

    def forward(self, input_ids, attention_mask=None):
        e = self.emb(input_ids)
        if attention_mask is not None:
            e = e * attention_mask.unsqueeze(-1)
        return e.sum(1)


def test_ragged_rows_need_a_collator():
    model = K.Model.wrap(Bag())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(
        ValueError, match=r"need padding: pass K.data.from_hf\(dataset, collate_fn="
    ):
        model.fit(_ragged(), batch_size=4, shuffle=False, verbose=0)

    def pad(rows):
        width = max(len(r["input_ids"]) for r in rows)
        ids = [r["input_ids"] + [0] * (width - len(r["input_ids"])) for r in rows]
        mask = [[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in rows]
        return {
            "input_ids": torch.tensor(ids),
            "attention_mask": torch.tensor(mask),
            "labels": torch.tensor([r["label"] for r in rows]),
        }

    data = K.data.from_hf(_ragged(), collate_fn=pad)
    out = model.predict(data, batch_size=4, verbose=0)
    with torch.no_grad():
        want = torch.stack([model.net.emb(torch.tensor(r)).sum(0) for r in _ragged()["input_ids"]])
    np.testing.assert_allclose(out, want.numpy(), rtol=1e-6)
    model.fit(data, batch_size=4, epochs=1, verbose=0)


def test_from_hf_checks_its_arguments():
    with pytest.raises(TypeError, match="Expected a Hugging Face datasets.Dataset"):
        K.data.from_hf(np.zeros(3))
    with pytest.raises(ValueError, match=r"unknown: \['nope'\]"):
        K.data.from_hf(_dataset(), columns=["nope"])


def test_kerasish_imports_datasets_nowhere_at_import_time():
    # Only function bodies may import the optional packages (lazily, when a dataset is used).
    root = Path(K.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                if any(n.split(".")[0] in ("datasets", "transformers") for n in names):
                    offenders.append(str(path.relative_to(root)))
    assert offenders == []


@pytest.mark.filterwarnings("ignore:Dropped the columns")
def test_a_streamed_dataset_is_read_in_order():
    stream = _dataset().to_iterable_dataset()
    x, y = _rows()
    model = _compiled()
    assert model.evaluate(stream, batch_size=8, verbose=0) == pytest.approx(
        model.evaluate(x, y, batch_size=8, verbose=0), rel=1e-6
    )
    model.fit(stream, batch_size=8, epochs=2, verbose=0)
