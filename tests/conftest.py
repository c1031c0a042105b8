"""Shared fixtures: CPU, one thread, deterministic seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _cpu_and_seed(monkeypatch):
    monkeypatch.setenv("KERASISH_DEVICE", "cpu")
    torch.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture
def blobs():
    """A small separable 3-class problem: (x float32 (240, 8), y int64 (240,))."""
    g = np.random.default_rng(0)
    centers = g.normal(0, 3, size=(3, 8)).astype(np.float32)
    y = np.repeat(np.arange(3), 80)
    x = centers[y] + g.normal(0, 0.5, size=(240, 8)).astype(np.float32)
    order = g.permutation(240)
    return x[order], y[order].astype(np.int64)


def params_of(model: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def same_params(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))
