"""ProgbarLogger: the progress display on tqdm (terminal and Jupyter).

verbose=1: a bar per epoch with the running loss and metrics; when the epoch ends the bar stands
at N/N and the epoch's values (validation included) follow in full on the line(s) below it,
wrapped at the terminal's width, never cut. Validation batches never move the training bar.
2: Keras's one line per epoch (``Epoch 1/3`` above it when there are several epochs), e.g.
``41/41 - 0s - 3ms/step - accuracy: 0.9100 - loss: 0.2800 - val_accuracy: ...``, and one line
per ``evaluate``/``predict``; 0: silent; "auto": 1 on a terminal or notebook, 2 when output is not a
tty; "plot": the bars of 1 and a ``LivePlot`` of the loss and metrics.

In a notebook the bar is tqdm's ipywidgets widget; without ipywidgets it is a text bar, after
one warning that says what to install. The postfix is refreshed at most every ``interval``
seconds, so the bar reads device values (a host sync) at that rate, never per batch.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from typing import Any

from kerasish.callbacks.callback import Callback
from kerasish.utils import in_notebook

__all__ = ["ProgbarLogger", "resolve_verbose", "in_notebook", "wrap_values", "keras_line"]

_NO_WIDGETS = (
    "Notebook progress bars need ipywidgets (pip install ipywidgets, or "
    "pip install 'kerasish[notebook]'); showing text bars instead."
)
_warned = False


def resolve_verbose(verbose: Any) -> int | str:
    """Map ``verbose`` ("auto", 0, 1, 2, "plot") to 0, 1, 2 or "plot".

    Raises:
        ValueError: for any other value.

    Example:
        >>> resolve_verbose(2), resolve_verbose("plot")
        (2, 'plot')
    """
    if verbose == "auto":
        return 1 if (sys.stdout.isatty() or in_notebook()) else 2
    if verbose == "plot":
        return "plot"
    if verbose in (0, 1, 2) and not isinstance(verbose, float):
        return int(verbose)
    raise ValueError(
        f"Expected verbose to be 'auto', 0, 1, 2 or 'plot'. Received: verbose={verbose!r}"
    )


def _parts(logs: Any) -> list[str]:
    return [f"{k}: {_num(v)}" for k, v in logs.items()]


def _num(v: Any) -> str:
    v = float(v)
    return f"{v:.4e}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5) else f"{v:.4f}"


def keras_line(steps: int, seconds: float, logs: Any) -> str:
    """Keras 3's ``verbose=2`` line: ``steps/steps - Ns - T/step`` and ``key: value`` parts.

    As ``keras.utils.Progbar(verbose=2)`` formats it: the time per step in whole s, ms or us,
    values above 1e-3 with 4 decimals, the others (0 and negatives too) in ``.4e``.

    Example:
        >>> keras_line(3, 0.018, {"accuracy": 0.5, "loss": 0.69314, "lr": 1e-4})
        '3/3 - 0s - 6ms/step - accuracy: 0.5000 - loss: 0.6931 - lr: 1.0000e-04'
    """
    line = f"{steps}/{steps} - {seconds:.0f}s -{_per_step(seconds / max(steps, 1))}"
    for k, v in logs.items():
        v = float(v)
        line += f" - {k}: {v:.4f}" if v > 1e-3 else f" - {k}: {v:.4e}"
    return line


def _per_step(t: float) -> str:
    """Keras's ``Progbar._format_time`` for the unit "step"."""
    if t >= 1 or t == 0:
        return f" {t:.0f}s/step"
    if t >= 1e-3:
        return f" {t * 1000.0:.0f}ms/step"
    return f" {t * 1000000.0:.0f}us/step"


