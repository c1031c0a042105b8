"""A functional model versus the same model written as a ``forward``: seconds per batch.

Both are kerasish models holding the *same* modules (so the same weights and kernels): a
``K.Model`` subclass with a hand-written ``forward``, and ``Model(inputs, outputs)``, whose
forward is generated from the graph. Each round times ``--steps`` training steps (zero_grad,
forward, cross-entropy, backward, Adam step) of each, interleaved ABBA (which goes first
alternates by round) so machine drift hits both alike; round 0 is a warm-up. Reported: the
median seconds per batch and the median over rounds of functional / forward (target <= 1.02),
for an overhead-bound MLP with a residual branch and two inputs, and a small CNN.

    python benchmarks/functional.py [--rounds 20] [--steps 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
from torch import nn

import kerasish as K
from kerasish.models import Functional, Input


class MLP(K.Model):
    def __init__(self, l1, l2, side, head):
        super().__init__()
        self.l1, self.l2, self.side, self.head = l1, l2, side, head

    def forward(self, a, b):
        h = torch.relu(self.l1(a))
        h = h + torch.relu(self.l2(h))
        return self.head(torch.cat([h, self.side(b)], dim=1))


def mlp() -> tuple[nn.Module, nn.Module, tuple[torch.Tensor, ...]]:
    l1, l2, side, head = (
        nn.Linear(64, 128),
        nn.Linear(128, 128),
        nn.Linear(8, 16),
        nn.Linear(144, 10),
    )
    a, b = Input((64,)), Input((8,))
    h = torch.relu(l1(a))
    h = h + torch.relu(l2(h))
    graph = Functional([a, b], head(torch.cat([h, side(b)], dim=1)))
    return MLP(l1, l2, side, head), graph, (torch.randn(64, 64), torch.randn(64, 8))


class CNN(K.Model):
    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


def cnn() -> tuple[nn.Module, nn.Module, tuple[torch.Tensor, ...]]:
    layers = [
        K.layers.Conv2D(32, 3, padding="same", activation="relu"),
        K.layers.MaxPooling2D(),
        K.layers.Conv2D(64, 3, padding="same", activation="relu"),
        K.layers.MaxPooling2D(),
        K.layers.Flatten(),
        K.layers.Dense(10),
    ]
    x = Input((3, 32, 32))
    y = x
    for layer in layers:
        y = layer(y)
    return CNN(layers), Functional(x, y), (torch.randn(64, 3, 32, 32),)


def time_steps(model: nn.Module, args: tuple, target: torch.Tensor, steps: int) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    start = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(*args), target)
        loss.backward()
        opt.step()
    return (time.perf_counter() - start) / steps


def run(name: str, make, rounds: int, steps: int) -> dict:
    torch.manual_seed(0)
    forward_model, graph, args = make()
    target = torch.randint(0, 10, (args[0].shape[0],))
    assert torch.equal(forward_model(*args), graph(*args))  # the same model, twice
    times: dict[str, list[float]] = {"forward": [], "functional": []}
    ratios = []
    pair = [("forward", forward_model), ("functional", graph)]
    for r in range(rounds + 1):
        got = {}
        for label, model in pair if r % 2 else pair[::-1]:  # ABBA: who goes first alternates
            got[label] = time_steps(model, args, target, steps)
        if r:  # round 0 is the warm-up
            for label, t in got.items():
                times[label].append(t)
            ratios.append(got["functional"] / got["forward"])
    fwd, fun = (statistics.median(times[k]) for k in ("forward", "functional"))
    return {
        "workload": name,
        "forward_s": fwd,
        "functional_s": fun,
        "ratio": statistics.median(ratios),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--workloads", nargs="+", default=["mlp", "cnn"])
    parser.add_argument("--json", default=None)
    opts = parser.parse_args()
    torch.set_num_threads(1)
    makers = {"mlp": mlp, "cnn": cnn}
    rows = [run(w, makers[w], opts.rounds, opts.steps) for w in opts.workloads]
    print("| workload | forward s/batch | functional s/batch | functional / forward |")
    print("| --- | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['workload']} | {r['forward_s']:.6f} | {r['functional_s']:.6f} "
            f"| **{r['ratio']:.3f}** |"
        )
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
