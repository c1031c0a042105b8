"""Collectives over the ranks: metric states summed, logs averaged, flags agreed, outputs gathered.

Each function is one (flat) collective call on the default process group; every rank must
call it, in the same order.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from kerasish import metrics as metrics_lib
from kerasish import tree

__all__ = [
    "local_metrics",
    "reduce_metrics",
    "mean_logs",
    "any_rank",
    "max_over_ranks",
    "all_reduce_mean",
    "gather",
]


def local_metrics(metrics: list[metrics_lib.Metric]) -> None:
    """Make torchmetrics compute locally; ``reduce_metrics`` syncs them at the end."""
    for m in metrics:
        if isinstance(m, metrics_lib.TorchMetricsAdapter):
            m.metric.sync_on_compute = False
            m.metric._to_sync = False  # torchmetrics' own flag: no public setter


def reduce_metrics(metrics: list[metrics_lib.Metric], device: torch.device) -> None:
    """Sum every metric's state tensors and counts over the ranks (one all_reduce)."""
    slots: list[tuple[Any, str]] = []
    for m in metrics:
        _state_slots(m, slots)
    if slots:
        values = [getattr(obj, name) for obj, name in slots]
        flat = torch.cat(
            [torch.as_tensor(v, dtype=torch.float64, device=device).reshape(-1) for v in values]
        )
        dist.all_reduce(flat)
        _write_back(slots, values, flat)
    for m in metrics:
        if isinstance(m, metrics_lib.TorchMetricsAdapter):
            m.metric._computed = None  # torchmetrics' cached result: recompute after the sync
            m.metric.sync()


def _state_slots(m: metrics_lib.Metric, slots: list[tuple[Any, str]]) -> None:
    if isinstance(m, metrics_lib.TorchMetricsAdapter):
        return
    slots.extend((m, name) for name in m.state_names)
    if isinstance(m, metrics_lib.Mean):
        slots.append((m, "count"))
    for inner in m.submetrics:
        _state_slots(inner, slots)


def _write_back(slots: list[tuple[Any, str]], values: list[Any], flat: torch.Tensor) -> None:
    host = flat.cpu() if any(not isinstance(v, torch.Tensor) for v in values) else None
    offset = 0
    for (obj, name), v in zip(slots, values):
        size = v.numel() if isinstance(v, torch.Tensor) else 1
        chunk = flat[offset : offset + size]
        if isinstance(v, torch.Tensor):
            v.copy_(chunk.view_as(v).to(v.dtype))
        else:
            setattr(obj, name, float(host[offset]))
        offset += size


def mean_logs(logs: dict[str, float], device: torch.device, world: int) -> dict[str, float]:
    """Average plain float logs (from an overridden step) over the ranks."""
    if not logs:
        return logs
    t = torch.tensor(list(logs.values()), dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return dict(zip(logs, (t / world).tolist()))


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is True on any rank."""
    t = torch.tensor([int(bool(flag))], dtype=torch.int32, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def max_over_ranks(value: int, device: torch.device) -> int:
    """The largest ``value`` of any rank."""
    t = torch.tensor([value], dtype=torch.int64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t.item())


def all_reduce_mean(tensors: list[torch.Tensor], world: int) -> None:
    """Average tensors over the ranks in place (one flat all_reduce)."""
    if not tensors:
        return
    flat = torch.cat([t.reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for t in tensors:
        t.copy_(flat[offset : offset + t.numel()].view_as(t))
        offset += t.numel()


def gather(outputs: Any, n: int, world: int) -> Any:
    """Every rank's predictions (nested tensors), back in input order, trimmed to ``n``.

    Rank r holds samples r, r + world, ...; interleaving the parts restores the order, and
    the padding (repeated first samples) is cut off.
    """

    def join(t: Any) -> Any:
        if not isinstance(t, torch.Tensor):
            return t
        parts = [torch.empty_like(t) for _ in range(world)]
        dist.all_gather(parts, t.contiguous())
        return torch.stack(parts, 1).reshape(-1, *t.shape[1:])[:n]

    return tree.map_structure(join, outputs)
