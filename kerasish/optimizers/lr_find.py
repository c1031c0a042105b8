"""The learning-rate range test: ``lr_find(model, x, y)``, fastai's ``Learner.lr_find``.

The model trains for up to ``num_iter`` batches with its compiled optimizer and loss
(``model.train_on_batch``) while the learning rate grows exponentially from ``start_lr`` to
``end_lr``; the smoothed losses (fastai's debiased moving average, beta 0.98) give two
suggestions, fastai's "valley" and "steep" rules. The weights, the optimizer's state (with
``iterations``), the LR scheduler, ``model.train_state``'s counters (and GradScaler) and
torch's RNGs are put back bit for bit.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from kerasish import tree

__all__ = ["LRFindResult", "lr_find", "valley", "steep"]

_BETA = 0.98  # fastai's AvgSmoothLoss


@dataclass(frozen=True)
class LRFindResult:
    """What ``lr_find`` measured.

    Attributes:
        lrs: the learning rate of each step.
        losses: the smoothed training loss after each step.
        suggestion_valley: fastai's "valley" rule (2/3 down the longest descent).
        suggestion_steepest: fastai's "steep" rule (where the loss falls fastest per log-LR).
    """

    lrs: list[float]
    losses: list[float]
    suggestion_valley: float | None
    suggestion_steepest: float | None


def valley(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """fastai's "valley": about 2/3 of the way down the longest decreasing run of losses
    (fastai's index arithmetic, kept as it is).

    Example:
        >>> valley([1, 2, 3, 4, 5, 6, 7, 8], [9, 9, 8, 6, 4, 2, 1, 3])
        4
    """
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return lrs[max_start + int(sections) + int(sections / 2)]


def steep(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """fastai's "steep": the learning rate where ``d loss / d log(lr)`` is most negative.

    Example:
        >>> steep([1e-3, 1e-2, 1e-1, 1.0], [1.0, 0.9, 0.3, 0.2])
        0.01
    """
    lr, loss = np.log(np.asarray(lrs, dtype=np.float64)), np.asarray(losses, dtype=np.float64)
    grads = (loss[1:] - loss[:-1]) / (lr[1:] - lr[:-1])
    return lrs[int(np.argmin(grads))]


def lr_find(
    model: Any,
    x: Any,
    y: Any = None,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10,
    num_iter: int = 100,
    batch_size: int = 32,
    plot: bool = False,
    stop_div: bool = True,
) -> LRFindResult:
    """Sweep the learning rate exponentially over ``num_iter`` batches; suggest one.

    Step ``i`` uses ``start_lr * (end_lr / start_lr) ** (i / num_iter)`` (fastai's schedule);
    with ``stop_div`` the sweep stops once the smoothed loss exceeds 4 times its best (or is
    NaN). Suggestions use the losses after the first tenth and before the last 5 steps, as
    fastai does. Several param groups keep their ratios to the first one.

    Args:
        model: a compiled kerasish model.
        x: inputs (arrays/tensors, a tuple/dict of them) or an iterable of ``(x, y)`` batches
            (a ``DataLoader``); cycled when shorter than ``num_iter`` batches.
        y: targets when ``x`` is array-like.
        start_lr: the first learning rate (> 0).
        end_lr: the learning rate the sweep heads to (> ``start_lr``).
        num_iter: the number of steps (at least 6, as fastai).
        batch_size: samples per batch for arrays.
        plot: draw loss against learning rate with matplotlib (``kerasish[plot]``).
        stop_div: stop when the loss diverges.

    Returns:
        An ``LRFindResult``.

    Raises:
        ValueError: for a model that is not compiled or bad arguments.
        ImportError: when ``plot=True`` and matplotlib is missing.

    Example:
        >>> result = K.optimizers.lr_find(model, x, y, num_iter=20)
        >>> len(result.lrs) <= 20 and result.lrs[0] == 1e-7
        True
    """
    _check(model, start_lr, end_lr, num_iter)
    num_iter = max(num_iter, 6)
    batches = _batches(x, y, batch_size)
    saved = _snapshot(model, next(batches))
    try:
        lrs, losses = _sweep(model, batches, saved["first"], start_lr, end_lr, num_iter, stop_div)
    finally:
        _restore(model, saved)
    result = _result(lrs, losses, num_iter)
    if plot:
        plot_lr_find(result)
    return result


def _check(model: Any, start_lr: Any, end_lr: Any, num_iter: Any) -> None:
    if getattr(model, "compile_config", None) is None:
        raise ValueError(
            "Expected a compiled model (call model.compile(...) before lr_find). "
            f"Received: model={type(model).__name__} (not compiled)"
        )
    if not (isinstance(start_lr, int | float) and 0 < start_lr < end_lr):
        raise ValueError(
            f"Expected 0 < start_lr < end_lr. Received: start_lr={start_lr!r}, end_lr={end_lr!r}"
        )
    if isinstance(num_iter, bool) or not isinstance(num_iter, int) or num_iter < 1:
        raise ValueError(
            f"Expected num_iter to be an integer >= 1. Received: num_iter={num_iter!r}"
        )


def _batches(x: Any, y: Any, batch_size: int) -> Iterator[tuple[Any, Any]]:
    """Endless ``(x, y)`` batches: array slices in a fixed shuffled order, or a loader cycled."""
    if y is None and not isinstance(x, np.ndarray | torch.Tensor | dict | tuple | list):
        while True:
            got = False
            for batch in x:
                got = True
                yield batch[0], batch[1] if len(batch) > 1 else None
            if not got:
                raise ValueError(f"Expected x to yield batches. Received: an empty {type(x)}")
    n = len(tree.first_leaf(x))
    order = np.random.default_rng(0).permutation(n)  # no draw from the global RNGs
    while True:
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yield _take(x, idx), None if y is None else _take(y, idx)


def _take(data: Any, idx: np.ndarray) -> Any:
    return tree.map_structure(
        lambda a: a[torch.as_tensor(idx) if torch.is_tensor(a) else idx], data
    )


def _snapshot(model: Any, first: tuple[Any, Any]) -> dict[str, Any]:
    """Everything the sweep changes, copied (building the optimizer first when needed)."""
    if model.optimizer is None:
        model.predict_on_batch(first[0])  # builds lazy layers without touching the weights
        model.build_optimizer()
    return {
        "first": first,
        "weights": copy.deepcopy(model.state_dict()),
        "optimizer": copy.deepcopy(model.optimizer.state_dict()),
        "scheduler_state": _state_of(model.lr_scheduler),
        "train_state": copy.deepcopy(model.train_state.state_dict()),  # counters, scaler
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "training": model.training,
    }


def _state_of(scheduler: Any) -> Any:
    return copy.deepcopy(scheduler.state_dict()) if hasattr(scheduler, "state_dict") else None


def _restore(model: Any, saved: dict[str, Any]) -> None:
    model.load_state_dict(saved["weights"])
    model.optimizer.zero_grad(set_to_none=True)
    model.optimizer.load_state_dict(saved["optimizer"])
    if saved["scheduler_state"] is not None:
        model.lr_scheduler.load_state_dict(saved["scheduler_state"])
    model.train_state.load_state_dict(saved["train_state"])
    torch.set_rng_state(saved["rng"])
    if saved["cuda_rng"] is not None:
        torch.cuda.set_rng_state_all(saved["cuda_rng"])
    model.train(saved["training"])


def _sweep(
    model: Any,
    batches: Iterator[tuple[Any, Any]],
    first: tuple[Any, Any],
    start_lr: float,
    end_lr: float,
    num_iter: int,
    stop_div: bool,
) -> tuple[list[float], list[float]]:
    """Train ``num_iter`` steps at growing rates; the rates and the smoothed losses."""
    groups = model.optimizer.param_groups
    base = float(groups[0]["lr"]) or 1.0
    ratios = [float(g["lr"]) / base if float(groups[0]["lr"]) else 1.0 for g in groups]
    lrs, losses, avg, best = [], [], 0.0, math.inf
    batch = first
    for i in range(num_iter):
        lr = start_lr * (end_lr / start_lr) ** (i / num_iter)
        for group, ratio in zip(groups, ratios):
            group["lr"] = lr * ratio  # over any scheduler's or schedule's value
        logs = model.train_on_batch(batch[0], batch[1], return_dict=True)
        avg = _BETA * avg + (1 - _BETA) * float(logs["loss"])
        smooth = avg / (1 - _BETA ** (i + 1))
        lrs.append(lr)
        losses.append(smooth)
        best = min(best, smooth)
        if stop_div and (smooth > 4 * best or math.isnan(smooth)):
            break
        batch = next(batches)
    return lrs, losses


def _result(lrs: list[float], losses: list[float], num_iter: int) -> LRFindResult:
    """fastai's suggestions on ``[num_iter // 10 : -5]``, cut at the first NaN."""
    cut_lrs, cut = lrs[num_iter // 10 : -5], losses[num_iter // 10 : -5]
    nan = next((i for i, v in enumerate(cut) if math.isnan(v)), None)
    if nan is not None:
        cut_lrs, cut = cut_lrs[:nan], cut[:nan]
    if len(cut) < 2:
        return LRFindResult(lrs, losses, None, None)
    return LRFindResult(lrs, losses, valley(cut_lrs, cut), steep(cut_lrs, cut))


def plot_lr_find(result: LRFindResult) -> Any:
    """Loss against learning rate (log scale) with the suggestions marked; returns the figure.

    Raises:
        ImportError: when matplotlib is not installed (the ``kerasish[plot]`` extra).
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "lr_find(plot=True) needs matplotlib: pip install 'kerasish[plot]'"
        ) from e
    fig, ax = plt.subplots()
    ax.plot(result.lrs, result.losses)
    ax.set_xscale("log")
    ax.set_xlabel("Learning Rate")
    ax.set_ylabel("Loss")
    for name, lr in (("valley", result.suggestion_valley), ("steep", result.suggestion_steepest)):
        if lr is not None:
            ax.plot(lr, np.interp(np.log(lr), np.log(result.lrs), result.losses), "o", label=name)
    ax.legend(loc="best")
    return fig
