"""K.callbacks.Visdom against a real visdom server on 127.0.0.1, read back through its API.

The server is started with ``visdom.server.run_server.main`` rather than ``python -m
visdom.server``: the module entry point first downloads the web page's JS/CSS/MathJax from
CDNs and, offline, dies on the MathJax download (an uncaught ``requests.ConnectionError``);
``main()`` is the same server without that step. Its data API works without those assets.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import warnings

import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.callbacks import CallbackList

visdom = pytest.importorskip(
    "visdom", reason="visdom is not installed (pip install 'kerasish[visdom]'; see the Makefile)"
)

HOST = "127.0.0.1"
SERVER = f"http://{HOST}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_until_up(proc: subprocess.Popen, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"visdom server exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return  # listening
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"visdom server on port {port} not up after {timeout}s")


def _start_server(env_path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    code = "from visdom.server.run_server import main; main()"
    args = ["-port", str(port), "--hostname", HOST, "-bind_local", "-env_path", str(env_path)]
    log = env_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=out, stderr=out)
    try:
        _wait_until_up(proc, port)
    except Exception:
        _stop(proc)
        raise RuntimeError(f"visdom server did not start:\n{log.read_text()}") from None
    return proc, port


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def server_port(tmp_path_factory):
    proc, port = _start_server(tmp_path_factory.mktemp("visdom_env"))
    yield port
    _stop(proc)


def _client(port: int, env: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # visdom's own logger.warn call
        return visdom.Visdom(
            server=SERVER, port=port, env=env, use_incoming_socket=False, raise_exceptions=True
        )


def _traces(client, win: str, env: str) -> dict[str, dict]:
    window = json.loads(client.get_window_data(win=win, env=env))
    return {t["name"]: t for t in window["content"]["data"]}, window


def _tiny_model() -> K.Sequential:
    model = K.Sequential([nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)])
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"], device="cpu")
    return model


def _data(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 4, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_plotted_curves_equal_history_train_and_validation_overlaid(server_port):
    K.utils.set_random_seed(0)
    x, y = _data()
    cb = K.callbacks.Visdom(server=SERVER, port=server_port, env="curves", name="run1")
    logs_lr = K.callbacks.LearningRateScheduler(lambda epoch, lr: lr)  # adds learning_rate
    history = _tiny_model().fit(
        x, y, epochs=3, batch_size=16, validation_split=0.25, callbacks=[logs_lr, cb], verbose=0
    )
    assert set(cb.windows) == {"loss", "accuracy", "learning_rate"}
    client = _client(server_port, "curves")
    for key, win in cb.windows.items():
        assert win == f"run1/{key}"
        traces, window = _traces(client, win, "curves")
        assert window["title"] == f"run1: {key}"
        assert traces["train"]["x"] == [1, 2, 3]
        assert traces["train"]["y"] == pytest.approx(history.history[key], rel=1e-12)
        if key == "learning_rate":
            assert set(traces) == {"train"}
            continue
        assert set(traces) == {"train", "validation"}
        assert traces["validation"]["x"] == [1, 2, 3]
        assert traces["validation"]["y"] == pytest.approx(history.history[f"val_{key}"], rel=1e-12)


def test_second_fit_continues_the_same_windows(server_port):
    K.utils.set_random_seed(1)
    x, y = _data()
    model = _tiny_model()
    cb = K.callbacks.Visdom(server=SERVER, port=server_port, env="resume")
    first = model.fit(x, y, epochs=2, callbacks=[cb], verbose=0).history["loss"]
    second = model.fit(x, y, epochs=4, initial_epoch=2, callbacks=[cb], verbose=0).history["loss"]
    traces, _ = _traces(_client(server_port, "resume"), cb.windows["loss"], "resume")
    assert traces["train"]["x"] == [1, 2, 3, 4]
    assert traces["train"]["y"] == pytest.approx(first + second, rel=1e-12)
    assert "validation" not in traces  # no validation data: no validation trace


def test_no_server_raises_before_the_first_epoch():
    port = _free_port()  # nothing listens there
    cb = K.callbacks.Visdom(server=SERVER, port=port)
    model = _tiny_model()
    x, y = _data(8)
    with pytest.raises(ConnectionError, match=f"Expected a visdom server at {SERVER}:{port}"):
        model.fit(x, y, epochs=1, callbacks=[cb], verbose=0)
    assert model.history is None or model.history.history == {}


def test_server_gone_mid_training_warns_and_training_goes_on(tmp_path):
    proc, port = _start_server(tmp_path)
    try:
        stop_after_first = K.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: _stop(proc) if epoch == 0 else None
        )
        cb = K.callbacks.Visdom(server=SERVER, port=port)
        x, y = _data(16)
        with pytest.warns(UserWarning, match="stopped answering") as record:
            history = _tiny_model().fit(x, y, epochs=3, callbacks=[stop_after_first, cb], verbose=0)
    finally:
        _stop(proc)
    assert len(history.history["loss"]) == 3  # all epochs ran
    assert sum("stopped answering" in str(w.message) for w in record) == 1  # warned once


def test_runs_on_rank_zero_only():
    cb = K.callbacks.Visdom(server=SERVER, port=_free_port())  # would raise if it connected
    rank1 = CallbackList([cb], model=_tiny_model(), params={}, rank=1)
    assert rank1.on_train_begin is None and rank1.on_epoch_end is None  # never called there
    rank0 = CallbackList([cb], model=_tiny_model(), params={}, rank=0)
    with pytest.raises(ConnectionError):
        rank0.on_train_begin()


def test_missing_visdom_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "visdom", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'kerasish\[visdom\]'"):
        K.callbacks.Visdom()


@pytest.mark.parametrize(
    "kwargs, match",
    [({"port": "8097"}, "Received: port='8097'"), ({"env": ""}, "Received: env=''")],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(TypeError, match=match):
        K.callbacks.Visdom(**kwargs)
