"""A real dashboard: the TensorBoard server started by ``kerasish tensorboard`` over logs of a fit.

The server runs in a subprocess on a free loopback port; its HTTP API must list the runs, the
scalar tags and the values of History. Then headless Chromium renders the scalars dashboard to
a PNG that must show the curves. Without a chromium binary the browser test skips, except in
CI (CI=true), where it must run.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from torch import nn

import kerasish as K
from kerasish import tensorboard as tb_launcher
from kerasish.__main__ import main as cli

STARTUP_TIMEOUT = 60.0
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Loopback only: no proxy (urllib's global opener may have cached one from another test).
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "grpc_proxy")


def get(url: str, data: dict | None = None) -> object:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with OPENER.open(request, timeout=10) as response:
        return json.loads(response.read())


def no_proxy_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}


def read_url(process: subprocess.Popen, timeout: float) -> str:
    """The URL the launcher prints, read without blocking past ``timeout``."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout], daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if "http://" in line:
            return line.split()[line.split().index("at") + 1]
    raise AssertionError(f"the TensorBoard launcher printed no URL within {timeout:.0f} s")


def wait_for_runs(url: str, runs: set[str], timeout: float) -> list[str]:
    deadline, found, error = time.monotonic() + timeout, [], None
    while time.monotonic() < deadline:
        try:
            found = get(url + "data/runs")
            tags = get(url + "data/plugin/scalars/tags")
            if runs <= set(found) and all(tags.get(r) for r in runs):
                return found
        except OSError as e:
            error = e
        time.sleep(0.5)
    raise AssertionError(
        f"Expected runs {sorted(runs)} within {timeout:.0f} s. Received: {found} "
        f"(last error: {error!r})"
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Logs of a 6-epoch fit under logdir/exp1, served by `python -m kerasish tensorboard`."""
    logdir = tmp_path_factory.mktemp("runs")
    g = np.random.default_rng(0)
    x = g.normal(size=(256, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    K.utils.set_random_seed(0)
    model = K.Sequential([nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)])
    model.compile(
        optimizer=K.optimizers.SGD(learning_rate=0.2),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    tb = K.callbacks.TensorBoard(logdir / "exp1", hparams={"units": 16})
    history = model.fit(
        x, y, batch_size=32, epochs=6, verbose=0, validation_split=0.25, callbacks=[tb]
    )
    log = open(logdir.parent / "tensorboard_server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "kerasish", "tensorboard", "--logdir", str(logdir)]
        + ["--port", str(free_port()), "--reload_interval", "1"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=no_proxy_env(),
    )
    try:
        try:
            url = read_url(process, STARTUP_TIMEOUT)
            assert url.startswith("http://127.0.0.1:")
            wait_for_runs(url, {"exp1/train", "exp1/validation"}, STARTUP_TIMEOUT)
        except AssertionError as e:
            log.flush()
            tail = (logdir.parent / "tensorboard_server.log").read_text()[-3000:]
            raise AssertionError(f"{e}\nserver exit code: {process.poll()}\n{tail}") from None
        yield url, history
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_server_lists_runs_tags_and_history_values(served):
    url, history = served
    assert {"exp1/train", "exp1/validation"} <= set(get(url + "data/runs"))
    tags = get(url + "data/plugin/scalars/tags")
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= set(tags["exp1/train"])
    assert {"epoch_loss", "epoch_accuracy"} <= set(tags["exp1/validation"])
    for run, prefix in (("train", ""), ("validation", "val_")):
        for key in ("loss", "accuracy"):
            query = urllib.parse.urlencode({"run": f"exp1/{run}", "tag": f"epoch_{key}"})
            points = get(url + "data/plugin/scalars/scalars?" + query)
            assert [p[1] for p in points] == list(range(6))
            assert [p[2] for p in points] == pytest.approx(history.history[prefix + key], rel=1e-6)


def test_server_hparams_dashboard_has_the_session_and_final_metrics(served):
    url, history = served
    experiment = get(url + "data/plugin/hparams/experiment", {"experimentName": ""})
    names = {h["name"] for h in experiment["hparamInfos"]}
    assert {"optimizer", "learning_rate", "batch_size", "epochs", "units"} <= names
    groups = get(
        url + "data/plugin/hparams/session_groups",
        {
            "experimentName": "",
            "allowedStatuses": ["STATUS_SUCCESS", "STATUS_UNKNOWN", "STATUS_RUNNING"],
            "colParams": [{"metric": {"group": "validation", "tag": "epoch_loss"}}],
            "startIndex": 0,
            "sliceSize": 10,
        },
    )["sessionGroups"]
    assert len(groups) == 1 and groups[0]["hparams"]["units"] == 16
    final = {(m["name"]["group"], m["name"]["tag"]): m["value"] for m in groups[0]["metricValues"]}
    assert final[("validation", "epoch_loss")] == pytest.approx(history.history["val_loss"][-1])
    assert final[("train", "epoch_accuracy")] == pytest.approx(history.history["accuracy"][-1])


def find_browser() -> str | None:
    return next((path for b in BROWSERS if (path := shutil.which(b))), None)


def test_scalars_dashboard_renders_curves_in_headless_chromium(request, tmp_path):
    browser = find_browser()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no chromium binary: .ci/run must install chromium")
        pytest.skip("no chromium binary on PATH (apt-get install -y chromium); runs in CI")
    Image = pytest.importorskip("PIL.Image")
    url, _ = request.getfixturevalue("served")
    shot = tmp_path / "tensorboard_scalars.png"
    page = url + "#scalars&tagFilter=epoch_(loss|accuracy)&_smoothingWeight=0"
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-proxy-server",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1400,1000",
        "--virtual-time-budget=15000",
        page,
    ]
    subprocess.run(command, capture_output=True, timeout=120, check=False, env=no_proxy_env())
    assert shot.exists(), "headless chromium saved no screenshot"
    image = Image.open(shot).convert("RGB")
    assert image.size == (1400, 1000)
    colors = image.getcolors(maxcolors=1 << 20)
    assert len(colors) > 200, "the screenshot is (nearly) blank"
    # the curves: TensorBoard draws these runs in orange and red; count those pixels in the
    # chart area (right of the sidebar, below the header and the tag filter)
    chart = np.asarray(image)[250:, 340:].astype(int)
    saturated = chart.max(axis=2) - chart.min(axis=2) > 120
    warm = saturated & (chart[..., 0] > chart[..., 2] + 80)
    assert warm.sum() > 500, "no curves drawn in the scalars dashboard"
    print(f"screenshot: {shot}")


def test_launcher_refuses_non_loopback_hosts(tmp_path):
    with pytest.raises(ValueError, match="Received: --host=0.0.0.0"):
        tb_launcher.launch(tmp_path, extra_args=["--host=0.0.0.0"])
    with pytest.raises(ValueError, match="Received: --bind_all"):
        tb_launcher.launch(tmp_path, extra_args=["--bind_all"])
    with pytest.raises(ValueError, match="Received: port=0"):
        tb_launcher.launch(tmp_path, port=0)
    with pytest.raises(SystemExit):
        cli(["tensorboard", "--logdir", str(tmp_path), "--host", "0.0.0.0"])


def test_cli_usage_and_version(capsys):
    assert cli([]) == 2
    assert cli(["--help"]) == 0 and "tensorboard --logdir" in capsys.readouterr().out
    assert cli(["version"]) == 0 and capsys.readouterr().out.strip() == K.__version__
    assert cli(["bogus"]) == 2 and "unknown command 'bogus'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli(["tensorboard"])  # --logdir is required


def test_console_script_is_declared():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert 'kerasish = "kerasish.__main__:main"' in pyproject
