"""What kerasish knows about each torchvision architecture: features, stages, sizes.

``Arch`` describes one architecture (its torchvision builder and weights enum, how to cut the
feature extractor out of the network, how to split its parameters in fine-tuning stages);
``ARCHITECTURES`` maps each builder's name to it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torchvision
from torch import Tensor, nn
from torchvision.models import WeightsEnum

__all__ = ["Arch", "ARCHITECTURES", "Stage", "architectures"]

Stage = list[nn.Parameter]


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
class Arch:
    """What kerasish needs to know about one torchvision architecture."""

    name: str  # the public builder's name, e.g. "VGG16"
    builder: str  # torchvision's builder, e.g. "vgg16"
    weights: type[WeightsEnum]
    features: Callable[[nn.Module], nn.Module]  # full network -> features, torchvision names
    stages: Callable[[nn.Module], list[Stage]]  # network or features -> fine-tuning stages
    channels: int  # feature channels
    min_size: int = 1  # smallest input height/width
    class_token: bool = False  # the features can be the class token (pooling="token")


_M = torchvision.models
_VGG16 = Arch("VGG16", "vgg16", _M.VGG16_Weights, _features_only, _vgg_stages, 512, 32)
_VGG19 = Arch("VGG19", "vgg19", _M.VGG19_Weights, _features_only, _vgg_stages, 512, 32)
_ALEXNET = Arch("AlexNet", "alexnet", _M.AlexNet_Weights, _features_only, _vgg_stages, 256, 63)
_RESNET18 = Arch("ResNet18", "resnet18", _M.ResNet18_Weights, _resnet_features, _resnet_stages, 512)
_RESNET34 = Arch("ResNet34", "resnet34", _M.ResNet34_Weights, _resnet_features, _resnet_stages, 512)
_RESNET50 = Arch(
    "ResNet50", "resnet50", _M.ResNet50_Weights, _resnet_features, _resnet_stages, 2048
)
_RESNET101 = Arch(
    "ResNet101", "resnet101", _M.ResNet101_Weights, _resnet_features, _resnet_stages, 2048
)
_MOBILENET_V2 = Arch(
    "MobileNetV2", "mobilenet_v2", _M.MobileNet_V2_Weights, _features_only, _children_stages, 1280
)
_MOBILENET_V3_SMALL = Arch(
    "MobileNetV3Small",
    "mobilenet_v3_small",
    _M.MobileNet_V3_Small_Weights,
    _features_only,
    _children_stages,
    576,
)
_MOBILENET_V3_LARGE = Arch(
    "MobileNetV3Large",
    "mobilenet_v3_large",
    _M.MobileNet_V3_Large_Weights,
    _features_only,
    _children_stages,
    960,
)
_EFFICIENTNET_B0 = Arch(
    "EfficientNetB0",
    "efficientnet_b0",
    _M.EfficientNet_B0_Weights,
    _features_only,
    _children_stages,
    1280,
)
_DENSENET121 = Arch(
    "DenseNet121",
    "densenet121",
    _M.DenseNet121_Weights,
    _densenet_features,
    _children_stages,
    1024,
    32,
)
_CONVNEXT_TINY = Arch(
    "ConvNeXtTiny",
    "convnext_tiny",
    _M.ConvNeXt_Tiny_Weights,
    _features_only,
    _children_stages,
    768,
    32,
)
_VIT_B_16 = Arch(
    "ViT_B_16", "vit_b_16", _M.ViT_B_16_Weights, _vit_features, _vit_stages, 768, 1, True
)

ARCHITECTURES: dict[str, Arch] = {
    arch.name: arch
    for arch in (
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
    )
}


def architectures() -> list[Arch]:
    """Every architecture the builders build, in the builders' order.

    Example:
        >>> [a.name for a in architectures()][:3]
        ['VGG16', 'VGG19', 'AlexNet']
    """
    return list(ARCHITECTURES.values())
