"""Keras's ``preprocess_input`` and ``decode_predictions``, from torchvision's weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torchvision
from torch import Tensor
from torchvision.models import WeightsEnum

from kerasish.applications.model import Application

__all__ = ["preprocess_input", "decode_predictions"]


def _weights_for(weights: Any) -> WeightsEnum:
    if isinstance(weights, Application):
        own = weights.pretrained_weights
        return own if isinstance(own, WeightsEnum) else weights.arch.weights.DEFAULT
    if isinstance(weights, WeightsEnum):
        return weights
    if weights in (None, "imagenet"):
        return (
            torchvision.models.ResNet50_Weights.IMAGENET1K_V1
        )  # ImageNet's standard 256 -> 224 preset
    if isinstance(weights, str):
        try:
            return torchvision.models.get_weight(weights)
        except (ValueError, KeyError, AttributeError):
            pass
    raise ValueError(
        f"Expected weights to be 'imagenet', None, an Application, a torchvision weights "
        f"enum member or its full name such as 'ResNet50_Weights.IMAGENET1K_V2'. "
        f"Received: weights={weights!r}"
    )


def preprocess_input(x: Any, *, weights: Any = "imagenet") -> Tensor:
    """Apply the weights' torchvision transforms: resize, center crop, normalize.

    Args:
        x: a PIL image, a list of them, or a channels-first tensor/array (C, H, W) or
            (N, C, H, W), uint8 in [0, 255] or float in [0, 1].
        weights: "imagenet" or None (ImageNet's standard preset: resize 256, crop 224,
            mean/std normalization), an :class:`Application` (its weights' transforms), a
            torchvision weights enum member, or its full name.

    Returns:
        A float tensor (C, 224, 224) for one image, (N, C, 224, 224) for a batch (the crop
        size is the weights').

    Raises:
        ValueError: for unknown weights.

    Example:
        >>> batch = preprocess_input(torch.rand(2, 3, 300, 400))
        >>> batch.shape
        torch.Size([2, 3, 224, 224])
    """
    transform = _weights_for(weights).transforms()
    if isinstance(x, list | tuple):
        return torch.stack([transform(item) for item in x])
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    return transform(x)


def decode_predictions(
    preds: Any, top: int = 5, *, weights: Any = "imagenet"
) -> list[list[tuple[int, str, float]]]:
    """The ``top`` classes of each prediction, with the weights' class names.

    Args:
        preds: scores (logits or probabilities) shaped (N, classes), array or tensor.
        top: how many classes to return per sample.
        weights: "imagenet", an :class:`Application`, or a torchvision weights enum member or
            name; its ``meta["categories"]`` names the classes.

    Returns:
        One list per sample of ``(class_index, class_name, score)`` tuples, best first
        (Keras gives a WordNet id where this gives the class index).

    Raises:
        ValueError: when ``preds`` is not (N, classes) or ``top`` is out of range.

    Example:
        >>> preds = torch.zeros(1, 1000)
        >>> preds[0, 207], preds[0, 208] = 0.75, 0.25
        >>> decode_predictions(preds, top=2)[0]  # or decode_predictions(model.predict(images))
        [(207, 'golden retriever', 0.75), (208, 'Labrador retriever', 0.25)]
    """
    names = _weights_for(weights).meta["categories"]
    scores = torch.as_tensor(
        np.asarray(preds.detach().cpu() if isinstance(preds, Tensor) else preds)
    )
    if scores.dim() != 2 or scores.shape[1] != len(names):
        raise ValueError(
            f"Expected predictions shaped (samples, {len(names)}). "
            f"Received: preds of shape {tuple(scores.shape)}"
        )
    if isinstance(top, bool) or not isinstance(top, int) or not 0 < top <= len(names):
        raise ValueError(f"Expected top in [1, {len(names)}]. Received: top={top!r}")
    values, indices = scores.float().topk(top, dim=1)
    return [
        [(i, names[i], v) for i, v in zip(row_i, row_v)]
        for row_i, row_v in zip(indices.tolist(), values.tolist())
    ]
