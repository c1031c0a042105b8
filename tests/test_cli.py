"""The ``kerasish`` command: ``env`` reports what is really installed and seen, ``version``."""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import kerasish
from kerasish.__main__ import env_info, format_env, main, split_requirements

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_env_json_matches_the_installed_packages_and_torch(capsys):
    assert main(["env", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kerasish"] == kerasish.__version__
    assert info["python"].startswith(platform.python_version())
    packages = info["packages"]
    assert packages["torch"] == torch.__version__
    assert packages["numpy"] == np.__version__
    for name in ("torchvision", "tensorboard", "tqdm", "safetensors"):
        assert packages[name] == metadata.version(name)
    devices = info["devices"]
    assert devices["cuda"]["available"] == torch.cuda.is_available()
    assert devices["cuda"]["count"] == (
        torch.cuda.device_count() if torch.cuda.is_available() else 0
    )
    assert devices["cuda"]["built"] == torch.version.cuda
    assert [d["name"] for d in devices["cuda"]["devices"]] == [
        torch.cuda.get_device_name(i) for i in range(devices["cuda"]["count"])
    ]
    assert devices["mps"]["available"] == torch.backends.mps.is_available()
    assert devices["cpu"] == {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads()}
    assert devices["default"] == str(kerasish.devices.resolve("auto"))


def test_env_lists_every_extra_of_pyproject_with_what_is_installed(capsys):
    extras = _pyproject()["project"]["optional-dependencies"]
    info = env_info()
    assert set(info["extras"]) == set(extras)
    for extra, packages in info["extras"].items():
        for name, version in packages.items():
            assert version == _installed(name), (extra, name)
    assert info["extras"]["demo"] == {"scikit-learn": metadata.version("scikit-learn")}
    main(["env"])
    text = capsys.readouterr().out
    assert f"kerasish     {kerasish.__version__}" in text
    assert f"torch        {torch.__version__}" in text
    assert f"scikit-learn {metadata.version('scikit-learn')}" in text
    cuda = "device(s)" if torch.cuda.is_available() else "not available"
    assert f"CUDA         {cuda}" in text
    assert f"{os.cpu_count()} logical cores" in text


def test_missing_packages_read_not_installed():
    requires = ["torch>=2.6", 'no-such-dist-kerasish-test>=1; extra == "demo"', "kerasish[demo]"]
    core, extras = split_requirements(requires)
    assert core == ["torch"] and extras == {"demo": ["no-such-dist-kerasish-test"]}
    info = env_info()
    info["extras"] = {"demo": {"no-such-dist-kerasish-test": None}}
    assert "demo         no-such-dist-kerasish-test not installed" in format_env(info)


def test_the_installed_kerasish_command_runs_env():
    script = Path(sys.executable).parent / "kerasish"
    if not script.exists():
        pytest.skip(f"kerasish is not installed next to {sys.executable}")
    out = subprocess.run(
        [str(script), "env"], capture_output=True, text=True, timeout=180, check=True
    ).stdout
    assert out.startswith(f"kerasish     {kerasish.__version__}\n")
    assert "devices" in out and "extras" in out


def test_version_has_one_source(capsys):
    project = _pyproject()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "kerasish.__version__"}
    assert metadata.version("kerasish") == kerasish.__version__
    assert main(["version"]) == 0
    assert capsys.readouterr().out == f"{kerasish.__version__}\n"


def test_help_and_unknown_commands(capsys):
    assert main(["--help"]) == 0
    assert "env [--json]" in capsys.readouterr().out
    assert main([]) == 2
    assert main(["env", "--yaml"]) == 2
    assert "unknown command 'env --yaml'" in capsys.readouterr().err
