"""Keras-named layers over ``torch.nn`` whose input sizes are inferred at the first call.

Every layer is an ordinary :class:`torch.nn.Module`. Layers whose weights depend on the
input size (``Dense``, ``Conv1D``, ``Conv2D``, ``BatchNormalization``, ``LayerNormalization``,
``LSTM``, ``GRU``) start *unbuilt*: those weights are
:class:`torch.nn.parameter.UninitializedParameter` until the first forward call, which
creates them on the input's device (and in the input's dtype, for floating inputs outside
autocast). A module is unbuilt exactly when it still holds an ``UninitializedParameter``.

Layout follows PyTorch, not Keras: tensors are **channels-first**. Image layers take
``(N, C, H, W)``; ``Conv1D`` and the 1-D pooling layers take ``(N, C, L)``; ``LSTM`` and
``GRU`` take batch-first sequences ``(N, T, F)``. ``Dense`` and ``LayerNormalization`` act
on the last axis, ``BatchNormalization`` on axis 1 (the channels).

Every layer has ``get_config()`` (its constructor arguments) and ``from_config(config)``;
``LAYERS`` maps class names to classes and :func:`get_activation` resolves activation names.

The package has one file per family: ``core``, ``convolution``, ``pooling``, ``normalization``,
``recurrent``; ``base`` holds the Layer class, ``activations`` ``get_activation`` and
``checks`` the argument checks. Import from here.

Example:
    >>> model = torch.nn.Sequential(
    ...     Conv2D(8, 3, padding="same", activation="relu"),
    ...     MaxPooling2D(),
    ...     Flatten(),
    ...     Dense(10, activation="softmax"),
    ... )
    >>> model(torch.randn(2, 3, 32, 32)).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import torch  # noqa: F401 - the docstrings' examples run in this namespace

from kerasish.layers.activations import get_activation
from kerasish.layers.base import Layer
from kerasish.layers.convolution import Conv1D, Conv2D
from kerasish.layers.core import (
    Activation,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    Input,
    Lambda,
    Reshape,
)
from kerasish.layers.normalization import BatchNormalization, LayerNormalization
from kerasish.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from kerasish.layers.recurrent import GRU, LSTM

__all__ = [
    "LAYERS",
    "Activation",
    "AveragePooling1D",
    "AveragePooling2D",
    "BatchNormalization",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "Input",
    "LSTM",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "MaxPooling1D",
    "MaxPooling2D",
    "Reshape",
    "get_activation",
]

LAYERS: dict[str, type[Layer]] = {
    cls.__name__: cls
    for cls in (
        Input,
        Dense,
        Activation,
        Lambda,
        Flatten,
        Reshape,
        Dropout,
        Embedding,
        Conv1D,
        Conv2D,
        MaxPooling1D,
        AveragePooling1D,
        MaxPooling2D,
        AveragePooling2D,
        GlobalAveragePooling1D,
        GlobalMaxPooling1D,
        GlobalAveragePooling2D,
        GlobalMaxPooling2D,
        BatchNormalization,
        LayerNormalization,
        LSTM,
        GRU,
    )
}

# Every public layer says it lives here, whichever file defines it, so that pickles, saved
# files and reprs do not depend on the layout.
for _obj in (*LAYERS.values(), Layer, get_activation):
    _obj.__module__ = __name__
del _obj
