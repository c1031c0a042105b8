"""Image folders as batches: ``image_dataset_from_directory``, Keras's arguments over a DataLoader.

Images come out as Keras's: float32 pixel values in [0, 255] (so a model that starts with
``K.layers.Rescaling(1 / 255)`` sees [0, 1]), laid out by ``data_format`` (default
:func:`kerasish.config.image_data_format`, channels-first unless configured). Labels follow
``label_mode``: int64 class indices, float32 one-hot rows, or float32 (N, 1) for binary.

Example:
    >>> from pathlib import Path
    >>> from PIL import Image
    >>> for i, name in enumerate(["daisy", "roses", "tulips"] * 4):  # a folder per class
    ...     (Path("flowers") / name).mkdir(parents=True, exist_ok=True)
    ...     Image.new("RGB", (80, 60), (20 * i, 0, 0)).save(f"flowers/{name}/{i}.png")
    >>> train, val = image_dataset_from_directory(
    ...     "flowers", image_size=(64, 64), validation_split=0.25, subset="both", seed=1337)
    Found 12 files belonging to 3 classes.
    Using 9 files for training.
    Using 3 files for validation.
    >>> train.class_names
    ['daisy', 'roses', 'tulips']
    >>> model = K.Sequential([K.layers.Flatten(), K.layers.Dense(3)])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    >>> history = model.fit(train, validation_data=val, epochs=2, verbose=0)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from kerasish.layers.layout import resolve_data_format
from kerasish.layers.preprocessing import crop_box

__all__ = ["ImageDirectoryLoader", "image_dataset_from_directory", "load_image"]

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3")
_LABEL_MODES = ("int", "categorical", "binary", None)
_SUBSETS = (None, "training", "validation", "both")


class ImageDirectoryLoader(DataLoader):
    """A ``DataLoader`` of ``(images, labels)`` batches (images alone with no labels) that
    also carries ``class_names`` and ``file_paths``, as Keras's dataset does.

    Example:
        >>> from pathlib import Path
        >>> from PIL import Image
        >>> for i, name in enumerate(["daisy", "roses", "tulips"] * 4):  # a folder per class
        ...     (Path("flowers") / name).mkdir(parents=True, exist_ok=True)
        ...     Image.new("RGB", (80, 60), (20 * i, 0, 0)).save(f"flowers/{name}/{i}.png")
        >>> loader = image_dataset_from_directory("flowers", image_size=(64, 64), verbose=False)
        >>> loader.class_names, len(loader.file_paths)
        (['daisy', 'roses', 'tulips'], 12)
        >>> images, labels = next(iter(loader))
        >>> images.shape, labels.dtype
        (torch.Size([12, 3, 64, 64]), torch.int64)
    """

    class_names: list[str] | None
    file_paths: list[str]


class _ImageFiles(Dataset):
    """Image files decoded and resized on access (``load_image`` with the given options)."""

    def __init__(self, paths: list[str], labels: torch.Tensor | None, options: dict[str, Any]):
        self.paths, self.labels, self.options = paths, labels, options

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> Any:
        image = load_image(self.paths[i], **self.options)
        return image if self.labels is None else (image, self.labels[i])


def load_image(
    path: str | os.PathLike,
    *,
    color_mode: str = "rgb",
    image_size: tuple[int, int] | None = None,
    interpolation: str = "bilinear",
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
) -> torch.Tensor:
    """Read one image file as a float32 tensor of pixel values in [0, 255], as Keras's loader.

    Args:
        path: the file.
        color_mode: "grayscale", "rgb" or "rgba" (1, 3 or 4 channels).
        image_size: (height, width) to resize to; None keeps the file's size.
        interpolation: "bilinear", "nearest", "bicubic", "area" or "lanczos3".
        crop_to_aspect_ratio: center-crop to the target aspect ratio before resizing (Keras's
            crop box).
        pad_to_aspect_ratio: pad with zeros to the target aspect ratio (centered) before
            resizing.
        data_format: "channels_first" gives (C, H, W), "channels_last" (H, W, C); None:
            :func:`kerasish.config.image_data_format`.

    Example:
        >>> from PIL import Image
        >>> Image.new("RGB", (80, 60), (255, 0, 0)).save("cat.png")
        >>> image = load_image("cat.png", image_size=(64, 64), data_format="channels_first")
        >>> image.shape, image.dtype, image.max().item()
        (torch.Size([3, 64, 64]), torch.float32, 255.0)
    """
    from PIL import Image

    fmt = resolve_data_format(data_format)
    with Image.open(path) as img:
        img = img.convert(_MODES[color_mode])
        if image_size is not None:
            if crop_to_aspect_ratio:
                img = img.crop(_crop_box(img.size, image_size))
            elif pad_to_aspect_ratio:
                img = _pad(img, image_size)
            img = img.resize((image_size[1], image_size[0]), _resample(interpolation))
        array = np.asarray(img, dtype=np.float32)
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.transpose(2, 0, 1).copy() if fmt == "channels_first" else array)


def _crop_box(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """Keras's centered crop box to the target aspect ratio, as PIL's (left, top, right, bottom)."""
    top, left, height, width = crop_box(size[1], size[0], *target)
    return left, top, left + width, top + height


def _pad(img: Any, target: tuple[int, int]) -> Any:
    """The image centered on zeros to the target aspect ratio, with Keras's offsets."""
    from PIL import Image

    width, height = img.size
    top = (max(height, int(width * target[0] / target[1])) - height) // 2
    left = (max(width, int(height * target[1] / target[0])) - width) // 2
    if not top and not left:
        return img
    padded = Image.new(img.mode, (width + 2 * left, height + 2 * top))
    padded.paste(img, (left, top))
    return padded


