"""The zero-overhead loop: no host syncs per batch, mixed precision, torch.compile, gradient
accumulation, clipping, channels_last and DataLoader options."""

from __future__ import annotations

import copy
import os
import shutil
import sys

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import kerasish as K


def _data(n=256, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    return x, y


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 3))


def _count_syncs(monkeypatch, fn):
    """Count Tensor.item/cpu/tolist calls made outside torch itself.

    (torch's single-tensor Adam reads its CPU step counter with .item(): not a device sync.)
    """
    counts = {"n": 0}
    for name in ("item", "cpu", "tolist"):
        original = getattr(torch.Tensor, name)

        def counting(self, *a, _original=original, **k):
            caller = sys._getframe(1).f_code.co_filename
            if f"{os.sep}torch{os.sep}" not in caller:
                counts["n"] += 1
            return _original(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, counting)
    fn()
    monkeypatch.undo()
    return counts["n"]


@pytest.mark.parametrize("verbose", [0, 1])
def test_host_syncs_do_not_grow_with_batches(monkeypatch, verbose):
    x, y = _data(512)

    def fit(batch_size):
        model = K.Sequential(list(_mlp()))
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        return lambda: model.fit(x, y, batch_size=batch_size, epochs=2, verbose=verbose)

    few = _count_syncs(monkeypatch, fit(128))  # 4 batches an epoch
    many = _count_syncs(monkeypatch, fit(8))  # 64 batches an epoch
    if verbose == 0:
        assert many == few
    else:  # the bar reads values at most every 0.1 s, never per batch
        assert many < few + 2 * 20


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_has_no_hidden_syncs(monkeypatch):
    monkeypatch.setenv("KERASISH_DEVICE", "cuda")
    x, y = _data(512)
    model = K.Sequential(list(_mlp()))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)  # warm up: builds optimizer state

    class SyncGuard(K.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            torch.cuda.set_sync_debug_mode("error")

        def on_train_batch_end(self, batch, logs=None):
            torch.cuda.set_sync_debug_mode("default")

    try:
        model.fit(x, y, epochs=1, verbose=0, callbacks=[SyncGuard()])
    finally:
        torch.cuda.set_sync_debug_mode("default")


def _train(x, y, *, batch_size=32, epochs=2, **compile_kwargs):
    model = K.Sequential(list(_mlp()))
    fit_kwargs = {
        k: compile_kwargs.pop(k) for k in ("gradient_accumulation_steps",) if k in compile_kwargs
    }
    model.compile(loss="sparse_categorical_crossentropy", **compile_kwargs)
    torch.manual_seed(1)
    history = model.fit(
        x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=False, **fit_kwargs
    )
    return model, history


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_on_cpu(precision):
    x, y = _data()
    model, history = _train(
        x, y, optimizer=K.optimizers.Adam(1e-2), epochs=4, mixed_precision=precision
    )
    loss = history.history["loss"]
    assert loss[-1] < loss[0]
    assert all(p.dtype == torch.float32 for p in model.parameters())
    if precision == "fp16":
        assert isinstance(model.train_state.scaler, torch.amp.GradScaler)
    else:
        assert model.train_state.scaler is None


def test_fp16_scaler_unscales_before_clipping(monkeypatch):
    x, y = _data()
    seen = []
    original = K.optimizers.clip_gradients

    def spy(params, clipping):
        seen.append(max(float(p.grad.abs().max()) for p in params if p.grad is not None))
        original(params, clipping)

    monkeypatch.setattr(K.optimizers, "clip_gradients", spy)
    _train(
        x, y, optimizer=K.optimizers.SGD(0.1, global_clipnorm=1.0), epochs=1, mixed_precision="fp16"
    )
    assert seen and max(seen) < 1000  # unscaled grads, not grads times 65536


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("g++") is None and shutil.which("c++") is None,
    reason="torch.compile on CPU needs a C++ compiler",
)
def test_jit_compile_trains_to_the_eager_loss():
    x, y = _data()
    _, eager = _train(x, y, optimizer=torch.optim.SGD, epochs=2)
    model, compiled = _train(x, y, optimizer=torch.optim.SGD, epochs=2, jit_compile=True)
    assert model.train_state.jit_fn.compiled is not None  # it really compiled, no fallback
    assert compiled.history["loss"] == pytest.approx(eager.history["loss"], rel=1e-4)


