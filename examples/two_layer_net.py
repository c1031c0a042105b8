"""The lecture's example: a two-layer ReLU network on random data with an L2 loss.

N=64 samples, D_in=1000 inputs, H=100 hidden units, D_out=10 outputs, trained 500 steps with
plain SGD (learning rate 1e-4 on a summed squared error, as in the CS231n notes): once as a
hand-written PyTorch loop and once with kerasish. Both start from the same weights and print the
same final loss.

    python examples/two_layer_net.py [--steps 500]
"""

from __future__ import annotations

import argparse
import copy

import torch
from torch import nn

import kerasish as K

N, D_IN, H, D_OUT = 64, 1000, 100, 10
STEPS, LR = 500, 1e-4


def sum_of_squares(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """The lecture's L2 loss: (y_pred - y).pow(2).sum()."""
    return (y_pred - y_true).pow(2).sum()


def main(argv: list[str] | None = None) -> tuple[float, float]:
    """Train both ways; returns (hand-written loop's final loss, kerasish's final loss)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="SGD steps (full batches)")
    steps = parser.parse_args(argv).steps

    torch.manual_seed(0)
    x, y = torch.randn(N, D_IN), torch.randn(N, D_OUT)
    net = nn.Sequential(nn.Linear(D_IN, H), nn.ReLU(), nn.Linear(H, D_OUT))
    twin = copy.deepcopy(net)

    # 1. By hand.
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    for _ in range(steps):
        loss = sum_of_squares(y, net(x))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        hand = float(sum_of_squares(y, net(x)))
    print(f"hand-written PyTorch loop: final loss {hand:.6f}")

    # 2. With kerasish: the same module, one batch of all 64 samples per epoch.
    model = K.Sequential(list(twin))
    model.compile(
        optimizer=torch.optim.SGD(model.parameters(), lr=LR), loss=sum_of_squares, device="cpu"
    )
    model.fit(x, y, batch_size=N, epochs=steps, shuffle=False, verbose=0)
    ours = float(model.evaluate(x, y, batch_size=N, verbose=0))
    print(f"kerasish fit:              final loss {ours:.6f}")
    return hand, ours


if __name__ == "__main__":
    main()