def _resample(interpolation: str) -> Any:
    from PIL import Image

    return {
        "bilinear": Image.Resampling.BILINEAR,
        "nearest": Image.Resampling.NEAREST,
        "bicubic": Image.Resampling.BICUBIC,
        "area": Image.Resampling.BOX,
        "lanczos3": Image.Resampling.LANCZOS,
    }[interpolation]


def image_dataset_from_directory(
    directory: str | os.PathLike,
    *,
    labels: str | Sequence[int] | None = "inferred",
    label_mode: str | None = "int",
    class_names: Sequence[str] | None = None,
    color_mode: str = "rgb",
    batch_size: int | None = 32,
    image_size: tuple[int, int] = (256, 256),
    shuffle: bool = True,
    seed: int | None = None,
    validation_split: float | None = None,
    subset: str | None = None,
    interpolation: str = "bilinear",
    follow_links: bool = False,
    crop_to_aspect_ratio: bool = False,
    pad_to_aspect_ratio: bool = False,
    data_format: str | None = None,
    num_workers: int = 0,
    verbose: bool = True,
) -> ImageDirectoryLoader | tuple[ImageDirectoryLoader, ImageDirectoryLoader]:
    """Batches of images from a directory with one sub-directory per class, as in Keras.

    Files (.bmp, .gif, .jpeg, .jpg, .png) are found recursively and sorted; with ``shuffle``
    their order is shuffled once with ``seed`` before the validation split (the last
    ``validation_split`` fraction), and each epoch reshuffles the batches.

    Args:
        directory: the root folder.
        labels: "inferred" (from the sub-directory names), a list of integer labels for the
            files in sorted path order, or None (images only).
        label_mode: "int", "categorical" (one-hot), "binary" (two classes) or None.
        class_names: with labels="inferred", the sub-directory names in the order of their
            class indices (default: sorted).
        color_mode: "grayscale", "rgb" or "rgba".
        batch_size: images per batch; None yields single images.
        image_size: (height, width) every image is resized to.
        shuffle: shuffle the files (and each epoch's batches).
        seed: the shuffling seed; required with validation_split and shuffle, so both
            subsets see the same split.
        validation_split: the fraction of files for validation, with ``subset``.
        subset: "training", "validation" or "both" (returns both loaders).
        interpolation: "bilinear", "nearest", "bicubic", "area" or "lanczos3".
        follow_links: follow symbolic links to sub-directories.
        crop_to_aspect_ratio: center-crop to the target aspect ratio before resizing.
        pad_to_aspect_ratio: pad with zeros to the target aspect ratio before resizing (not
            with ``crop_to_aspect_ratio``).
        data_format: "channels_first" (N, C, H, W) or "channels_last" (N, H, W, C); None:
            :func:`kerasish.config.image_data_format` (channels-first unless configured).
        num_workers: DataLoader worker processes that decode images.
        verbose: print how many files and classes were found.

    Returns:
        An :class:`ImageDirectoryLoader` (a DataLoader with ``class_names`` and
        ``file_paths``), or ``(train, validation)`` for subset="both". Images are float32
        pixel values in [0, 255], as Keras's, in ``data_format``'s layout.

    Raises:
        ValueError: for inconsistent arguments or a folder without images.

    Example:
        >>> from pathlib import Path
        >>> from PIL import Image
        >>> for i, name in enumerate(["daisy", "roses", "tulips"] * 4):  # a folder per class
        ...     (Path("flowers") / name).mkdir(parents=True, exist_ok=True)
        ...     Image.new("RGB", (80, 60), (20 * i, 0, 0)).save(f"flowers/{name}/{i}.png")
        >>> train, val = image_dataset_from_directory(
        ...     "flowers", image_size=(64, 64), validation_split=0.25, subset="both", seed=1)
        Found 12 files belonging to 3 classes.
        Using 9 files for training.
        Using 3 files for validation.
        >>> images, labels = next(iter(train))
        >>> images.shape, images.dtype, float(images.max()) > 1.0  # Keras's [0, 255]
        (torch.Size([9, 3, 64, 64]), torch.float32, True)
    """
    root = Path(directory)
    _check_arguments(locals())
    if labels is None:
        label_mode = None
    paths, targets, names, num_classes = _index(root, labels, class_names, follow_links)
    if label_mode == "binary" and num_classes != 2:
        raise ValueError(
            f'Expected 2 classes with label_mode="binary". Received: {num_classes} classes'
        )
    if shuffle:
        order = np.random.RandomState(seed).permutation(len(paths))
        paths, targets = [paths[i] for i in order], targets[order]
    if verbose:
        found = f" belonging to {num_classes} classes" if labels is not None else ""
        print(f"Found {len(paths)} files{found}.")
    y = _encode(targets, label_mode, num_classes)
    images = dict(
        color_mode=color_mode,
        image_size=tuple(image_size),
        interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio,
        pad_to_aspect_ratio=pad_to_aspect_ratio,
        data_format=resolve_data_format(data_format),
    )
    options = dict(
        images=images,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        num_workers=num_workers,
        class_names=names,
    )
    if not validation_split:
        return _loader(paths, y, **options)
    return _split(paths, y, validation_split, subset, verbose, options)


