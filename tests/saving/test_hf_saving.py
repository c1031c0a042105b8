"""Wrapped Hugging Face models (issue 15): model.save / load_model without model=, safe mode's
refusals for crafted files, and save_pretrained directories that transformers loads.

The models are tiny BERTs built from a config (nothing is downloaded); the references are
transformers' own ``from_pretrained`` and the model the file was written from."""

from __future__ import annotations

import json
import os
import sys
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.saving import hf
from tests.saving.edit import edit_json, rewrite

transformers = pytest.importorskip("transformers", reason="needs the kerasish[hf] extra")

BERT_MODULE = "transformers.models.bert.modeling_bert"


class MyBert(transformers.BertForSequenceClassification):
    """A user's subclass: not exported by transformers, so safe mode needs custom_objects."""


def _config(**kwargs):
    return transformers.BertConfig(
        vocab_size=100,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=2,
        hidden_dropout_prob=0.0,  # training continues exactly: no dropout masks to match
        attention_probs_dropout_prob=0.0,
        **kwargs,
    )


def _net(cls=transformers.BertForSequenceClassification, seed=0, **kwargs):
    torch.manual_seed(seed)
    return cls(_config(**kwargs))


def _data(n=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 100, (n, 10), generator=gen)
    mask = torch.ones(n, 10, dtype=torch.long)
    mask[::3, 7:] = 0  # some padded rows
    return {"input_ids": ids, "attention_mask": mask}, torch.randint(0, 2, (n,), generator=gen)


def _compiled(net=None):
    model = K.Model.wrap(net if net is not None else _net())
    with pytest.warns(UserWarning, match="compile\\(\\) got no loss"):
        model.compile(optimizer="adamw", loss=None, metrics=["accuracy"], device="cpu")
    return model


def _fit(model, x, y, epochs=1):
    torch.manual_seed(1)
    return model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0)


def _assert_same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert sa[k].dtype == sb[k].dtype and torch.equal(sa[k], sb[k]), k


@pytest.fixture
def saved(tmp_path):
    """A trained wrapped BERT, its file and its data."""
    x, y = _data()
    model = _compiled()
    _fit(model, x, y)
    path = tmp_path / "bert.kerasish"
    model.save(path)
    return model, path, x, y


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("load", [K.saving.load_model, K.models.load_model])
def test_round_trip_without_model_argument(saved, load):
    model, path, x, _ = saved
    restored = load(path)
    assert type(restored.net) is transformers.BertForSequenceClassification
    assert restored.net is not model.net
    _assert_same_state(restored, model)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert restored.compiled and restored.compile_config.loss is None
    assert isinstance(restored.compile_config.optimizer, K.optimizers.AdamW)
    assert [m.name for m in restored.compile_config.metrics] == ["accuracy"]
    got, want = restored.optimizer.state_dict(), model.optimizer.state_dict()
    assert got["state"].keys() == want["state"].keys() and len(got["state"]) > 0
    for i, state in want["state"].items():
        assert torch.equal(got["state"][i]["exp_avg_sq"], state["exp_avg_sq"])


def test_training_resumes_as_if_never_saved(saved):
    model, path, x, y = saved
    restored = K.saving.load_model(path)
    resumed = _fit(restored, x, y).history
    uninterrupted = _fit(model, x, y).history
    assert resumed["loss"] == pytest.approx(uninterrupted["loss"], rel=1e-6)
    for (name, a), b in zip(restored.named_parameters(), model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7, msg=name)


def test_file_describes_the_class_and_its_config_as_json(saved):
    model, path, _, _ = saved
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        config = json.loads(zf.read("config.json"))
        meta = json.loads(zf.read("metadata.json"))
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".bin"))]
    assert meta["architecture_missing_because"] is None
    entry = config["architecture"]["config"]["net"]["__module__"]
    assert entry["package"] == "transformers"
    assert (entry["module"], entry["class_name"]) == (BERT_MODULE, "BertForSequenceClassification")
    expected = json.loads(model.net.config.to_json_string(use_diff=False))
    assert entry["config"] == {**expected, "dtype": "float32"}
    assert entry["transformers_version"] == transformers.__version__
    rebuilt = K.saving.configs.model_from_json(model.to_json())  # Keras's JSON round trip too
    assert type(rebuilt.net) is transformers.BertForSequenceClassification
    assert json.loads(rebuilt.net.config.to_json_string(use_diff=False)) == entry["config"]


