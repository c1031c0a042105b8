"""Watch a Keras-style CNN train in TensorBoard: scalars, histograms, the graph and hparams.

Trains the digits CNN (see digits_cnn.py) with a TensorBoard callback that writes, under
``--logdir``, train and validation curves (``train/``, ``validation/``), weight and gradient
histograms every epoch, the model graph and an HParams session. Then open the dashboard:

    python examples/tensorboard_demo.py --logdir runs/tensorboard_demo --epochs 5
    kerasish tensorboard --logdir runs        # or: python -m kerasish.tensorboard --logdir runs

and browse to the printed URL (http://127.0.0.1:6006/ by default). No TensorFlow is needed.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import kerasish as K


def _build_model() -> K.Sequential:
    path = Path(__file__).with_name("digits_cnn.py")
    spec = importlib.util.spec_from_file_location("digits_cnn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build_model()


def main(argv: list[str] | None = None) -> K.callbacks.History:
    """Train with TensorBoard logging; returns the History."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/tensorboard_demo")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    K.utils.set_random_seed(42)
    (x_train, y_train), _ = K.datasets.digits.load_data()
    model = _build_model()
    model.compile(
        optimizer=K.optimizers.Adam(learning_rate=args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    tensorboard = K.callbacks.TensorBoard(
        log_dir=args.logdir,
        histogram_freq=1,
        write_graph=True,
        hparams={"model": "digits_cnn", "dropout": 0.2},
    )
    history = model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_split=0.1,
        callbacks=[tensorboard],
        verbose=0,
    )
    print(
        f"val_accuracy after {args.epochs} epochs: {history.history['val_accuracy'][-1]:.4f}\n"
        f"TensorBoard logs written to {args.logdir}; view them with:\n"
        f"  kerasish tensorboard --logdir {Path(args.logdir).parent}"
    )
    return history


if __name__ == "__main__":
    main()
