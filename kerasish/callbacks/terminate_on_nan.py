"""TerminateOnNaN: stop training at the first batch whose loss is NaN or infinite."""

from __future__ import annotations

import math

from kerasish.callbacks.callback import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss becomes NaN or infinite.

    After each training batch it reads ``logs["loss"]`` (the running mean of the epoch, which
    turns NaN at the first NaN batch and stays so). Reading it waits for the device, so this
    callback costs one host sync per batch: it is opt-in, as in Keras. Training stops after
    the offending batch; the epoch still ends (``on_epoch_end`` runs with the NaN logs).
    With ``raise_error=True`` it raises a ``RuntimeError`` there instead (Keras 3's
    behaviour), so no other hook runs: ``on_train_end`` is not called, and a
    ``BackupAndRestore`` keeps its last backup.

    Args:
        raise_error: raise a ``RuntimeError`` instead of stopping training gracefully.

    Attributes:
        stopped_batch: the index (in its epoch) of the batch that stopped training, or None.
        stopped_epoch: the epoch it belongs to, or None.

    Example:
        >>> x_bad = x.copy()
        >>> x_bad[0] = np.nan  # a NaN input makes the first batch's loss NaN
        >>> stop = TerminateOnNaN()
        >>> history = model.fit(x_bad, y, epochs=10, shuffle=False, callbacks=[stop], verbose=0)
        Batch 0: Invalid loss, terminating training
        >>> history.epoch, stop.stopped_epoch, stop.stopped_batch
        ([0], 0, 0)

    Raises:
        TypeError: when ``raise_error`` is not a bool.
        RuntimeError: (during fit, with ``raise_error=True``) at the first invalid loss.
    """

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        if not isinstance(raise_error, bool):
            raise TypeError(
                f"Expected raise_error to be True or False. Received: raise_error={raise_error!r}"
            )
        self.raise_error = raise_error
        self.stopped_batch: int | None = None
        self.stopped_epoch: int | None = None
        self._epoch = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.stopped_batch = self.stopped_epoch = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            self.stopped_batch, self.stopped_epoch = batch, self._epoch
            if self.raise_error:  # Keras 3's message
                raise RuntimeError(
                    f"NaN or Inf loss encountered at batch {batch}. "
                    f"Loss value: {loss}. Terminating training immediately."
                )
            print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
            self.model.stop_training = True
