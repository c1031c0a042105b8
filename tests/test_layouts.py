"""Layouts: channels-last layers give the channels-first numbers; the layout mistake is caught.

The reference for every channels-last layer is the same layer in channels-first layout with
the same weights, fed the permuted batch (itself checked against torch in test_layers.py).
"""

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K
import kerasish.config as kconfig
from kerasish import layers as L


@pytest.fixture(autouse=True)
def _clean_config(monkeypatch, tmp_path):
    monkeypatch.delenv(kconfig.ENV_VAR, raising=False)
    monkeypatch.setenv(kconfig.HOME_VAR, str(tmp_path / "kerasish_home"))
    kconfig.reload()
    yield
    monkeypatch.undo()
    kconfig.reload()


def nhwc(x):
    return x.movedim(1, -1)


def twins(make):
    """The same layer built channels-first and channels-last, sharing weights."""
    first, last = make("channels_first"), make("channels_last")
    return first, last


def assert_same_after_build(first, last, x_first, to_last=nhwc):
    y_first = first(x_first)
    if list(first.parameters()):
        last(to_last(x_first))
        last.load_state_dict(first.state_dict())
    y_last = last(to_last(x_first))
    torch.testing.assert_close(y_last, to_last(y_first) if y_first.ndim > 2 else y_first)


CONV2D = [
    dict(filters=4, kernel_size=3),
    dict(filters=4, kernel_size=3, padding="same", strides=2),  # TF's asymmetric 'same'
    dict(filters=5, kernel_size=(2, 3), dilation_rate=2, activation="relu"),
    dict(filters=3, kernel_size=1, use_bias=False),
]


@pytest.mark.parametrize("kwargs", CONV2D)
def test_conv2d_channels_last_matches_channels_first(kwargs):
    first, last = twins(lambda f: L.Conv2D(**kwargs, data_format=f))
    assert_same_after_build(first, last, torch.randn(2, 3, 9, 8))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(filters=4, kernel_size=3),
        dict(filters=4, kernel_size=4, padding="same", strides=2, activation="tanh"),
        dict(filters=2, kernel_size=2, dilation_rate=3),
    ],
)
def test_conv1d_channels_last_takes_steps_by_features(kwargs):
    first, last = twins(lambda f: L.Conv1D(**kwargs, data_format=f))
    x = torch.randn(2, 3, 11)  # (N, C, L); channels-last is (N, steps, features)
    assert_same_after_build(first, last, x, to_last=lambda t: t.transpose(1, 2))


POOLS = [
    (L.MaxPooling2D, dict(), (2, 3, 8, 8)),
    (L.MaxPooling2D, dict(pool_size=3, strides=2, padding="same"), (2, 3, 7, 6)),
    (L.AveragePooling2D, dict(pool_size=3, strides=2, padding="same"), (2, 3, 7, 7)),
    (L.AveragePooling2D, dict(pool_size=(2, 3)), (2, 2, 6, 9)),
    (L.MaxPooling1D, dict(pool_size=2, padding="same"), (2, 3, 9)),
    (L.AveragePooling1D, dict(pool_size=3, strides=2, padding="same"), (2, 3, 9)),
    (L.GlobalAveragePooling2D, dict(), (2, 3, 5, 4)),
    (L.GlobalMaxPooling2D, dict(keepdims=True), (2, 3, 5, 4)),
    (L.GlobalAveragePooling1D, dict(), (2, 3, 7)),
    (L.GlobalMaxPooling1D, dict(), (2, 3, 7)),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "shape"), POOLS, ids=lambda v: getattr(v, "__name__", "")
)
def test_pooling_channels_last_matches_channels_first(cls, kwargs, shape):
    first, last = twins(lambda f: cls(**kwargs, data_format=f))
    assert_same_after_build(first, last, torch.randn(*shape))


def test_conv_softmax_activation_acts_on_the_channels_when_channels_last():
    layer = L.Conv2D(4, 1, activation="softmax", data_format="channels_last")
    out = layer(torch.randn(2, 5, 5, 3))
    torch.testing.assert_close(out.sum(-1), torch.ones(2, 5, 5))


def test_channels_last_is_a_view_and_the_output_is_contiguous():
    x = torch.randn(2, 6, 6, 3)
    view = L.layout.to_channels_first(x)
    assert view.data_ptr() == x.data_ptr() and view.shape == (2, 3, 6, 6)
    assert view.is_contiguous(memory_format=torch.channels_last)
    out = L.Conv2D(4, 3, padding="same", data_format="channels_last")(x)
    assert out.shape == (2, 6, 6, 4) and out.is_contiguous()


def _keras_digits_model():
    # keras.io's mnist_convnet, on its (28, 28, 1) input
    return K.Sequential(
        [
            L.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            L.MaxPooling2D(pool_size=(2, 2)),
            L.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            L.MaxPooling2D(pool_size=(2, 2)),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(10, activation="softmax"),
        ]
    )