def test_tied_weights_and_dtype_survive(tmp_path):
    net = _net(transformers.BertForMaskedLM).to(torch.bfloat16)
    assert net.cls.predictions.decoder.weight is net.bert.embeddings.word_embeddings.weight
    model = K.Model.wrap(net)
    model.save(tmp_path / "mlm.kerasish")
    restored = K.saving.load_model(tmp_path / "mlm.kerasish", compile=False)
    got = restored.net
    assert type(got) is transformers.BertForMaskedLM and got.dtype == torch.bfloat16
    assert got.cls.predictions.decoder.weight is got.bert.embeddings.word_embeddings.weight
    _assert_same_state(restored, model)
    x, _ = _data(4)
    with torch.no_grad():
        torch.testing.assert_close(got.eval()(**x).logits, net.eval()(**x).logits, rtol=0, atol=0)


def test_model_checkpoint_files_load_without_model_argument(tmp_path):
    x, y = _data()
    model = _compiled()
    ckpt = K.callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}.kerasish"))
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[ckpt])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-1.kerasish", "ckpt-2.kerasish"]
    restored = K.saving.load_model(tmp_path / "ckpt-2.kerasish")
    _assert_same_state(restored, model)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


# --------------------------------------------------------------------------- safe mode


def _crafted(saved, tmp_path, edit):
    """The saved file with ``edit(entry)`` applied to the HF model's entry in config.json."""
    _, path, _, _ = saved

    def apply(cfg):
        edit(cfg["architecture"]["config"]["net"]["__module__"])

    return rewrite(path, tmp_path / "crafted.kerasish", edit_json("config.json", apply))


def _names(module, class_name):
    def edit(entry):
        entry["module"], entry["class_name"] = module, class_name

    return edit


@pytest.mark.parametrize(
    "module, class_name, why",
    [
        ("os", "system", "not part of the transformers package"),
        ("subprocess", "Popen", "not part of the transformers package"),
        ("builtins", "eval", "not part of the transformers package"),
        ("transformers", "pipeline", "not a transformers.PreTrainedModel subclass"),
        ("transformers", "BertConfig", "not a transformers.PreTrainedModel subclass"),
        (BERT_MODULE, "PreTrainedTokenizerFast", "not a transformers.PreTrainedModel subclass"),
        (BERT_MODULE, "os.system", "not a public class name"),
        (BERT_MODULE, "_init_weights", "not a public class name"),
        (BERT_MODULE, "NoSuchModel", "transformers has no attribute 'NoSuchModel'"),
        ("transformers_evil", "BertForSequenceClassification", "not part of the transformers"),
    ],
)
def test_crafted_classes_are_refused(saved, tmp_path, module, class_name, why):
    crafted = _crafted(saved, tmp_path, _names(module, class_name))
    with pytest.raises(ValueError, match="Expected a transformers.PreTrainedModel class") as info:
        K.saving.load_model(crafted)
    message = str(info.value)
    assert f"Received: module={module!r}, class_name={class_name!r}" in message
    assert why in message and "safe_mode=False" in message


