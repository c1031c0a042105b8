"""ProgbarLogger: the progress display on tqdm (terminal and Jupyter).

verbose=1: a bar per epoch with the running loss and metrics; 2: one line per epoch; 0: silent;
"auto": 1 on a terminal or notebook, 2 when output is not a tty. The postfix is refreshed at most
every ``interval`` seconds, so the bar reads device values (a host sync) at that rate, never per
batch.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from kerasish.callbacks.callback import Callback

__all__ = ["ProgbarLogger", "resolve_verbose"]


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def resolve_verbose(verbose: Any) -> int:
    """Map ``verbose`` ("auto", 0, 1, 2) to 0, 1 or 2."""
    if verbose == "auto":
        return 1 if (sys.stdout.isatty() or _in_notebook()) else 2
    if verbose in (0, 1, 2) and not isinstance(verbose, float):
        return int(verbose)
    raise ValueError(f"Expected verbose to be 'auto', 0, 1 or 2. Received: verbose={verbose!r}")


def _fmt(logs: Any) -> str:
    return " - ".join(f"{k}: {_num(v)}" for k, v in logs.items())


def _num(v: Any) -> str:
    v = float(v)
    return f"{v:.4e}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5) else f"{v:.4f}"


class ProgbarLogger(Callback):
    """Shows training progress with tqdm.

    Args:
        verbose: 1 for a bar per epoch, 2 for a line per epoch.
        interval: the least seconds between two refreshes of the bar's numbers.

    In distributed training only rank 0 shows progress; mid-epoch numbers are rank 0's own,
    epoch-end numbers are global.
    """

    rank_zero_only = True

    def __init__(self, verbose: int = 1, interval: float = 0.1):
        super().__init__()
        self.verbose, self.interval = verbose, interval
        self.bar: Any = None
        self._mode = "train"
        self._pending = 0
        self._next = 0.0
        self._t0 = 0.0

    def _open(self, total: int | None, desc: str) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total,
            desc=desc,
            unit="step",
            dynamic_ncols=True,
            leave=True,
            mininterval=self.interval,
            file=sys.stdout,
        )
        self._pending, self._next, self._t0 = 0, time.monotonic() + self.interval, time.time()

    def _advance(self, logs: Any) -> None:
        self._pending += 1
        now = time.monotonic()
        if now >= self._next and self.bar is not None:
            self._next = now + self.interval
            self.bar.set_postfix_str(_fmt(logs), refresh=False)
            self.bar.update(self._pending)
            self._pending = 0

    def _close(self, logs: Any) -> None:
        if self.bar is None:
            return
        if logs:
            self.bar.set_postfix_str(_fmt(logs), refresh=False)
        self.bar.update(self._pending)
        self.bar.close()
        self.bar = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._mode = "train"

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_desc = f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}"
        self._t0 = time.time()
        if self.verbose == 1:
            self._open(self.params.get("steps"), self._epoch_desc)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.verbose == 1:
            self._advance(logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.verbose == 1:
            self._close(logs)
        elif self.verbose == 2:
            took = time.time() - self._t0
            print(f"{self._epoch_desc} - {took:.0f}s - {_fmt(logs or {})}", flush=True)

    def on_test_begin(self, logs: dict | None = None) -> None:
        if self.verbose == 1 and self.params.get("mode") == "evaluate":
            self._open(self.params.get("steps"), "Evaluate")

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.bar is not None:
            self._advance(logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        if self.params.get("mode") == "evaluate":
            if self.verbose == 1:
                self._close(logs)
            elif self.verbose == 2:
                print(_fmt(logs or {}), flush=True)

    def on_predict_begin(self, logs: dict | None = None) -> None:
        if self.verbose == 1:
            self._open(self.params.get("steps"), "Predict")

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.bar is not None:
            self._advance({})

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._close(None)
