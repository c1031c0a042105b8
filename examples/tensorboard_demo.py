"""Watch a Keras-style CNN train in TensorBoard: scalars, histograms, the graph and hparams.

Trains the digits CNN (see digits_cnn.py) with a TensorBoard callback that writes, into a new
directory per run (``--logdir``/<YYYYmmdd-HHMMSS>), train and validation curves (``train/``,
``validation/``), weight and gradient histograms every epoch, the model graph and an HParams
session. It then prints the exact command that opens the dashboard, e.g.:

    python examples/tensorboard_demo.py --epochs 5
    .venv/bin/kerasish tensorboard --logdir runs/tensorboard_demo

and browse to the printed URL (http://127.0.0.1:6006/ by default). No TensorFlow is needed.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import kerasish as K


def _digits_cnn():
    """examples/digits_cnn.py as a module: its model and its run-directory helpers."""
    path = Path(__file__).with_name("digits_cnn.py")
    spec = importlib.util.spec_from_file_location("digits_cnn", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> K.callbacks.History:
    """Train with TensorBoard logging; returns the History."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/tensorboard_demo", help="the folder of all runs")
    parser.add_argument("--run-name", help="this run's sub-folder (default: date-time)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args(argv)

    digits_cnn = _digits_cnn()
    run = digits_cnn.new_run_dir(args.logdir, args.run_name)
    K.utils.set_random_seed(42)
    (x_train, y_train), _ = K.datasets.digits.load_data()
    model = digits_cnn.build_model()
    model.compile(
        optimizer=K.optimizers.Adam(learning_rate=args.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    tensorboard = K.callbacks.TensorBoard(
        log_dir=run,
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
        f"TensorBoard logs of this run: {run}\n"
        "Open them, beside the earlier runs, with:\n"
        f"  {digits_cnn.tensorboard_command(args.logdir)}"
    )
    return history


if __name__ == "__main__":
    main()
