"""``SavingMixin``: ``save``, ``save_weights``, ``load_weights``, ``export`` and
``save_pretrained`` on a model.

Each method *is* the module function of the same job, with the model as ``self``
(``model.load_weights(filepath)`` is ``load_weights(model, filepath)``), so every one has a
single implementation and a single docstring.

Example:
    >>> model.save("model.kerasish")
    >>> model.save_weights("weights.safetensors")
    >>> model.load_weights("weights.safetensors")
    LoadResult(missing_keys=[], unexpected_keys=[], mismatched_keys=[])
    >>> model.export("model.onnx", input_shape=(None, 1, 8, 8))
"""

from __future__ import annotations

from kerasish.saving.configs import to_json
from kerasish.saving.export import export_model
from kerasish.saving.hf import save_pretrained
from kerasish.saving.model_file import save_model
from kerasish.saving.weights import load_weights, save_weights

__all__ = ["SavingMixin"]


class SavingMixin:
    """``save``, ``save_weights``, ``load_weights``, ``export``, ``save_pretrained`` and
    ``to_json`` for ``kerasish.Model``.

    See ``kerasish.saving.save_model``, ``save_weights``, ``load_weights``, ``export_model``,
    ``save_pretrained`` and ``kerasish.saving.configs.to_json`` for the arguments.
    """

    save = save_model
    to_json = to_json
    save_weights = save_weights
    load_weights = load_weights
    export = export_model
    save_pretrained = save_pretrained
