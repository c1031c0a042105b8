"""SwapEMAWeights: the EMA equals torch's AveragedModel and a hand EMA of the weight trajectory,
validation and evaluate use the EMA weights, fit ends with them, checkpoints save them, and
BackupAndRestore resumes the average bit for bit. Keras numbers: Keras 3.15.1, torch backend
(SGD(use_ema=True) + keras.callbacks.SwapEMAWeights), and
keras/src/callbacks/swap_ema_weights_test.py."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

import kerasish as K
from kerasish.callbacks import SwapEMAWeights

RNG = np.random.RandomState(0)
X = RNG.randn(12, 4).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32") + 0.3).astype("float32")


def _linear(lr=0.05):
    model = K.Sequential([nn.Linear(4, 1)])
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.1, 0.2, -0.3, 0.4]]))
        model[0].bias.zero_()
    model.compile(optimizer=K.optimizers.SGD(learning_rate=lr), loss="mse", device="cpu")
    return model


def test_fit_matches_keras_sgd_use_ema_with_swap_ema_weights():
    # Keras 3.15.1, torch backend: the same data and initial weights, SGD(learning_rate=0.05,
    # use_ema=True, ema_momentum=0.9), fit(epochs=2, batch_size=4, shuffle=False,
    # validation_data=(x, y), callbacks=[SwapEMAWeights()]):
    keras_kernel = [0.7641275, -0.13076526, -0.08563655, 1.1870034]
    keras_bias = [0.5230025]
    keras_history = {"loss": [15.149077415466309, 4.937654972076416],
                     "val_loss": [9.745139122009277, 7.392077922821045]}  # fmt: skip
    model = _linear()
    history = model.fit(
        X, Y, epochs=2, batch_size=4, shuffle=False, validation_data=(X, Y), verbose=0,
        callbacks=[SwapEMAWeights(decay=0.9)],
    )  # fmt: skip
    # fit ends with the EMA weights in the model (Keras's finalize_variable_values)
    np.testing.assert_allclose(model[0].weight.detach().numpy().ravel(), keras_kernel, rtol=1e-5)
    np.testing.assert_allclose(model[0].bias.detach().numpy(), keras_bias, rtol=1e-5)
    for key, values in keras_history.items():
        assert history.history[key] == pytest.approx(values, rel=1e-5)
    # swap_ema_weights_test.py::test_swap_ema_weights: the last validation (EMA weights)
    # equals evaluate() after fit; Keras 3.15.1 run: 7.392077922821045
    assert model.evaluate(X, Y, batch_size=4, verbose=0) == pytest.approx(7.392077922821045, 1e-5)
    assert model.evaluate(X, Y, batch_size=4, verbose=0) == history.history["val_loss"][-1]


class _Trajectory(K.callbacks.Callback):
    """The model's state dict after every training batch."""

    def __init__(self):
        super().__init__()
        self.states = []

    def on_train_batch_end(self, batch, logs=None):
        self.states.append({k: v.detach().clone() for k, v in self.model.state_dict().items()})


def _bn_model():
    K.utils.set_random_seed(0)
    model = K.Sequential([nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1)])
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.05), loss="mse", device="cpu")
    return model


def test_ema_equals_averaged_model_and_a_hand_ema_of_the_trajectory():
    decay = 0.8
    model, path, ema = _bn_model(), _Trajectory(), SwapEMAWeights(decay=decay)
    model.fit(X, Y, epochs=3, batch_size=4, shuffle=False, callbacks=[path, ema], verbose=0)
    assert len(path.states) == 9 and int(ema.averaged.n_averaged) == 9
    final = {k: v.clone() for k, v in model.state_dict().items()}
    # reference 1: torch's own AveragedModel.update_parameters over the same weights
    shadow = copy.deepcopy(model)
    reference = AveragedModel(
        nn.ModuleList(list(shadow.children())), multi_avg_fn=get_ema_multi_avg_fn(decay),
        use_buffers=True,
    )  # fmt: skip
    # reference 2: the EMA by hand in float64, the first step a copy
    hand = None
    for state in path.states:
        shadow.load_state_dict(state)
        reference.update_parameters(nn.ModuleList(list(shadow.children())))
        weights = {k: v.double() for k, v in state.items() if v.is_floating_point()}
        hand = weights if hand is None else {
            k: decay * hand[k] + (1 - decay) * w for k, w in weights.items()
        }  # fmt: skip
    names = [n for n, _ in (*model.named_parameters(), *model.named_buffers())]
    averaged = dict(zip(names, (*reference.module.parameters(), *reference.module.buffers())))
    for key, value in final.items():
        if value.is_floating_point():  # weights and BatchNorm running stats: averaged
            assert torch.equal(value, averaged[key]), key
            torch.testing.assert_close(value.double(), hand[key], rtol=1e-6, atol=1e-6)
        else:  # num_batches_tracked: the model's count
            assert torch.equal(value, path.states[-1][key]), key
    # the EMA differs from the raw weights, and the BatchNorm statistics were averaged
    assert not torch.allclose(final["layers.0.weight"], path.states[-1]["layers.0.weight"])
    assert not torch.allclose(
        final["layers.1.running_mean"], path.states[-1]["layers.1.running_mean"]
    )


