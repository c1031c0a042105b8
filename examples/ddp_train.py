"""One script, one process or many: a small CNN on the digits, data-parallel under torchrun.

    python examples/ddp_train.py                                  # one process
    torchrun --nproc_per_node=2 examples/ddp_train.py             # 2 processes (DDP)
    torchrun --nproc_per_node=2 examples/ddp_train.py --fsdp      # 2 processes (FSDP2)

Nothing in the script is about distribution except printing on rank 0: ``compile()``'s default
``distribute="auto"`` sees torchrun's environment, starts the process group (NCCL on GPUs, Gloo
on CPU), puts each rank on its own GPU, wraps the model in DistributedDataParallel and gives each
rank its share of every batch source. ``batch_size`` is per process, so the global batch is
``batch_size * nproc``. Logs and History hold global (all-reduced) values on every rank;
``evaluate`` is collective, so every rank calls it and rank 0 prints.
"""

from __future__ import annotations

import argparse
import time

import kerasish as K
from kerasish import distribute, layers


def build_model() -> K.Sequential:
    """A small CNN for (N, 1, 8, 8) images."""
    return K.Sequential(
        [
            layers.Input((1, 8, 8)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(10, activation="softmax"),
        ],
        name="digits_ddp",
    )


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--fsdp", action="store_true", help="shard the model with FSDP2")
    parser.add_argument("--verbose", default="auto")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    K.utils.set_random_seed(42)
    (x_train, y_train), (x_test, y_test) = K.datasets.digits.load_data()
    model = build_model()
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        distribute="fsdp" if args.fsdp else "auto",
    )
    start = time.perf_counter()
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        validation_split=0.1,
        verbose=verbose,
    )
    took = time.perf_counter() - start
    results = model.evaluate(x_test, y_test, verbose=0, return_dict=True)  # on every rank
    if distribute.is_main_process():
        print(
            f"{distribute.get_world_size()} process(es) on {model.device}: "
            f"test accuracy {results['accuracy']:.4f} (loss {results['loss']:.4f}), "
            f"fit took {took:.1f}s"
        )
    return results["accuracy"]


if __name__ == "__main__":
    main()
