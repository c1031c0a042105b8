"""Config and saving cases for the layers added with the layouts work (merging, reshaping, ...).

``CONFIG_CASES`` (name -> (make, input)) extends tests/test_layers.py's ``CASES``;
``SAVING_CASES`` (name -> (layers of a Sequential, input spec)) is what
tests/saving/test_saving.py's ``LAYER_CASES`` gains, in its format: the spec is a shape.
Merging layers follow a layer that returns several tensors (``LSTM(return_state=True)``).
"""

from __future__ import annotations

import torch

from kerasish import layers as L

_SEQ = (2, 6, 3)
_IMG = (2, 3, 8, 8)
_VOL = (2, 3, 4, 4, 4)


def pair(shape=(2, 4)):
    return lambda: [torch.randn(shape), torch.randn(shape)]


def adapted_normalization():
    layer = L.Normalization()
    layer.adapt(torch.randn(50, 3) * 4 + 2)
    return layer


CONFIG_CASES = {
    "Add": (lambda: L.Add(), pair()),
    "Subtract": (lambda: L.Subtract(), pair()),
    "Multiply": (lambda: L.Multiply(), pair()),
    "Average": (lambda: L.Average(), pair()),
    "Maximum": (lambda: L.Maximum(), pair()),
    "Minimum": (lambda: L.Minimum(), pair()),
    "Concatenate": (lambda: L.Concatenate(axis=1), pair()),
    "Dot": (lambda: L.Dot(axes=(2, 2), normalize=True), pair((2, 3, 4))),
    "Permute": (lambda: L.Permute((2, 1)), (2, 3, 4)),
    "RepeatVector": (lambda: L.RepeatVector(3), (2, 4)),
    "UpSampling1D": (lambda: L.UpSampling1D(3), (2, 4, 3)),
    "UpSampling2D": (lambda: L.UpSampling2D((2, 3), interpolation="bilinear"), _IMG),
    "ZeroPadding1D": (lambda: L.ZeroPadding1D((1, 2)), (2, 4, 3)),
    "ZeroPadding2D": (lambda: L.ZeroPadding2D(((1, 0), (2, 3))), _IMG),
    "Cropping1D": (lambda: L.Cropping1D((1, 2)), (2, 6, 3)),
    "Cropping2D": (lambda: L.Cropping2D(((1, 0), (2, 1)), data_format="channels_last"), _IMG),
    "ReLU": (lambda: L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2), (2, 5)),
    "LeakyReLU": (lambda: L.LeakyReLU(0.2), (2, 5)),
    "PReLU": (lambda: L.PReLU(alpha_initializer=0.25, shared_axes=[2, 3]), _IMG),
    "ELU": (lambda: L.ELU(0.5), (2, 5)),
    "Softmax": (lambda: L.Softmax(axis=(1, 2)), (2, 3, 4)),
    "SpatialDropout1D": (lambda: L.SpatialDropout1D(0.3), (2, 5, 3)),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.3), _IMG),
    "GaussianNoise": (lambda: L.GaussianNoise(0.2, seed=1), (2, 5)),
    "GaussianDropout": (lambda: L.GaussianDropout(0.2), (2, 5)),
    "Rescaling": (lambda: L.Rescaling(1 / 255, offset=[0.0, 1.0, 2.0]), (2, 4, 4, 3)),
    "Normalization": (lambda: L.Normalization(mean=[1.0, 2.0, 3.0], variance=[1, 4, 9]), (2, 3)),
    "Resizing": (lambda: L.Resizing(4, 6, crop_to_aspect_ratio=True), _IMG),
    "CenterCrop": (lambda: L.CenterCrop(5, 4), _IMG),
    "RandomFlip": (lambda: L.RandomFlip("horizontal", seed=3), _IMG),
    "RandomRotation": (lambda: L.RandomRotation((-0.2, 0.1), fill_mode="constant"), _IMG),
    "RandomZoom": (lambda: L.RandomZoom(0.2, (-0.1, 0.3), interpolation="nearest"), _IMG),
    "RandomTranslation": (lambda: L.RandomTranslation(0.1, 0.2, fill_value=1.0), _IMG),
    "RandomCrop": (lambda: L.RandomCrop(5, 6, seed=2), _IMG),
    "RandomContrast": (lambda: L.RandomContrast((0.2, 0.5), value_range=(0, 1)), _IMG),
    "Conv3D": (lambda: L.Conv3D(3, 2, strides=2, padding="same"), _VOL),
    "Conv1DTranspose": (lambda: L.Conv1DTranspose(3, 3, strides=2, padding="same"), (2, 3, 5)),
    "Conv2DTranspose": (lambda: L.Conv2DTranspose(3, 4, strides=2, activation="relu"), _IMG),
    "Conv3DTranspose": (lambda: L.Conv3DTranspose(2, 2, strides=2), _VOL),
    "DepthwiseConv1D": (lambda: L.DepthwiseConv1D(3, depth_multiplier=2), (2, 3, 7)),
    "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(3, padding="same", use_bias=False), _IMG),
    "SeparableConv1D": (lambda: L.SeparableConv1D(4, 3, padding="same"), (2, 3, 7)),
    "SeparableConv2D": (lambda: L.SeparableConv2D(4, 3, depth_multiplier=2), _IMG),
    "MaxPooling3D": (lambda: L.MaxPooling3D(2, padding="same"), _VOL),
    "AveragePooling3D": (lambda: L.AveragePooling3D((1, 2, 2)), _VOL),
    "GlobalAveragePooling3D": (lambda: L.GlobalAveragePooling3D(keepdims=True), _VOL),
    "GlobalMaxPooling3D": (lambda: L.GlobalMaxPooling3D(data_format="channels_last"), _VOL),
    "GroupNormalization": (lambda: L.GroupNormalization(groups=3, epsilon=1e-5), _IMG),
    "UnitNormalization": (lambda: L.UnitNormalization(axis=(1, 2)), (2, 3, 4)),
    "SimpleRNN": (lambda: L.SimpleRNN(4, return_sequences=True), _SEQ),
    "Masking": (lambda: L.Masking(mask_value=0.5), _SEQ),
    "Bidirectional": (lambda: L.Bidirectional(L.GRU(3), merge_mode="sum"), _SEQ),
    "TimeDistributed": (lambda: L.TimeDistributed(L.Dense(2)), _SEQ),
    "MultiHeadAttention": (lambda: L.MultiHeadAttention(2, 3, value_dim=4), (2, 5, 6)),
}