def wrap_values(parts: list[str], width: int | None, indent: str = "  ") -> list[str]:
    """Join ``parts`` with " - " into lines of at most ``width`` columns.

    Lines break between parts only (a ``key: value`` is never split, unless one alone is wider
    than the line); continuation lines start with ``indent``. ``width=None``: one line.

    Example:
        >>> wrap_values(["loss: 0.2800", "accuracy: 0.9100", "val_loss: 0.3000"], 32)
        ['loss: 0.2800 - accuracy: 0.9100', '  val_loss: 0.3000']
    """
    if not width or width < 0:
        return [" - ".join(parts)]
    lines: list[str] = []
    line = ""
    for part in parts:
        joined = f"{line} - {part}"
        if line and len(joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        fresh = indent + part if lines else part
        line = fresh if len(fresh) <= width else part  # drop the indent rather than split
    lines.append(line)
    return [chunk for ln in lines for chunk in _hard_break(ln, width)]


def _hard_break(line: str, width: int) -> list[str]:
    return [line[i : i + width] for i in range(0, len(line), width)] or [""]


def _columns() -> int | None:
    """The terminal's width when stdout is a terminal; None otherwise (a notebook, a file)."""
    try:
        if not sys.stdout.isatty():
            return None
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = os.environ.get("COLUMNS", "")
        return int(columns) if columns.isdigit() else None


def _bar_class() -> tuple[Any, bool]:
    """tqdm's widget bar in a notebook with ipywidgets, else its text bar; and which."""
    global _warned
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401
            import tqdm.notebook as tqdm_notebook

            if tqdm_notebook.IProgress is not None:
                return tqdm_notebook.tqdm, True
        except ImportError:
            pass
        if not _warned:
            _warned = True
            warnings.warn(_NO_WIDGETS, UserWarning, stacklevel=2)
    from tqdm.std import tqdm

    return tqdm, False


def _show_widget(bar: Any) -> Any:
    """Display a notebook bar's widget with a display id (so its end state can replace it)."""
    from IPython.display import display

    return display(bar.container, display_id=True)


class ProgbarLogger(Callback):
    """Shows training progress with tqdm.

    Args:
        verbose: 1 for a bar per epoch, 2 for a line per epoch, "plot" for the bars and a
            ``LivePlot`` (``model.fit(verbose="plot")``).
        interval: the least seconds between two refreshes of the bar's numbers.

    In distributed training only rank 0 shows progress; mid-epoch numbers are rank 0's own,
    epoch-end numbers are global.

    Example:
        >>> bar = ProgbarLogger(verbose=2)  # what fit(verbose=2) adds
        >>> bar.set_params({"epochs": 3, "steps": 10})
        >>> bar.on_epoch_begin(0)
        Epoch 1/3
        >>> bar.on_epoch_end(0, {"loss": 0.25, "val_loss": 0.5})  # doctest: +ELLIPSIS
        10/10 - 0s - ...s/step - loss: 0.2500 - val_loss: 0.5000
    """

    rank_zero_only = True
    dispatch_late = True  # after the callbacks that add keys (learning_rate) to the logs

    def __init__(self, verbose: int | str = 1, interval: float = 0.1):
        super().__init__()
        self.verbose, self.interval = verbose, interval
        self.bars = verbose in (1, "plot")
        self.plot: Any = None
        if verbose == "plot":
            from kerasish.callbacks.live_plot import LivePlot

            self.plot = LivePlot()
        self.bar: Any = None
        self._evaluating = False
        self._pending = 0
        self._room: int | None = None
        self._shown: Any = None
        self._next = 0.0
        self._t0 = 0.0
        self._seen = 0
        self._counts = False

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        if self.plot is not None:
            self.plot.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        if self.plot is not None:
            self.plot.set_params(params)
        # Without bars the batch hooks are needed only to count steps of unknown number
        # (evaluate/predict of a generator; fit counts in train_state.step).
        self._counts = not self.bars and self.verbose == 2 and params.get("steps") is None
        batch_hooks = {"on_train_batch_end", "on_test_batch_end", "on_predict_batch_end"}
        if self.bars:
            self.skipped_hooks = frozenset()
        elif self._counts and params.get("mode") in ("evaluate", "predict"):
            self.skipped_hooks = frozenset({"on_train_batch_end"})
        else:
            self.skipped_hooks = frozenset(batch_hooks)

    def _open(self, total: int | None, desc: str) -> None:
        bar_class, widget = _bar_class()
        columns = _columns()
        # a terminal that reports 0 columns (an unsized pty) gets 80, not an empty bar
        width = {"ncols": 80, "nrows": 24} if columns == 0 else {"dynamic_ncols": True}
        self.bar = bar_class(
            total=total,
            desc=desc,
            unit="step",
            leave=True,
            mininterval=self.interval,
            file=sys.stdout,
            **width,
            **({"display": False} if widget else {}),
        )
        self._shown = _show_widget(self.bar) if widget else None
        # room for the live values beside the bar, counts and rate (None: no limit)
        self._room = None
        if columns is not None:
            self._room = (columns or 80) - len(desc) - 2 * len(str(total)) - 45
        self._pending, self._next, self._t0 = 0, time.monotonic() + self.interval, time.time()

    def _live(self, logs: Any) -> str:
        """The running values that fit beside the bar, whole ``key: value`` parts only."""
        parts = _parts(logs)
        if self._room is None:
            return " - ".join(parts)
        shown = ""
        for part in parts:
            longer = f"{shown} - {part}" if shown else part
            if len(longer) > self._room:
                break
            shown = longer
        return shown

    def _advance(self, logs: Any) -> None:
        self._pending += 1
        if time.monotonic() >= self._next:
            self._redraw(logs)

    def _redraw(self, logs: Any) -> None:
        """Show the steps counted so far and the running values (reads them: a host sync)."""
        if self.bar is not None:
            self._next = time.monotonic() + self.interval
            self.bar.set_postfix_str(self._live(logs), refresh=False)
            self.bar.update(self._pending)
            self._pending = 0

    def _flush(self) -> None:
        """Move the bar by the steps not shown yet (no postfix change, no device read)."""
        if self.bar is not None and self._pending:
            self.bar.update(self._pending)
            self._pending = 0

    def _close(self, logs: Any) -> None:
        """Close the bar at its final count, then print ``logs`` in full below it."""
        if self.bar is None:
            return
        self.bar.set_postfix_str("", refresh=False)
        self._flush()
        self.bar.close()
        if self._shown is not None:  # the final state also in text/plain, for static viewers
            self._shown.update(self.bar.container)
        self.bar = self._shown = None
        if logs:
            print("\n".join(wrap_values(_parts(logs), _columns())), flush=True)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._evaluating = False
        if self.plot is not None:
            self.plot.on_train_begin(logs)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        epochs = self.params.get("epochs", "?")
        self._epoch_desc = f"Epoch {epoch + 1}/{epochs}"
        self._t0, self._seen = time.time(), 0
        if self.bars:
            self._open(self.params.get("steps"), self._epoch_desc)
        elif self.verbose == 2 and epochs != 1:  # Keras: only when there are several
            print(self._epoch_desc, flush=True)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._seen = batch + 1
        if self.bars:  # _advance, inlined: this runs once per training batch
            self._pending += 1
            if time.monotonic() >= self._next:
                self._redraw(logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.bars:
            self._close(logs)
        elif self.verbose == 2:
            state = getattr(self.model, "train_state", None)
            steps = self.params.get("steps") or getattr(state, "step", 0) or self._seen
            self._keras_line(steps, logs)
        if self.plot is not None:
            self.plot.on_epoch_end(epoch, logs)

    def _keras_line(self, steps: int | None, logs: Any) -> None:
        if steps:  # Keras prints nothing for an empty (or unknown) count
            print(keras_line(steps, time.time() - self._t0, logs or {}), flush=True)

    def on_train_end(self, logs: dict | None = None) -> None:
        self._close(None)
        if self.plot is not None:
            self.plot.on_train_end(logs)

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._evaluating = self.params.get("mode") == "evaluate"
        if self._evaluating:
            self._t0, self._seen = time.time(), 0
        if self.bars and self._evaluating:
            self._open(self.params.get("steps"), "Evaluate")
        else:  # validation inside fit: the training bar stays at its count, N/N
            self._flush()

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._evaluating and self.bar is not None:
            self._advance(logs)
        self._seen = batch + 1

    def on_test_end(self, logs: dict | None = None) -> None:
        if self._evaluating:
            if self.bars:
                self._close(logs)
            elif self.verbose == 2:
                self._keras_line(self.params.get("steps") or self._seen, logs)
        self._evaluating = False

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._t0, self._seen = time.time(), 0
        if self.bars:
            self._open(self.params.get("steps"), "Predict")

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.bar is not None:
            self._advance({})
        self._seen = batch + 1

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._close(None)
        if not self.bars and self.verbose == 2:  # Keras: the count and times, no values
            self._keras_line(self.params.get("steps") or self._seen, {})
