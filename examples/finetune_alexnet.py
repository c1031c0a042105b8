"""Fine-tune an ImageNet AlexNet on real images with ``fine_tune`` and discriminative rates.

``fine_tune`` trains the new head with the AlexNet base frozen, then unfreezes it and trains
everything at a lower learning rate that decays block by block towards the input (the first
convolutions, which see edges and colours, change least). Data: the 8x8 digits (scikit-learn's,
no download) upsampled to 3x64x64 (AlexNet needs at least 63x63), or any folder of images with
one sub-folder per class (``--data DIR``). Images come as Keras gives them, pixel values in
[0, 255]; the model scales (``Rescaling(1 / 255)``) and normalizes them itself.

    python examples/finetune_alexnet.py --quick           # a minute or two on a CPU
    python examples/finetune_alexnet.py --data flowers/ --epochs 5
    python examples/finetune_alexnet.py --weights none    # offline: random weights

Pretrained weights download once into torchvision's cache ($TORCH_HOME/hub/checkpoints).
"""

from __future__ import annotations

import argparse
import sys

import torch
import torch.nn.functional as F
from torchvision.transforms import Normalize

import kerasish as K
from kerasish import applications
from kerasish.finetune import fine_tune
from kerasish.image import image_dataset_from_directory


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", help="an image folder (one sub-folder per class); default: digits")
    p.add_argument("--weights", choices=["imagenet", "none"], default="imagenet")
    p.add_argument("--quick", action="store_true", help="512 digits, 2+1 epochs (CPU minutes)")
    p.add_argument("--limit", type=int, help="use at most this many training digits")
    p.add_argument("--image-size", type=int, default=64, help="pixels (AlexNet needs >= 63)")
    p.add_argument("--epochs", type=int, help="epochs with the base frozen (default 3)")
    p.add_argument("--fine-tune-epochs", type=int, help="epochs after unfreezing (default 3)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=2)
    args = p.parse_args(argv)
    quick = args.quick
    args.limit = args.limit or (512 if quick else None)
    args.epochs = args.epochs or (2 if quick else 3)
    args.fine_tune_epochs = args.fine_tune_epochs or (1 if quick else 3)
    return args


def upsample(x, size: int) -> torch.Tensor:
    """(N, 1, 8, 8) digits in [0, 1] -> (N, 3, size, size) in [0, 255], as a colour photo
    comes from ``image_dataset_from_directory``."""
    x = F.interpolate(torch.as_tensor(x), size=(size, size), mode="bilinear", align_corners=False)
    return (x * 255).expand(-1, 3, -1, -1).contiguous()


def load(args: argparse.Namespace) -> tuple:
    """(train, validation, number of classes); train/validation as fit() takes them."""
    size = args.image_size
    if args.data:
        train, val = image_dataset_from_directory(
            args.data,
            image_size=(size, size),
            batch_size=args.batch_size,
            validation_split=0.2,
            subset="both",
            seed=1337,
        )
        return (train,), val, len(train.class_names)
    (x, y), (x_val, y_val) = K.datasets.digits.load_data()
    if args.limit:
        x, y = x[: args.limit], y[: args.limit]
        n_val = max(args.limit // 2, 32)
        x_val, y_val = x_val[:n_val], y_val[:n_val]
    return (upsample(x, size), torch.as_tensor(y)), (upsample(x_val, size), y_val), 10


def build(weights: str, classes: int) -> tuple[K.Sequential, applications.Application]:
    """An AlexNet base (average-pooled features), then a BatchNorm + Dense head.

    The BatchNormalization standardizes the pooled features so the head learns in few steps,
    even from random (``--weights none``) features; momentum=0.5 keeps its statistics current
    in short runs.
    """
    try:
        base = applications.AlexNet(
            weights=None if weights == "none" else weights, include_top=False, pooling="avg"
        )
    except OSError as e:
        sys.exit(f"{e}\n\nNo network? Run with --weights none to start from random weights.")
    norm = base.preprocess  # the weights' mean and std (of [0, 1] images), inside the model
    model = K.Sequential(
        [
            K.layers.Rescaling(1 / 255),
            Normalize(norm.mean, norm.std),
            base,
            K.layers.BatchNormalization(momentum=0.5),
            K.layers.Dense(256, activation="relu"),
            K.layers.Dropout(0.5),
            K.layers.Dense(classes),
        ]
    )
    return model, base


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Fine-tune and return the final validation metrics."""
    args = parse(argv)
    K.utils.set_random_seed(args.seed)
    train, val, classes = load(args)
    model, base = build(args.weights, classes)
    model.compile(
        optimizer=K.optimizers.Adam(), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    fine_tune(
        model,
        *train,
        base=base,
        freeze_epochs=args.epochs,
        epochs=args.fine_tune_epochs,
        learning_rate=1e-3,
        fine_tune_learning_rate=1e-4,
        lr_decay=0.5,  # each AlexNet stage further from the head steps half as far
        validation_data=val,
        batch_size=args.batch_size,
        verbose=args.verbose,
    )
    x_val = val if args.data else val[0]
    y_val = None if args.data else val[1]
    logs = model.evaluate(x_val, y_val, batch_size=args.batch_size, verbose=0, return_dict=True)
    print(f"validation accuracy after fine-tuning: {logs['accuracy']:.3f}")
    return logs


if __name__ == "__main__":
    main()
