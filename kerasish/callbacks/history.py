"""History: the per-epoch record returned by fit()."""

from __future__ import annotations

from typing import Any

from kerasish.callbacks.callback import Callback

__all__ = ["History"]


class History(Callback):
    """Records epoch logs; ``fit`` returns it and sets ``model.history``.

    Attributes:
        history: a dict of per-epoch lists (``loss``, metrics, ``val_`` keys, and keys other
            callbacks add, such as ``ReduceLROnPlateau``'s ``learning_rate``).
        epoch: the epoch indices recorded.
        params: ``epochs``, ``steps``, ``verbose``.

    Example:
        >>> h = History(); h.on_train_begin(); h.on_epoch_end(0, {"loss": 1.0})
        >>> h.history
        {'loss': [1.0]}
    """

    dispatch_late = True  # after the callbacks that add keys (learning_rate) to the logs

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[Any]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self

    def plot(self, keys: list[str] | None = None, ax: Any = None) -> Any:
        """Draw the curves with matplotlib (the ``examples`` extra); ``val_`` keys dashed.

        Returns:
            The matplotlib Axes.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as e:
            raise ImportError(
                "History.plot needs matplotlib: pip install 'kerasish[examples]'"
            ) from e
        if ax is None:
            _, ax = plt.subplots()
        for k in keys or [k for k in self.history if not k.startswith("val_")]:
            ax.plot(self.epoch, self.history[k], label=k)
            if f"val_{k}" in self.history:
                ax.plot(self.epoch, self.history[f"val_{k}"], "--", label=f"val_{k}")
        ax.set_xlabel("epoch")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"
