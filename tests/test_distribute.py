"""Distributed training on CPU: Gloo, 2 processes, under real torchrun and under launch().

The distributed runs are checked against one process trained on the global batch: with
``shuffle=False`` rank r takes samples r, r+2, r+4, ..., so global batch i (2 ranks x 16) is
exactly the single process's batch i of 32, and DDP's averaged gradient is the batch-32 gradient.

This file is also the worker script: ``torchrun --nproc_per_node=2 tests/test_distribute.py
SCENARIO OUT_DIR`` runs ``_scenario_<SCENARIO>`` on each rank.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import pickle
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

import kerasish as K
from kerasish import distribute
from kerasish.callbacks import Callback, CallbackList, History, ProgbarLogger
from kerasish.data import ArraySource

ROOT = Path(__file__).resolve().parents[1]
N_TRAIN, N_VAL, EPOCHS = 192, 49, 3

pytestmark = pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
    reason="needs torch.distributed with Gloo",
)


# ---------------------------------------------------------------------- shared pieces
def _data():
    g = np.random.default_rng(0)
    centers = g.normal(0, 1.5, size=(3, 8))
    y = g.integers(0, 3, N_TRAIN + N_VAL)
    x = (centers[y] + g.normal(0, 1.0, size=(len(y), 8))).astype(np.float32)
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def _model(seed: int) -> K.Sequential:
    torch.manual_seed(seed)
    return K.Sequential([nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3)])


def _compile(model, distribute="auto", optimizer=None):
    model.compile(
        optimizer=optimizer or K.optimizers.SGD(learning_rate=0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        distribute=distribute,
    )


def _weights(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


class _RankLog(Callback):
    """Writes a line per epoch to a file named after the rank; rank 0 only."""

    rank_zero_only = True

    def __init__(self, out: str):
        super().__init__()
        self.path = Path(out) / f"log-rank{distribute.get_rank()}.csv"

    def on_epoch_end(self, epoch, logs=None):
        with open(self.path, "a") as f:
            f.write(f"{epoch},{logs['loss']}\n")


class _StopOnRankOne(Callback):
    """Asks to stop at batch 1 on rank 1 only: the ranks must agree, not hang."""

    def on_train_batch_end(self, batch, logs=None):
        if distribute.get_rank() == 1 and batch == 1:
            self.model.stop_training = True


class _Bypass(K.Model):
    """A train_step that calls self(x), not self.forward_batch(x): it bypasses DDP."""

    def __init__(self):
        super().__init__()
        self.net = _model(100)

    def forward(self, x):
        return self.net(x)

    def train_step(self, data):
        x, y, sw = K.utils.unpack_x_y_sample_weight(data)  # (x, y) when no weights
        y_pred = self(x)
        loss = self.compute_loss(x, y, y_pred, sw)
        self.apply_gradients(loss)
        return self.compute_metrics(x, y, y_pred, sw, loss)


class _Recorder(Dataset):
    """A map-style dataset that records the indices it serves."""

    def __init__(self, x, y):
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)
        self.seen: list[int] = []

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        self.seen.append(int(i))
        return self.x[i], self.y[i]


# ---------------------------------------------------------------------- worker scenarios
def _scenario_ddp(out: str) -> dict:
    rank = distribute.get_rank()
    x, y, xv, yv = _data()
    model = _model(100 + rank)  # different on each rank: DDP starts all from rank 0's
    _compile(model)
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        history = model.fit(
            x,
            y,
            batch_size=16,
            epochs=EPOCHS,
            shuffle=False,
            validation_data=(xv, yv),
            verbose=2,
            callbacks=[_RankLog(out), K.callbacks.EarlyStopping(patience=50)],
        )
    result = {
        "rank": rank,
        "weights": _weights(model),
        "history": history.history,
        "stdout": text.getvalue(),
        "evaluate": model.evaluate(xv, yv, batch_size=16, verbose=0, return_dict=True),
        "predict": model.predict(xv, batch_size=16, verbose=0),
        "steps": history.params["steps"],
    }
    result.update(_dataset_parts(x, y))
    return result


def _dataset_parts(x, y) -> dict:
    ds = _Recorder(x, y)
    model = _model(7)
    _compile(model)
    model.fit(ds, batch_size=16, epochs=2, verbose=0)
    seen, ds.seen = ds.seen, []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), 16, True)
        model.fit(loader, epochs=1, verbose=0)
    stopper = _model(8)
    _compile(stopper)
    stop_history = stopper.fit(
        x, y, batch_size=16, epochs=2, verbose=0, callbacks=[_StopOnRankOne()]
    )
    bypass = _Bypass()
    _compile(bypass)
    with warnings.catch_warnings(record=True) as bypass_caught:
        warnings.simplefilter("always")
        bypass.fit(x, y, batch_size=16, epochs=EPOCHS, shuffle=False, verbose=0)
    return {
        "dataset_seen": seen,
        "dataset_weights": _weights(model),
        "warnings": [str(w.message) for w in caught],
        "stopped_after": (len(stop_history.history["loss"]), stopper.train_state.train_counter),
        "bypass_weights": list(_weights(bypass).values()),
        "bypass_warnings": [str(w.message) for w in bypass_caught],
        "copy_keys": list(copy.deepcopy(bypass).state_dict()),
        "torchmetrics": _torchmetrics_part(x, y),
        "accumulation": _accumulation_part(x, y),
    }


class _CountSyncs(Callback):
    """Counts DDP's gradient all-reduces (one per bucket per syncing backward)."""

    syncs = 0

    def on_train_begin(self, logs=None):
        from torch.distributed.algorithms.ddp_comm_hooks.default_hooks import allreduce_hook

        def hook(state, bucket):
            _CountSyncs.syncs += 1
            return allreduce_hook(None, bucket)

        self.model.strategy.ddp.register_comm_hook(None, hook)