def test_a_module_path_in_the_file_is_never_imported(saved, tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "transformers_payload.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n"
        "from transformers import BertForSequenceClassification as Model\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in ("transformers_payload", "transformers.transformers_payload"):
        crafted = _crafted(saved, tmp_path, _names(module, "Model"))
        with pytest.raises(ValueError, match="Expected a transformers.PreTrainedModel class"):
            K.saving.load_model(crafted)
    assert not marker.exists() and "transformers_payload" not in sys.modules


def test_a_users_subclass_loads_through_custom_objects(tmp_path):
    x, _ = _data(4)
    model = K.Model.wrap(_net(MyBert))
    model.save(tmp_path / "mine.kerasish")
    with pytest.raises(ValueError, match="MyBert") as info:
        K.saving.load_model(tmp_path / "mine.kerasish")
    assert "custom_objects={'MyBert'" in str(info.value)
    for kwargs in ({"custom_objects": {"MyBert": MyBert}}, {"safe_mode": False}):
        restored = K.saving.load_model(tmp_path / "mine.kerasish", **kwargs)
        assert type(restored.net) is MyBert
        np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def _set(key, value, sub=False):
    def edit(entry):
        target = entry["config"]
        if sub:  # hidden in a nested config, as multimodal models have them
            target = target.setdefault("text_config", {"model_type": "bert"})
        target[key] = value

    return edit


@pytest.mark.parametrize(
    "edit, match",
    [
        (_set("auto_map", {"AutoModel": "evil.Model"}), "auto_map=.*kerasish never runs remote"),
        (_set("trust_remote_code", True), "trust_remote_code=True"),
        (_set("auto_map", {"AutoModel": "evil--x.Model"}, sub=True), "auto_map="),
        (_set("attn_implementation", "kernels-community/evil"), "a kernel loaded from the Hub"),
        (_set("_attn_implementation", "evil/kernel:fn"), "a kernel loaded from the Hub"),
        (_set("dtype", "load"), "Expected dtype to name a torch dtype"),
        (_set("model_type", "gpt2"), "Expected the config of a BertForSequenceClassification"),
    ],
    ids=[
        "auto_map",
        "trust_remote_code",
        "nested_auto_map",
        "hub_kernel",
        "hub_kernel_fn",
        "dtype",
        "model_type",
    ],  # fmt: skip
)
def test_crafted_configs_are_refused(saved, tmp_path, edit, match):
    crafted = _crafted(saved, tmp_path, edit)
    with pytest.raises(ValueError, match=match) as info:
        K.saving.load_model(crafted)
    assert "Received:" in str(info.value)


def _timm(**config):
    """The entry as transformers' TimmWrapperModel, whose __init__ gives ``model_args`` to
    ``timm.create_model`` (a ``checkpoint_path`` there is ``torch.load``-ed)."""

    def edit(entry):
        entry["module"], entry["class_name"] = "transformers", "TimmWrapperModel"
        entry["config"] = {"model_type": "timm_wrapper", "architecture": "resnet18", **config}

    return edit


@pytest.mark.parametrize(
    "edit, match",
    [
        (_timm(model_args={"checkpoint_path": "/etc/passwd"}), "model_args="),
        (_timm(model_args={"pretrained": True}), "model_args="),
        (_timm(architecture="hf-hub:attacker/x"), "a timm model name"),
        (_timm(architecture="local-dir:/tmp"), "a timm model name"),
        (_set("backbone", "attacker/evil-backbone"), "backbone='attacker/evil-backbone'"),
        (_set("use_pretrained_backbone", True), "use_pretrained_backbone=True"),
        (_set("attn_implementation", {"": "attacker/evil"}), "a kernel loaded from the Hub"),
        (_set("attn_implementation", "flash_attention_2"), "a kernel loaded from the Hub"),
        (_set("experts_implementation", "deepgemm", sub=True), "a kernel loaded from the Hub"),
        (_set("dtype", 5), "Expected dtype to name a torch dtype"),
        (_names("transformers", "PreTrainedModel"), "Expected a model class with a config"),
        (_set("hidden_size", "16"), "Expected a config that builds a BertForSequence"),
    ],
    ids=[
        "timm_checkpoint_path",
        "timm_pretrained",
        "timm_hub_architecture",
        "timm_local_dir",
        "backbone_by_name",
        "pretrained_backbone",
        "kernel_in_a_dict",
        "flash_fallback_kernel",
        "experts_kernel",
        "dtype_not_a_string",
        "no_config_class",
        "config_transformers_rejects",
    ],  # fmt: skip
)
def test_configs_that_load_files_or_reach_the_hub_are_refused(saved, tmp_path, edit, match):
    # Found by an attack review: each built (or tried the network) in safe mode before.
    crafted = _crafted(saved, tmp_path, edit)
    with pytest.raises(ValueError, match=match) as info:
        K.saving.load_model(crafted)
    assert "Expected" in str(info.value) and "Received:" in str(info.value)


def test_safe_mode_false_loads_a_config_naming_remote_code_without_running_it(saved, tmp_path):
    model, _, x, _ = saved
    crafted = _crafted(saved, tmp_path, _set("auto_map", {"AutoModel": "evil.Model"}))
    restored = K.saving.load_model(crafted, safe_mode=False)
    assert type(restored.net) is transformers.BertForSequenceClassification
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_malformed_entry_is_refused(saved, tmp_path):
    crafted = _crafted(saved, tmp_path, lambda entry: entry.pop("config"))
    with pytest.raises(ValueError, match="Expected a Hugging Face model entry"):
        K.saving.load_model(crafted)


def test_without_transformers_the_error_names_the_extra(saved, monkeypatch):
    _, path, _, _ = saved
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers fails
    with pytest.raises(ImportError, match=r"kerasish\[hf\]"):
        K.saving.load_model(path)
    with pytest.raises(ImportError, match=r"kerasish\[hf\]"):
        K.Model.wrap(nn.Linear(2, 2)).save_pretrained("unused")


# --------------------------------------------------------------------------- save_pretrained


def _logits(net, x):
    with torch.no_grad():
        return net.eval()(**x).logits.numpy()


def test_save_pretrained_loads_with_from_pretrained(saved, tmp_path):
    model, _, x, _ = saved
    model.save_pretrained(tmp_path / "bert")
    assert sorted(os.listdir(tmp_path / "bert")) == ["config.json", "model.safetensors"]
    expected = model.predict(x, verbose=0)
    for cls in (transformers.AutoModelForSequenceClassification, type(model.net)):
        net = cls.from_pretrained(tmp_path / "bert")
        assert type(net) is transformers.BertForSequenceClassification
        np.testing.assert_array_equal(_logits(net, x), expected)
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []  # no temporary left


def test_export_format_hf_writes_the_same_directory(saved, tmp_path):
    model, _, x, _ = saved
    model.export(tmp_path / "bert", format="hf")
    net = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / "bert")
    np.testing.assert_array_equal(_logits(net, x), model.predict(x, verbose=0))


