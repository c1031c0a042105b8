"""Launch the real TensorBoard server on the loopback interface and print its URL.

    python -m kerasish.tensorboard --logdir runs [--port 6006] [other tensorboard flags]
    kerasish tensorboard --logdir runs

The server listens on 127.0.0.1 only (``--host`` and ``--bind_all`` are refused: use an SSH
tunnel to reach it from another machine). No TensorFlow is needed: the ``tensorboard`` package
reads the event files that ``kerasish.callbacks.TensorBoard`` writes.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

__all__ = ["HOST", "launch", "main"]

HOST = "127.0.0.1"
_REFUSED = ("--host", "--bind_all")


def launch(
    logdir: str | os.PathLike, *, port: int | None = None, extra_args: Sequence[str] = ()
) -> str:
    """Start TensorBoard over ``logdir`` in a background thread of this process.

    Args:
        logdir: the directory holding the runs (e.g. ``runs``, with ``runs/exp1/train``...).
        port: the port on 127.0.0.1; None lets TensorBoard pick one from 6006 upwards.
        extra_args: further ``tensorboard`` flags, e.g. ``["--reload_interval", "1"]``.

    Returns:
        The server's URL, e.g. "http://127.0.0.1:6006/".

    Raises:
        ValueError: for ``--host``/``--bind_all`` in ``extra_args`` or a bad port.

    Example:
        >>> url = launch("runs", port=6006)
    """
    for arg in extra_args:
        if arg.split("=", 1)[0] in _REFUSED:
            raise ValueError(
                f"Expected no --host/--bind_all: kerasish tensorboard serves on {HOST} only. "
                f"Received: {arg}"
            )
    if port is not None and (
        isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536
    ):
        raise ValueError(f"Expected port to be an integer in [1, 65535]. Received: port={port!r}")
    from tensorboard import program

    argv = [None, "--logdir", os.fspath(logdir), "--host", HOST, *extra_args]
    if port is not None:
        argv += ["--port", str(port)]
    server = program.TensorBoard()
    server.configure(argv=argv)
    return server.launch()


def _wait_for_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: start TensorBoard, print its URL, serve until Ctrl+C or SIGTERM.

    Returns:
        The exit status (0).
    """
    parser = argparse.ArgumentParser(
        prog="kerasish tensorboard",
        description="Start TensorBoard on 127.0.0.1 over a log directory and print its URL. "
        "Other flags are passed to tensorboard.",
    )
    parser.add_argument("--logdir", required=True, help="the directory of the runs")
    parser.add_argument("--port", type=int, default=None, help="the port (default: from 6006)")
    args, extra = parser.parse_known_args(argv)
    try:
        url = launch(args.logdir, port=args.port, extra_args=extra)
    except ValueError as e:
        parser.error(str(e))
    print(f"TensorBoard at {url} (Press CTRL+C to quit)", flush=True)
    _wait_for_signal()
    return 0


if __name__ == "__main__":
    sys.exit(main())
