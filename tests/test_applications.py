"""kerasish.applications: torchvision backbones with Keras's arguments, offline.

Pretrained weights are tested without a network: a state dict of the right shapes (random
values) is saved in a temporary TORCH_HOME under the file name torchvision's weights URL ends
with, and weights="imagenet" loads it through torchvision's own path (builder ->
WeightsEnum.get_state_dict(check_hash=True) -> torch.hub.load_state_dict_from_url, which
checks the hash only when it downloads, and loads a cached file as it is).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

import kerasish as K
from kerasish import applications as A
from kerasish.summary import summarize

M = torchvision.models
ARCHS = A.ARCHITECTURES


def size_for(name: str) -> int:
    return {"ViT_B_16": 224, "AlexNet": 64}.get(name, 32)


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    """An empty TORCH_HOME; returns its checkpoints folder."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def place_weights(folder: Path, weights: torchvision.models.WeightsEnum) -> dict:
    """Save a random state dict of the right shapes where torchvision looks for ``weights``."""
    builder = M.get_model_builder(weights.url.rsplit("/", 1)[1].split("-")[0])
    state = builder(weights=None).state_dict()
    torch.save(state, folder / Path(weights.url).name)
    return state


def assert_loaded(net: nn.Module, state: dict) -> None:
    own = net.state_dict()
    assert own, "no tensors"
    for key, value in own.items():
        assert torch.equal(value, state[key]), key


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("name", list(ARCHS))
def test_features_shapes_for_every_architecture(name):
    arch, size = ARCHS[name], size_for(name)
    x = torch.rand(1, 3, size, size)
    maps = getattr(A, name)(weights=None, include_top=False).eval()
    # the builder's pooling argument only picks the layer (see test_max_pooling_and_new_head);
    # sharing the network halves the cost of building every architecture
    pooled = A.Application(
        arch,
        maps.net,
        weights=None,
        include_top=False,
        pooling="avg",
        classes=1000,
        classifier_activation=None,
    ).eval()
    with torch.no_grad():
        out, vec = maps(x), pooled(x)
    assert torch.allclose(vec, out.mean(dim=(2, 3)), atol=1e-6)
    stride = 16 if name == "ViT_B_16" else 32
    side = {"AlexNet": 1}.get(name, size // stride)
    assert out.shape == (1, arch.channels, side, side)
    assert vec.shape == (1, arch.channels)
    assert isinstance(maps, K.Model)
    assert sum(len(s) for s in maps.stages()) == len(list(maps.parameters()))


@pytest.mark.parametrize("name", ["ResNet18", "MobileNetV3Small", "AlexNet"])
def test_max_pooling_and_new_head(name):
    x = torch.rand(2, 3, size_for(name), size_for(name))
    base = getattr(A, name)(weights=None, include_top=False, pooling="max").eval()
    maps = getattr(A, name)(weights=None, include_top=False).eval()
    maps.load_state_dict(base.state_dict())
    with torch.no_grad():
        assert torch.allclose(base(x), maps(x).amax(dim=(2, 3)))
        full = getattr(A, name)(weights=None, classes=7).eval()
        assert full(x).shape == (2, 7)


def test_features_match_torchvision_forward():
    x = torch.rand(2, 3, 32, 32)
    for name, tv in (("ResNet18", M.resnet18), ("DenseNet121", M.densenet121)):
        net = tv(weights=None).eval()
        base = getattr(A, name)(weights=None, include_top=False, pooling="avg").eval()
        missing = base.net.load_state_dict(net.state_dict(), strict=False).missing_keys
        assert not missing
        head = net.fc if name == "ResNet18" else net.classifier
        with torch.no_grad():
            assert torch.allclose(head(base(x)), net(x), atol=1e-5)


def test_vit_features():
    x = torch.rand(1, 3, 224, 224)
    vit = M.vit_b_16(weights=None).eval()
    token = A.ViT_B_16(weights=None, include_top=False, pooling="token").eval()
    token.net.load_state_dict(vit.state_dict(), strict=False)
    vit.heads = nn.Identity()
    with torch.no_grad():
        assert torch.allclose(token(x), vit(x), atol=1e-5)
    with pytest.raises(ValueError, match="224x224"):
        token(torch.rand(1, 3, 64, 64))


def test_classifier_activation_and_default_head():
    model = A.MobileNetV3Small(weights=None, classifier_activation="softmax").eval()
    with torch.no_grad():
        probs = model(torch.rand(2, 3, 32, 32))
    assert probs.shape == (2, 1000)
    assert torch.allclose(probs.sum(1), torch.ones(2))


# --------------------------------------------------------------------------- weights


def test_imagenet_weights_load_from_the_torch_home_cache(torch_home):
    for weights, builder in (
        (M.ResNet18_Weights.DEFAULT, A.ResNet18),
        (M.MobileNet_V3_Small_Weights.DEFAULT, A.MobileNetV3Small),
    ):
        state = place_weights(torch_home, weights)
        full = builder(weights="imagenet", progress=False)
        assert full.pretrained_weights is weights
        assert_loaded(full.net, state)
        base = builder(weights="imagenet", include_top=False, pooling="avg", progress=False)
        assert_loaded(base.net, state)


def test_vgg16_imagenet_features_from_cache(torch_home):
    # the issue's call; VGG16's file is 528 MB, so this is the one big-weights test
    state = place_weights(torch_home, M.VGG16_Weights.DEFAULT)
    base = A.VGG16(weights="imagenet", include_top=False, pooling="avg", progress=False)
    assert_loaded(base.net, state)
    assert not any(k.startswith("classifier") for k in base.net.state_dict())


@pytest.mark.parametrize(
    "weights",
    [M.ResNet18_Weights.IMAGENET1K_V1, "IMAGENET1K_V1", "ResNet18_Weights.IMAGENET1K_V1"],
)
def test_weights_enum_or_name(torch_home, weights):
    state = place_weights(torch_home, M.ResNet18_Weights.IMAGENET1K_V1)
    model = A.ResNet18(weights=weights, progress=False)
    assert model.pretrained_weights is M.ResNet18_Weights.IMAGENET1K_V1
    assert_loaded(model.net, state)


def test_local_state_dict_file(tmp_path):
    net = M.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(net.state_dict(), path)
    full = A.ResNet18(weights=str(path))
    assert_loaded(full.net, net.state_dict())
    base = A.ResNet18(weights=path, include_top=False, pooling="avg")
    assert_loaded(base.net, net.state_dict())
    # an Application's own state dict (keys prefixed "net.") loads too
    torch.save(base.state_dict(), tmp_path / "base.pth")
    again = A.ResNet18(weights=tmp_path / "base.pth", include_top=False)
    assert_loaded(again.net, net.state_dict())
    torch.save(M.mobilenet_v3_small(weights=None).state_dict(), tmp_path / "other.pth")
    with pytest.raises(ValueError, match="state dict of torchvision's resnet18"):
        A.ResNet18(weights=tmp_path / "other.pth")


def test_offline_download_failure_says_what_to_do(torch_home, monkeypatch):
    from urllib.error import URLError

    def no_network(url, dst, *args, **kwargs):
        raise URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    with pytest.raises(OSError, match="weights=None") as info:
        A.ResNet18(weights="imagenet", progress=False)
    assert "resnet18-f37072fd.pth" in str(info.value)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"Expected classes=1000 .* Received: classes=5"):
        A.VGG16(weights="imagenet", include_top=True, classes=5)
    with pytest.raises(ValueError, match="IMAGENET1K_V1.*Received: weights='imagenet21k'"):
        A.ResNet18(weights="imagenet21k")
    with pytest.raises(ValueError, match="Received: weights=ResNet18_Weights"):
        A.ResNet50(weights=M.ResNet18_Weights.DEFAULT)
    with pytest.raises(ValueError, match="Received: pooling='mean'"):
        A.ResNet18(weights=None, include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="Received: pooling='token'"):
        A.ResNet18(weights=None, include_top=False, pooling="token")
    with pytest.raises(ValueError, match="pooling=None with include_top=True"):
        A.ResNet18(weights=None, pooling="avg")
    with pytest.raises(ValueError, match="classifier_activation=None with include_top=False"):
        A.ResNet18(weights=None, include_top=False, classifier_activation="softmax")
    with pytest.raises(TypeError):
        A.ResNet18("imagenet")  # keyword-only
    with pytest.raises(ValueError, match="at least 63x63"):
        A.AlexNet(weights=None, include_top=False)(torch.rand(1, 3, 32, 32))


