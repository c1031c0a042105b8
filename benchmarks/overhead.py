"""kerasish fit() versus a hand-written PyTorch loop: seconds per epoch, side by side.

Both train the same network on the same data with the same optimizer; rounds interleave
raw, indexed, kerasish, raw, indexed, kerasish, ... so drift in machine speed hits all alike.
"raw" is the loop the issue defines (DataLoader over a TensorDataset); "indexed" is a stricter
hand loop that batches in-memory tensors by indexing, as kerasish does, so "vs indexed" is the
loop's own overhead with the data feeding equal. The first epoch of
each is a warm-up and not counted. Reported: the median steady-state seconds per epoch, the
ratio kerasish / raw, kerasish / indexed, the median over rounds of each round's kerasish /
indexed ("paired": robust to the machine's speed drifting between rounds) with a 95 %
bootstrap interval of that median, and peak RSS. Odd rounds run the loops in reverse order
(ABBA), so no loop always runs right after another; ``--skip-raw`` times only indexed and
kerasish, for more rounds of the pair in the same time.

Workloads (one torch thread):
  mlp  64 -> 128 -> 10, 32768 samples of 64 features, batch 64 (overhead-bound)
  cnn  two 3x3 conv + pool blocks (32, 64 channels), linear head, 3x32x32 inputs, 4096 samples,
       batch 64 (compute-bound)
Configurations:
  default   kerasish fit with its defaults: progress bar on, History, accuracy metric
  callbacks + validation data, TensorBoard and EarlyStopping (raw loop: + validation pass)
  evaluate  model.evaluate (bar on, loss + accuracy) vs a no_grad hand loop over the same batches
  predict   model.predict (bar on) vs a no_grad hand loop that concatenates the outputs

    python benchmarks/overhead.py [--rounds 5] [--workloads mlp cnn] [--json out.json]
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stderr, redirect_stdout

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import kerasish as K

WORKLOADS = {
    "mlp": {"n": 32768, "shape": (64,), "batch": 64},
    "cnn": {"n": 4096, "shape": (3, 32, 32), "batch": 64},
}


def make_net(workload: str) -> nn.Module:
    if workload == "mlp":
        return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, 10),
    )


def make_data(workload: str) -> tuple[torch.Tensor, ...]:
    spec = WORKLOADS[workload]
    g = torch.Generator().manual_seed(0)
    x = torch.randn(spec["n"], *spec["shape"], generator=g)
    y = torch.randint(0, 10, (spec["n"],), generator=g)
    xv = torch.randn(spec["n"] // 8, *spec["shape"], generator=g)
    yv = torch.randint(0, 10, (spec["n"] // 8,), generator=g)
    return x, y, xv, yv


class RawLoop:
    """The loop a user writes by hand: DataLoader over TensorDataset, accuracy on device."""

    def __init__(self, workload: str, data, validate: bool):
        self.net = make_net(workload)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-3)
        x, y, xv, yv = data
        batch = WORKLOADS[workload]["batch"]
        self.loader = DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True)
        self.val = DataLoader(TensorDataset(xv, yv), batch_size=batch) if validate else None
        self.loss_fn = nn.CrossEntropyLoss()

    def epoch(self) -> dict[str, float]:
        self.net.train()
        total, correct, n = torch.zeros(()), torch.zeros((), dtype=torch.long), 0
        for xb, yb in self.loader:
            self.opt.zero_grad(set_to_none=True)
            out = self.net(xb)
            loss = self.loss_fn(out, yb)
            loss.backward()
            self.opt.step()
            total += loss.detach() * len(xb)
            correct += (out.argmax(-1) == yb).sum()
            n += len(xb)
        logs = {"loss": float(total / n), "accuracy": float(correct / n)}
        if self.val is not None:
            self.net.eval()
            vtotal, vn = torch.zeros(()), 0
            with torch.no_grad():
                for xb, yb in self.val:
                    vtotal += self.loss_fn(self.net(xb), yb) * len(xb)
                    vn += len(xb)
            logs["val_loss"] = float(vtotal / vn)
        return logs


class IndexedRawLoop(RawLoop):
    """The strictest baseline: a hand loop that batches by indexing, like kerasish does."""

    def __init__(self, workload: str, data, validate: bool):
        super().__init__(workload, data, validate)
        self.x, self.y = data[0], data[1]
        self.batch = WORKLOADS[workload]["batch"]
        self.loader = self  # iterated by RawLoop.epoch

    def __iter__(self):
        perm = torch.randperm(len(self.x))
        for i in range(0, len(self.x), self.batch):
            idx = perm[i : i + self.batch]
            yield self.x.index_select(0, idx), self.y.index_select(0, idx)


class KerasishLoop:
    """The same training through kerasish fit(), one epoch per call."""

    def __init__(self, workload: str, data, with_callbacks: bool, logdir: str):
        self.model = K.Sequential(list(make_net(workload)))
        self.model.compile(
            optimizer=torch.optim.Adam(self.model.parameters(), lr=1e-3),
            loss="cross_entropy",
            metrics=["accuracy"],
            device="cpu",
        )
        x, y, xv, yv = data
        self.kwargs = {"batch_size": WORKLOADS[workload]["batch"], "verbose": 1}
        self.x, self.y = x, y
        self.callbacks = []
        if with_callbacks:
            self.kwargs["validation_data"] = (xv, yv)
            self.callbacks = [
                K.callbacks.TensorBoard(log_dir=logdir),
                K.callbacks.EarlyStopping(monitor="val_loss", patience=1000),
            ]
        self.epochs_done = 0

    def epoch(self) -> dict[str, float]:
        sink = io.StringIO()
        with redirect_stdout(sink), redirect_stderr(sink):  # the bar is drawn, off-screen
            history = self.model.fit(
                self.x,
                self.y,
                epochs=self.epochs_done + 1,
                initial_epoch=self.epochs_done,
                callbacks=self.callbacks,
                **self.kwargs,
            )
        self.epochs_done += 1
        return {k: v[-1] for k, v in history.history.items()}


class HandInference:
    """A hand-written evaluation or prediction pass: no_grad, batches sliced in order."""

    def __init__(self, workload: str, data, mode: str, loader: bool):
        torch.manual_seed(0)
        self.net, self.mode = make_net(workload), mode
        self.x, self.y = data[0], data[1]
        self.batch = WORKLOADS[workload]["batch"]
        self.loader = (
            DataLoader(TensorDataset(self.x, self.y), batch_size=self.batch) if loader else None
        )
        self.loss_fn = nn.CrossEntropyLoss()

    def batches(self):
        if self.loader is not None:
            yield from self.loader
            return
        for i in range(0, len(self.x), self.batch):
            yield self.x[i : i + self.batch], self.y[i : i + self.batch]

    def epoch(self):
        self.net.eval()
        with torch.no_grad():
            if self.mode == "predict":
                return torch.cat([self.net(xb) for xb, _ in self.batches()]).numpy()
            total, correct, n = torch.zeros(()), torch.zeros((), dtype=torch.long), 0
            for xb, yb in self.batches():
                out = self.net(xb)
                total += self.loss_fn(out, yb) * len(xb)
                correct += (out.argmax(-1) == yb).sum()
                n += len(xb)
            return {"loss": float(total / n), "accuracy": float(correct / n)}


class KerasishInference:
    """The same pass through model.evaluate / model.predict (progress bar on, off-screen)."""

    def __init__(self, workload: str, data, mode: str):
        torch.manual_seed(0)
        self.model = K.Sequential(list(make_net(workload)))
        self.model.compile(
            optimizer="adam", loss="cross_entropy", metrics=["accuracy"], device="cpu"
        )
        self.x, self.y, self.mode = data[0], data[1], mode
        self.batch = WORKLOADS[workload]["batch"]
        self.verbose = 1

    def epoch(self):
        sink = io.StringIO()
        with redirect_stdout(sink), redirect_stderr(sink):
            if self.mode == "predict":
                return self.model.predict(self.x, batch_size=self.batch, verbose=self.verbose)
            return self.model.evaluate(self.x, self.y, batch_size=self.batch, verbose=self.verbose)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _loops(workload: str, config: str, data, logdir: str) -> dict:
    if config in ("evaluate", "predict"):
        return {
            "raw": HandInference(workload, data, config, loader=True),
            "raw_indexed": HandInference(workload, data, config, loader=False),
            "kerasish": KerasishInference(workload, data, config),
        }
    torch.manual_seed(0)
    raw = RawLoop(workload, data, validate=config == "callbacks")
    torch.manual_seed(0)
    indexed = IndexedRawLoop(workload, data, validate=config == "callbacks")
    torch.manual_seed(0)
    ours = KerasishLoop(workload, data, config == "callbacks", logdir)
    return {"raw": raw, "raw_indexed": indexed, "kerasish": ours}


def measure(workload: str, config: str, rounds: int, skip_raw: bool = False) -> dict:
    data = make_data(workload)
    with tempfile.TemporaryDirectory() as logdir:
        loops = _loops(workload, config, data, logdir)
        if skip_raw:
            del loops["raw"]
        times: dict[str, list[float]] = {name: [] for name in loops}
        for r in range(rounds + 1):
            # ABBA: odd rounds run the loops in reverse, so neither always goes first
            for name, loop in list(loops.items())[:: 1 if r % 2 == 0 else -1]:
                t0 = time.perf_counter()
                loop.epoch()
                if r > 0:
                    times[name].append(time.perf_counter() - t0)
    medians = {k: statistics.median(v) for k, v in times.items()}
    medians.setdefault("raw", float("nan"))  # --skip-raw
    pairs = [k / i for k, i in zip(times["kerasish"], times["raw_indexed"])]
    return {
        "workload": workload,
        "config": config,
        "rounds": rounds,
        "s_per_epoch": medians,
        "ratio": medians["kerasish"] / medians["raw"],
        "ratio_vs_indexed": medians["kerasish"] / medians["raw_indexed"],
        # each round's kerasish time over the same round's indexed time, then the median:
        # the machine's drift between rounds (this VM's speed moves by 20 %+) cancels out
        "paired_vs_indexed": statistics.median(pairs),
        "paired_ci95": _median_ci(pairs),
        "times": times,
        "peak_rss_mb": peak_rss_mb(),
    }


def _median_ci(values: list[float], resamples: int = 2000) -> tuple[float, float]:
    """A 95 % percentile-bootstrap interval of the median of ``values`` (seeded)."""
    rng = random.Random(0)
    medians = sorted(
        statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples)
    )
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


def _interval(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:.3f}-{bounds[1]:.3f}"


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workloads", nargs="+", default=["mlp", "cnn"], choices=WORKLOADS)
    parser.add_argument(
        "--configs",
        nargs="+",
        default=["default", "callbacks", "evaluate", "predict"],
        choices=["default", "callbacks", "evaluate", "predict"],
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--skip-raw",
        action="store_true",
        help="time only indexed and kerasish (more rounds of the pair in the same time)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{args.threads} thread(s), python {sys.version.split()[0]}"
    )
    print(
        f"{'workload':8} {'config':10} {'raw s/ep':>9} {'indexed s/ep':>13} "
        f"{'kerasish s/ep':>14} {'ratio':>7} {'vs indexed':>11} {'paired':>7} "
        f"{'paired 95% CI':>15} {'peak RSS MB':>12}"
    )
    results = []
    for workload in args.workloads:
        for config in args.configs:
            if workload == "cnn" and config != "default":
                continue
            res = measure(workload, config, args.rounds, args.skip_raw)
            results.append(res)
            sec = res["s_per_epoch"]
            print(
                f"{workload:8} {config:10} {sec['raw']:9.3f} {sec['raw_indexed']:13.3f} "
                f"{sec['kerasish']:14.3f} {res['ratio']:7.3f} {res['ratio_vs_indexed']:11.3f} "
                f"{res['paired_vs_indexed']:7.3f} "
                f"{_interval(res['paired_ci95']):>15} {res['peak_rss_mb']:12.0f}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
