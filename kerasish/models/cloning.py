"""``clone_model``: the same architecture with new weights (Keras's ``keras.models.clone_model``).

A functional model is replayed on new inputs with each layer cloned; any other model
(``Sequential``, ``Model.wrap``, a registered subclass with ``get_config``) and each layer is
rebuilt from its architecture config (``kerasish.saving.configs``), so nothing is shared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from kerasish.models.functional import Functional, replay
from kerasish.saving.configs import (
    Undescribable,
    decode_shapes,
    input_shapes,
    module_config,
    module_from_config,
)
from kerasish.saving.safe_load import Resolver

__all__ = ["clone_model"]


def _clone_layer(layer: nn.Module) -> nn.Module:
    """A new, freshly initialised copy of ``layer`` from its config."""
    try:
        return module_from_config(module_config(layer), Resolver(None, safe_mode=False))
    except Undescribable as e:
        raise ValueError(
            "Expected layers kerasish can describe (kerasish layers, torch.nn modules, classes "
            f"with get_config) or a clone_function. Received: {e}"
        ) from e


def clone_model(
    model: nn.Module,
    input_tensors: Any = None,
    clone_function: Callable[[nn.Module], nn.Module] | None = None,
) -> nn.Module:
    """A model with the same architecture as ``model`` and new weights.

    Args:
        model: a functional model, a ``Sequential``, or a model with ``get_config``.
        input_tensors: for a functional model, the ``KerasTensor`` objects to call the clone on
            (default: new ``Input`` tensors like the model's).
        clone_function: ``layer -> new layer`` for each layer of a functional or Sequential
            model (default: rebuilt from its config, new weights).

    Returns:
        The new model, built on the same input shapes where ``model`` was built.

    Raises:
        ValueError: when a part of the model has no config to rebuild it from.

    Example:
        >>> x = K.models.Input((4,))
        >>> model = K.models.Functional(x, nn.Linear(4, 2)(x))
        >>> twin = clone_model(model)
        >>> twin.layers[0].weight.shape, twin.layers[0].weight is model.layers[0].weight
        (torch.Size([2, 4]), False)
    """
    clone = clone_function or _clone_layer
    if isinstance(model, Functional):
        return _clone_functional(model, input_tensors, clone)
    if clone_function is not None and isinstance(getattr(model, "layers", None), nn.ModuleList):
        twin = type(model).from_config(
            {**model.get_config(), "layers": [clone(m) for m in model.layers]}
        )
    else:
        twin = _clone_layer(model)
    example = getattr(model, "example_input", None)
    if example is not None and callable(getattr(twin, "build", None)):
        with torch.random.fork_rng(devices=[]):
            twin.build(decode_shapes(input_shapes(example)))
    return twin


def _clone_functional(model: Functional, input_tensors: Any, clone: Callable) -> Functional:
    config = model.get_config()
    config["layers"] = [clone(m) for m in model.layers]
    return replay(config, input_tensors)
