"""Pretrained torchvision backbones with Keras's ``keras.applications`` arguments.

Each builder (``VGG16``, ``ResNet50``, ``ViT_B_16``, ...) returns an :class:`Application`, a
``kerasish.Model``: it can be compiled and fit alone, sit inside ``Sequential``, and be frozen
with ``base.trainable = False``. The network and its weights come from torchvision's builders
and weights enums; downloads go through torchvision's cache (``$TORCH_HOME/hub/checkpoints``).

Shared arguments (keyword-only):

- ``weights``: ``"imagenet"`` (torchvision's ``DEFAULT`` weights), ``None`` (random), a
  member of the architecture's weights enum or its name (``"IMAGENET1K_V2"`` or
  ``"ResNet50_Weights.IMAGENET1K_V2"``), or the path of a local state-dict file (of the
  torchvision model, or of an ``Application`` of the same architecture).
- ``include_top``: True for the ImageNet classifier; False for the features.
- ``pooling``: with ``include_top=False``: None for the last feature maps ``(N, C, H', W')``,
  ``"avg"``/``"max"`` for global pooling to ``(N, C)``. ViT's feature maps are its patch
  tokens after the final LayerNorm, laid out as ``(N, 768, H/16, W/16)``, and ViT also accepts
  ``pooling="token"``: the class token ``(N, 768)`` its classifier reads.
- ``classes``: the classifier's size with ``include_top=True``; a new, random head when it is not
  1000 (only without pretrained weights).
- ``classifier_activation``: None (logits, torchvision's convention; Keras's default is
  "softmax") or an activation name applied to the classifier's output.
- ``progress``: show torchvision's download progress bar.

The package: ``architectures`` (what each torchvision network is made of), ``model`` (the
Application class), ``builders`` (one per architecture) and ``processing``
(``preprocess_input``, ``decode_predictions``). Import from here.

Example:
    ``weights="imagenet"`` downloads the weights once into torchvision's cache; offline, the
    example uses ``weights=None`` (random weights) and runs the same way.

    >>> base = ResNet18(weights="imagenet", include_top=False, pooling="avg")  # doctest: +SKIP
    >>> base = ResNet18(weights=None, include_top=False, pooling="avg")
    >>> base.trainable = False
    >>> model = K.Sequential([base, K.layers.Dense(256, activation="relu"), K.layers.Dense(5)])
    >>> model(torch.zeros(2, 3, 64, 64)).shape
    torch.Size([2, 5])
"""

from __future__ import annotations

import torch  # noqa: F401 - the docstrings' examples run in this namespace

from kerasish.applications.architectures import ARCHITECTURES, Arch, Stage, architectures
from kerasish.applications.builders import (
    VGG16,
    VGG19,
    AlexNet,
    ConvNeXtTiny,
    DenseNet121,
    EfficientNetB0,
    MobileNetV2,
    MobileNetV3Large,
    MobileNetV3Small,
    ResNet18,
    ResNet34,
    ResNet50,
    ResNet101,
    ViT_B_16,
    WeightsLike,
)
from kerasish.applications.model import Application
from kerasish.applications.processing import decode_predictions, preprocess_input

__all__ = [
    "Application",
    "AlexNet",
    "ConvNeXtTiny",
    "DenseNet121",
    "EfficientNetB0",
    "MobileNetV2",
    "MobileNetV3Large",
    "MobileNetV3Small",
    "ResNet18",
    "ResNet34",
    "ResNet50",
    "ResNet101",
    "VGG16",
    "VGG19",
    "ViT_B_16",
    "decode_predictions",
    "preprocess_input",
]
_ALSO_PUBLIC = (ARCHITECTURES, Arch, Stage, WeightsLike, architectures)

# Every public class and function says it lives here, whichever file defines it, so that
# pickles and saved files do not depend on the layout.
for _obj in (*(globals()[_name] for _name in __all__), Arch, architectures):
    _obj.__module__ = __name__
del _obj
