"""Training: the Trainer mixed into every model, its compile config, loops and state.

- ``trainer.py``: ``Trainer`` — compile/fit/evaluate/predict, *_on_batch, the three steps.
- ``compile.py``: ``CompileConfig`` — compile's arguments resolved, checked and frozen.
- ``loop.py``: run_epochs -> train_epoch -> test_loop, and predict_loop.
- ``state.py``: ``TrainState`` — epoch, step, counters, RNG, metrics; the resume point.
- ``checks.py``: argument checks run before anything touches the model.
"""

from kerasish.training.compile import CompileConfig
from kerasish.training.state import BatchLogs, TrainState
from kerasish.training.trainer import Trainer

__all__ = ["Trainer", "CompileConfig", "TrainState", "BatchLogs"]