def test_param_counts_are_keras_s_on_the_mnist_convnet():
    # keras.io/examples/vision/mnist_convnet prints 320, 18,496 and 16,010 (34,826 in all)
    # and a Flatten output of 1,600 for this model on (28, 28, 1) images
    kconfig.set_image_data_format("channels_last")
    model = _keras_digits_model()
    flat = torch.zeros(1, 28, 28, 1)
    for layer in model.layers[:5]:
        flat = layer(flat)
    model(torch.zeros(1, 28, 28, 1))
    counts = [sum(p.numel() for p in layer.parameters()) for layer in model.layers]
    assert counts == [320, 0, 18496, 0, 0, 0, 16010]
    assert model.count_params() == 34826 and flat.shape == (1, 1600)


def test_param_counts_of_a_keras_1d_convnet():
    # keras.io/examples/timeseries/timeseries_classification_from_scratch on (500, 1):
    # Conv1D(64, 3) 256 params; BatchNormalization 256 of which 128 trainable (torch keeps
    # the 128 moving statistics as buffers); Conv1D(64, 3) after it 12,352; Dense(2) 130
    kconfig.set_image_data_format("channels_last")
    model = K.Sequential(
        [
            L.Conv1D(64, 3, padding="same"),
            L.BatchNormalization(),
            L.Conv1D(64, 3, padding="same"),
            L.GlobalAveragePooling1D(),
            L.Dense(2, activation="softmax"),
        ]
    )
    out = model(torch.randn(2, 500, 1))
    assert out.shape == (2, 2)
    counts = [sum(p.numel() for p in layer.parameters()) for layer in model.layers]
    assert counts == [256, 128, 12352, 0, 130]
    assert sum(b.numel() for b in model.layers[1].buffers() if b.is_floating_point()) == 128


def _digits_cnn(data_format):
    return K.Sequential(
        [
            L.Conv2D(6, 3, padding="same", activation="relu", data_format=data_format),
            L.BatchNormalization(axis=1 if data_format == "channels_first" else -1),
            L.MaxPooling2D(data_format=data_format),
            L.Conv2D(8, 3, data_format=data_format),
            L.GlobalAveragePooling2D(data_format=data_format),
            L.Dense(10),
        ]
    )


def test_a_whole_model_gives_the_same_numbers_in_both_layouts():
    first, last = _digits_cnn("channels_first"), _digits_cnn("channels_last")
    x = torch.randn(4, 1, 12, 12)
    first.train(), last.train()
    first(x), last(nhwc(x))
    last.load_state_dict(first.state_dict())
    torch.testing.assert_close(last(nhwc(x)), first(x))  # training: batch statistics
    first.eval(), last.eval()
    torch.testing.assert_close(last(nhwc(x)), first(x))  # the same moving averages
    torch.testing.assert_close(last.layers[1].bn.running_mean, first.layers[1].bn.running_mean)


def test_flatten_dense_follow_keras_order_when_channels_last():
    # channels-last flattens (H, W, C) as Keras; channels-first flattens torch's (C, H, W).
    # The same Dense weights, taken in the other order, give the same numbers.
    x = torch.randn(2, 3, 4, 5)
    first = nn.Sequential(L.Flatten(data_format="channels_first"), L.Dense(7))
    last = nn.Sequential(L.Flatten(data_format="channels_last"), L.Dense(7))
    first(x), last(nhwc(x))
    w = first[1].linear.weight.detach()  # columns in (C, H, W) order
    with torch.no_grad():
        last[1].linear.weight.copy_(w.reshape(7, 3, 4, 5).permute(0, 2, 3, 1).reshape(7, 60))
        last[1].linear.bias.copy_(first[1].linear.bias)
    torch.testing.assert_close(last(nhwc(x)), first(x))
    torch.testing.assert_close(
        L.Flatten(data_format="channels_last")(nhwc(x)), nhwc(x).reshape(2, -1)
    )


def test_defaults_follow_the_configured_format():
    kconfig.set_image_data_format("channels_last")
    made = [
        L.Conv1D(2, 1),
        L.Conv2D(2, 1),
        L.MaxPooling2D(),
        L.AveragePooling1D(),
        L.GlobalAveragePooling2D(),
        L.GlobalMaxPooling1D(),
        L.Flatten(),
    ]
    assert {m.data_format for m in made} == {"channels_last"}
    assert L.BatchNormalization().axis == -1
    kconfig.set_image_data_format("channels_first")
    assert L.Conv2D(2, 1).data_format == "channels_first" and L.BatchNormalization().axis == 1
    assert made[1].data_format == "channels_last"  # read when the layer is created


