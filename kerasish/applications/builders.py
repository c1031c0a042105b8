"""The builders (``VGG16``, ``ResNet50``, ``ViT_B_16``, ...): verify the weights, then build.

As torchvision's builders do: keyword-only arguments, ``weights`` verified first, then one
private builder makes the torchvision network, cuts it to its features when asked, loads a
local weights file and wraps it in an :class:`~kerasish.applications.Application`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch
import torchvision
from torch import nn
from torchvision.models import WeightsEnum

from kerasish.applications.architectures import ARCHITECTURES, Arch
from kerasish.applications.model import Application

__all__ = [
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
    "WeightsLike",
]

WeightsLike = str | os.PathLike | WeightsEnum | None


def _verify_weights(arch: Arch, weights: Any) -> WeightsEnum | Path | None:
    """Resolve ``weights`` to an enum member, a file path or None, or raise."""
    enum = arch.weights
    if weights is None or isinstance(weights, enum):
        return weights
    if isinstance(weights, str):
        if weights == "imagenet":
            return enum.DEFAULT
        name = weights.removeprefix(f"{enum.__name__}.")
        if name in enum.__members__:
            return enum[name]
    if isinstance(weights, str | os.PathLike) and Path(weights).is_file():
        return Path(weights)
    names = ", ".join(repr(n) for n in enum.__members__)
    raise ValueError(
        f"Expected weights for {arch.name} to be 'imagenet', None, a member of "
        f"torchvision's {enum.__name__} or its name ({names}), or the path of an existing "
        f"state-dict file. Received: weights={weights!r}"
    )


def _check_arguments(
    arch: Arch,
    weights: WeightsEnum | Path | None,
    include_top: Any,
    pooling: Any,
    classes: Any,
    classifier_activation: Any,
) -> None:
    if not isinstance(include_top, bool):
        raise TypeError(f"Expected include_top to be True or False. Received: {include_top=}")
    allowed = (None, "avg", "max", "token") if arch.class_token else (None, "avg", "max")
    if pooling not in allowed:
        raise ValueError(f"Expected pooling to be one of {allowed}. Received: pooling={pooling!r}")
    if include_top and pooling is not None:
        raise ValueError(
            f"Expected pooling=None with include_top=True (pooling applies to the features). "
            f"Received: pooling={pooling!r}"
        )
    if not include_top and classifier_activation is not None:
        raise ValueError(
            f"Expected classifier_activation=None with include_top=False. "
            f"Received: classifier_activation={classifier_activation!r}"
        )
    _check_classes(weights, include_top, classes)


def _check_classes(weights: WeightsEnum | Path | None, include_top: bool, classes: Any) -> None:
    if isinstance(classes, bool) or not isinstance(classes, int) or classes <= 0:
        raise ValueError(f"Expected classes to be a positive integer. Received: {classes=}")
    if include_top and isinstance(weights, WeightsEnum):
        expected = len(weights.meta["categories"])
        if classes != expected:
            raise ValueError(
                f"Expected classes={expected} with weights={weights} and include_top=True "
                f"(the pretrained classifier has {expected} classes; use include_top=False "
                f"and add your own head, or weights=None). Received: classes={classes}"
            )


def _torchvision_net(
    arch: Arch, weights: WeightsEnum | Path | None, classes: int, progress: bool
) -> nn.Module:
    builder = getattr(torchvision.models, arch.builder)
    if not isinstance(weights, WeightsEnum):
        return builder(weights=None, num_classes=classes)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    try:
        return builder(weights=weights, progress=progress)
    except OSError as e:
        if cached.exists():
            raise
        raise OSError(
            f"Could not download the {arch.name} weights {weights} from {weights.url} "
            f"({type(e).__name__}: {e}). Offline? Place the file at {cached} (TORCH_HOME "
            f"sets the cache), pass a local state-dict file as weights=..., or use "
            f"weights=None for random weights."
        ) from e


def _load_file(arch: Arch, net: nn.Module, path: Path) -> None:
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ValueError(
            f"Expected {path} to hold a state dict. Received: a {type(state).__name__}"
        )
    state = {k.removeprefix("net."): v for k, v in state.items()}
    own = net.state_dict()
    try:
        net.load_state_dict({k: v for k, v in state.items() if k in own})
    except RuntimeError as e:
        raise ValueError(
            f"Expected {path} to hold a state dict of torchvision's {arch.builder} (or of a "
            f"kerasish {arch.name}) matching this model. Received: {e}"
        ) from e


def _application(
    arch: Arch,
    weights: WeightsEnum | Path | None,
    include_top: bool,
    pooling: str | None,
    classes: int,
    classifier_activation: str | None,
    progress: bool,
) -> Application:
    """Build an Application from verified weights (the private half of every builder)."""
    _check_arguments(arch, weights, include_top, pooling, classes, classifier_activation)
    net = _torchvision_net(arch, weights, classes if include_top else 1000, progress)
    if not include_top:
        net = arch.features(net)
        if pooling == "token":
            net.token = True  # ViT: the class token instead of the patch-token map
    if isinstance(weights, Path):
        _load_file(arch, net, weights)
    return Application(
        arch,
        net,
        weights=weights,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )


_DOC = """{title} from torchvision, as a kerasish model.

    Args:
        weights: "imagenet" ({default}), None, a ``{enum}`` member or its name, or the path
            of a local state-dict file.
        include_top: True for the {classes}-class classifier; False for the features.
        pooling: with ``include_top=False``: None for feature maps {maps}, "avg" or "max"
            for {pooled}{extra}.
        classes: the classifier's size; a new head when it is not 1000 (random weights only).
        classifier_activation: None for logits, or an activation name such as "softmax".
        progress: show the download progress bar.

    Returns:
        An :class:`Application` (a ``kerasish.Model``).

    Raises:
        ValueError: for unknown weights, a missing or mismatched weights file, pooling with
            include_top=True, or classes != 1000 with pretrained weights and include_top=True.
        OSError: when pretrained weights are neither cached nor downloadable.

    Example:
        >>> base = {name}(weights=None, include_top=False, pooling="avg")
        >>> base(torch.zeros(1, 3, {size}, {size})).shape
        torch.Size([1, {channels}])
    """


def _documented(arch: Arch, title: str) -> Callable[[Callable], Callable]:
    def decorate(fn: Callable) -> Callable:
        vit = arch.class_token
        fn.__doc__ = _DOC.format(
            title=title,
            name=arch.name,
            enum=arch.weights.__name__,
            default=repr(arch.weights.DEFAULT),
            classes=len(arch.weights.DEFAULT.meta["categories"]),
            maps=f"(N, {arch.channels}, H/16, W/16) (the patch tokens)"
            if vit
            else f"(N, {arch.channels}, H', W')",
            pooled=f"(N, {arch.channels})",
            extra=', "token" for the class token (N, 768); inputs must be 224x224' if vit else "",
            size=224 if vit else max(64, arch.min_size),
            channels=arch.channels,
        )
        return fn

    return decorate


class _Builder(Protocol):
    """The signature shared by every builder."""

    def __call__(
        self,
        *,
        weights: WeightsLike = "imagenet",
        include_top: bool = True,
        pooling: str | None = None,
        classes: int = 1000,
        classifier_activation: str | None = None,
        progress: bool = True,
    ) -> Application: ...


def _builder(arch: Arch, title: str) -> _Builder:
    @_documented(arch, title)
    def build(
        *,
        weights: WeightsLike = "imagenet",
        include_top: bool = True,
        pooling: str | None = None,
        classes: int = 1000,
        classifier_activation: str | None = None,
        progress: bool = True,
    ) -> Application:
        verified = _verify_weights(arch, weights)
        return _application(
            arch, verified, include_top, pooling, classes, classifier_activation, progress
        )

    build.__name__ = build.__qualname__ = arch.name
    return build


VGG16 = _builder(ARCHITECTURES["VGG16"], "VGG-16 (Simonyan & Zisserman, 2014)")
VGG19 = _builder(ARCHITECTURES["VGG19"], "VGG-19 (Simonyan & Zisserman, 2014)")
AlexNet = _builder(
    ARCHITECTURES["AlexNet"], "AlexNet (Krizhevsky et al., 2012; inputs of at least 63x63)"
)
ResNet18 = _builder(ARCHITECTURES["ResNet18"], "ResNet-18 (He et al., 2015)")
ResNet34 = _builder(ARCHITECTURES["ResNet34"], "ResNet-34 (He et al., 2015)")
ResNet50 = _builder(ARCHITECTURES["ResNet50"], "ResNet-50 (He et al., 2015)")
ResNet101 = _builder(ARCHITECTURES["ResNet101"], "ResNet-101 (He et al., 2015)")
MobileNetV2 = _builder(ARCHITECTURES["MobileNetV2"], "MobileNetV2 (Sandler et al., 2018)")
MobileNetV3Small = _builder(
    ARCHITECTURES["MobileNetV3Small"], "MobileNetV3-Small (Howard et al., 2019)"
)
MobileNetV3Large = _builder(
    ARCHITECTURES["MobileNetV3Large"], "MobileNetV3-Large (Howard et al., 2019)"
)
EfficientNetB0 = _builder(ARCHITECTURES["EfficientNetB0"], "EfficientNet-B0 (Tan & Le, 2019)")
DenseNet121 = _builder(ARCHITECTURES["DenseNet121"], "DenseNet-121 (Huang et al., 2016)")
ConvNeXtTiny = _builder(ARCHITECTURES["ConvNeXtTiny"], "ConvNeXt-Tiny (Liu et al., 2022)")
ViT_B_16 = _builder(
    ARCHITECTURES["ViT_B_16"], "ViT-B/16 (Dosovitskiy et al., 2020; 224x224 inputs)"
)
