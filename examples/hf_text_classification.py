"""Text classification with Hugging Face pieces, offline: a tiny BERT trained by kerasish.

Everything is made in code, nothing is downloaded: a synthetic ``datasets.Dataset`` of short
"reviews" (a review is positive when it holds more positive words than negative ones), a
word-level tokenizer built with ``tokenizers`` and wrapped as a ``PreTrainedTokenizerFast``,
and a randomly initialised ``BertForSequenceClassification`` (vocabulary 100, hidden size 16,
one layer, two heads). The model is compiled with ``loss=None`` (it computes its own loss from
``labels``), trained with ``fit`` on ``K.data.from_hf(..., collate_fn=DataCollatorWithPadding)``
(rows padded per batch), then evaluated, used to predict, and saved twice: ``model.save`` (one
file with the architecture as the transformers class and its config, the weights, the compile
config and the optimizer state: ``K.saving.load_model`` rebuilds it without the code that made
it) and ``model.save_pretrained`` (the directory that ``AutoModelForSequenceClassification
.from_pretrained`` loads, beside the tokenizer). Both are reloaded and predict the same logits.

    python examples/hf_text_classification.py [--epochs 8] [--quick] [--out hf_text_classifier]

Needs ``pip install "kerasish[hf]"`` (``datasets``, ``transformers``).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

import kerasish as K

POSITIVE = ["good", "great", "fine", "nice", "love", "superb", "happy", "best"]
NEGATIVE = ["bad", "awful", "poor", "hate", "boring", "worst", "sad", "dull"]
NEUTRAL = ["the", "a", "film", "plot", "actor", "story", "was", "is", "and", "it"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def make_texts(n: int, seed: int = 0) -> dict[str, list[Any]]:
    """``n`` synthetic reviews and their labels (1: more positive than negative words)."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        pos, neg = rng.randint(0, 4), rng.randint(0, 4)
        if pos == neg:
            pos += 1
        words = rng.sample(POSITIVE * 2, pos) + rng.sample(NEGATIVE * 2, neg)
        words += rng.choices(NEUTRAL, k=rng.randint(1, 5))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(int(pos > neg))
    return {"text": texts, "label": labels}


def build_tokenizer() -> Any:
    """A word-level ``PreTrainedTokenizerFast`` over this file's words, built offline."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(SPECIALS + POSITIVE + NEGATIVE + NEUTRAL)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def build_model(num_labels: int = 2, seed: int = 0) -> K.Model:
    """A tiny, randomly initialised ``BertForSequenceClassification`` as a kerasish model."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=100,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=num_labels,
    )
    return K.Model.wrap(BertForSequenceClassification(config))


def load_data(tokenizer: Any, n: int, seed: int = 0) -> Any:
    """A tokenized ``DatasetDict`` with "train" and "test" splits."""
    import datasets

    ds = datasets.Dataset.from_dict(make_texts(n, seed))

    def tokenize(rows: dict[str, list[Any]]) -> Any:
        return tokenizer(rows["text"], truncation=True, max_length=32)

    ds = ds.map(tokenize, batched=True, remove_columns=["text"])
    return ds.train_test_split(test_size=0.25, seed=seed)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8, help="training epochs (default 8)")
    parser.add_argument("--quick", action="store_true", help="a few seconds: 2 epochs, 256 rows")
    parser.add_argument("--samples", type=int, default=1024, help="reviews made (default 1024)")
    parser.add_argument(
        "--out", default="hf_text_classifier", help="directory the model is saved in"
    )
    args = parser.parse_args(argv)
    epochs, n = (2, 256) if args.quick else (args.epochs, args.samples)

    from transformers import DataCollatorWithPadding

    tokenizer = build_tokenizer()
    splits = load_data(tokenizer, n)
    collate = DataCollatorWithPadding(tokenizer)
    train = K.data.from_hf(splits["train"], collate_fn=collate)
    test = K.data.from_hf(splits["test"], collate_fn=collate)

    model = build_model()
    model.compile(optimizer="adamw", loss=None, metrics=["accuracy"], device="cpu")
    history = model.fit(train, batch_size=32, epochs=epochs, validation_data=test, verbose=2)
    results = model.evaluate(test, batch_size=64, return_dict=True, verbose=0)
    logits = model.predict(test, batch_size=64, verbose=0)
    print(f"test loss {results['loss']:.4f}, test accuracy {results['accuracy']:.3f}")
    print(f"predicted logits: shape {logits.shape}; first row {logits[0].round(3).tolist()}")

    out = Path(args.out)
    model.save_pretrained(out)  # config.json + model.safetensors, for transformers
    tokenizer.save_pretrained(out)
    model.save(out / "model.kerasish")  # + compile config and optimizer state, to resume
    print(f"saved the model (both ways) and the tokenizer in {out}/")

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    restored = K.saving.load_model(out / "model.kerasish")  # recompiled, ready to fit on
    pretrained = K.Model.wrap(AutoModelForSequenceClassification.from_pretrained(out))
    AutoTokenizer.from_pretrained(out)  # the tokenizer reloads from the same directory
    reloaded = {
        "load_model": restored.predict(test, batch_size=64, verbose=0),
        "from_pretrained": pretrained.predict(test, batch_size=64, verbose=0),
    }
    for how, got in reloaded.items():
        print(f"reloaded with {how}: same logits {bool((got == logits).all())}")
    return {
        "history": history.history,
        "evaluate": results,
        "logits": logits,
        "reloaded": reloaded,
        "restored": restored,
        "out": out,
    }


if __name__ == "__main__":
    main()
