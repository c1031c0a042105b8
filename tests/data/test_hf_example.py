"""examples/hf_text_classification.py: a tiny BERT trained offline with loss=None on a
synthetic Hugging Face dataset; the transformers collator it uses pads per batch."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import kerasish as K

pytest.importorskip("datasets", reason="needs the kerasish[hf] extra (datasets)")
transformers = pytest.importorskip("transformers", reason="needs the kerasish[hf] extra")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "hf_text_classification.py"


def _load():
    spec = importlib.util.spec_from_file_location("hf_text_classification", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_collator_pads_each_batch_to_its_longest_row():
    import datasets

    tok = _load().build_tokenizer()
    ds = datasets.Dataset.from_dict(
        {"text": ["good film", "bad bad plot and actor"], "label": [1, 0]}
    )
    ds = ds.map(lambda r: tok(r["text"]), batched=True, remove_columns=["text"])
    data = K.data.from_hf(ds, collate_fn=transformers.DataCollatorWithPadding(tok))
    ((x, y, _),) = list(K.data.adapt(data, batch_size=2))
    assert sorted(x) == ["attention_mask", "input_ids"]  # "label" became y
    assert tuple(x["input_ids"].shape) == (2, 7) and y.tolist() == [1, 0]  # [CLS] 5 words [SEP]
    assert x["attention_mask"].sum(1).tolist() == [4, 7]
    assert x["input_ids"][0, 4:].tolist() == [tok.pad_token_id] * 3


def test_example_trains_evaluates_predicts_saves_and_reloads(tmp_path, capsys):
    out = _load().main(["--quick", "--out", str(tmp_path / "clf")])
    history = out["history"]
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history["loss"]) == 2
    assert out["evaluate"]["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5)
    assert out["logits"].shape == (64, 2)  # a quarter of the 256 rows, 2 classes
    saved = sorted(p.name for p in (tmp_path / "clf").iterdir())
    for name in ("config.json", "model.safetensors", "model.kerasish", "tokenizer.json"):
        assert name in saved
    assert sorted(out["reloaded"]) == ["from_pretrained", "load_model"]
    for got in out["reloaded"].values():  # the saved weights, not new ones
        np.testing.assert_array_equal(got, out["logits"])
    restored = out["restored"]
    assert type(restored.net) is transformers.BertForSequenceClassification
    assert restored.compiled and len(restored.optimizer.state_dict()["state"]) > 0
    text = capsys.readouterr().out
    assert "test accuracy" in text and text.count("same logits True") == 2


def test_help_trains_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        _load().main(["--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: ")
    assert list(tmp_path.iterdir()) == []
