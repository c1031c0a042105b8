"""LivePlot: loss and metric curves redrawn after every epoch (a notebook cell or a PNG file).

One panel per loss or metric, the training curve and the validation curve (``val_`` keys)
overlaid. In a notebook the figure is one output, replaced in place each epoch
(``IPython.display`` with a ``display_id``); elsewhere, and whenever ``path`` is given, a PNG
file is rewritten each epoch (atomically: a viewer never reads half a file). Drawing uses
matplotlib's Agg canvas directly, never pyplot, so no GUI window opens and the notebook shows
no second copy of the figure at the end of the cell. ``model.fit(verbose="plot")`` adds one.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from typing import Any

from kerasish.callbacks.callback import Callback
from kerasish.saving.atomic import write_bytes
from kerasish.utils import in_notebook

__all__ = ["LivePlot"]

_DEFAULT_FILE = "live_plot.png"


class LivePlot(Callback):
    """Plot the loss and metrics after each epoch, training and validation overlaid.

    Args:
        path: a PNG file rewritten every epoch. Default None: in a notebook the plot is shown
            in the cell's output and no file is written; elsewhere ``live_plot.png`` in the
            working directory (its full path is printed once).
        metrics: the names to plot (``"loss"``, ``"accuracy"``, ...; each with its ``val_``
            curve). Default None: every logged value except ``learning_rate``.
        columns: panels per row.
        dpi: the image's dots per inch (a 4 x 3 inch panel each).

    Raises:
        TypeError: when ``path`` is not a path or ``metrics`` not a list of names.
        ValueError: when ``columns`` or ``dpi`` is not a positive integer.
        ImportError: at the start of training when matplotlib is not installed.

    Attributes:
        figure: the matplotlib ``Figure`` drawn last (None before the first epoch).
        path: the PNG file written, or None.

    Example:
        >>> plot = K.callbacks.LivePlot(path="curves.png")
        >>> history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[plot])
        >>> [ax.get_title() for ax in plot.figure.axes], os.path.exists("curves.png")
        (['loss', 'accuracy'], True)
    """

    rank_zero_only = True  # draws and writes a file: rank 0 only in distributed training

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        metrics: Sequence[str] | None = None,
        columns: int = 3,
        dpi: int = 80,
    ):
        super().__init__()
        if path is not None and not isinstance(path, str | os.PathLike):
            raise TypeError(f"Expected path to be a path or None. Received: path={path!r}")
        if metrics is not None and (
            isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics)
        ):
            raise TypeError(
                f"Expected metrics to be a list of names. Received: metrics={metrics!r}"
            )
        for name, value in (("columns", columns), ("dpi", dpi)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"Expected {name} to be a positive integer. Received: {name}={value!r}"
                )
        self._given_path = None if path is None else os.fspath(path)
        self.path: str | None = self._given_path
        self.metrics = None if metrics is None else list(metrics)
        self.columns, self.dpi = columns, dpi
        self.curves: dict[str, list[tuple[int, float]]] = {}
        self.figure: Any = None
        self._handle: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        try:
            import matplotlib  # noqa: F401
        except ImportError as e:  # before the first epoch, not after it
            raise ImportError("LivePlot needs matplotlib: pip install 'kerasish[examples]'") from e
        self.curves, self.figure, self._handle = {}, None, None
        notebook = in_notebook()
        self.path = self._given_path
        if self.path is None and not notebook:
            self.path = os.path.abspath(_DEFAULT_FILE)
        if notebook:
            from IPython.display import HTML, display

            waiting = HTML("<i>LivePlot: the curves appear after the first epoch.</i>")
            self._handle = display(waiting, display_id=True)
        if self.path is not None and not notebook and self._given_path is None:
            print(f"LivePlot: the curves are redrawn each epoch in {self.path}", flush=True)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        for key, value in (logs or {}).items():
            if isinstance(value, int | float):
                self.curves.setdefault(key, []).append((epoch + 1, float(value)))
        panels = self._panels()
        if not panels:
            return
        self.figure = _draw(self.curves, panels, self.columns)
        png = _png(self.figure, self.dpi)
        if self.path is not None:
            write_bytes(self.path, png)
        if self._handle is not None:
            from IPython.display import Image

            self._handle.update(Image(data=png, format="png"))

    def _panels(self) -> list[str]:
        """The names with a panel: the chosen metrics, or every non-``val_`` key but the LR."""
        if self.metrics is not None:
            return [m for m in self.metrics if m in self.curves or f"val_{m}" in self.curves]
        names = [k for k in self.curves if not k.startswith("val_") and k != "learning_rate"]
        names.sort(key=lambda k: k != "loss")  # the loss first (logs come with sorted keys)
        orphans = [k[4:] for k in self.curves if k.startswith("val_") and k[4:] not in names]
        return names + orphans


def _draw(curves: dict[str, list[tuple[int, float]]], panels: list[str], columns: int) -> Any:
    """A Figure (Agg canvas, no pyplot) with one panel per name, train and validation."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ncols = min(columns, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    figure = Figure(figsize=(4 * ncols, 3 * nrows), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, name in zip(axes, panels, strict=False):
        for key, label in ((name, "train"), (f"val_{name}", "validation")):
            if key in curves:
                epochs, values = zip(*curves[key], strict=True)
                ax.plot(epochs, values, marker="o", markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    return figure


def _png(figure: Any, dpi: int) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
