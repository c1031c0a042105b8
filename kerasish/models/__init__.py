"""Models: ``Model`` (an nn.Module with compile/fit/...), ``Sequential``, functional models
(``Input`` -> calls -> ``Model(inputs, outputs)``), cloning, JSON configs, ``load_model``."""

from kerasish.models.cloning import clone_model
from kerasish.models.functional import Functional
from kerasish.models.input import Input, KerasTensor
from kerasish.models.model import Model
from kerasish.models.sequential import Sequential
from kerasish.saving import load_model
from kerasish.saving.configs import model_from_json

__all__ = [
    "Functional",
    "Input",
    "KerasTensor",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
]
