"""K.datasets.mnist / fashion_mnist / cifar10 return Keras's arrays, read offline from small
files written where torchvision keeps them, through torchvision's own loading code.

Keras 3.15's values (its docstrings and code, checked by running its loaders on the same files):
``mnist``/``fashion_mnist``: x uint8 (N, 28, 28), y uint8 (N,); ``cifar10``: x uint8
(N, 32, 32, 3) with ``image_data_format() == "channels_last"``, (N, 3, 32, 32) with
"channels_first", y uint8 (N, 1).
"""

from __future__ import annotations

import hashlib
import pickle
import struct

import numpy as np
import pytest
import torchvision

import kerasish as K
from kerasish import config
from kerasish.datasets.torchvision_loader import cache_dir

N_TRAIN, N_TEST = 6, 4


def write_idx(path, array: np.ndarray) -> None:
    """An uncompressed idx file (MNIST's format): magic 0x08 (ubyte) and rank, then the sizes."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(name: str, seed: int) -> dict[str, np.ndarray]:
    """The four raw files of torchvision's ``name`` (MNIST, FashionMNIST) in the cache."""
    rng = np.random.default_rng(seed)
    raw = cache_dir() / name / name / "raw"  # torchvision's root/<class name>/raw
    raw.mkdir(parents=True)
    arrays = {}
    for split, n in (("train", N_TRAIN), ("t10k", N_TEST)):
        arrays[f"{split}-images"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}-labels"] = rng.integers(0, 10, n, dtype=np.uint8)
        write_idx(raw / f"{split}-images-idx3-ubyte", arrays[f"{split}-images"])
        write_idx(raw / f"{split}-labels-idx1-ubyte", arrays[f"{split}-labels"])
    return arrays


def write_cifar10(monkeypatch, seed: int = 0, per_batch: int = 3) -> dict[str, np.ndarray]:
    """CIFAR10's six pickled batches and batches.meta in torchvision's folder; torchvision's
    md5 table is set to these files' checksums, so it finds them intact and downloads nothing."""
    rng = np.random.default_rng(seed)
    folder = cache_dir() / "CIFAR10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = {}
    for name in names:
        rows = rng.integers(0, 256, (per_batch, 3 * 32 * 32), dtype=np.uint8)  # R, G, B planes
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        (folder / name).write_bytes(pickle.dumps({"data": rows, "labels": labels}))
        batches[name] = (rows, labels)
    (folder / "batches.meta").write_bytes(
        pickle.dumps({"label_names": [str(i) for i in range(10)]})
    )

    def md5(name: str) -> str:
        return hashlib.md5((folder / name).read_bytes()).hexdigest()

    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[n, md5(n)] for n in names[:5]])
    monkeypatch.setattr(cls, "test_list", [["test_batch", md5("test_batch")]])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": md5("batches.meta")})
    x_train = np.concatenate([batches[n][0] for n in names[:5]]).reshape(-1, 3, 32, 32)
    y_train = np.array([v for n in names[:5] for v in batches[n][1]], dtype=np.uint8)
    x_test = batches["test_batch"][0].reshape(-1, 3, 32, 32)
    y_test = np.array(batches["test_batch"][1], dtype=np.uint8)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASISH_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def data_format(request):
    """Sets ``kerasish.config``'s image data format for the test, then reloads the default."""
    config.set_image_data_format(request.param)
    yield request.param
    config.reload()


@pytest.mark.parametrize(
    ("module", "name"), [(K.datasets.mnist, "MNIST"), (K.datasets.fashion_mnist, "FashionMNIST")]
)
def test_mnist_and_fashion_mnist_are_kerass_uint8_arrays(home, module, name):
    written = write_mnist(name, seed=len(name))
    (x_train, y_train), (x_test, y_test) = module.load_data()
    # Keras: x uint8 (60000, 28, 28) / (10000, 28, 28), y uint8 (60000,) / (10000,)
    for x, y, split, n in ((x_train, y_train, "train", N_TRAIN), (x_test, y_test, "t10k", N_TEST)):
        assert x.dtype == np.uint8 and x.shape == (n, 28, 28)
        assert y.dtype == np.uint8 and y.shape == (n,)
        assert np.array_equal(x, written[f"{split}-images"])  # the files' bytes, unscaled
        assert np.array_equal(y, written[f"{split}-labels"])
    assert x_train.flags.c_contiguous


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"], indirect=True)
def test_cifar10_follows_image_data_format_as_keras(home, monkeypatch, data_format):
    written = write_cifar10(monkeypatch)
    (x_train, y_train), (x_test, y_test) = K.datasets.cifar10.load_data()
    # Keras: x uint8 (N, 3, 32, 32) for channels_first (its batches' own layout), transposed
    # to (N, 32, 32, 3) for channels_last; y uint8 (N, 1)
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        expected = written[f"x_{split}"]
        if data_format == "channels_last":
            expected = expected.transpose(0, 2, 3, 1)
        assert x.dtype == np.uint8 and x.shape == expected.shape
        assert np.array_equal(x, expected)
        assert y.dtype == np.uint8 and y.shape == (len(expected), 1)
        assert np.array_equal(y[:, 0], written[f"y_{split}"])
    assert x_train.shape[0] == 15 and x_test.shape[0] == 3


def test_cifar10_default_layout_is_the_configured_one(home, monkeypatch):
    write_cifar10(monkeypatch)
    (x, _), _ = K.datasets.cifar10.load_data()
    channels = 1 if config.image_data_format() == "channels_first" else 3
    assert x.shape[channels] == 3


def test_a_keras_tutorial_trains_on_the_uint8_arrays(home):
    write_mnist("MNIST", seed=1)
    (x, y), (x_test, y_test) = K.datasets.mnist.load_data()
    model = K.Sequential(
        [
            K.Input((1, 28, 28)),
            K.layers.Rescaling(1 / 255),
            K.layers.Flatten(),
            K.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:, None], y, epochs=30, verbose=0)
    logs = model.evaluate(x[:, None], y, verbose=0, return_dict=True)
    assert logs["accuracy"] == 1.0  # six random images are memorized
    assert model.predict(x_test[:, None], verbose=0).shape == (N_TEST, 10)
