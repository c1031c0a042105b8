"""SwapEMAWeights: an exponential moving average of the weights, swapped in to evaluate and save.

The average lives in a ``torch.optim.swa_utils.AveragedModel`` (its ``n_averaged`` counter and
``state_dict``) over a copy of the model's parameters and buffers, updated with torch's
``get_ema_multi_avg_fn(decay)`` after every optimizer step. Keras gets the same from an
optimizer with ``use_ema=True`` plus ``keras.callbacks.SwapEMAWeights``; here one callback
does both.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from kerasish.callbacks.callback import Callback

__all__ = ["SwapEMAWeights"]


class _Tensors(nn.Module):
    """The model's parameters and buffers, in ``parameters()`` then ``buffers()`` order."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.weights = nn.ParameterList(list(model.parameters()))
        for i, b in enumerate(model.buffers()):
            self.register_buffer(f"buffer_{i}", b)


class SwapEMAWeights(Callback):
    """Keep an exponential moving average (EMA) of the weights; validate, evaluate and predict
    with it, and end ``fit`` with it in the model.

    After each optimizer step (each training batch; with gradient accumulation, each
    ``accum_steps``-th) the average is updated: ``ema = decay * ema + (1 - decay) * w``, and
    the first update copies the weights (torch's ``get_ema_multi_avg_fn``; Keras's
    ``use_ema``). Parameters and floating buffers (BatchNorm's running statistics:
    ``use_buffers=True``) are averaged; integer buffers (``num_batches_tracked``) are copied.
    The update runs on the device without a host sync.

    As Keras's ``SwapEMAWeights``, the EMA weights are swapped into the model (in place) at
    ``on_test_begin`` (validation inside ``fit``, ``evaluate``) and ``on_predict_begin``, and
    swapped back at the matching end. With ``swap_on_epoch=True`` they are also swapped in at
    each epoch end (so callbacks after this one, such as ``ModelCheckpoint``, save the EMA
    weights) and back at the next epoch's start. When ``fit`` ends the model holds the EMA
    weights (Keras's ``optimizer.finalize_variable_values``). A later ``fit`` with the same
    callback continues the same average. ``state_dict()`` holds the average, so
    ``BackupAndRestore`` resumes it bit for bit.

    ``model.compile(ema=0.999)`` adds ``SwapEMAWeights(decay=0.999)`` to every ``fit``.

    Args:
        decay: the EMA decay, in [0, 1] (Keras's ``ema_momentum``, default 0.99 there).
        swap_on_epoch: also hold the EMA weights in the model between an epoch's end and the
            next epoch's start.

    Attributes:
        averaged: the ``AveragedModel`` (None before the first ``fit``); ``averaged.module``
            holds the EMA tensors (the raw weights while the EMA ones are in the model).

    Raises:
        TypeError / ValueError: for a bad ``decay`` or ``swap_on_epoch``.

    Example:
        >>> ema = SwapEMAWeights(decay=0.9)
        >>> history = model.fit(x, y, epochs=2, validation_split=0.2, callbacks=[ema], verbose=0)
        >>> int(ema.averaged.n_averaged) == 2 * model.train_state.step  # one update a step
        True
    """

    #: Its batch hook never stops training: under DDP no per-batch agreement is needed.
    steers_training = False

    def __init__(self, decay: float = 0.999, swap_on_epoch: bool = False):
        super().__init__()
        if isinstance(decay, bool) or not isinstance(decay, int | float) or not 0 <= decay <= 1:
            raise ValueError(f"Expected decay to be a number in [0, 1]. Received: decay={decay!r}")
        if not isinstance(swap_on_epoch, bool):
            raise TypeError(
                f"Expected swap_on_epoch to be True or False. Received: swap_on_epoch={swap_on_epoch!r}"
            )
        self.decay = float(decay)
        self.swap_on_epoch = swap_on_epoch
        self.averaged: AveragedModel | None = None
        self._avg_fn = get_ema_multi_avg_fn(self.decay)
        self._ema_in_model = False
        self._started = False  # n_averaged > 0, kept on the host
        self._bound: Any = None
        self._model_tensors: list[torch.Tensor] = []
        self._ema_tensors: list[torch.Tensor] = []
        self._groups: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = []
        self._copied: tuple[list[torch.Tensor], list[torch.Tensor]] = ([], [])

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """The ``AveragedModel``'s state dict and whether the EMA weights are in the model."""
        if self.averaged is None:
            return {}
        return {"averaged": self.averaged.state_dict(), "ema_in_model": self._ema_in_model}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()`` (called after ``on_train_begin``, which built the average)."""
        if not state:
            return
        self._bind()
        self.averaged.load_state_dict(state["averaged"])
        self._ema_in_model = bool(state["ema_in_model"])
        self._started = int(self.averaged.n_averaged) > 0  # a CPU tensor

    # ------------------------------------------------------------------ binding
    def _bind(self) -> None:
        """Make (or reuse) the average for ``self.model`` and the tensor lists of its updates."""
        if self._bound is self.model and self.averaged is not None:
            return
        model_tensors = [t.detach() for t in (*self.model.parameters(), *self.model.buffers())]
        ours = self._bound is None or self._bound is self.model
        if self.averaged is None or not ours or not _same_shapes(self._ema_tensors, model_tensors):
            # n_averaged stays on the CPU (device=None): counting needs no device sync.
            self.averaged = AveragedModel(
                _Tensors(self.model), multi_avg_fn=self._avg_fn, use_buffers=True
            )
            self.averaged.module.requires_grad_(False)
            self._ema_in_model = self._started = False
        module = self.averaged.module
        self._ema_tensors = [t.detach() for t in (*module.parameters(), *module.buffers())]
        self._model_tensors = model_tensors
        self._bound = self.model
        groups: dict[tuple[Any, Any], tuple[list, list]] = {}
        copied: tuple[list, list] = ([], [])
        for e, m in zip(self._ema_tensors, model_tensors):
            if torch.is_floating_point(e) or torch.is_complex(e):
                pair = groups.setdefault((e.device, e.dtype), ([], []))
            else:
                pair = copied
            pair[0].append(e)
            pair[1].append(m)
        self._groups, self._copied = list(groups.values()), copied

    # ------------------------------------------------------------------ updates and swaps
    def _update(self) -> None:
        """One EMA step (the first one copies), with no host sync."""
        with torch.no_grad():
            if not self._started:
                _copy(self._ema_tensors, self._model_tensors)
                self._started = True
            else:
                for ema, current in self._groups:
                    self._avg_fn(ema, current, None)
                _copy(*self._copied)
            self.averaged.n_averaged += 1  # a CPU tensor: no device sync

    def _swap(self) -> None:
        """Exchange the model's weights and the EMA ones, in place."""
        with torch.no_grad():
            for m, e in zip(self._model_tensors, self._ema_tensors):
                kept = m.clone()
                m.copy_(e)
                e.copy_(kept)
        self._ema_in_model = not self._ema_in_model

    def _swap_in(self) -> None:
        if self.averaged is None:
            return  # never trained with this callback: no average yet, nothing to swap
        self._bind()
        if not self._ema_in_model and self._started:
            self._swap()

    def _swap_out(self) -> None:
        if self.averaged is not None and self._ema_in_model:
            self._swap()

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._swap_out()  # a fit that raised may have left the EMA weights in
        self._bind()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        state = getattr(self.model, "train_state", None)
        accum = getattr(state, "accum_steps", 1)
        if accum > 1 and state.micro_step % accum:
            return  # gradients accumulate: no optimizer step this batch
        self._update()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch:
            self._swap_in()

    def on_train_end(self, logs: dict | None = None) -> None:
        """Leave the EMA weights in the model, and in the average too."""
        if self.averaged is None or not self._started:
            return
        with torch.no_grad():
            if self._ema_in_model:
                _copy(self._ema_tensors, self._model_tensors)
            else:
                _copy(self._model_tensors, self._ema_tensors)
        self._ema_in_model = False

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._swap_in()

    def on_test_end(self, logs: dict | None = None) -> None:
        self._swap_out()

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._swap_in()

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._swap_out()


def _copy(targets: list[torch.Tensor], sources: list[torch.Tensor]) -> None:
    for t, s in zip(targets, sources):
        t.copy_(s)


def _same_shapes(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(
        x.shape == y.shape and x.dtype == y.dtype and x.device == y.device for x, y in zip(a, b)
    )
