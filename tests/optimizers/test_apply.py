"""Keras's ``optimizer.apply``/``apply_gradients``: the gradients given are the ones used, in
Keras's layout; an unbuilt recipe builds on its first ``apply``; ``v.value.grad`` reads the
parameter's gradient in Keras's layout."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

import kerasish as K


def _dense(units=1, inputs=4, seed=0):
    torch.manual_seed(seed)
    layer = K.layers.Dense(units)
    layer(torch.ones(2, inputs))
    return layer


def _snapshot(layer):
    return [w.numpy() for w in layer.weights]


def test_zero_gradients_move_nothing_whatever_backward_left():
    layer = _dense()
    opt = K.optimizers.SGD(0.1).build(layer.parameters())
    layer(torch.ones(2, 4)).sum().backward()
    before = _snapshot(layer)
    zeros = [torch.zeros_like(v.value) for v in layer.trainable_weights]
    opt.apply(zeros, layer.trainable_weights)
    for b, w in zip(before, layer.weights):
        np.testing.assert_array_equal(b, w.numpy())
    assert opt.iterations == 1


def test_given_gradients_in_keras_layout_are_a_hand_sgd_step_in_torch_layout():
    layer = _dense(units=3, inputs=4)
    opt = K.optimizers.SGD(0.1).build(layer.parameters())
    layer(torch.ones(2, 4)).sum().backward()  # ignored: the given gradients replace it
    kernel, bias = layer.trainable_weights
    gk, gb = torch.randn(4, 3), torch.randn(3)
    gk0 = gk.clone()
    w0, b0 = layer.linear.weight.detach().clone(), layer.linear.bias.detach().clone()
    opt.apply([gk, gb], [kernel, bias])
    torch.testing.assert_close(layer.linear.weight.detach(), w0 - 0.1 * gk.t())
    torch.testing.assert_close(layer.linear.bias.detach(), b0 - 0.1 * gb)
    torch.testing.assert_close(gk, gk0, rtol=0, atol=0)  # the caller's tensors are not changed
    opt.apply_gradients([(2 * gk, kernel)])  # only the kernel moves
    torch.testing.assert_close(layer.linear.weight.detach(), w0 - 0.3 * gk.t())
    torch.testing.assert_close(layer.linear.bias.detach(), b0 - 0.1 * gb)


def test_a_conv_kernel_gradient_is_mapped_from_keras_layout():
    torch.manual_seed(0)
    layer = K.layers.Conv2D(5, 3)
    layer(torch.ones(1, 2, 8, 8))
    kernel = layer.trainable_weights[0]
    assert kernel.shape == (3, 3, 2, 5)
    opt = K.optimizers.SGD(1.0).build(layer.parameters())
    g = torch.randn(3, 3, 2, 5)
    before = kernel.numpy()
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply([g, None], layer.trainable_weights)  # None: the bias is skipped
    np.testing.assert_allclose(kernel.numpy(), before - g.numpy(), rtol=1e-6, atol=1e-6)


def test_value_grad_is_the_parameter_grad_in_keras_layout_and_a_live_view():
    torch.manual_seed(0)
    conv = K.layers.Conv2D(4, 3)
    conv(torch.ones(1, 2, 6, 6))
    conv(torch.randn(2, 2, 6, 6)).square().sum().backward()
    kernel = conv.trainable_weights[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "non-leaf Tensor .grad" warning
        grad = kernel.value.grad
    param = conv.trainable_weights[0].tensor
    assert tuple(grad.shape) == (3, 3, 2, 4)
    torch.testing.assert_close(grad, param.grad.permute(2, 3, 1, 0))
    dense = _dense(units=1, inputs=4)
    dense(torch.randn(3, 4)).sum().backward()
    kernel, bias = dense.trainable_weights
    assert tuple(kernel.value.grad.shape) == (4, 1)
    torch.testing.assert_close(kernel.value.grad, dense.linear.weight.grad.t())
    assert bias.value is dense.linear.bias  # an untransformed weight: the leaf itself
    value = kernel.value
    assert type(value * 2) is torch.Tensor  # ops give plain tensors
    with torch.no_grad():
        dense.linear.weight.add_(1.0)
    torch.testing.assert_close(value.detach(), dense.linear.weight.detach().t())


def test_gradients_flow_through_a_kernel_value():
    layer = _dense(units=2, inputs=3)
    x = torch.randn(5, 3)
    (x @ layer.trainable_weights[0].value).sum().backward()
    torch.testing.assert_close(layer.linear.weight.grad, x.sum(0).expand(2, 3))


def test_none_gradients_warn_like_keras_and_all_none_raises():
    layer = _dense()
    opt = K.optimizers.SGD(0.1).build(layer.parameters())
    kernel, bias = layer.trainable_weights
    before = kernel.numpy()
    with pytest.warns(
        UserWarning, match=r"Gradients do not exist for variables \['dense.*/kernel'\]"
    ):
        opt.apply([None, torch.ones(1)], [kernel, bias])
    np.testing.assert_array_equal(kernel.numpy(), before)
    with pytest.raises(ValueError, match="Expected a gradient for at least one variable"):
        opt.apply([None, None], [kernel, bias])


def test_apply_rejects_wrong_shapes_counts_and_foreign_variables():
    layer = _dense(units=2, inputs=3)
    opt = K.optimizers.SGD(0.1).build(layer.parameters())
    kernel, bias = layer.trainable_weights
    with pytest.raises(ValueError, match=r"Expected a gradient of shape \(3, 2\).*Received"):
        opt.apply([torch.ones(2, 3), torch.ones(2)], [kernel, bias])
    with pytest.raises(ValueError, match="Expected one gradient per variable"):
        opt.apply([torch.ones(3, 2)], [kernel, bias])
    with pytest.raises(ValueError, match="Expected variables the optimizer was built with"):
        opt.apply([torch.ones(2)], [nn.Parameter(torch.zeros(2))])


def test_apply_without_variables_pairs_with_the_optimizer_parameters():
    net = nn.Linear(2, 1)
    opt = K.optimizers.SGD(0.5).build(net.parameters())
    w0 = net.weight.detach().clone()
    opt.apply([torch.ones(1, 2), torch.zeros(1)])
    torch.testing.assert_close(net.weight.detach(), w0 - 0.5)


def test_apply_clips_like_keras():
    net = nn.Linear(2, 1, bias=False)
    opt = K.optimizers.SGD(1.0, clipvalue=0.1).build(net.parameters())
    w0 = net.weight.detach().clone()
    g = torch.tensor([[5.0, -0.05]])
    opt.apply([g], [net.weight])
    torch.testing.assert_close(net.weight.detach(), w0 - torch.tensor([[0.1, -0.05]]))
    torch.testing.assert_close(g, torch.tensor([[5.0, -0.05]]))


def test_an_unbuilt_recipe_builds_on_its_first_apply():
    layer = _dense(units=2, inputs=3)
    opt = K.optimizers.Adam(learning_rate=0.01)
    assert not opt.built and opt.iterations == 0
    w0 = layer.linear.weight.detach().clone()
    opt.apply([torch.ones(3, 2), torch.ones(2)], layer.trainable_weights)
    assert opt.built and opt.iterations == 1
    # Adam's first step moves each element by learning_rate (gradient sign)
    torch.testing.assert_close(layer.linear.weight.detach(), w0 - 0.01, rtol=0, atol=1e-6)
    first = opt.torch_optimizer
    opt.apply_gradients(zip([torch.ones(3, 2), torch.ones(2)], layer.trainable_weights))
    assert opt.torch_optimizer is first and opt.iterations == 2
    with pytest.raises(ValueError, match="Expected trainable_variables on the first apply"):
        K.optimizers.SGD().apply([torch.ones(1)])


def test_keras_style_build_in_place_then_apply():
    layer = _dense(units=2, inputs=3)
    opt = K.optimizers.SGD(0.1)
    opt.build(layer.trainable_weights)  # Keras ignores the return value
    torch_opt = opt.torch_optimizer
    assert {id(p) for p in torch_opt.param_groups[0]["params"]} == {
        id(layer.linear.weight),
        id(layer.linear.bias),
    }
    opt.apply([torch.ones(3, 2), torch.ones(2)])  # grads in the built variables' order
    assert opt.torch_optimizer is torch_opt and torch_opt.iterations == 1
    import copy

    assert not copy.deepcopy(opt).built  # copies are recipes


def test_gan_style_two_recipes_update_only_their_variables():
    torch.manual_seed(0)
    gen, disc = K.layers.Dense(4), K.layers.Dense(1)
    gen(torch.ones(1, 2))
    disc(torch.ones(1, 4))
    d_opt, g_opt = K.optimizers.Adam(3e-4), K.optimizers.Adam(3e-4)
    z = torch.randn(8, 2)
    for _ in range(2):
        gen.zero_grad()
        disc.zero_grad()
        g0, d0 = _snapshot(gen), _snapshot(disc)
        disc(gen(z)).square().mean().backward()  # gradients reach both
        grads = [v.value.grad for v in disc.trainable_weights]
        with torch.no_grad():
            d_opt.apply(grads, disc.trainable_weights)
        assert all((a == b).all() for a, b in zip(g0, _snapshot(gen)))
        assert all((a != b).any() for a, b in zip(d0, _snapshot(disc)))
        gen.zero_grad()
        disc.zero_grad()
        g0, d0 = _snapshot(gen), _snapshot(disc)
        disc(gen(z)).mean().backward()
        grads = [v.value.grad for v in gen.trainable_weights]
        with torch.no_grad():
            g_opt.apply(grads, gen.trainable_weights)
        assert all((a == b).all() for a, b in zip(d0, _snapshot(disc)))
        assert all((a != b).any() for a, b in zip(g0, _snapshot(gen)))
    assert d_opt.iterations == g_opt.iterations == 2


class _Net(K.Model):
    def __init__(self):
        super().__init__()
        self.hidden = K.layers.Dense(8, activation="relu")
        self.out = K.layers.Dense(1)

    def forward(self, x):
        return self.out(self.hidden(x))


class _GuideStep(_Net):
    """keras.io's "Customizing what happens in fit() with PyTorch" train_step."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        return {"loss": loss.detach()}


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_guide_custom_train_step_trains_like_the_default(optimizer):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")).astype("float32")
    finals = []
    for cls in (_Net, _GuideStep):
        torch.manual_seed(1)
        model = cls()
        model(torch.ones(1, 3))
        model.compile(optimizer=optimizer, loss="mse")
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        finals.append(model.get_weights())
    assert len(finals[0]) == 4
    torch.manual_seed(1)
    first = _Net()
    first(torch.ones(1, 3))
    assert any((a != b).any() for a, b in zip(first.get_weights(), finals[0]))  # it trained
    for a, b in zip(*finals):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