def _split(
    paths: list[str],
    y: torch.Tensor | None,
    validation_split: float,
    subset: str,
    verbose: bool,
    options: dict[str, Any],
) -> ImageDirectoryLoader | tuple[ImageDirectoryLoader, ImageDirectoryLoader]:
    """The training (first) and validation (last ``validation_split``) loaders."""
    cut = len(paths) - int(validation_split * len(paths))
    train = _loader(paths[:cut], None if y is None else y[:cut], **options)
    val = _loader(paths[cut:], None if y is None else y[cut:], **options)
    if verbose and subset in ("training", "both"):
        print(f"Using {cut} files for training.")
    if verbose and subset in ("validation", "both"):
        print(f"Using {len(paths) - cut} files for validation.")
    return {"training": train, "validation": val, "both": (train, val)}[subset]


def _check_arguments(a: dict[str, Any]) -> None:
    """Validate the arguments of ``image_dataset_from_directory`` (given as its locals)."""

    def expect(ok: bool, what: str, name: str) -> None:
        if not ok:
            raise ValueError(f"Expected {name} to be {what}. Received: {name}={a[name]!r}")

    labels, bs, size = a["labels"], a["batch_size"], a["image_size"]
    expect(a["root"].is_dir(), "an existing directory", "directory")
    explicit = isinstance(labels, list | tuple | np.ndarray)
    expect(
        explicit or labels in ("inferred", None), '"inferred", None or a list of labels', "labels"
    )
    expect(a["label_mode"] in _LABEL_MODES, f"one of {_LABEL_MODES}", "label_mode")
    expect(
        a["class_names"] is None or isinstance(labels, str),
        'None unless labels="inferred"',
        "class_names",
    )
    expect(a["color_mode"] in _MODES, '"grayscale", "rgb" or "rgba"', "color_mode")
    expect(bs is None or (_is_int(bs) and bs > 0), "a positive integer or None", "batch_size")
    expect(
        isinstance(size, tuple | list)
        and len(size) == 2
        and all(_is_int(s) and s > 0 for s in size),
        "a (height, width) tuple of positive integers",
        "image_size",
    )
    expect(a["interpolation"] in _INTERPOLATIONS, f"one of {_INTERPOLATIONS}", "interpolation")
    expect(
        not (a["crop_to_aspect_ratio"] and a["pad_to_aspect_ratio"]),
        "False with crop_to_aspect_ratio=True (only one of them)",
        "pad_to_aspect_ratio",
    )
    resolve_data_format(a["data_format"])
    _check_split(a, expect)


