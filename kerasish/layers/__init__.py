"""Keras-named layers over ``torch.nn`` whose input sizes are inferred at the first call.

Every layer is an ordinary :class:`torch.nn.Module`. Layers whose weights depend on the
input size (``Dense``, ``Conv1D``, ``Conv2D``, ``BatchNormalization``, ``LayerNormalization``,
``LSTM``, ``GRU``) start *unbuilt*: those weights are
:class:`torch.nn.parameter.UninitializedParameter` until the first forward call, which
creates them on the input's device (and in the input's dtype, for floating inputs outside
autocast). A module is unbuilt exactly when it still holds an ``UninitializedParameter``.

The layout is ``data_format``: the image and 1-D conv/pool layers take it, and its default
(``None``) is :func:`kerasish.config.image_data_format`, ``"channels_first"`` unless set:
image layers take ``(N, C, H, W)``, ``Conv1D`` and the 1-D pooling layers ``(N, C, L)``.
With ``"channels_last"`` they take Keras's ``(N, H, W, C)`` and ``(N, steps, features)``
(viewed as channels-first without a copy) and ``BatchNormalization`` normalizes axis -1.
A layer left to a channels-first default refuses, at its first call, a batch that looks
channels-last (``(N, 28, 28, 1)``). ``LSTM`` and ``GRU`` take batch-first sequences
``(N, T, F)``; ``Dense`` and ``LayerNormalization`` act on the last axis.

Every layer has ``get_config()`` (its constructor arguments) and ``from_config(config)``;
``LAYERS`` maps class names to classes and :func:`get_activation` resolves activation names.

The package has one file per family: ``core``, ``convolution``, ``pooling``, ``normalization``,
``recurrent``, ``merging``, ``reshaping``, ``activation_layers``, ``regularization``,
``preprocessing``, ``augmentation``, ``masking``; ``base`` holds the Layer class, ``api``
the Keras layer API it shares with ``Model`` (build/call, add_weight, add_loss, masks,
``training=``), ``weights`` the Keras views of the weights, ``shared`` the shared arguments,
``naming`` the automatic names, ``activations``
``get_activation``, ``checks`` the argument checks and ``layout`` the data formats.
Import from here.

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

from kerasish.layers import layout
from kerasish.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from kerasish.layers.activations import get_activation
from kerasish.layers.attention import MultiHeadAttention
from kerasish.layers.augmentation import (
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from kerasish.layers.base import Layer
from kerasish.layers.conv_transpose import Conv1DTranspose, Conv2DTranspose, Conv3DTranspose
from kerasish.layers.convolution import (
    Conv1D,
    Conv2D,
    Conv3D,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
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
from kerasish.layers.masking import Masking
from kerasish.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from kerasish.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)
from kerasish.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from kerasish.layers.preprocessing import CenterCrop, Normalization, Rescaling, Resizing
from kerasish.layers.recurrent import GRU, LSTM, SimpleRNN
from kerasish.layers.regularization import (
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
)
from kerasish.layers.reshaping import (
    Cropping1D,
    Cropping2D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from kerasish.layers.wrappers import Bidirectional, TimeDistributed

_MERGE_FUNCTIONS = (add, subtract, multiply, average, maximum, minimum, concatenate, dot)
_ADDED_LAYERS = (
    Add,
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
    Concatenate,
    Dot,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
    Cropping1D,
    Cropping2D,
    ReLU,
    LeakyReLU,
    PReLU,
    ELU,
    Softmax,
    SpatialDropout1D,
    SpatialDropout2D,
    GaussianNoise,
    GaussianDropout,
    Rescaling,
    Normalization,
    Resizing,
    CenterCrop,
    RandomFlip,
    RandomRotation,
    RandomZoom,
    RandomTranslation,
    RandomCrop,
    RandomContrast,
    Conv3D,
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
    DepthwiseConv1D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    MaxPooling3D,
    AveragePooling3D,
    GlobalAveragePooling3D,
    GlobalMaxPooling3D,
    GroupNormalization,
    UnitNormalization,
    SimpleRNN,
    Bidirectional,
    TimeDistributed,
    MultiHeadAttention,
    Masking,
)

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
    "layout",
    *(cls.__name__ for cls in _ADDED_LAYERS),
    *(fn.__name__ for fn in _MERGE_FUNCTIONS),
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
        *_ADDED_LAYERS,
    )
}

# Every public layer says it lives here, whichever file defines it, so that pickles, saved
# files and reprs do not depend on the layout.
for _obj in (*LAYERS.values(), Layer, get_activation, *_MERGE_FUNCTIONS):
    _obj.__module__ = __name__
del _obj