# --------------------------------------------------------------------------- pre/post-processing


def test_preprocess_bound_to_the_weights():
    model = A.EfficientNetB0(weights=None, include_top=False)
    transform = model.preprocess
    assert transform.crop_size == [224] and "BICUBIC" in str(transform.interpolation)
    image = Image.new("RGB", (320, 240), color=(124, 116, 104))  # ~ the ImageNet mean
    x = transform(image)
    assert x.shape == (3, 224, 224) and x.abs().max() < 0.03
    batch = A.preprocess_input(torch.rand(2, 3, 300, 260) * 255, "channels_first")
    assert batch.shape == (2, 3, 224, 224)
    pil = A.preprocess_input([image, image], "channels_first", weights=model)
    assert pil.shape == (2, 3, 224, 224)
    one = torch.zeros(3, 64, 64, dtype=torch.uint8)
    assert A.preprocess_input(one, "channels_first").shape == (3, 224, 224)


# Keras 3.15's "torch" mode (keras.applications.densenet.preprocess_input, the normalization
# torchvision's weights need): x / 255, then ImageNet's mean and std, per channel.
KERAS_WHITE = [2.2489083, 2.42857143, 2.64]  # preprocess_input(np.full((1, 1, 3), 255.0))
KERAS_BLACK = [-2.11790393, -2.03571429, -1.80444444]  # preprocess_input(np.zeros((1, 1, 3)))


