"""Keras's ``preprocess_input`` and ``decode_predictions``, from torchvision's weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torchvision
from torch import Tensor
from torchvision.models import WeightsEnum

from kerasish.applications.model import Application
from kerasish.layers.layout import resolve_data_format

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


def preprocess_input(
    x: Any, data_format: str | None = None, *, weights: Any = "imagenet"
) -> Tensor:
    """Keras's ``preprocess_input`` for torchvision's weights: pixel values in [0, 255] in,
    the weights' resize, center crop and normalization applied.

    As Keras's, the input is an image or a batch with values in [0, 255] (float or uint8), in
    ``data_format``'s layout, and the output keeps that layout. Unlike Keras's, it also
    resizes and center-crops (torchvision's weights are evaluated that way: for ImageNet's
    preset, the shorter side to 256, then the central 224x224), and returns a float tensor.

    Args:
        x: an image (H, W, C) or (C, H, W), a batch (N, H, W, C) or (N, C, H, W), as a tensor
            or NumPy array in [0, 255]; a PIL image; or a list of images.
        data_format: "channels_last" (H, W, C) or "channels_first" (C, H, W), for the input
            and the output; None: :func:`kerasish.config.image_data_format`.
        weights: "imagenet" or None (ImageNet's standard preset: resize 256, crop 224,
            mean/std normalization), an :class:`Application` (its weights' transforms), a
            torchvision weights enum member, or its full name.

    Returns:
        A float tensor, (C, 224, 224) for one image and (N, C, 224, 224) for a batch
        channels-first, (224, 224, C) and (N, 224, 224, C) channels-last (the crop size is
        the weights').

    Raises:
        ValueError: for unknown weights, a bad ``data_format`` or an array not of rank 3 or 4.

    Example:
        >>> photos = torch.randint(0, 256, (2, 3, 300, 400)).float()  # [0, 255], as Keras's
        >>> preprocess_input(photos, "channels_first").shape
        torch.Size([2, 3, 224, 224])
        >>> preprocess_input(photos.permute(0, 2, 3, 1), "channels_last").shape
        torch.Size([2, 224, 224, 3])
    """
    transform = _weights_for(weights).transforms()
    last = resolve_data_format(data_format) == "channels_last"
    if isinstance(x, list | tuple):
        return torch.stack([_preprocess_one(transform, item, last) for item in x])
    return _preprocess_one(transform, x, last)


def _preprocess_one(transform: Any, x: Any, channels_last: bool) -> Tensor:
    """``transform`` on an image or batch in [0, 255] (or a PIL image), in its own layout."""
    if not isinstance(x, Tensor | np.ndarray):
        out = transform(x)  # a PIL image: torchvision reads its uint8 pixels itself
        return out.movedim(-3, -1) if channels_last else out
    t = torch.from_numpy(np.ascontiguousarray(x)) if isinstance(x, np.ndarray) else x
    if t.dim() not in (3, 4):
        layout = "(H, W, C) or (N, H, W, C)" if channels_last else "(C, H, W) or (N, C, H, W)"
        raise ValueError(
            f"Expected an image {layout} with values in [0, 255]. "
            f"Received: x of shape {tuple(t.shape)}"
        )
    if channels_last:
        t = t.movedim(-1, -3)
    if t.dtype != torch.uint8:  # torchvision takes uint8 as it is, floats in [0, 1]
        t = (t if t.is_floating_point() else t.to(torch.get_default_dtype())) / 255.0
    out = transform(t)
    return out.movedim(-3, -1) if channels_last else out


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
