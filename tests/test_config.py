"""kerasish.config: the image data format from the call, the environment, the file, the default."""

import json

import pytest

import kerasish.config as kconfig
from kerasish import layers as L


@pytest.fixture(autouse=True)
def home(monkeypatch, tmp_path):
    """An empty KERASISH_HOME and no environment setting; the real state back afterwards."""
    folder = tmp_path / "kerasish_home"
    monkeypatch.delenv(kconfig.ENV_VAR, raising=False)
    monkeypatch.setenv(kconfig.HOME_VAR, str(folder))
    kconfig.reload()
    yield folder
    monkeypatch.undo()
    kconfig.reload()


def write_settings(folder, settings):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kerasish.json").write_text(json.dumps(settings), encoding="utf-8")


def test_default_is_channels_first():
    assert kconfig.image_data_format() == "channels_first"


def test_set_and_read_back():
    kconfig.set_image_data_format("channels_last")
    assert kconfig.image_data_format() == "channels_last"
    assert L.Conv2D(2, 1).data_format == "channels_last"
    kconfig.set_image_data_format("channels_first")
    assert kconfig.image_data_format() == "channels_first"


@pytest.mark.parametrize("bad", ["NHWC", "channels-last", None, 1])
def test_set_rejects_other_values(bad):
    with pytest.raises(ValueError, match=r"Expected `data_format` to be one of .*Received: "):
        kconfig.set_image_data_format(bad)
    assert kconfig.image_data_format() == "channels_first"


def test_layer_rejects_a_bad_data_format():
    with pytest.raises(ValueError, match=r"Received: data_format='nhwc'"):
        L.MaxPooling2D(data_format="nhwc")


def test_file_in_kerasish_home(home):
    write_settings(home, {"image_data_format": "channels_last", "other": 1})
    assert kconfig.reload() == "channels_last"
    assert kconfig.config_path() == home / "kerasish.json"


def test_file_in_the_home_directory_without_kerasish_home(monkeypatch, tmp_path):
    monkeypatch.delenv(kconfig.HOME_VAR)
    monkeypatch.setenv("HOME", str(tmp_path))
    write_settings(tmp_path / ".kerasish", {"image_data_format": "channels_last"})
    assert kconfig.config_path() == tmp_path / ".kerasish" / "kerasish.json"
    assert kconfig.reload() == "channels_last"


def test_file_without_the_key_keeps_the_default(home):
    write_settings(home, {"floatx": "float32"})
    assert kconfig.reload() == "channels_first"


def test_environment_overrides_the_file(monkeypatch, home):
    write_settings(home, {"image_data_format": "channels_first"})
    monkeypatch.setenv(kconfig.ENV_VAR, "channels_last")
    assert kconfig.reload() == "channels_last"
    kconfig.set_image_data_format("channels_first")  # and the call overrides both
    assert kconfig.image_data_format() == "channels_first"


def test_bad_environment_value(monkeypatch):
    monkeypatch.setenv(kconfig.ENV_VAR, "nchw")
    with pytest.raises(ValueError, match=r"Received: KERASISH_IMAGE_DATA_FORMAT='nchw'"):
        kconfig.reload()


def test_bad_file_value_and_bad_json(home):
    write_settings(home, {"image_data_format": "last"})
    with pytest.raises(ValueError, match=r"Expected `image_data_format \(in .*kerasish.json\)`"):
        kconfig.reload()
    (home / "kerasish.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"Received: invalid JSON"):
        kconfig.reload()


def test_first_read_is_lazy(monkeypatch):
    monkeypatch.setenv(kconfig.ENV_VAR, "channels_last")
    monkeypatch.setattr(kconfig, "_image_data_format", None)  # as in a fresh process
    assert kconfig.image_data_format() == "channels_last"
