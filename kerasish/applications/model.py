"""Application: a torchvision backbone (or its features) as a kerasish Model."""

from __future__ import annotations

from pathlib import Path

from torch import Tensor, nn
from torchvision.models import WeightsEnum

from kerasish import config
from kerasish import layers as layers_lib
from kerasish.applications.architectures import Arch, Stage
from kerasish.layers.layout import check_layout
from kerasish.models.model import Model

__all__ = ["Application"]


class Application(Model):
    """A torchvision backbone as a kerasish model (what the builders in this module return).

    Attributes:
        net: the torchvision network (``include_top=True``) or its feature extractor, which
            keeps torchvision's parameter names.
        pool: the global pooling layer (``nn.Identity`` when there is none).
        activation: the classifier activation (``nn.Identity`` for logits).
        weights: the torchvision weights enum member, a local file path, or None.
        include_top, pooling, classes: as given to the builder.
        data_format: :func:`kerasish.config.image_data_format` when the model was built;
            with ``"channels_last"`` it takes ``(N, H, W, C)`` images (viewed as NCHW in
            torch's channels_last memory format, no copy) and returns feature maps
            ``(N, H', W', C)``.

    Example:
        >>> base = ResNet18(weights=None, include_top=False, pooling="avg")
        >>> base(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 512])
    """

    def __init__(
        self,
        arch: Arch,
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
        self.pretrained_weights = weights  # `weights` is Keras's list of weight variables
        self.include_top = include_top
        self.pooling = pooling
        self.classes = classes
        self.data_format = config.image_data_format()

    @property
    def preprocess(self) -> nn.Module:
        """The weights' torchvision transforms (resize, center crop, normalize) for PIL images
        and tensors (uint8, or float in [0, 1]); the ``DEFAULT`` weights' ones when the model
        has random or file weights.

        Example:
            >>> from PIL import Image
            >>> base = ResNet18(weights=None)
            >>> base.preprocess(Image.new("RGB", (320, 240))).unsqueeze(0).shape
            torch.Size([1, 3, 224, 224])
        """
        given = self.pretrained_weights
        weights = given if isinstance(given, WeightsEnum) else None
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
        last = self.data_format == "channels_last"
        self._check_input(x, last)
        y = self.activation(self.pool(self.net(x.movedim(-1, 1) if last else x)))
        return y.movedim(1, -1) if last and y.dim() == 4 else y

    def _check_input(self, x: Tensor, channels_last: bool) -> None:
        if not isinstance(x, Tensor) or x.dim() != 4:
            layout = "(N, H, W, C)" if channels_last else "(N, C, H, W)"
            raise ValueError(
                f"Expected images as a tensor {layout} for {self.arch.name}. Received: "
                f"x of shape {tuple(getattr(x, 'shape', ()))}"
            )
        if channels_last:
            x = x.movedim(-1, 1)
        else:
            check_layout(self.arch.name, x, 2)
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
        return layers_lib.GlobalAveragePooling2D(data_format="channels_first")
    if pooling == "max":
        return layers_lib.GlobalMaxPooling2D(data_format="channels_first")
    return nn.Identity()
