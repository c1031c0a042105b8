"""Callbacks with Keras's names and behaviour.

Names are imported on first use, so importing kerasish stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.callback_list import CallbackList
from kerasish.callbacks.history import History
from kerasish.callbacks.progbar import ProgbarLogger

_LAZY = {
    "EarlyStopping": "early_stopping",
    "ReduceLROnPlateau": "reduce_lr_on_plateau",
    "LearningRateScheduler": "learning_rate_scheduler",
    "CSVLogger": "csv_logger",
    "TerminateOnNaN": "terminate_on_nan",
    "LambdaCallback": "lambda_callback",
    "TensorBoard": "tensorboard",
    "ModelCheckpoint": "model_checkpoint",
    "BackupAndRestore": "backup_and_restore",
    "LivePlot": "live_plot",
    "Visdom": "visdom",
    "SwapEMAWeights": "swap_ema_weights",
}

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"kerasish.callbacks.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'kerasish.callbacks' has no attribute {name!r}")
