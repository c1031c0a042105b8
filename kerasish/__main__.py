"""The ``kerasish`` command: ``kerasish tensorboard --logdir runs`` (and ``python -m kerasish``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

USAGE = """usage: kerasish <command> [options]

commands:
  tensorboard --logdir DIR [--port N] [tensorboard flags]
                  start TensorBoard on 127.0.0.1 over DIR and print its URL
  version         print the kerasish version
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run a ``kerasish`` subcommand; returns the exit status.

    Example:
        >>> main(["version"])  # doctest: +SKIP
        0.1.0
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "tensorboard":
        from kerasish import tensorboard

        return tensorboard.main(rest)
    if command in ("version", "--version"):
        from kerasish import __version__

        print(__version__)
        return 0
    print(f"kerasish: unknown command {command!r}\n\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