def _accumulation_part(x, y) -> dict:
    model = _model(100)
    _compile(model)
    model.fit(
        x,
        y,
        batch_size=16,
        epochs=1,
        shuffle=False,
        verbose=0,
        gradient_accumulation_steps=2,
        callbacks=[_CountSyncs()],
    )
    return {"weights": _weights(model), "syncs": _CountSyncs.syncs}


def _torchmetrics_part(x, y) -> dict:
    from torchmetrics.classification import MulticlassAccuracy

    model = _model(9)
    model.compile(
        optimizer="sgd",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", MulticlassAccuracy(num_classes=3, average="micro")],
    )
    history = model.fit(x[:100], y[:100], batch_size=16, epochs=1, verbose=0)
    logs = model.evaluate(x[100:149], y[100:149], batch_size=16, verbose=0, return_dict=True)
    return {"history": history.history, "evaluate": logs}


def _scenario_fail(out: str) -> None:
    class Boom(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1 and distribute.get_rank() == 1:
                raise RuntimeError("boom on rank 1")

    x, y, _, _ = _data()
    model = _model(0)
    _compile(model)
    model.fit(x, y, batch_size=16, epochs=50, verbose=0, callbacks=[Boom()])


def _fsdp_worker(out: str) -> dict:
    rank = distribute.get_rank()
    x, y, xv, yv = _data()
    model = _model(100 + rank)
    model.compile(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),  # remapped to the shards
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        distribute="fsdp",
    )
    checkpoint = K.callbacks.ModelCheckpoint(
        os.path.join(out, "w.safetensors"), save_weights_only=True
    )
    history = model.fit(
        x,
        y,
        batch_size=16,
        epochs=EPOCHS,
        shuffle=False,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[checkpoint],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the optimizer state is gathered now, not left out
        model.save(os.path.join(out, "model.kerasish"))  # every rank calls it; rank 0 writes
    full = distribute.full_state_dict(model)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    distribute.load_full_state_dict(model, full if rank == 0 else {})
    reloaded = distribute.full_state_dict(model)
    return {
        "rank": rank,
        "fsdp": distribute.is_fsdp(model),
        # 49 samples by 24: rank 0 runs 2 batches, rank 1 one (and one extra forward).
        "evaluate": model.evaluate(xv, yv, batch_size=24, verbose=0, return_dict=True),
        "history": history.history,
        "full": full,
        "reloaded": reloaded,
        "predict": model.predict(xv, batch_size=16, verbose=0),
    }


def _strategy_worker() -> dict:
    """The Distributed strategy without fit: DDP wrapping, no_sync, agreement, copies."""
    from types import SimpleNamespace

    from kerasish.callbacks import TerminateOnNaN

    rank = distribute.get_rank()
    strategy = distribute.setup("ddp", torch.device("cpu"))
    torch.manual_seed(rank)
    net = nn.Linear(4, 1)
    strategy.wrap(net, None)  # DDP starts every rank from rank 0's weights
    model = SimpleNamespace(train_state=SimpleNamespace(forward_module=None), stop_training=False)
    x = torch.full((2, 4), float(rank + 1))
    with strategy.training_forward(model):
        routed = model.train_state.forward_module is strategy.ddp
        with strategy.no_sync(model, sync=False):  # an accumulation micro-step
            model.train_state.forward_module(x).sum().backward()
        local = net.weight.grad.clone()
        with strategy.no_sync(model, sync=True):  # the step that syncs
            model.train_state.forward_module(x).sum().backward()
        synced = net.weight.grad.clone()
    model.stop_training = rank == 1
    agree = strategy.stop_agreement(CallbackList([TerminateOnNaN()]), None, model)
    agree(0, None)
    check = strategy.gradient_check(list(net.parameters()))
    copied = copy.deepcopy(SimpleNamespace(strategy=strategy, check=check))
    unpickled = pickle.loads(pickle.dumps(strategy))
    return {
        "routed": routed,
        "cleared": model.train_state.forward_module is None,
        "local": local,
        "synced": synced,
        "weight": net.weight.detach().clone(),
        "stop": model.stop_training,
        "quiet": strategy.stop_agreement(CallbackList([History()]), None, model) is None,
        "copies": [type(copied.strategy).__name__, copied.check, type(unpickled).__name__],
        "gather": strategy.gather({"y": torch.tensor([[rank], [rank]])}, 3)["y"].tolist(),
    }


def _failing_worker() -> None:
    distribute.initialize()
    if distribute.get_rank() == 1:
        raise ValueError("rank one failed on purpose")
    distribute.barrier()  # rank 0 waits for a rank that is gone


# ---------------------------------------------------------------------- helpers for the tests
def _torchrun(scenario: str, out: Path, timeout: float = 100) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "KERASISH_DEVICE": "cpu"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        __file__,
        scenario,
        str(out),
    ]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def reference():
    """One process, the global batch (32), the same sample order and initial weights."""
    x, y, xv, yv = _data()
    model = _model(100)
    _compile(model, distribute=None)
    history = model.fit(
        x, y, batch_size=32, epochs=EPOCHS, shuffle=False, validation_data=(xv, yv), verbose=0
    )
    accumulated = _model(100)
    _compile(accumulated, distribute=None)
    accumulated.fit(
        x, y, batch_size=32, epochs=1, shuffle=False, verbose=0, gradient_accumulation_steps=2
    )
    return {
        "weights": _weights(model),
        "history": history.history,
        "evaluate": model.evaluate(xv, yv, verbose=0, return_dict=True),
        "predict": model.predict(xv, verbose=0),
        "accumulated": _weights(accumulated),
    }


