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

Example:
    >>> base = VGG16(weights="imagenet", include_top=False, pooling="avg")
    >>> base.trainable = False
    >>> model = Sequential([base, layers.Dense(256, activation="relu"), layers.Dense(5)])
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torchvision
from torch import Tensor, nn
from torchvision.models import WeightsEnum

from kerasish import layers as layers_lib
from kerasish.models.model import Model

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

WeightsLike = str | os.PathLike | WeightsEnum | None
Stage = list[nn.Parameter]


# --------------------------------------------------------------------------- architectures


def _params(*items: nn.Module | nn.Parameter) -> Stage:
    out: Stage = []
    for item in items:
        out += [item] if isinstance(item, nn.Parameter) else list(item.parameters())
    return out


def _features_only(net: nn.Module) -> nn.Module:
    return nn.Sequential(OrderedDict(features=net.features))


def _densenet_features(net: nn.Module) -> nn.Module:
    # torchvision's DenseNet.forward applies a ReLU after ``features``.
    return nn.Sequential(OrderedDict(features=net.features, relu=nn.ReLU()))


_RESNET_BODY = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")


def _resnet_features(net: nn.Module) -> nn.Module:
    return nn.Sequential(OrderedDict((name, getattr(net, name)) for name in _RESNET_BODY))


