"""Override train_step: a custom loss (here with an L1 penalty on the weights) in fit().

python examples/custom_train_step.py [--epochs 10] [--l1 1e-4]
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

import kerasish as K


class L1Regularized(K.Model):
    """A classifier whose train_step adds an L1 penalty; everything else is fit() as usual."""

    def __init__(self, l1: float = 1e-4):
        super().__init__()
        self.l1 = l1
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def train_step(self, data):
        x, y, sample_weight = K.utils.unpack_x_y_sample_weight(data)  # (x, y) without weights
        y_pred = self(x)
        loss = self.compute_loss(x, y, y_pred, sample_weight)
        penalty = sum(p.abs().sum() for p in self.parameters() if p.dim() > 1)
        self.apply_gradients(loss + self.l1 * penalty)
        return self.compute_metrics(x, y, y_pred, sample_weight, loss)


def main(argv: list[str] | None = None) -> float:
    """Train on the digits; returns the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--l1", type=float, default=1e-4, help="weight of the L1 penalty")
    args = parser.parse_args(argv)

    K.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = K.datasets.digits.load_data()
    model = L1Regularized(args.l1)
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=args.epochs, batch_size=32, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
