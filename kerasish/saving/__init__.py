"""Saving: model files, weights files and exports; atomic writes and safe loading.

One module per job:

- ``atomic``: atomic writes (``atomic_path``, ``atomic_write``) and ``is_chief``;
- ``safe_load``: ``safe_torch_load`` and the ``Resolver`` with safe mode's rules for the
  classes and functions a file may name;
- ``integrity``: sha256 digests written into every saved file and checked at load
  (``save_checked``/``load_checked`` for ``torch.save`` checkpoints);
- ``registry``: ``register_keras_serializable`` and its look-ups (Keras's API);
- ``configs``: architecture configs (describe a model, rebuild it);
- ``compile_config``: ``compile.json`` (the optimizer recipe, losses, metrics, options);
- ``archive``: the model file's zip container and format version;
- ``weights``: ``save_weights``/``load_weights``;
- ``model_file``: ``save_model``/``load_model``;
- ``export``: ONNX, TorchScript and ``torch.export`` (and ``format="hf"``);
- ``hf``: Hugging Face models in model files (rebuilt safely) and ``save_pretrained``;
- ``mixin``: ``SavingMixin`` (``model.save``, ``model.export``, ...).

Nothing in a file runs code by default: weights are safetensors, other tensors go through
``torch.load(weights_only=True)``, and names in a config resolve only to registered objects,
``custom_objects``, or torch/kerasish objects of the kind that place may name;
``safe_mode=False`` is the opt-in for trusted files. Every file kerasish writes carries a sha256
digest that loading checks, so a corrupt file is an error, not other weights
(``check_integrity=False`` loads it anyway). This package imports neither
``kerasish.models`` nor ``kerasish.training``: models register themselves
(``register_keras_serializable``) and are read through their public seams.

Example:
    >>> model.save("run/model.kerasish")
    >>> model = K.models.load_model("run/model.kerasish")
    >>> model.save_weights("run/weights.safetensors")
    >>> model.export("run/model.onnx", format="onnx")
"""

from kerasish.saving.archive import FORMAT, FORMAT_VERSION
from kerasish.saving.atomic import atomic_dir, atomic_path, atomic_write, is_chief
from kerasish.saving.configs import module_config
from kerasish.saving.export import EXPORT_FORMATS, export_model
from kerasish.saving.hf import save_pretrained
from kerasish.saving.integrity import load_checked, save_checked
from kerasish.saving.mixin import SavingMixin
from kerasish.saving.model_file import load_model, save_model
from kerasish.saving.registry import (
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from kerasish.saving.safe_load import safe_torch_load
from kerasish.saving.weights import (
    WEIGHT_SUFFIXES,
    LoadResult,
    is_sharded,
    load_weights,
    save_weights,
)

__all__ = [
    "EXPORT_FORMATS",
    "FORMAT",
    "FORMAT_VERSION",
    "WEIGHT_SUFFIXES",
    "LoadResult",
    "SavingMixin",
    "atomic_dir",
    "atomic_path",
    "atomic_write",
    "export_model",
    "get_registered_name",
    "get_registered_object",
    "is_chief",
    "is_sharded",
    "load_checked",
    "load_model",
    "load_weights",
    "module_config",
    "register_keras_serializable",
    "safe_torch_load",
    "save_checked",
    "save_model",
    "save_pretrained",
    "save_weights",
]
