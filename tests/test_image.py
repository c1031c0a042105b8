"""image_dataset_from_directory: Keras's arguments and pixel values, batches fit() accepts;
ImageFolder too."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image

import kerasish as K
from kerasish import config
from kerasish.image import image_dataset_from_directory, load_image

CLASSES = ["cats", "dogs", "eels"]


@pytest.fixture
def folder(tmp_path):
    """3 classes x 6 images of 12x10 pixels; each class has its own colour."""
    root = tmp_path / "images"
    for c, name in enumerate(CLASSES):
        (root / name / "sub").mkdir(parents=True)
        for i in range(6):
            colour = [40 * c + 20, 255 - 60 * c, 10 * i]
            array = np.full((10, 12, 3), colour, dtype=np.uint8)
            where = root / name / ("sub" if i % 2 else "") / f"{i}.{'png' if i % 3 else 'jpg'}"
            Image.fromarray(array).save(where)
    (root / "cats" / "notes.txt").write_text("not an image")
    return root


def all_batches(loader):
    xs, ys = zip(*list(loader))
    return torch.cat(xs), torch.cat(ys)


def test_batches_shapes_range_and_class_names(folder, capsys):
    loader = image_dataset_from_directory(folder, image_size=(16, 8), batch_size=4, seed=1)
    assert "Found 18 files belonging to 3 classes." in capsys.readouterr().out
    assert loader.class_names == CLASSES and len(loader.file_paths) == 18
    x, y = next(iter(loader))
    assert x.shape == (4, 3, 16, 8) and x.dtype == torch.float32
    assert y.dtype == torch.int64
    x, y = all_batches(loader)
    assert 0 <= x.min() and x.max() <= 255 and x.max() > 1  # Keras's range: [0, 255]
    for label in range(3):  # each class's colour came back with its label (solid colours
        red = x[y == label][:, 0]  # survive jpeg), unscaled as Keras gives it
        assert torch.allclose(red, torch.full_like(red, 40.0 * label + 20), atol=5)
    assert sorted(y.tolist()) == [0] * 6 + [1] * 6 + [2] * 6


def test_label_modes_color_modes_and_class_order(folder):
    kw = dict(image_size=(8, 8), shuffle=False, verbose=False)
    x, y = all_batches(image_dataset_from_directory(folder, label_mode="categorical", **kw))
    assert y.shape == (18, 3) and y.dtype == torch.float32 and torch.equal(y.sum(1), torch.ones(18))
    gray = image_dataset_from_directory(folder, color_mode="grayscale", **kw)
    assert next(iter(gray))[0].shape == (18, 1, 8, 8)
    rgba = image_dataset_from_directory(folder, color_mode="rgba", batch_size=None, **kw)
    image, label = next(iter(rgba))
    assert image.shape == (4, 8, 8) and label.dim() == 0
    order = ["eels", "cats", "dogs"]
    loader = image_dataset_from_directory(folder, class_names=order, **kw)
    assert loader.class_names == order
    _, y = all_batches(loader)
    assert y[:6].tolist() == [0] * 6  # eels first
    images_only = image_dataset_from_directory(folder, labels=None, **kw)
    assert next(iter(images_only)).shape == (18, 3, 8, 8)
    explicit = image_dataset_from_directory(folder, labels=[0, 1] * 9, label_mode="binary", **kw)
    _, y = all_batches(explicit)
    assert y.shape == (18, 1) and y.dtype == torch.float32


def test_validation_split_is_disjoint_and_reproducible(folder):
    kw = dict(image_size=(8, 8), validation_split=0.25, seed=7, verbose=False)
    train, val = image_dataset_from_directory(folder, subset="both", **kw)
    assert len(train.file_paths) == 14 and len(val.file_paths) == 4
    assert not set(train.file_paths) & set(val.file_paths)
    again = image_dataset_from_directory(folder, subset="validation", **kw)
    assert again.file_paths == val.file_paths
    assert (
        image_dataset_from_directory(folder, subset="training", **kw).file_paths == train.file_paths
    )
    epoch1, epoch2 = all_batches(train)[1], all_batches(train)[1]
    assert sorted(epoch1.tolist()) == sorted(epoch2.tolist())


def test_argument_errors(folder, tmp_path):
    with pytest.raises(ValueError, match="seed"):
        image_dataset_from_directory(folder, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="together"):
        image_dataset_from_directory(folder, validation_split=0.2, seed=1)
    with pytest.raises(ValueError, match="Received: subset='test'"):
        image_dataset_from_directory(folder, validation_split=0.2, subset="test", seed=1)
    with pytest.raises(ValueError, match="2 classes"):
        image_dataset_from_directory(folder, label_mode="binary")
    with pytest.raises(ValueError, match="sub-directories"):
        image_dataset_from_directory(folder, class_names=["cats", "dogs"])
    with pytest.raises(ValueError, match="as many labels"):
        image_dataset_from_directory(folder, labels=[0, 1])
    with pytest.raises(ValueError, match="Received: interpolation='gaussian'"):
        image_dataset_from_directory(folder, interpolation="gaussian")
    with pytest.raises(ValueError, match="Received: directory="):
        image_dataset_from_directory(tmp_path / "missing")
    (tmp_path / "empty" / "a").mkdir(parents=True)
    with pytest.raises(ValueError, match="image files"):
        image_dataset_from_directory(tmp_path / "empty")


def test_fit_accepts_the_loader_and_image_folder(folder):
    train, val = image_dataset_from_directory(
        folder, image_size=(8, 8), batch_size=6, validation_split=0.25, subset="both", seed=3
    )
    model = K.Sequential([K.layers.Rescaling(1 / 255), K.layers.Flatten(), K.layers.Dense(3)])
    model.compile(
        optimizer=K.optimizers.Adam(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(train, validation_data=val, epochs=15, verbose=0)
    assert history.history["accuracy"][-1] == 1.0  # three solid colours
    # torchvision's ToTensor scales to [0, 1]: keep Keras's [0, 255] the model learned on
    transform = torchvision.transforms.Compose(
        [
            torchvision.transforms.Resize((8, 8)),
            torchvision.transforms.PILToTensor(),
            torchvision.transforms.ConvertImageDtype(torch.float32),
            torchvision.transforms.Lambda(lambda t: t * 255),
        ]
    )
    folder_ds = torchvision.datasets.ImageFolder(folder, transform=transform)
    assert folder_ds.classes == train.class_names
    logs = model.evaluate(folder_ds, batch_size=6, verbose=0, return_dict=True)
    assert logs["accuracy"] == 1.0
    model.fit(folder_ds, batch_size=6, epochs=1, verbose=0)


def test_load_image_crop_to_aspect_ratio(tmp_path):
    array = np.zeros((10, 30, 3), dtype=np.uint8)
    array[:, 10:20] = 255  # a white middle third
    Image.fromarray(array).save(tmp_path / "wide.png")
    cropped = load_image(tmp_path / "wide.png", image_size=(4, 4), crop_to_aspect_ratio=True)
    squashed = load_image(tmp_path / "wide.png", image_size=(4, 4))
    assert cropped.shape == squashed.shape == (3, 4, 4)
    assert cropped.mean() > 0.5 * 255 > squashed.mean()


@pytest.fixture
def photo(tmp_path):
    """A 6x8 (height x width) random RGB file and its pixels."""
    array = np.random.default_rng(0).integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    Image.fromarray(array).save(tmp_path / "photo.png")
    return tmp_path / "photo.png", array


def test_load_image_values_are_kerass(photo):
    # Keras 3.15's loader (image_dataset_utils._load_image_grain, run on this file) gives the
    # file's pixels as float32 in [0, 255]: (6, 8, 3) channels_last, (3, 6, 8) channels_first;
    # crop_to_aspect_ratio to (6, 6) keeps columns 1..6; pad_to_aspect_ratio to (8, 8) adds a
    # row of zeros above and below. kerasish equals it exactly where no resize is needed.
    path, array = photo
    pixels = array.astype(np.float32)
    last = load_image(path, image_size=(6, 8), data_format="channels_last")
    assert last.dtype == torch.float32 and np.array_equal(last.numpy(), pixels)
    first = load_image(path, image_size=(6, 8), data_format="channels_first")
    assert np.array_equal(first.numpy(), pixels.transpose(2, 0, 1))
    crop = load_image(
        path, image_size=(6, 6), crop_to_aspect_ratio=True, data_format="channels_last"
    )
    assert np.array_equal(crop.numpy(), pixels[:, 1:7])
    pad = load_image(path, image_size=(8, 8), pad_to_aspect_ratio=True, data_format="channels_last")
    zeros = np.zeros((1, 8, 3), np.float32)
    assert np.array_equal(pad.numpy(), np.concatenate([zeros, pixels, zeros]))
    gray = load_image(path, color_mode="grayscale", data_format="channels_last")
    assert gray.shape == (6, 8, 1) and gray.max() > 1


def test_data_format_follows_the_argument_and_the_config(folder):
    kw = dict(image_size=(8, 6), shuffle=False, verbose=False)
    last = image_dataset_from_directory(folder, data_format="channels_last", **kw)
    x_last, _ = next(iter(last))
    first = image_dataset_from_directory(folder, data_format="channels_first", **kw)
    x_first, _ = next(iter(first))
    assert x_last.shape == (18, 8, 6, 3) and x_first.shape == (18, 3, 8, 6)
    assert torch.equal(x_last, x_first.permute(0, 2, 3, 1))
    config.set_image_data_format("channels_last")
    try:
        x_default, _ = next(iter(image_dataset_from_directory(folder, **kw)))
    finally:
        config.reload()
    assert torch.equal(x_default, x_last)
    with pytest.raises(ValueError, match="Received: data_format='nchw'"):
        image_dataset_from_directory(folder, data_format="nchw")
    with pytest.raises(ValueError, match="only one of them"):
        image_dataset_from_directory(folder, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def test_rescaling_in_the_model_sees_zero_to_one(folder):
    # a Keras tutorial's model: Rescaling(1/255) first, so [0, 255] batches become [0, 1]
    loader = image_dataset_from_directory(folder, image_size=(8, 8), verbose=False, seed=0)
    x, _ = next(iter(loader))
    scaled = K.layers.Rescaling(1 / 255)(x)
    assert 0 <= scaled.min() and scaled.max() <= 1 and scaled.max() > 0.5
