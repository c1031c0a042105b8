"""Optimizers: Keras-named recipes over ``torch.optim``, schedules, schedulers by name, lr_find.

Every public name of the former ``kerasish.optimizers`` module is here: ``get``, the
Keras-named optimizers, ``Clipping``/``clip_gradients``, ``TorchClass``; and
``schedules`` (Keras's ``LearningRateSchedule`` family), ``scheduler_from_name`` (torch LR
schedulers by name) and ``lr_find`` (the learning-rate range test).
"""

from kerasish.optimizers import schedules
from kerasish.optimizers.attributes import KerasAttributes, with_keras_attributes
from kerasish.optimizers.base import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Clipping,
    Nadam,
    Optimizer,
    RMSprop,
    TorchClass,
    TorchFactory,
    clip_gradients,
    get,
)
from kerasish.optimizers.lr_find import LRFindResult, lr_find
from kerasish.optimizers.schedulers import SCHEDULER_NAMES, parse_scheduler, scheduler_from_name

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Nadam",
    "get",
    "Clipping",
    "clip_gradients",
    "TorchClass",
    "TorchFactory",
    "KerasAttributes",
    "with_keras_attributes",
    "schedules",
    "SCHEDULER_NAMES",
    "scheduler_from_name",
    "parse_scheduler",
    "LRFindResult",
    "lr_find",
]
