"""The main demo (`make demo`): a Keras-style CNN on the handwritten digits, on CPU in seconds.

Builds a small CNN from Keras-named layers (sizes inferred from the first batch), compiles it
with strings, trains with a progress bar and validation_split, prints the test accuracy, and
writes TensorBoard logs into a new directory per run, runs/digits_cnn/<YYYYmmdd-HHMMSS>, then
prints the exact command that opens them.

    python examples/digits_cnn.py [--epochs 15] [--logdir runs/digits_cnn] [--run-name NAME]
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import kerasish as K
from kerasish import layers


def new_run_dir(root: str | os.PathLike, name: str | None = None) -> Path:
    """Make and return a fresh directory for one run: ``root/<name or YYYYmmdd-HHMMSS>``.

    A name already taken gets a ``-1``, ``-2``... suffix, so a run never appends to another.
    """
    stem = name or time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        path = Path(root) / (stem if n == 0 else f"{stem}-{n}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"Expected a free run name under {root}. Received: name={stem!r}")


def tensorboard_command(logdir: str | os.PathLike) -> str:
    """The command that opens ``logdir`` with this interpreter's ``kerasish tensorboard``.

    It names the script next to ``sys.executable`` (e.g. ``.venv/bin/kerasish``), so it works
    without activating the venv; ``python -m kerasish`` when no script is installed.
    """
    script = Path(sys.executable).parent / "kerasish"
    if script.exists():
        command = [_shown(script)]
    else:
        command = [_shown(Path(sys.executable)), "-m", "kerasish"]
    return shlex.join([*command, "tensorboard", "--logdir", os.fspath(logdir)])


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies under it, else absolute."""
    try:
        relative = path.absolute().relative_to(Path.cwd())
    except ValueError:
        return os.fspath(path.absolute())
    return os.fspath(relative) if len(relative.parts) > 1 else f"./{relative}"  # not via PATH


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
    """Train, evaluate, and return the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--logdir", default="runs/digits_cnn", help="the folder of all runs")
    parser.add_argument("--run-name", help="this run's sub-folder (default: date-time)")
    parser.add_argument("--verbose", default="auto")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    run = new_run_dir(args.logdir, args.run_name)
    K.utils.set_random_seed(42)
    (x_train, y_train), (x_test, y_test) = K.datasets.digits.load_data()
    model = build_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    callbacks = [K.callbacks.TensorBoard(log_dir=run)]
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
    print(f"TensorBoard logs of this run: {run}")
    print("Open them, beside the earlier runs, with:")
    print(f"  {tensorboard_command(args.logdir)}")
    return results["accuracy"]


if __name__ == "__main__":
    main()