def _close_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)


def _close_history(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-5, abs=1e-6), k


# ---------------------------------------------------------------------- tests: torchrun
@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp")
    proc = _torchrun("ddp", out)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    results = [pickle.loads((out / f"result-{r}.pkl").read_bytes()) for r in range(2)]
    return out, results


def test_ddp_weights_identical_on_every_rank_and_equal_to_global_batch(ddp_run, reference):
    _, (r0, r1) = ddp_run
    for k in r0["weights"]:
        assert torch.equal(r0["weights"][k], r1["weights"][k]), k
    assert list(r0["weights"]) == list(reference["weights"])  # keys unprefixed
    _close_weights(r0["weights"], reference["weights"])
    assert r0["steps"] == N_TRAIN // 32  # per-rank steps: half the data each


def test_ddp_history_holds_global_metrics(ddp_run, reference):
    _, (r0, r1) = ddp_run
    assert r0["history"] == r1["history"]
    _close_history(r0["history"], reference["history"])
    # The last validation (49 samples, unevenly sharded) equals a one-process evaluate.
    last = {k[4:]: v[-1] for k, v in r0["history"].items() if k.startswith("val_")}
    _close_history(last, reference["evaluate"])
    for r in (r0, r1):
        _close_history(r["evaluate"], reference["evaluate"])


