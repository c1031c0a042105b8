"""load_img / img_to_array / array_to_img / save_img vs PIL and Keras's rules."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from kerasish import config
from kerasish.utils import array_to_img, img_to_array, load_img, save_img


@pytest.fixture
def rgb(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    path = tmp_path / "a.png"
    Image.fromarray(arr).save(path)
    return path, arr


def test_load_img_modes_sizes_and_bytes(rgb):
    path, arr = rgb
    img = load_img(path)
    assert img.mode == "RGB" and np.array_equal(np.asarray(img), arr)
    assert load_img(str(path), color_mode="grayscale").mode == "L"
    assert load_img(path, color_mode="rgba").mode == "RGBA"
    small = load_img(path, target_size=(3, 4), interpolation="bilinear")
    ref = Image.fromarray(arr).resize((4, 3), Image.Resampling.BILINEAR)
    assert np.array_equal(np.asarray(small), np.asarray(ref))
    # keep_aspect_ratio: Keras's center crop (8x6 -> 6x6 box at x=1) then resize
    square = load_img(path, target_size=(2, 2), keep_aspect_ratio=True)
    crop_ref = Image.fromarray(arr).resize((2, 2), Image.Resampling.NEAREST, box=(1, 0, 7, 6))
    assert np.array_equal(np.asarray(square), np.asarray(crop_ref))
    assert load_img(io.BytesIO(path.read_bytes())).size == (8, 6)
    with pytest.raises(ValueError, match="color_mode"):
        load_img(path, color_mode="cmyk")
    with pytest.raises(TypeError, match="path"):
        load_img(3)


def test_img_to_array_formats_and_dtype(rgb):
    path, arr = rgb
    img = load_img(path)
    last = img_to_array(img, data_format="channels_last")
    assert last.dtype == np.float32 and np.array_equal(last, arr.astype(np.float32))
    first = img_to_array(img, data_format="channels_first")
    assert np.array_equal(first, arr.transpose(2, 0, 1))
    gray = img_to_array(load_img(path, color_mode="grayscale"), data_format="channels_last")
    assert gray.shape == (6, 8, 1)
    assert img_to_array(img, dtype="uint8", data_format="channels_last").dtype == np.uint8
    # data_format=None follows kerasish.config, as Keras follows its backend's setting
    config.set_image_data_format("channels_last")
    try:
        assert img_to_array(img).shape == (6, 8, 3)
    finally:
        config.reload()
    assert img_to_array(img).shape == (
        (3, 6, 8) if config.image_data_format() == "channels_first" else (6, 8, 3)
    )


def test_array_to_img_scales_like_keras():
    x = np.array([[[0.0], [0.5]], [[1.0], [0.25]]])  # (2, 2, 1)
    img = array_to_img(x, data_format="channels_last")
    # Keras: x - min, / max, * 255, astype uint8
    assert img.mode == "L" and np.asarray(img).tolist() == [[0, 127], [255, 63]]
    raw = array_to_img(np.full((2, 2, 3), 7.0), data_format="channels_last", scale=False)
    assert raw.mode == "RGB" and np.asarray(raw).max() == 7
    assert array_to_img(np.zeros((4, 2, 2)), data_format="channels_first").mode == "RGBA"
    big = array_to_img(np.full((2, 2, 1), 1000.0), data_format="channels_last", scale=False)
    assert big.mode == "I"
    with pytest.raises(ValueError, match="rank 3"):
        array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channels"):
        array_to_img(np.zeros((2, 2, 2)), data_format="channels_last")


def test_save_img_round_trips(tmp_path, rgb):
    _, arr = rgb
    save_img(tmp_path / "b.png", arr, data_format="channels_last", scale=False)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "b.png")), arr)
    rgba = np.zeros((2, 2, 4))
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        save_img(tmp_path / "c.jpg", rgba, data_format="channels_last")
    assert Image.open(tmp_path / "c.jpg").format == "JPEG"