LAZY = {
    "PReLU",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "GroupNormalization",
    "SimpleRNN",
    "Bidirectional",
    "TimeDistributed",
    "MultiHeadAttention",
}

SAVING_CASES = {
    "Add": ([L.LSTM(4, return_state=True), L.Add()], _SEQ),
    "Subtract": ([L.GRU(4, return_state=True), L.Subtract()], _SEQ),
    "Multiply": ([L.LSTM(4, return_state=True), L.Multiply()], _SEQ),
    "Average": ([L.LSTM(4, return_state=True), L.Average()], _SEQ),
    "Maximum": ([L.LSTM(4, return_state=True), L.Maximum()], _SEQ),
    "Minimum": ([L.LSTM(4, return_state=True), L.Minimum()], _SEQ),
    "Concatenate": ([L.LSTM(4, return_state=True), L.Concatenate()], _SEQ),
    "Dot": ([L.GRU(4, return_state=True), L.Dot(axes=1)], _SEQ),
    "Permute": ([L.Dense(4), L.Permute((2, 1))], _SEQ),
    "RepeatVector": ([L.Dense(4), L.RepeatVector(3)], (2, 5)),
    "UpSampling1D": ([L.Dense(2), L.UpSampling1D(2)], _SEQ),
    "UpSampling2D": ([L.Conv2D(2, 1), L.UpSampling2D(interpolation="bilinear")], _IMG),
    "ZeroPadding1D": ([L.Dense(2), L.ZeroPadding1D(2)], _SEQ),
    "ZeroPadding2D": ([L.Conv2D(2, 1), L.ZeroPadding2D((1, 2))], _IMG),
    "Cropping1D": ([L.Dense(2), L.Cropping1D((1, 2))], _SEQ),
    "Cropping2D": ([L.Conv2D(2, 1), L.Cropping2D(((1, 2), (0, 3)))], _IMG),
    "ReLU": ([L.Dense(4), L.ReLU(max_value=0.5, negative_slope=0.1)], (2, 5)),
    "LeakyReLU": ([L.Dense(4), L.LeakyReLU(0.1)], (2, 5)),
    "PReLU": ([L.Conv2D(2, 1), L.PReLU(alpha_initializer=0.3, shared_axes=[2, 3])], _IMG),
    "ELU": ([L.Dense(4), L.ELU(0.7)], (2, 5)),
    "Softmax": ([L.Dense(4), L.Softmax()], (2, 5)),
    "SpatialDropout1D": ([L.Dense(4), L.SpatialDropout1D(0.5)], _SEQ),
    "SpatialDropout2D": ([L.Conv2D(2, 1), L.SpatialDropout2D(0.5)], _IMG),
    "GaussianNoise": ([L.Dense(4), L.GaussianNoise(0.3)], (2, 5)),
    "GaussianDropout": ([L.Dense(4), L.GaussianDropout(0.3)], (2, 5)),
    "Rescaling": ([L.Rescaling(0.5, offset=-1), L.Dense(2)], (2, 5)),
    "Normalization": ([adapted_normalization(), L.Dense(2)], (2, 3)),
    "Resizing": ([L.Resizing(4, 5), L.Conv2D(2, 1)], _IMG),
    "CenterCrop": ([L.CenterCrop(4, 6), L.Conv2D(2, 1)], _IMG),
    "RandomFlip": ([L.RandomFlip(), L.Conv2D(2, 1)], _IMG),
    "RandomRotation": ([L.RandomRotation(0.2), L.Conv2D(2, 1)], _IMG),
    "RandomZoom": ([L.RandomZoom(0.2), L.Conv2D(2, 1)], _IMG),
    "RandomTranslation": ([L.RandomTranslation(0.1, 0.1), L.Conv2D(2, 1)], _IMG),
    "RandomCrop": ([L.RandomCrop(4, 4), L.Conv2D(2, 1)], _IMG),
    "RandomContrast": ([L.RandomContrast(0.3), L.Conv2D(2, 1)], _IMG),
    "Conv3D": ([L.Conv3D(2, 3, padding="same"), L.Flatten()], _VOL),
    "Conv1DTranspose": ([L.Conv1DTranspose(2, 3, strides=2, padding="same")], (2, 3, 5)),
    "Conv2DTranspose": ([L.Conv2DTranspose(2, 3, strides=2, padding="same")], _IMG),
    "Conv3DTranspose": ([L.Conv3DTranspose(2, 2, strides=2)], _VOL),
    "DepthwiseConv1D": ([L.DepthwiseConv1D(3, depth_multiplier=2)], (2, 3, 7)),
    "DepthwiseConv2D": ([L.DepthwiseConv2D(3, padding="same", strides=2)], _IMG),
    "SeparableConv1D": ([L.SeparableConv1D(4, 3)], (2, 3, 7)),
    "SeparableConv2D": ([L.SeparableConv2D(4, 3, padding="same")], _IMG),
    "MaxPooling3D": ([L.Conv3D(2, 1), L.MaxPooling3D()], _VOL),
    "AveragePooling3D": ([L.Conv3D(2, 1), L.AveragePooling3D(3, 2, padding="same")], _VOL),
    "GlobalAveragePooling3D": ([L.Conv3D(2, 1), L.GlobalAveragePooling3D()], _VOL),
    "GlobalMaxPooling3D": ([L.Conv3D(2, 1), L.GlobalMaxPooling3D()], _VOL),
    "GroupNormalization": ([L.Conv2D(4, 1), L.GroupNormalization(groups=2)], _IMG),
    "UnitNormalization": ([L.Dense(4), L.UnitNormalization()], (2, 5)),
    "SimpleRNN": ([L.SimpleRNN(4, go_backwards=True)], _SEQ),
    "Masking": ([L.Masking(), L.LSTM(3)], _SEQ),
    "Bidirectional": ([L.Bidirectional(L.LSTM(3, return_sequences=True))], _SEQ),
    "TimeDistributed": ([L.TimeDistributed(L.Dense(2, activation="relu"))], _SEQ),
    "MultiHeadAttention": ([L.Dense(4), L.MultiHeadAttention(2, 4, dropout=0.1)], _SEQ),
}