def test_ddp_predict_gathers_in_order_on_every_rank(ddp_run, reference):
    _, (r0, r1) = ddp_run
    assert r0["predict"].shape == (N_VAL, 3)
    np.testing.assert_array_equal(r0["predict"], r1["predict"])
    np.testing.assert_allclose(r0["predict"], reference["predict"], rtol=1e-5, atol=1e-6)


def test_only_rank_zero_prints_and_writes_logs(ddp_run):
    out, (r0, r1) = ddp_run
    assert f"Epoch {EPOCHS}/{EPOCHS}" in r0["stdout"]
    assert r1["stdout"] == ""
    assert not (out / "log-rank1.csv").exists()
    assert len((out / "log-rank0.csv").read_text().splitlines()) == EPOCHS


def test_dataset_is_sharded_with_a_new_order_each_epoch(ddp_run):
    _, (r0, r1) = ddp_run
    for k in r0["dataset_weights"]:
        assert torch.equal(r0["dataset_weights"][k], r1["dataset_weights"][k])
    half = N_TRAIN // 2
    peek = len(r0["dataset_seen"]) - 2 * half  # fit peeks at the first items once
    s0, s1 = r0["dataset_seen"][peek:], r1["dataset_seen"][peek:]
    for epoch in range(2):
        a, b = s0[epoch * half : (epoch + 1) * half], s1[epoch * half : (epoch + 1) * half]
        assert sorted(a + b) == list(range(N_TRAIN))
    assert s0[:half] != s0[half:]
    assert any("rebuilt your DataLoader" in w for w in r0["warnings"])


def test_a_train_step_that_bypasses_ddp_still_averages_gradients(ddp_run, reference):
    _, (r0, r1) = ddp_run
    for a, b, ref in zip(r0["bypass_weights"], r1["bypass_weights"], reference["weights"].values()):
        assert torch.equal(a, b)
        torch.testing.assert_close(a, ref, rtol=1e-5, atol=1e-6)
    assert sum("bypassing DistributedDataParallel" in w for w in r0["bypass_warnings"]) == 1
    assert r0["copy_keys"] == [
        "net.layers.0.weight",
        "net.layers.0.bias",
        "net.layers.2.weight",
        "net.layers.2.bias",
    ]


def test_torchmetrics_metrics_are_synced_across_ranks(ddp_run):
    _, (r0, r1) = ddp_run
    for r in (r0, r1):
        tm = r["torchmetrics"]
        assert tm["history"]["multiclass_accuracy"] == pytest.approx(tm["history"]["accuracy"])
        assert tm["evaluate"]["multiclass_accuracy"] == pytest.approx(tm["evaluate"]["accuracy"])
    assert r0["torchmetrics"] == r1["torchmetrics"]


