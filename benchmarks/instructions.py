"""kerasish versus a hand-written loop in machine instructions, counted by valgrind: one number
that does not move with the machine's speed.

Wall-clock ratios on a shared VM move by several percent from run to run (overhead.py's
README section). This counts the instructions that one epoch of the hand loop and one epoch
of kerasish execute, in the same process, under ``valgrind --tool=callgrind``: the script
re-runs itself under valgrind, builds both loops from ``overhead.py`` (same workload, data and
optimizer), warms both up, then runs one epoch of each between three gates; at each gate the
parent asks callgrind for a dump (``callgrind_control --dump``) while the child waits in a
blocking read of a FIFO, so the second and third dumps hold the hand epoch and the kerasish
epoch (and the few instructions of a gate). Instructions are not time (cache misses
and allocation do not show), but the ratio is the same on every run.

The progress bar is off by default (``--verbose 0``): it redraws every 0.1 s of wall time, and
under valgrind an epoch lasts about 60 times longer, so with ``--verbose 1`` the count includes
about 60 times the redraws a real epoch makes.

    python benchmarks/instructions.py [--config default|evaluate|predict] [--verbose 0|1]

Needs valgrind (``apt-get install valgrind``); one run takes a few minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child(config: str, verbose: int, gates: Path) -> None:
    sys.path.insert(0, str(HERE))
    import overhead
    import torch

    torch.set_num_threads(1)
    data = overhead.make_data("mlp")
    loops = overhead._loops("mlp", config, data, str(gates / "logs"))
    hand, ours = loops["raw_indexed"], loops["kerasish"]
    if hasattr(ours, "kwargs"):  # fit
        ours.kwargs["verbose"] = verbose
    else:  # evaluate / predict
        ours.verbose = verbose
    hand.epoch()
    ours.epoch()
    for gate, run in ((1, hand.epoch), (2, ours.epoch), (3, None)):
        (gates / f"ready{gate}").touch()
        with open(gates / f"go{gate}") as fifo:  # blocks in the kernel: no instructions counted
            fifo.read()
        if run is not None:
            run()


def _parent(config: str, verbose: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        gates = Path(tmp)
        for gate in (1, 2, 3):
            os.mkfifo(gates / f"go{gate}")
        out = gates / "callgrind.out"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--child",
            str(gates),
            "--config",
            config,
            "--verbose",
            str(verbose),
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for gate in (1, 2, 3):
            while not (gates / f"ready{gate}").exists():
                if proc.poll() is not None:
                    raise RuntimeError(proc.stderr.read().decode()[-2000:])
                time.sleep(0.5)
            subprocess.run(
                ["callgrind_control", f"--dump=gate{gate}", str(proc.pid)],
                check=True,
                capture_output=True,
            )
            with open(gates / f"go{gate}", "w") as fifo:
                fifo.write("go")
        proc.wait()
        hand, ours = (_total(Path(f"{out}.{part}")) for part in (2, 3))
    return {"hand": hand, "kerasish": ours, "ratio": ours / hand}


def _total(dump: Path) -> int:
    match = re.search(r"^summary:\s+(\d+)", dump.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no instruction total in {dump}")
    return int(match.group(1))


def main(argv: list[str] | None = None) -> dict[str, float] | None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="default", choices=["default", "evaluate", "predict"])
    parser.add_argument("--verbose", type=int, default=0, choices=[0, 1])
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        _child(args.config, args.verbose, Path(args.child))
        return None
    res = _parent(args.config, args.verbose)
    print(
        f"mlp {args.config} (verbose={args.verbose}): hand epoch {res['hand']:,} instructions, "
        f"kerasish epoch {res['kerasish']:,}, ratio {res['ratio']:.4f}"
    )
    return res


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