def test_global_average_pooling_1d_after_an_embedding_pools_the_steps_when_channels_last():
    kconfig.set_image_data_format("channels_last")
    emb, pool = L.Embedding(20, 6), L.GlobalAveragePooling1D()
    ids = torch.randint(0, 20, (3, 9))
    torch.testing.assert_close(pool(emb(ids)), emb.embedding(ids).mean(dim=1))


def test_data_format_round_trips_through_config_and_save(tmp_path):
    kconfig.set_image_data_format("channels_last")
    model = _keras_digits_model()
    x = torch.randn(2, 28, 28, 1)
    model(x)
    model.eval()
    expected = model(x)
    assert model.layers[0].get_config()["data_format"] == "channels_last"
    model.save(tmp_path / "m.kerasish")
    kconfig.set_image_data_format("channels_first")  # loading does not depend on the setting
    loaded = K.models.load_model(tmp_path / "m.kerasish").eval()
    assert [m.data_format for m in loaded.layers if hasattr(m, "data_format")] == [
        "channels_last"
    ] * 5
    assert torch.equal(loaded(x), expected)
    copy = L.Conv2D.from_config(model.layers[0].get_config())
    assert copy.data_format == "channels_last"


# ------------------------------------------------------------------ the layout mistake


def _digits(n=64):
    g = np.random.default_rng(0)
    return g.random((n, 8, 8, 1), dtype=np.float32), g.integers(0, 10, n)


@pytest.mark.parametrize(
    "make",
    [lambda: L.Conv2D(4, 3), lambda: L.MaxPooling2D(), lambda: L.GlobalAveragePooling2D()],
)
def test_channels_first_layer_refuses_a_channels_last_looking_batch(make):
    with pytest.raises(ValueError, match=r"data_format") as info:
        make()(torch.randn(2, 28, 28, 1))
    message = str(info.value)
    assert 'K.config.set_image_data_format("channels_last")' in message
    assert "Received: x.shape=(2, 28, 28, 1)" in message


def test_conv1d_refuses_a_univariate_series_given_as_steps_by_features():
    with pytest.raises(ValueError, match=r"\(N, steps, features\)"):
        L.Conv1D(8, 3, padding="same")(torch.randn(2, 500, 1))


def test_explicit_channels_first_accepts_such_a_shape():
    assert L.Conv2D(4, 1, data_format="channels_first")(torch.randn(2, 8, 8, 1)).shape == (
        2,
        4,
        8,
        1,
    )
    assert L.MaxPooling1D(1, data_format="channels_first")(torch.randn(2, 8, 3)).shape == (2, 8, 3)


def test_the_check_runs_at_the_first_call_only():
    pool = L.MaxPooling2D()
    pool(torch.randn(2, 3, 8, 8))
    assert pool(torch.randn(2, 8, 8, 4)).shape == (2, 8, 4, 2)  # not re-checked per batch
    # channels-first shapes deep in a network are not mistaken: (N, C, H, W) with small W
    assert L.Conv2D(4, 3, padding="same")(torch.randn(2, 64, 7, 7)).shape == (2, 4, 7, 7)


def test_fitting_channels_last_digits_on_a_channels_first_model_raises_instead_of_training():
    x, y = _digits()
    model = _keras_digits_model_8x8()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"set_image_data_format\(\"channels_last\"\)"):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert not model.layers[0].built  # never trained: the first call raised


def test_the_same_digits_train_once_the_format_is_set():
    kconfig.set_image_data_format("channels_last")
    x, y = _digits()
    model = _keras_digits_model_8x8()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.layers[0].conv.in_channels == 1  # one grey channel, not eight


def _keras_digits_model_8x8():
    return K.Sequential(
        [
            L.Conv2D(8, 3, padding="same", activation="relu"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(10, activation="softmax"),
        ]
    )


# ------------------------------------------------------------------------ applications


def test_application_takes_channels_last_images_with_the_same_weights():
    from kerasish import applications as A

    first = A.ResNet18(weights=None, include_top=False).eval()
    kconfig.set_image_data_format("channels_last")
    last = A.ResNet18(weights=None, include_top=False).eval()
    last.load_state_dict(first.state_dict())
    pooled = A.ResNet18(weights=None, include_top=False, pooling="avg").eval()
    pooled.load_state_dict(first.state_dict())
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        maps = first(x)
        torch.testing.assert_close(last(nhwc(x)), nhwc(maps))
        torch.testing.assert_close(pooled(nhwc(x)), maps.mean(dim=(2, 3)))


def test_channels_first_application_refuses_channels_last_images():
    from kerasish import applications as A

    model = A.ResNet18(weights=None, include_top=False)
    with pytest.raises(ValueError, match=r"data_format"):
        model(torch.rand(2, 32, 32, 3))