def _check_split(a: dict[str, Any], expect: Callable[[bool, str, str], None]) -> None:
    """Validate validation_split, subset and seed together."""
    split = a["validation_split"]
    expect(
        split is None or (isinstance(split, int | float) and 0 <= split < 1),
        "None or a float in [0, 1)",
        "validation_split",
    )
    expect(a["subset"] in _SUBSETS, f"one of {_SUBSETS}", "subset")
    if bool(split) != (a["subset"] is not None):
        raise ValueError(
            "Expected validation_split and subset to be set together. Received: "
            f"validation_split={split!r}, subset={a['subset']!r}"
        )
    if split and a["shuffle"] and a["seed"] is None:
        raise ValueError(
            "Expected a seed with validation_split and shuffle=True, so the training and "
            "validation subsets do not overlap. Received: seed=None"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _index(
    root: Path, labels: Any, class_names: Sequence[str] | None, follow_links: bool
) -> tuple[list[str], np.ndarray, list[str] | None, int]:
    """The image files, their integer labels, the class names and the number of classes."""
    if isinstance(labels, str):  # "inferred"
        subdirs = sorted(p.name for p in root.iterdir() if p.is_dir())
        names = list(class_names) if class_names is not None else subdirs
        if sorted(names) != subdirs:
            raise ValueError(
                f"Expected class_names to match the sub-directories of {root} ({subdirs}). "
                f"Received: class_names={names!r}"
            )
        per_class = [_files(root / name, follow_links) for name in names]
        paths = [p for files in per_class for p in files]
        targets = np.array([i for i, files in enumerate(per_class) for _ in files], np.int64)
    else:
        paths, names = _files(root, follow_links), None
        targets = np.zeros(len(paths), np.int64) if labels is None else np.asarray(labels)
        if len(targets) != len(paths):
            raise ValueError(
                f"Expected as many labels as image files in {root} ({len(paths)}). "
                f"Received: {len(targets)} labels"
            )
    if not paths:
        raise ValueError(f"Expected image files ({', '.join(FORMATS)}) in {root}. Received: none")
    num_classes = len(names) if names is not None else int(targets.max()) + 1
    return paths, targets.astype(np.int64), names, num_classes


def _files(folder: Path, follow_links: bool) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=follow_links):
        dirnames.sort()
        found += [
            os.path.join(dirpath, f) for f in sorted(filenames) if f.lower().endswith(FORMATS)
        ]
    return found


def _encode(targets: np.ndarray, label_mode: str | None, classes: int) -> torch.Tensor | None:
    if label_mode is None:
        return None
    y = torch.from_numpy(targets)
    if label_mode == "categorical":
        return torch.nn.functional.one_hot(y, classes).float()
    if label_mode == "binary":
        return y.float().unsqueeze(1)
    return y


def _loader(
    paths: list[str],
    y: torch.Tensor | None,
    *,
    images: dict[str, Any],
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    num_workers: int,
    class_names: list[str] | None,
) -> ImageDirectoryLoader:
    data = _ImageFiles(paths, y, images)
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    loader = ImageDirectoryLoader(
        data,
        batch_size=batch_size,
        shuffle=shuffle and len(paths) > 0,
        generator=generator,
        num_workers=num_workers,
    )
    loader.class_names = class_names
    loader.file_paths = paths
    return loader