def test_a_stop_on_one_rank_stops_every_rank(ddp_run):
    _, (r0, r1) = ddp_run
    assert r0["stopped_after"] == r1["stopped_after"] == (1, 2)


def test_ddp_accumulation_all_reduces_only_on_the_optimizer_steps(ddp_run, reference):
    _, (r0, r1) = ddp_run
    for r in (r0, r1):
        _close_weights(r["accumulation"]["weights"], reference["accumulated"])
        # 6 batches per rank, an optimizer step every 2: 3 syncs (one bucket), not 6
        assert r["accumulation"]["syncs"] == N_TRAIN // 32 // 2


def test_a_failing_rank_ends_the_job_promptly(tmp_path):
    start = time.monotonic()
    proc = _torchrun("fail", tmp_path, timeout=90)
    took = time.monotonic() - start
    assert proc.returncode != 0
    assert "boom on rank 1" in proc.stdout + proc.stderr
    assert took < 60


# ---------------------------------------------------------------------- tests: launch()
def test_launch_fsdp_matches_global_batch_and_round_trips_full_state(
    reference, monkeypatch, tmp_path
):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    r0, r1 = distribute.launch(_fsdp_worker, 2, str(tmp_path))
    assert (r0["rank"], r1["rank"]) == (0, 1) and r0["fsdp"]
    assert r0["history"] == r1["history"]
    _close_history(r0["history"], reference["history"])
    _close_weights(r0["full"], reference["weights"])
    assert r1["full"] == {}  # the full state dict lands on rank 0
    _close_weights(r0["reloaded"], r0["full"])
    # ModelCheckpoint and model.save gathered the shards: whole tensors, written once
    assert sorted(os.listdir(tmp_path)) == ["model.kerasish", "w.safetensors"]
    saved = K.Sequential([nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 3)])
    saved.load_weights(str(tmp_path / "w.safetensors"))
    _close_weights(_weights(saved), r0["full"])
    # FSDP subclasses every module it shards; the file describes the classes it sharded
    rebuilt = K.models.load_model(str(tmp_path / "model.kerasish"))
    assert type(rebuilt) is K.Sequential
    _close_weights(_weights(rebuilt), r0["full"])
    np.testing.assert_allclose(r1["predict"], reference["predict"], rtol=1e-5, atol=1e-6)
    _close_history(r0["evaluate"], reference["evaluate"])