def _torch_mse(model, state):
    shadow = copy.deepcopy(model)
    shadow.load_state_dict(state)
    shadow.eval()
    with torch.no_grad():
        return nn.functional.mse_loss(shadow(torch.from_numpy(X)), torch.from_numpy(Y)).item()


class _EMAAtEpochEnd(K.callbacks.Callback):
    """The EMA weights (from the callback's AveragedModel) and the raw ones at each epoch end."""

    def __init__(self, ema):
        super().__init__()
        self.ema, self.emas, self.raws = ema, [], []

    def on_epoch_end(self, epoch, logs=None):
        module, model = self.ema.averaged.module, self.model
        tensors = [t.detach().clone() for t in (*module.parameters(), *module.buffers())]
        names = [n for n, _ in (*model.named_parameters(), *model.named_buffers())]
        self.emas.append(dict(zip(names, tensors)))
        self.raws.append({k: v.clone() for k, v in self.model.state_dict().items()})


def test_validation_and_evaluate_use_the_ema_weights_and_swap_back():
    model, ema = _bn_model(), SwapEMAWeights(decay=0.7)
    seen = _EMAAtEpochEnd(ema)
    history = model.fit(
        X, Y, epochs=2, batch_size=4, shuffle=False, validation_data=(X, Y), verbose=0,
        callbacks=[ema, seen],
    )  # fmt: skip
    for epoch in range(2):  # val_loss is torch's MSE of the EMA weights, not of the raw ones
        assert history.history["val_loss"][epoch] == pytest.approx(
            _torch_mse(model, seen.emas[epoch]), rel=1e-5
        )
        assert history.history["val_loss"][epoch] != pytest.approx(
            _torch_mse(model, seen.raws[epoch]), rel=1e-3
        )
    # after fit: the EMA weights are in the model; evaluate/predict with the callback swap
    # (EMA for EMA) and back, leaving them there
    after = {k: v.clone() for k, v in model.state_dict().items()}
    for key, value in seen.emas[-1].items():
        assert torch.equal(after[key], value), key
    loss = model.evaluate(X, Y, batch_size=4, verbose=0, callbacks=[ema])
    assert loss == pytest.approx(_torch_mse(model, after), rel=1e-5)
    model.predict(X, verbose=0, callbacks=[ema])
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in after.items())


def test_swap_on_epoch_saves_the_ema_weights_with_model_checkpoint(tmp_path):
    # swap_ema_weights_test.py::test_swap_ema_weights_on_epoch: SwapEMAWeights(swap_on_epoch=
    # True) before ModelCheckpoint saves the EMA weights; the last file equals the final model
    model, path = _bn_model(), _Trajectory()
    ema = SwapEMAWeights(decay=0.7, swap_on_epoch=True)
    ckpt = K.callbacks.ModelCheckpoint(
        str(tmp_path / "w{epoch}.safetensors"), save_weights_only=True
    )
    model.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0, callbacks=[path, ema, ckpt])
    first = _bn_model()
    first.load_weights(str(tmp_path / "w1.safetensors"))
    hand = None  # the EMA of epoch 1's three steps, by hand
    for state in path.states[:3]:
        hand = state if hand is None else {k: 0.7 * hand[k] + 0.3 * v for k, v in state.items()}
    for key, value in first.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, hand[key], rtol=1e-6, atol=1e-6)
    assert not torch.allclose(first[0].weight, path.states[2]["layers.0.weight"])  # not raw
    last = _bn_model()
    last.load_weights(str(tmp_path / "w2.safetensors"))
    for key, value in model.state_dict().items():
        assert torch.equal(value, last.state_dict()[key]), key