def test_save_pretrained_over_a_directory_keeps_other_files_and_drops_old_shards(saved, tmp_path):
    model, _, x, _ = saved
    out = tmp_path / "bert"
    model.save_pretrained(out, max_shard_size="20KB")
    shards = sorted(n for n in os.listdir(out) if n.startswith("model-"))
    assert len(shards) > 1 and (out / "model.safetensors.index.json").exists()
    (out / "tokenizer.json").write_text("{}")  # saved by a tokenizer: must stay
    other = _net(seed=3)
    K.Model.wrap(other).save_pretrained(out)
    assert sorted(os.listdir(out)) == ["config.json", "model.safetensors", "tokenizer.json"]
    net = transformers.AutoModelForSequenceClassification.from_pretrained(out)
    np.testing.assert_array_equal(_logits(net, x), _logits(other, x))


def test_an_interrupted_save_pretrained_leaves_the_old_directory(saved, tmp_path, monkeypatch):
    model, _, _, _ = saved
    out = tmp_path / "bert"
    model.save_pretrained(out)
    before = {n: (out / n).read_bytes() for n in os.listdir(out)}
    original = transformers.PreTrainedModel.save_pretrained

    def crash(self, directory, **kwargs):
        original(self, directory, **kwargs)
        with open(os.path.join(directory, "model.safetensors"), "r+b") as f:
            f.truncate(100)  # half written
        raise KeyboardInterrupt

    monkeypatch.setattr(transformers.PreTrainedModel, "save_pretrained", crash)
    with pytest.raises(KeyboardInterrupt):
        K.Model.wrap(_net(seed=3)).save_pretrained(out)
    assert {n: (out / n).read_bytes() for n in os.listdir(out)} == before
    assert sorted(os.listdir(tmp_path)) == ["bert", "bert.kerasish"]


def test_save_pretrained_refuses_what_it_cannot_write(saved, tmp_path):
    model, _, _, _ = saved
    with pytest.raises(TypeError, match="Expected a model wrapping a transformers PreTrainedModel"):
        K.Sequential([nn.Linear(2, 2)]).save_pretrained(tmp_path / "seq")
    with pytest.raises(TypeError, match="Received: model of type Wrapped wrapping Linear"):
        K.Model.wrap(nn.Linear(2, 2)).export(tmp_path / "lin", format="hf")
    with pytest.raises(ValueError, match="Expected push_to_hub=False"):
        model.save_pretrained(tmp_path / "hub", push_to_hub=True)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="Expected a directory"):
        model.save_pretrained(tmp_path / "file")
    assert not (tmp_path / "seq").exists() and not (tmp_path / "hub").exists()


def test_save_pretrained_on_a_non_chief_rank_writes_nothing(saved, tmp_path):
    model, _, _, _ = saved
    model.save_pretrained(tmp_path / "bert", is_main_process=False)
    assert not (tmp_path / "bert").exists()


def test_is_pretrained_model_never_imports_transformers(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    assert not hf.is_pretrained_model(nn.Linear(2, 2))


# --------------------------------------------------------------------------- FSDP


def _fsdp_worker(out: str) -> dict:
    from kerasish import distribute

    x, y = _data(32)
    model = K.Model.wrap(_net())
    model.compile(optimizer="adamw", loss=None, distribute="fsdp")
    rank, world = distribute.get_rank(), distribute.get_world_size()
    model.fit({k: v[rank::world] for k, v in x.items()}, y[rank::world], batch_size=4, verbose=0)
    model.save(os.path.join(out, "fsdp.kerasish"))  # every rank calls them; rank 0 writes
    model.save_pretrained(os.path.join(out, "fsdp-dir"))
    return {"weights": distribute.full_state_dict(model)}


@pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
    reason="needs torch.distributed with Gloo",
)
def test_fsdp_model_is_gathered_into_both_formats(tmp_path, monkeypatch):
    from kerasish import distribute

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    r0, r1 = distribute.launch(_fsdp_worker, 2, str(tmp_path))
    assert r1["weights"] == {} and len(r0["weights"]) > 0
    loaded = K.saving.load_model(tmp_path / "fsdp.kerasish")
    net = transformers.AutoModelForSequenceClassification.from_pretrained(tmp_path / "fsdp-dir")
    for k, v in r0["weights"].items():
        assert torch.equal(loaded.state_dict()[k], v), k
        assert torch.equal(net.state_dict()[k.removeprefix("net.")], v), k