def test_launch_strategy_no_sync_skips_the_all_reduce_until_the_syncing_step(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    r0, r1 = distribute.launch(_strategy_worker, 2)
    assert torch.equal(r0["weight"], r1["weight"])
    for r in (r0, r1):
        assert r["routed"] and r["cleared"]
        assert r["stop"] and r["quiet"]  # rank 1's stop reached rank 0
        assert r["copies"] == ["SingleProcess", None, "SingleProcess"]
        assert r["gather"] == [[0], [1], [0]]
    # d(sum(Wx + b))/dW = sum of x over the batch: 2 * (rank + 1) on each rank
    assert torch.equal(r0["local"], torch.full((1, 4), 2.0))  # not averaged under no_sync
    assert torch.equal(r1["local"], torch.full((1, 4), 4.0))
    # the syncing step averages the accumulated gradients: ((2 + 2) + (4 + 4)) / 2
    assert torch.equal(r0["synced"], torch.full((1, 4), 6.0))
    assert torch.equal(r1["synced"], r0["synced"])


def test_launch_raises_the_failing_ranks_error(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="rank 1 of 2 failed first") as info:
        distribute.launch(_failing_worker, 2)
    assert "rank one failed on purpose" in str(info.value)
    assert time.monotonic() - start < 60


# ---------------------------------------------------------------------- tests: one process
def test_single_process_is_untouched():
    model = _model(0)
    _compile(model)
    assert isinstance(model.strategy, distribute.SingleProcess)
    assert not model.strategy.is_distributed and not torch.distributed.is_initialized()
    with pytest.raises(ValueError, match="Expected a distributed launch"):
        _compile(_model(0), distribute="ddp")


def test_single_process_strategy_is_free():
    cpu = torch.device("cpu")
    s = distribute.setup(None, cpu)
    assert isinstance(s, distribute.SingleProcess) and s.device == cpu
    assert isinstance(distribute.setup("auto", cpu), distribute.SingleProcess)
    assert (s.is_distributed, s.rank, s.world, s.ddp) == (False, 0, 1, None)
    source, logs, end = object(), {"loss": 1.0}, print
    rng = torch.get_rng_state()
    assert s.shared_seed() == 0 and torch.equal(rng, torch.get_rng_state())  # nothing drawn
    assert s.shard(source, "train") == (source, None)
    assert s.set_epoch(source, 1) is None and s.wrap(nn.Linear(1, 1), None) is None
    assert s.gradient_check([]) is None and s.eval_steps(source, 3) is None
    assert s.mean_logs(logs) is logs and s.gather(logs, 3) is logs
    assert s.any(True) is True and s.any(False) is False
    assert s.stop_agreement(CallbackList([]), end, None) is end
    assert s.local_metrics([]) is None and s.reduce_metrics([]) is None
    # one shared do-nothing context: no allocation per batch
    assert s.no_sync(None, False) is s.no_sync(None, True) is s.training_forward(None)
    with s.training_forward(None), s.no_sync(None, False):
        pass
    assert pickle.loads(pickle.dumps(s)).device == cpu and copy.deepcopy(s).world == 1
    with pytest.raises(ValueError, match="Expected distribute to be"):
        distribute.setup("dp", cpu)


def test_array_shards_share_one_permutation_per_epoch():
    x = torch.arange(10.0)[:, None]
    sources = [ArraySource(x, None, None, batch_size=4, shuffle=True) for _ in range(3)]
    for rank, s in enumerate(sources):
        s.shard, s.seed = (rank, 3), 5
    orders = [s.order() for s in sources]
    assert all(len(o) == 4 and len(s) == 1 for o, s in zip(orders, sources))
    joined = torch.stack(orders, 1).reshape(-1)
    assert sorted(joined[:10].tolist()) == list(range(10))  # padded by the first two
    assert joined[10:].tolist() == joined[:2].tolist()
    for s in sources:
        s.set_epoch(1)
    assert not torch.equal(torch.stack([s.order() for s in sources], 1).reshape(-1), joined)
    evals = [ArraySource(x, None, None, batch_size=4, shuffle=False) for _ in range(3)]
    for rank, s in enumerate(evals):
        s.shard, s.pad = (rank, 3), False
    assert [s.order().tolist() for s in evals] == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]


def test_rank_zero_only_callbacks_skip_other_ranks():
    class Writer(Callback):
        rank_zero_only = True
        calls = 0

        def on_epoch_end(self, epoch, logs=None):
            Writer.calls += 1

    history = History()
    history.set_model(nn.Linear(1, 1))
    on_one = CallbackList([history, Writer(), ProgbarLogger(2)], rank=1)
    on_one.on_epoch_end(0, {"loss": 1.0})  # only History runs on rank 1
    assert Writer.calls == 0 and history.history == {"loss": [1.0]}
    CallbackList([history, Writer()], rank=0).on_epoch_end(1, {"loss": 0.5})
    assert Writer.calls == 1
    assert ProgbarLogger.rank_zero_only and not History.rank_zero_only


# ---------------------------------------------------------------------- worker entry point
if __name__ == "__main__":
    _scenario, _out = sys.argv[1], sys.argv[2]
    _result = globals()[f"_scenario_{_scenario}"](_out)
    Path(_out, f"result-{distribute.get_rank()}.pkl").write_bytes(pickle.dumps(_result))
