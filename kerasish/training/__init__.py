"""Training: the Trainer mixed into every model, its compile config, loops and state.

- ``trainer.py``: ``Trainer`` — compile/fit/evaluate/predict, *_on_batch, the three steps.
- ``fused.py``: the default steps as one closure per loop (same calls, fewer look-ups).
- ``compile.py``: ``CompileConfig`` — compile's arguments resolved, checked and frozen.
- ``loop.py``: run_epochs -> train_epoch -> test_loop, and predict_loop.
- ``state.py``: ``TrainState`` — epoch, step, counters, RNG, metrics; the resume point.
- ``checks.py``: argument checks run before anything touches the model.
- ``validate.py``: the first-batch checks (in the first real step, or one small forward).
"""

from kerasish.training.compile import CompileConfig
from kerasish.training.state import BatchLogs, TrainState
from kerasish.training.steps import unpack_x_y_sample_weight
from kerasish.training.trainer import Trainer

__all__ = ["Trainer", "CompileConfig", "TrainState", "BatchLogs", "unpack_x_y_sample_weight"]
