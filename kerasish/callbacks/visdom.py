"""Visdom: plot each epoch's loss and metrics on a visdom server, train and validation overlaid.

One window per quantity (``loss``, ``accuracy``, ``learning_rate``, ...), with a ``train``
trace and, when ``fit`` validates, a ``validation`` trace (the ``val_`` key) in the same window.
The ``visdom`` package is the ``visdom`` extra (``pip install 'kerasish[visdom]'``).
"""

from __future__ import annotations

import logging
import warnings
from numbers import Real
from typing import Any

import numpy as np

from kerasish.callbacks.callback import Callback

__all__ = ["Visdom"]

_EXTRA = (
    "pip install 'kerasish[visdom]' (visdom's setup needs setuptools<81: "
    "PIP_CONSTRAINT=<(echo 'setuptools<81') pip install visdom; see the README's Installing)"
)


def _import_visdom() -> Any:
    try:
        import visdom
    except ImportError as e:
        raise ImportError(f"kerasish.callbacks.Visdom needs the visdom package: {_EXTRA}") from e
    return visdom


class Visdom(Callback):
    """Plot the epoch logs (loss, metrics, learning rate) live on a visdom server.

    Each quantity gets one line-plot window, x = the epoch number (1-based, as the progress
    bar counts; it continues across ``fit`` calls through ``initial_epoch``), with the
    training value as the ``train`` trace and its ``val_`` counterpart as the ``validation``
    trace (the learning rate on a log axis). The window ids are ``"<name>/<key>"`` (``"<key>"``
    without ``name``) and are kept in ``windows``; the first epoch a callback plots replaces an
    existing window of the same id, so re-running a script redraws its curves instead of
    appending to old ones.

    The server must be running (``python -m visdom.server``, then open
    ``http://localhost:8097``); the client connects when training begins and raises if nothing
    answers. If the server goes away during training, a warning is shown and training goes on
    without plots. Only rank 0 plots in distributed training.

    Args:
        server: the server's address, with the scheme.
        port: the server's port.
        env: the visdom environment (a tab in the web page) to plot into.
        name: a run name: prefixes the window ids and titles (to tell runs apart in one env).
        base_url: the server's base URL (its ``-base_url`` flag).
        username: user name when the server runs with ``-enable_login``.
        password: the password for ``username``.

    Raises:
        ImportError: when visdom is not installed, naming the extra.
        TypeError: for a bad argument.
        ConnectionError: (when training begins) when no server answers at ``server:port``.

    Example:
        >>> viz = Visdom(server="http://127.0.0.1", port=8097, env="main", name="run1")
        >>> viz.windows  # filled as fit plots: {"loss": "run1/loss", "accuracy": ...}
        {}
        >>> # with a server running (python -m visdom.server), then open http://127.0.0.1:8097
        >>> # model.fit(x, y, validation_split=0.25, epochs=10, callbacks=[viz])
    """

    rank_zero_only = True  # talks to a server: rank 0 only in distributed training

    def __init__(
        self,
        server: str = "http://localhost",
        port: int = 8097,
        env: str = "main",
        name: str | None = None,
        base_url: str = "/",
        username: str | None = None,
        password: str | None = None,
    ):
        super().__init__()
        for arg, value in (("server", server), ("env", env), ("base_url", base_url)):
            if not isinstance(value, str) or not value:
                raise TypeError(
                    f"Expected {arg} to be a non-empty string. Received: {arg}={value!r}"
                )
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise TypeError(f"Expected port to be an int in 1..65535. Received: port={port!r}")
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError(
                f"Expected name to be None or a non-empty string. Received: name={name!r}"
            )
        self._visdom = _import_visdom()
        self.server, self.port, self.env, self.name = server, port, env, name
        self.base_url, self.username, self.password = base_url, username, password
        self.windows: dict[str, str] = {}
        self.client: Any = None
        self._offline = False

    def on_train_begin(self, logs: dict | None = None) -> None:
        if self.client is None:
            self.client = self._connect()
        self._offline = False

    def _connect(self) -> Any:
        """A visdom client without the incoming socket (no background thread, no wait)."""
        quiet = logging.getLogger("visdom")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # its "no incoming socket" and "new session" notices
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # its own logger.warn call
                return self._visdom.Visdom(
                    server=self.server,
                    port=self.port,
                    env=self.env,
                    base_url=self.base_url,
                    username=self.username,
                    password=self.password,
                    raise_exceptions=True,
                    use_incoming_socket=False,
                )
        except ConnectionError as e:
            raise ConnectionError(
                f"Expected a visdom server at {self.server}:{self.port} (start one with "
                f"`python -m visdom.server -port {self.port}`). Received: no answer"
            ) from e
        finally:
            quiet.setLevel(level)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.client is None or self._offline:
            return
        try:
            for key, value in (logs or {}).items():
                if isinstance(value, Real):
                    self._plot(key, epoch + 1, float(value))
        except ConnectionError:
            self._offline = True
            warnings.warn(
                f"The visdom server at {self.server}:{self.port} stopped answering; "
                "training goes on without plots.",
                stacklevel=2,
            )

    def _plot(self, key: str, x: int, value: float) -> None:
        """Append ``(x, value)`` to the train or validation trace of ``key``'s window."""
        base, trace = (key[4:], "validation") if key.startswith("val_") else (key, "train")
        win = self.windows.get(base)
        if win is None:  # first point: (re)create the window with its title and axes
            win = self.windows[base] = f"{self.name}/{base}" if self.name else base
            title = f"{self.name}: {base}" if self.name else base
            opts = {"title": title, "xlabel": "epoch", "ylabel": base, "showlegend": True}
            if base == "learning_rate":
                opts["ytype"] = "log"  # schedules span decades; linear shows 1e-3 as 0
            self.client.line(Y=np.array([value]), X=np.array([x]), win=win, name=trace, opts=opts)
            return
        self.client.line(Y=np.array([value]), X=np.array([x]), win=win, name=trace, update="append")