class _ViTFeatures(nn.Module):
    """A torchvision ViT without its head: patch tokens as a map, or the class token.

    The parameter names (``conv_proj``, ``class_token``, ``encoder``) are torchvision's, so
    torchvision state dicts load into it.
    """

    def __init__(self, vit: nn.Module, token: bool):
        super().__init__()
        self.conv_proj = vit.conv_proj
        self.class_token = vit.class_token
        self.encoder = vit.encoder
        self.image_size = vit.image_size
        self.token = token

    def forward(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        grid = self.conv_proj(x)
        h, w = grid.shape[-2:]
        tokens = torch.cat([self.class_token.expand(n, -1, -1), grid.flatten(2).transpose(1, 2)], 1)
        tokens = self.encoder(tokens)
        if self.token:
            return tokens[:, 0]
        return tokens[:, 1:].transpose(1, 2).reshape(n, -1, h, w)


def _vit_features(net: nn.Module) -> nn.Module:
    return _ViTFeatures(net, token=False)


def _split_at_pools(features: nn.Sequential) -> list[Stage]:
    stages: list[list[nn.Module]] = [[]]
    for module in features:
        stages[-1].append(module)
        if isinstance(module, nn.MaxPool2d):
            stages.append([])
    return [_params(*s) for s in stages if _params(*s)]


def _vgg_stages(net: nn.Module) -> list[Stage]:
    return _split_at_pools(net.features)


def _resnet_stages(net: nn.Module) -> list[Stage]:
    stem = _params(net.conv1, net.bn1)
    return [stem] + [_params(getattr(net, f"layer{i}")) for i in range(1, 5)]


def _children_stages(net: nn.Module) -> list[Stage]:
    return [s for s in (_params(m) for m in net.features.children()) if s]


def _vit_stages(net: nn.Module) -> list[Stage]:
    embed = _params(net.conv_proj, net.class_token, net.encoder.pos_embedding)
    return [embed] + [_params(block) for block in net.encoder.layers] + [_params(net.encoder.ln)]


@dataclass(frozen=True)
class _Arch:
    """What kerasish needs to know about one torchvision architecture."""

    name: str  # the public builder's name, e.g. "VGG16"
    builder: str  # torchvision's builder, e.g. "vgg16"
    weights: type[WeightsEnum]
    features: Callable[[nn.Module], nn.Module]  # full network -> features, torchvision names
    stages: Callable[[nn.Module], list[Stage]]  # network or features -> fine-tuning stages
    channels: int  # feature channels
    min_size: int = 1  # smallest input height/width


_M = torchvision.models
_VGG16 = _Arch("VGG16", "vgg16", _M.VGG16_Weights, _features_only, _vgg_stages, 512, 32)
_VGG19 = _Arch("VGG19", "vgg19", _M.VGG19_Weights, _features_only, _vgg_stages, 512, 32)
_ALEXNET = _Arch("AlexNet", "alexnet", _M.AlexNet_Weights, _features_only, _vgg_stages, 256, 63)
_RESNET18 = _Arch(
    "ResNet18", "resnet18", _M.ResNet18_Weights, _resnet_features, _resnet_stages, 512
)
_RESNET34 = _Arch(
    "ResNet34", "resnet34", _M.ResNet34_Weights, _resnet_features, _resnet_stages, 512
)
_RESNET50 = _Arch(
    "ResNet50", "resnet50", _M.ResNet50_Weights, _resnet_features, _resnet_stages, 2048
)
_RESNET101 = _Arch(
    "ResNet101", "resnet101", _M.ResNet101_Weights, _resnet_features, _resnet_stages, 2048
)
_MOBILENET_V2 = _Arch(
    "MobileNetV2", "mobilenet_v2", _M.MobileNet_V2_Weights, _features_only, _children_stages, 1280
)
_MOBILENET_V3_SMALL = _Arch(
    "MobileNetV3Small",
    "mobilenet_v3_small",
    _M.MobileNet_V3_Small_Weights,
    _features_only,
    _children_stages,
    576,
)
_MOBILENET_V3_LARGE = _Arch(
    "MobileNetV3Large",
    "mobilenet_v3_large",
    _M.MobileNet_V3_Large_Weights,
    _features_only,
    _children_stages,
    960,
)
_EFFICIENTNET_B0 = _Arch(
    "EfficientNetB0",
    "efficientnet_b0",
    _M.EfficientNet_B0_Weights,
    _features_only,
    _children_stages,
    1280,
)
_DENSENET121 = _Arch(
    "DenseNet121",
    "densenet121",
    _M.DenseNet121_Weights,
    _densenet_features,
    _children_stages,
    1024,
    32,
)
_CONVNEXT_TINY = _Arch(
    "ConvNeXtTiny",
    "convnext_tiny",
    _M.ConvNeXt_Tiny_Weights,
    _features_only,
    _children_stages,
    768,
    32,
)
_VIT_B_16 = _Arch("ViT_B_16", "vit_b_16", _M.ViT_B_16_Weights, _vit_features, _vit_stages, 768)


# --------------------------------------------------------------------------- the model


class Application(Model):
    """A torchvision backbone as a kerasish model (what the builders in this module return).

    Attributes:
        net: the torchvision network (``include_top=True``) or its feature extractor, which
            keeps torchvision's parameter names.
        pool: the global pooling layer (``nn.Identity`` when there is none).
        activation: the classifier activation (``nn.Identity`` for logits).
        weights: the torchvision weights enum member, a local file path, or None.
        include_top, pooling, classes: as given to the builder.

    Example:
        >>> base = ResNet18(weights=None, include_top=False, pooling="avg")
        >>> base(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 512])
    """

    def __init__(
        self,
        arch: _Arch,
        net: nn.Module,
        *,
        weights: WeightsEnum | Path | None,
        include_top: bool,
        pooling: str | None,
        classes: int,
        classifier_activation: str | None,
    ):
        super().__init__()
        self.name = arch.builder
        self.net = net
        self.pool = _pooling_layer(pooling)
        self.activation = layers_lib.get_activation(classifier_activation)
        self.arch = arch
        self.weights = weights
        self.include_top = include_top
        self.pooling = pooling
        self.classes = classes

    @property
    def preprocess(self) -> nn.Module:
        """The weights' torchvision transforms (resize, center crop, normalize) for PIL images
        and tensors (uint8, or float in [0, 1]); the ``DEFAULT`` weights' ones when the model
        has random or file weights.

        Example:
            >>> x = model.preprocess(pil_image).unsqueeze(0)
        """
        weights = self.weights if isinstance(self.weights, WeightsEnum) else None
        return (weights or self.arch.weights.DEFAULT).transforms()

    def stages(self) -> list[Stage]:
        """The parameters in stages from input to output, for discriminative learning rates.

        CNN stages follow torchvision's blocks (VGG/AlexNet: the convolutions up to each
        max-pooling; ResNet: the stem, then ``layer1``..``layer4``; the others: each child of
        ``features``); ViT: the patch embedding, each encoder block, the final norm. With
        ``include_top=True`` the classifier is the last stage.

        Example:
            >>> [len(s) for s in VGG16(weights=None, include_top=False).stages()]
            [4, 4, 6, 6, 6]
        """
        stages = self.arch.stages(self.net)
        seen = {id(p) for s in stages for p in s}
        rest = [p for p in self.parameters() if id(p) not in seen]
        return stages + [rest] if rest else stages

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        return self.activation(self.pool(self.net(x)))

    def _check_input(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or x.dim() != 4:
            raise ValueError(
                f"Expected images as a tensor (N, C, H, W) for {self.arch.name}. Received: "
                f"x of shape {tuple(getattr(x, 'shape', ()))}"
            )
        size = getattr(self.net, "image_size", None)  # ViT's fixed size
        if size is not None and tuple(x.shape[-2:]) != (size, size):
            raise ValueError(
                f"Expected images of {size}x{size} pixels for {self.arch.name}. "
                f"Received: x of shape {tuple(x.shape)}"
            )
        if min(x.shape[-2:]) < self.arch.min_size:
            raise ValueError(
                f"Expected images of at least {self.arch.min_size}x{self.arch.min_size} pixels "
                f"for {self.arch.name}. Received: x of shape {tuple(x.shape)}"
            )


def _pooling_layer(pooling: str | None) -> nn.Module:
    # None: feature maps; "token": ViT's features already are the class token
    if pooling == "avg":
        return layers_lib.GlobalAveragePooling2D()
    if pooling == "max":
        return layers_lib.GlobalMaxPooling2D()
    return nn.Identity()


# --------------------------------------------------------------------------- building


def _verify_weights(arch: _Arch, weights: Any) -> WeightsEnum | Path | None:
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
    arch: _Arch,
    weights: WeightsEnum | Path | None,
    include_top: Any,
    pooling: Any,
    classes: Any,
    classifier_activation: Any,
) -> None:
    if not isinstance(include_top, bool):
        raise TypeError(f"Expected include_top to be True or False. Received: {include_top=}")
    allowed = (None, "avg", "max", "token") if arch is _VIT_B_16 else (None, "avg", "max")
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
    arch: _Arch, weights: WeightsEnum | Path | None, classes: int, progress: bool
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


def _load_file(arch: _Arch, net: nn.Module, path: Path) -> None:
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
    arch: _Arch,
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


def _documented(arch: _Arch, title: str) -> Callable[[Callable], Callable]:
    def decorate(fn: Callable) -> Callable:
        vit = arch is _VIT_B_16
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


def _builder(arch: _Arch, title: str) -> _Builder:
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


VGG16 = _builder(_VGG16, "VGG-16 (Simonyan & Zisserman, 2014)")
VGG19 = _builder(_VGG19, "VGG-19 (Simonyan & Zisserman, 2014)")
AlexNet = _builder(_ALEXNET, "AlexNet (Krizhevsky et al., 2012; inputs of at least 63x63)")
ResNet18 = _builder(_RESNET18, "ResNet-18 (He et al., 2015)")
ResNet34 = _builder(_RESNET34, "ResNet-34 (He et al., 2015)")
ResNet50 = _builder(_RESNET50, "ResNet-50 (He et al., 2015)")
ResNet101 = _builder(_RESNET101, "ResNet-101 (He et al., 2015)")
MobileNetV2 = _builder(_MOBILENET_V2, "MobileNetV2 (Sandler et al., 2018)")
MobileNetV3Small = _builder(_MOBILENET_V3_SMALL, "MobileNetV3-Small (Howard et al., 2019)")
MobileNetV3Large = _builder(_MOBILENET_V3_LARGE, "MobileNetV3-Large (Howard et al., 2019)")
EfficientNetB0 = _builder(_EFFICIENTNET_B0, "EfficientNet-B0 (Tan & Le, 2019)")
DenseNet121 = _builder(_DENSENET121, "DenseNet-121 (Huang et al., 2016)")
ConvNeXtTiny = _builder(_CONVNEXT_TINY, "ConvNeXt-Tiny (Liu et al., 2022)")
ViT_B_16 = _builder(_VIT_B_16, "ViT-B/16 (Dosovitskiy et al., 2020; 224x224 inputs)")


# --------------------------------------------------------------------------- pre/post-processing


def _weights_for(weights: Any) -> WeightsEnum:
    if isinstance(weights, Application):
        own = weights.weights
        return own if isinstance(own, WeightsEnum) else weights.arch.weights.DEFAULT
    if isinstance(weights, WeightsEnum):
        return weights
    if weights in (None, "imagenet"):
        return _M.ResNet50_Weights.IMAGENET1K_V1  # ImageNet's standard 256 -> 224 preset
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
        >>> decode_predictions(model.predict(images), top=3)[0]
        [(207, 'golden retriever', 0.91), (208, 'Labrador retriever', 0.05), ...]
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


def _architectures() -> Sequence[_Arch]:
    """Every architecture this module builds (for tests)."""
    return [
        _VGG16,
        _VGG19,
        _ALEXNET,
        _RESNET18,
        _RESNET34,
        _RESNET50,
        _RESNET101,
        _MOBILENET_V2,
        _MOBILENET_V3_SMALL,
        _MOBILENET_V3_LARGE,
        _EFFICIENTNET_B0,
        _DENSENET121,
        _CONVNEXT_TINY,
        _VIT_B_16,
    ]
