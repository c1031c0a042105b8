"""A crashed fit with steps_per_epoch shorter than a pass resumes exactly with BackupAndRestore:
the data position (the pass's shuffle order and the batches of it done) is restored too."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
from kerasish.training.state import Resume

pytestmark = [
    pytest.mark.filterwarnings("ignore:Your input ran out of data"),
    pytest.mark.skipif(
        "data_state" not in {f.name for f in dataclasses.fields(Resume)},
        reason="needs Resume.data_state / train_state.train_feed (kerasish.training)",
    ),
]


class Crash(K.callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise RuntimeError("simulated crash")


def _train(callbacks, x):
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(40, 4)).astype("float32")
    ys = rng.integers(0, 3, 40)
    data = (
        xs
        if x == "arrays"
        else torch.utils.data.TensorDataset(torch.from_numpy(xs), torch.from_numpy(ys))
    )
    K.utils.set_random_seed(0)
    model = K.Sequential([nn.Linear(4, 8), nn.Dropout(0.25), nn.Linear(8, 3)])
    model.compile(
        optimizer=K.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy"
    )
    kw = {"y": ys} if x == "arrays" else {}
    history = model.fit(
        data, batch_size=4, epochs=6, steps_per_epoch=3, verbose=0, callbacks=callbacks, **kw
    )
    return model, history


@pytest.mark.parametrize(
    ("x", "save_freq", "crash"),
    [("arrays", 2, 7), ("arrays", "epoch", 13), ("dataset", 2, 11), ("dataset", "epoch", 8)],
)
def test_resume_mid_pass_equals_an_uninterrupted_run(tmp_path, x, save_freq, crash):
    # 10 batches, steps_per_epoch=3: epochs of 3, 3, 3, 1, 3, 3 batches over two shuffled passes
    reference, ref_history = _train([], x)
    with pytest.raises(RuntimeError, match="simulated crash"):
        _train([K.callbacks.BackupAndRestore(tmp_path, save_freq=save_freq), Crash(crash)], x)
    model, history = _train([K.callbacks.BackupAndRestore(tmp_path, save_freq=save_freq)], x)
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert history.history == ref_history.history