class _Crash(K.callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at, self.n = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.n += 1
        if self.n == self.at:
            raise RuntimeError("simulated crash")


@pytest.mark.parametrize("swap_on_epoch, save_freq", [(False, 2), (True, "epoch")])
def test_backup_and_restore_resumes_the_average_bit_identically(tmp_path, swap_on_epoch, save_freq):
    def run(callbacks):
        model = _bn_model()
        model.fit(X, Y, epochs=3, batch_size=4, verbose=0, callbacks=callbacks)
        return model

    ema = SwapEMAWeights(decay=0.8, swap_on_epoch=swap_on_epoch)
    whole = run([ema])
    backup = K.callbacks.BackupAndRestore(tmp_path / "b", save_freq=save_freq)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run([SwapEMAWeights(decay=0.8, swap_on_epoch=swap_on_epoch), backup, _Crash(5)])
    resumed_ema = SwapEMAWeights(decay=0.8, swap_on_epoch=swap_on_epoch)
    resumed = run([resumed_ema, K.callbacks.BackupAndRestore(tmp_path / "b", save_freq=save_freq)])
    assert int(resumed_ema.averaged.n_averaged) == int(ema.averaged.n_averaged) == 9
    for key, value in whole.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_gradient_accumulation_updates_once_per_optimizer_step():
    model, path, ema = _bn_model(), _Trajectory(), SwapEMAWeights(decay=0.5)
    model.fit(X, Y, epochs=1, batch_size=2, shuffle=False, gradient_accumulation_steps=3,
              callbacks=[path, ema], verbose=0)  # fmt: skip
    assert len(path.states) == 6 and int(ema.averaged.n_averaged) == 2
    # the EMA of the weights after optimizer steps 1 and 2 (batches 3 and 6)
    w1, w2 = path.states[2]["layers.0.weight"], path.states[5]["layers.0.weight"]
    torch.testing.assert_close(model[0].weight.detach(), 0.5 * w1 + 0.5 * w2)


@pytest.mark.parametrize(
    "kwargs, error",
    [({"decay": 1.5}, ValueError), ({"decay": "high"}, ValueError),
     ({"swap_on_epoch": 1}, TypeError)],
)  # fmt: skip
def test_bad_arguments_raise(kwargs, error):
    with pytest.raises(error, match="Expected"):
        SwapEMAWeights(**kwargs)


def test_the_per_batch_update_reads_nothing_back_from_the_device(monkeypatch):
    """No .item/.cpu/.tolist/bool/int/float of a tensor from this callback during fit (each
    would wait for the device on CUDA); the swaps and the end of fit included."""
    import os
    import sys

    calls = []
    for name in ("item", "cpu", "tolist", "__bool__", "__int__", "__float__"):
        original = getattr(torch.Tensor, name)

        def counting(self, *a, _original=original, _name=name, **k):
            if sys._getframe(1).f_code.co_filename.endswith(f"{os.sep}swap_ema_weights.py"):
                calls.append(_name)
            return _original(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, counting)
    model, ema = _bn_model(), SwapEMAWeights(decay=0.9)
    model.fit(X, Y, epochs=2, batch_size=2, validation_data=(X, Y), verbose=0, callbacks=[ema])
    monkeypatch.undo()
    assert calls == [] and int(ema.averaged.n_averaged) == 12


def test_compile_ema_adds_swap_ema_weights():
    explicit = _linear()
    explicit_history = explicit.fit(
        X, Y, epochs=2, batch_size=4, shuffle=False, validation_data=(X, Y), verbose=0,
        callbacks=[SwapEMAWeights(decay=0.9)],
    )  # fmt: skip
    model = K.Sequential([nn.Linear(4, 1)])
    model.load_state_dict(_linear().state_dict())
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.05), loss="mse", ema=0.9, device="cpu")
    history = model.fit(
        X, Y, epochs=2, batch_size=4, shuffle=False, validation_data=(X, Y), verbose=0
    )
    assert history.history == explicit_history.history
    for key, value in explicit.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key
