"""Hugging Face model outputs (issue 15): with ``compile(loss=None)`` fit trains on the
output's ``loss`` (targets go in as ``labels=``), compiled losses and metrics read
``logits``, and ``predict`` returns the logits. Reference: the same tiny randomly
initialised ``BertForSequenceClassification`` trained by a hand-written torch loop."""

from __future__ import annotations

import pytest
import torch

import kerasish as K

transformers = pytest.importorskip("transformers", reason="needs transformers")

N, T, B = 24, 6, 8


def _bert():
    torch.manual_seed(0)
    cfg = transformers.BertConfig(
        vocab_size=100,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return transformers.BertForSequenceClassification(cfg)


def _data():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, 100, (N, T), generator=g)
    mask = torch.ones(N, T, dtype=torch.long)
    mask[::3, -2:] = 0
    return {"input_ids": ids, "attention_mask": mask}, torch.randint(0, 2, (N,), generator=g)


def _hand(loss_fn, epochs=2):
    """SGD (lr 0.01, Keras's default) over unshuffled batches; the mean loss per epoch."""
    net = _bert()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x, y = _data()
    means = []
    for _ in range(epochs):
        total = 0.0
        for i in range(0, N, B):
            out = net(**{k: v[i : i + B] for k, v in x.items()}, labels=y[i : i + B])
            loss = loss_fn(out, y[i : i + B])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * B
        means.append(total / N)
    return net, means


@pytest.mark.filterwarnings("ignore:compile\\(\\) got no loss")
def test_fit_trains_on_the_models_own_loss_and_predict_returns_logits():
    x, y = _data()
    m = K.Model.wrap(_bert())
    m.compile(optimizer="sgd", loss=None, metrics=["accuracy"])
    h = m.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0)
    net, means = _hand(lambda out, _: out.loss)
    assert h.history["loss"] == pytest.approx(means, rel=1e-5)
    with torch.no_grad():
        logits = net(**x).logits
    torch.testing.assert_close(torch.from_numpy(m.predict(x, batch_size=B, verbose=0)), logits)
    acc = float((logits.argmax(-1) == y).float().mean())
    assert m.evaluate(x, y, return_dict=True, verbose=0)["accuracy"] == pytest.approx(acc)


def test_a_compiled_string_loss_reads_the_logits():
    x, y = _data()
    m = K.Model.wrap(_bert())
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0)

    def ce(out, labels):
        return torch.nn.functional.cross_entropy(out.logits, labels)

    _, means = _hand(ce)
    assert h.history["loss"] == pytest.approx(means, rel=1e-5)
    assert sorted(h.history) == ["accuracy", "loss"]