def test_jit_compile_falls_back_to_eager_with_a_warning(monkeypatch):
    def broken(fn, mode=None):
        def call(*args):
            raise RuntimeError("backend exploded")

        return call

    monkeypatch.setattr(torch, "compile", broken)
    x, y = _data()
    with pytest.warns(UserWarning, match="torch.compile failed.*eager"):
        _, history = _train(x, y, optimizer=torch.optim.SGD, epochs=1, jit_compile=True)
    assert np.isfinite(history.history["loss"][0])


def test_gradient_accumulation_equals_a_larger_batch():
    x, y = _data()
    big, _ = _train(x, y, optimizer=K.optimizers.SGD(0.1, momentum=0.9), batch_size=64)
    accum, _ = _train(
        x,
        y,
        optimizer=K.optimizers.SGD(0.1, momentum=0.9),
        batch_size=16,
        gradient_accumulation_steps=4,
    )
    other, _ = _train(x, y, optimizer=K.optimizers.SGD(0.1, momentum=0.9), batch_size=16)
    for a, b in zip(big.parameters(), accum.parameters()):
        assert torch.allclose(a, b, atol=1e-5)
    assert not all(
        torch.allclose(a, c, atol=1e-3) for a, c in zip(big.parameters(), other.parameters())
    )


@pytest.mark.parametrize("kind", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_clipping_matches_torch_utilities(kind):
    x, y = _data()
    value = 0.05
    model, _ = _train(x, y, optimizer=K.optimizers.SGD(0.5, **{kind: value}), epochs=1)
    net = _mlp()
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for i in range(0, len(x), 32):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x[i : i + 32]), y[i : i + 32]).backward()
        params = list(net.parameters())
        if kind == "clipvalue":
            nn.utils.clip_grad_value_(params, value)
        elif kind == "clipnorm":
            for p in params:
                nn.utils.clip_grad_norm_([p], value)
        else:
            nn.utils.clip_grad_norm_(params, value)
        opt.step()
    for a, b in zip(net.parameters(), model.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_clipping_arguments_are_checked():
    with pytest.raises(ValueError, match="Received: clipnorm=-1"):
        K.optimizers.Adam(clipnorm=-1)
    with pytest.raises(ValueError, match="at most one of clipnorm and global_clipnorm"):
        K.optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0)


def test_channels_last_conv_net_trains():
    torch.manual_seed(0)
    x = torch.randn(64, 3, 8, 8)
    y = torch.randint(0, 2, (64,))
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2)
    )
    plain = K.Sequential(list(copy.deepcopy(net)))
    fast = K.Sequential(list(copy.deepcopy(net)))
    plain.compile(optimizer="sgd", loss="cross_entropy")
    fast.compile(optimizer="sgd", loss="cross_entropy", channels_last=True)
    assert fast.layers[0].weight.is_contiguous(memory_format=torch.channels_last)
    a = plain.fit(x, y, epochs=2, verbose=0, shuffle=False).history["loss"]
    b = fast.fit(x, y, epochs=2, verbose=0, shuffle=False).history["loss"]
    assert a == pytest.approx(b, rel=1e-4)


def test_dataloader_options_for_datasets():
    x, y = _data()
    model = K.Sequential(list(_mlp()))
    model.compile(optimizer=K.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    history = model.fit(
        TensorDataset(x, y),
        epochs=2,
        verbose=0,
        num_workers=2,
        persistent_workers=True,
        prefetch_factor=2,
    )
    assert history.history["loss"][-1] < history.history["loss"][0]
    with pytest.raises(ValueError, match="Received: num_workers=-1"):
        model.fit(TensorDataset(x, y), verbose=0, num_workers=-1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_data_on_device_and_prefetcher(monkeypatch):
    monkeypatch.setenv("KERASISH_DEVICE", "cuda")
    x, y = _data()
    for on_device in (True, False):
        model = K.Sequential(list(_mlp()))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        history = model.fit(x, y, epochs=2, verbose=0, data_on_device=on_device)
        assert history.history["loss"][-1] < history.history["loss"][0]
        assert next(model.parameters()).device.type == "cuda"
