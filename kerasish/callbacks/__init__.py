"""Callbacks with Keras's names and behaviour."""

from kerasish.callbacks.callback import Callback
from kerasish.callbacks.callback_list import CallbackList
from kerasish.callbacks.history import History
from kerasish.callbacks.progbar import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
