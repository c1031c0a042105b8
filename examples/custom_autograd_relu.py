"""The lecture's own ReLU: a ``torch.autograd.Function`` with ``forward``/``backward``, in fit().

The CS231n lecture defines ReLU by hand (forward clamps at zero and saves its input; backward
zeroes the upstream gradient where the input was not positive) and uses it inside the
two-layer net. Here that Function is wrapped in a module, placed between the two Linear layers
of a kerasish model and trained with ``fit`` on the handwritten digits (bundled with
scikit-learn, no download). ``tests/test_lecture_examples.py`` checks its gradients against
``torch.relu``'s.

    python examples/custom_autograd_relu.py [--epochs 5] [--hidden 100]
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import kerasish as K


class MyReLU(torch.autograd.Function):
    """ReLU written as the lecture writes it: an explicit forward and backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        # The lecture masks x < 0; x <= 0 also zeroes the gradient at exactly 0, the
        # subgradient torch.relu picks, so the two agree everywhere.
        grad_input[x <= 0] = 0
        return grad_input


class ReLULayer(nn.Module):
    """A module around ``MyReLU`` so it can sit in a model like any layer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return MyReLU.apply(x)


def build_model(hidden: int = 100) -> K.Sequential:
    """The lecture's two-layer net (Linear -> our ReLU -> Linear) over 8x8 digit images."""
    return K.Sequential(
        [nn.Flatten(), nn.Linear(64, hidden), ReLULayer(), nn.Linear(hidden, 10)],
        name="two_layer_custom_relu",
    )


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Train the net; return the loss before and after training and the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    K.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = K.datasets.digits.load_data()
    model = build_model(args.hidden)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"], device="cpu")
    before = model.evaluate(x_train, y_train, verbose=0, return_dict=True)["loss"]
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs, verbose=args.verbose)
    after = model.evaluate(x_train, y_train, verbose=0, return_dict=True)["loss"]
    test = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    print(f"training loss with the hand-written ReLU: {before:.4f} -> {after:.4f}")
    print(f"test accuracy: {test['accuracy']:.4f}")
    return {"loss_before": before, "loss_after": after, "accuracy": test["accuracy"]}


if __name__ == "__main__":
    main()