def test_preprocess_input_takes_kerass_0_255_in_either_layout():
    white = A.preprocess_input(torch.full((1, 3, 256, 256), 255.0), "channels_first")
    black = A.preprocess_input(torch.zeros(1, 256, 256, 3), "channels_last")
    assert white.shape == (1, 3, 224, 224) and black.shape == (1, 224, 224, 3)
    torch.testing.assert_close(white[0, :, 0, 0], torch.tensor(KERAS_WHITE))
    torch.testing.assert_close(black[0, 0, 0], torch.tensor(KERAS_BLACK))
    # at 256x256 ImageNet's resize is the identity: Keras's numbers on the central 224x224
    # (measured against Keras: max |difference| 0.0 for float32 and uint8 input)
    x = torch.randint(0, 256, (2, 256, 256, 3))
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    keras_torch_mode = ((x / 255.0 - mean) / std)[:, 16:240, 16:240]
    for dtype in (torch.float32, torch.uint8, torch.int64):
        out = A.preprocess_input(x.to(dtype), "channels_last")
        torch.testing.assert_close(out, keras_torch_mode)
    first = A.preprocess_input(x.permute(0, 3, 1, 2).float().numpy(), "channels_first")
    torch.testing.assert_close(first, keras_torch_mode.permute(0, 3, 1, 2))
    single = A.preprocess_input(x[0].float().numpy(), "channels_last")
    torch.testing.assert_close(single, keras_torch_mode[0])


def test_preprocess_input_layout_follows_the_config():
    K.config.set_image_data_format("channels_last")
    try:
        out = A.preprocess_input(torch.full((2, 300, 260, 3), 255.0))
        base = A.MobileNetV3Small(weights=None, include_top=False, pooling="avg")
        assert base(out).shape == (2, 576)  # a channels-last backbone takes it as it is
    finally:
        K.config.reload()
    assert out.shape == (2, 224, 224, 3)
    torch.testing.assert_close(out[0, 0, 0], torch.tensor(KERAS_WHITE))
    with pytest.raises(ValueError, match="Received: x of shape"):
        A.preprocess_input(torch.zeros(224, 224), "channels_first")
    with pytest.raises(ValueError, match="Received: data_format='nhwc'"):
        A.preprocess_input(torch.zeros(3, 8, 8), "nhwc")


def test_decode_predictions():
    preds = torch.zeros(2, 1000)
    preds[0, 207], preds[0, 208], preds[1, 1] = 0.9, 0.1, 1.0
    decoded = A.decode_predictions(preds.numpy(), top=2)
    assert decoded[0] == [
        (207, "golden retriever", pytest.approx(0.9)),
        (208, "Labrador retriever", pytest.approx(0.1)),
    ]
    assert decoded[1][0][:2] == (1, "goldfish")
    assert len(A.decode_predictions(preds)[0]) == 5
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        A.decode_predictions(torch.zeros(2, 10))
    with pytest.raises(ValueError, match="top"):
        A.decode_predictions(preds, top=0)


def test_application_inside_sequential_summary():
    base = A.MobileNetV3Small(weights=None, include_top=False, pooling="avg")
    base.trainable = False
    model = K.Sequential([base, K.layers.Dense(5)])
    model.build((None, 3, 32, 32))
    text = summarize(model)
    frozen = sum(p.numel() for p in base.parameters())
    # as Keras counts: BatchNorm's moving means and variances are non-trainable weights too
    frozen += sum(b.numel() for b in base.buffers() if b.is_floating_point())
    assert f"Non-trainable params: {frozen:,}" in text
    assert "Trainable params: 2,885" in text  # 576 * 5 + 5


def test_architectures_and_public_names():
    assert [a.name for a in A.architectures()] == list(A.ARCHITECTURES)
    assert set(A.ARCHITECTURES) == {n for n in A.__all__ if n[0].isupper()} - {"Application"}
    assert [a.name for a in A.architectures() if a.class_token] == ["ViT_B_16"]
    for obj in (A.Application, A.VGG16, A.preprocess_input, A.decode_predictions):
        assert obj.__module__ == "kerasish.applications", obj
