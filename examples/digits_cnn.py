"""The main demo (`make demo`): a Keras-style CNN on the handwritten digits, on CPU in seconds.

Builds a small CNN from Keras-named layers (sizes inferred from the first batch), compiles it
with strings, trains with a progress bar and validation_split, prints the test accuracy, and
writes TensorBoard logs under runs/digits_cnn.

    python examples/digits_cnn.py [--epochs 15] [--logdir runs/digits_cnn]
"""

from __future__ import annotations

import argparse

import kerasish as K
from kerasish import layers


def build_model() -> K.Sequential:
    """Conv2D/MaxPooling2D blocks and a Dense head, images channels-first (N, 1, 8, 8)."""
    return K.Sequential(
        [
            layers.Input((1, 8, 8)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ],
        name="digits_cnn",
    )


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--logdir", default="runs/digits_cnn")
    parser.add_argument("--verbose", default="auto")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    K.utils.set_random_seed(42)
    (x_train, y_train), (x_test, y_test) = K.datasets.digits.load_data()
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    callbacks = [K.callbacks.TensorBoard(log_dir=args.logdir)]
    model.fit(
        x_train,
        y_train,
        batch_size=32,
        epochs=args.epochs,
        validation_split=0.1,
        callbacks=callbacks,
        verbose=verbose,
    )
    results = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    print(f"test accuracy: {results['accuracy']:.4f}  (test loss {results['loss']:.4f})")
    print(f"TensorBoard logs written to {args.logdir}; view them with:")
    print("  .venv/bin/tensorboard --logdir runs")
    return results["accuracy"]


if __name__ == "__main__":
    main()
