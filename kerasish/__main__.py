"""The ``kerasish`` command: ``tensorboard``, ``env`` (for bug reports) and ``version``.

Also reachable as ``python -m kerasish``, e.g. ``.venv/bin/python -m kerasish env``.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import platform
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["env_info", "format_env", "main"]

USAGE = """usage: kerasish <command> [options]

commands:
  tensorboard --logdir DIR [--port N] [tensorboard flags]
                  start TensorBoard on 127.0.0.1 over DIR and print its URL
  env [--json]    print the versions of kerasish, Python and its packages, the optional
                  extras installed, and the devices (CUDA, MPS, CPU): paste it in bug reports
  version         print the kerasish version
"""

# Used only when kerasish's own metadata is missing (a source tree on sys.path, not installed).
_CORE = ("torch", "torchvision", "numpy", "tensorboard", "tqdm", "safetensors")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def _version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def split_requirements(requires: Iterable[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Split ``Requires-Dist`` lines into core distributions and extras' distributions.

    Requirements on kerasish itself (``kerasish[demo]`` inside another extra) are left out.

    Args:
        requires: lines such as ``'scikit-learn>=1.2; extra == "demo"'``.

    Returns:
        ``(core, extras)``: the core distribution names, and a dict from extra to names.

    Example:
        >>> split_requirements(["torch>=2.6", 'pillow>=9; extra == "examples"'])
        (['torch'], {'examples': ['pillow']})
    """
    core: list[str] = []
    extras: dict[str, list[str]] = {}
    for line in requires:
        name = _NAME.match(line)
        if name is None or name.group(1).lower() == "kerasish":
            continue
        extra = _EXTRA.search(line)
        if extra is None:
            core.append(name.group(1))
        else:
            extras.setdefault(extra.group(1), []).append(name.group(1))
    return core, extras


def _devices() -> dict[str, Any]:
    """What torch sees: CUDA (count, names, memory), MPS, CPU threads, the default device."""
    import torch

    from kerasish import devices

    cuda: dict[str, Any] = {"available": torch.cuda.is_available(), "built": torch.version.cuda}
    cuda["count"] = torch.cuda.device_count() if cuda["available"] else 0
    cuda["devices"] = [
        {"name": p.name, "memory_gib": round(p.total_memory / 2**30, 1)}
        for p in map(torch.cuda.get_device_properties, range(cuda["count"]))
    ]
    cuda["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    mps = torch.backends.mps
    dist = torch.distributed.is_available()
    return {
        "default": str(devices.resolve("auto")),
        "KERASISH_DEVICE": os.environ.get("KERASISH_DEVICE"),
        "cuda": cuda,
        "mps": {"available": mps.is_available(), "built": mps.is_built()},
        "cpu": {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads()},
        "distributed": {"available": dist, "nccl": dist and torch.distributed.is_nccl_available()},
    }


def env_info() -> dict[str, Any]:
    """Versions (kerasish, Python, core packages, each extra's packages) and devices.

    Returns:
        A JSON-ready dict; a package that is not installed has the version None.

    Example:
        >>> info = env_info()
        >>> sorted(info)
        ['devices', 'extras', 'kerasish', 'packages', 'platform', 'python']
    """
    import torch

    from kerasish import __version__

    requires = metadata.requires("kerasish") if _version("kerasish") else None
    core, extras = split_requirements(requires) if requires is not None else (list(_CORE), {})
    packages = {name: _version(name) for name in core}
    packages["torch"] = torch.__version__  # with its build tag, e.g. 2.14.1+cu130
    return {
        "kerasish": __version__,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "platform": platform.platform(),
        "packages": packages,
        "extras": {x: {name: _version(name) for name in names} for x, names in extras.items()},
        "devices": _devices(),
    }


def _device_lines(dev: dict[str, Any]) -> list[str]:
    cuda = dev["cuda"]
    if cuda["available"]:
        names = ", ".join(f"{d['name']} ({d['memory_gib']} GiB)" for d in cuda["devices"])
        cuda_line = (
            f"{cuda['count']} device(s): {names}; CUDA {cuda['built']}, cuDNN {cuda['cudnn']}"
        )
    else:
        built = f"torch built with CUDA {cuda['built']}" if cuda["built"] else "CPU-only torch"
        cuda_line = f"not available ({built})"
    mps = "available" if dev["mps"]["available"] else "not available"
    dist = dev["distributed"]
    return [
        "devices",
        f"  default      {dev['default']} (KERASISH_DEVICE={dev['KERASISH_DEVICE'] or 'unset'})",
        f"  CUDA         {cuda_line}",
        f"  MPS          {mps}",
        f"  CPU          {dev['cpu']['cores']} logical cores, torch uses {dev['cpu']['torch_threads']} threads",
        f"  distributed  {'available' if dist['available'] else 'not available'}"
        f"{', NCCL' if dist['nccl'] else ''}",
    ]


def format_env(info: dict[str, Any]) -> str:
    """The text ``kerasish env`` prints for ``info`` (from :func:`env_info`).

    Example:
        >>> print(format_env(env_info()).splitlines()[0])  # doctest: +ELLIPSIS
        kerasish ...
    """
    missing = "not installed"
    lines = [f"kerasish     {info['kerasish']}", f"python       {info['python']}"]
    lines += [f"platform     {info['platform']}", "", "packages"]
    lines += [f"  {name:<12} {v or missing}" for name, v in info["packages"].items()]
    lines += ["", "extras (pip install 'kerasish[NAME]')"]
    for extra, packages in info["extras"].items():
        found = ", ".join(f"{name} {v or missing}" for name, v in packages.items())
        lines.append(f"  {extra:<12} {found}")
    if not info["extras"]:
        lines.append("  unknown: kerasish is not installed (a source tree on sys.path)")
    return "\n".join([*lines, "", *_device_lines(info["devices"])])


def main(argv: Sequence[str] | None = None) -> int:
    """Run a ``kerasish`` subcommand; returns the exit status.

    Example:
        >>> main(["version"])  # doctest: +ELLIPSIS
        0...
        0
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE, end="")
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "tensorboard":
        from kerasish import tensorboard

        return tensorboard.main(rest)
    if command == "env" and rest in ([], ["--json"]):
        info = env_info()
        print(json.dumps(info, indent=2) if rest else format_env(info))
        return 0
    if command in ("version", "--version") and not rest:
        from kerasish import __version__

        print(__version__)
        return 0
    print(f"kerasish: unknown command {' '.join(args)!r}\n\n{USAGE}", end="", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
