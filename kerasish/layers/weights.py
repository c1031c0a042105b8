"""Keras views of torch weights: ``Weight`` and the Keras names and layouts of the tensors.

A :class:`Weight` is a thin view over one torch Parameter or buffer with Keras's variable
API (``value``, ``numpy()``, ``assign()``, ``shape``, ``name``, ``path``, ``trainable``).
Inside the kerasish layers it shows Keras's names and layouts: a ``Dense`` kernel is
``(in, out)`` (torch's ``nn.Linear`` stores ``(out, in)``), a convolution kernel
``(*kernel_size, in, out)`` (torch: ``(out, in, *kernel_size)``), a transposed convolution
kernel ``(*kernel_size, out, in)``, a depthwise kernel ``(*kernel_size, in, multiplier)``,
an RNN kernel ``(in, gates * units)``; ``BatchNormalization`` has ``gamma``, ``beta``,
``moving_mean``, ``moving_variance``. Modules outside the kerasish layers (plain torch
modules, custom layers) keep torch's names and layouts. ``collect(module)`` lists the
weights of a module tree in Keras's order: each module's parameters, then its buffers,
then its children.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.parameter import is_lazy

__all__ = ["Weight", "WeightsAPI", "collect", "keras_name", "torch_gradient"]

_Layout = Callable[[Tensor], Tensor]
_BN_NAMES = {
    "weight": "gamma",
    "bias": "beta",
    "running_mean": "moving_mean",
    "running_var": "moving_variance",
}
_RNN_NAMES = {
    "weight_ih_l0": "kernel",
    "weight_hh_l0": "recurrent_kernel",
    "bias_ih_l0": "bias",
    "bias_hh_l0": "recurrent_bias",
}


class KerasLayoutView(Tensor):
    """A transformed weight's ``value``: the live torch tensor in Keras's layout.

    A view of the parameter (it reflects optimizer steps, gradients flow through it) whose
    ``.grad`` reads, and writes, the parameter's ``.grad`` in Keras's layout. The results of
    operations on it are plain tensors.

    Example:
        >>> layer = K.layers.Dense(1)
        >>> layer(torch.ones(2, 4)).sum().backward()
        >>> layer.trainable_weights[0].value.grad.shape
        torch.Size([4, 1])
    """

    __torch_function__ = torch._C._disabled_torch_function_impl
    _kerasish_weight: Weight

    @property
    def grad(self) -> Tensor | None:  # type: ignore[override]
        """The parameter's gradient in Keras's layout (a view of it), None before backward."""
        weight = self._kerasish_weight
        g = weight.tensor.grad
        return None if g is None else weight._to_keras(g)  # type: ignore[misc]

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        weight = self._kerasish_weight
        weight.tensor.grad = torch_gradient(weight, value)[1]


class Weight:
    """A Keras-style view of a torch tensor of a layer (a Parameter or a buffer).

    Args:
        tensor: the torch Parameter or buffer.
        name: the Keras name (``"kernel"``, ``"bias"``, ...).
        path: ``"layer_name/name"``.
        to_keras: maps the torch tensor to Keras's layout (a view); None for the same.
        from_keras: the inverse of ``to_keras``.

    Example:
        >>> layer = K.layers.Dense(4)
        >>> _ = layer(torch.ones(2, 3))
        >>> kernel = layer.weights[0]
        >>> kernel.name, kernel.shape, tuple(layer.linear.weight.shape)
        ('kernel', (3, 4), (4, 3))
        >>> kernel.assign(np.ones((3, 4)))
        >>> float(layer.linear.weight.detach().sum())
        12.0
    """

    def __init__(
        self,
        tensor: Tensor,
        name: str,
        path: str,
        to_keras: _Layout | None = None,
        from_keras: _Layout | None = None,
    ) -> None:
        self.tensor = tensor
        self.name = name
        self.path = path
        self._to_keras = to_keras
        self._from_keras = from_keras

    @property
    def value(self) -> Tensor:
        """The tensor in Keras's layout: the torch tensor itself when the layouts agree, else
        a :class:`KerasLayoutView` of it (gradients flow; its ``.grad`` is in Keras's layout)."""
        if self._to_keras is None:
            return self.tensor
        view = self._to_keras(self.tensor).as_subclass(KerasLayoutView)
        view._kerasish_weight = self
        return view

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape in Keras's layout."""
        return tuple(self.value.shape)

    @property
    def dtype(self) -> torch.dtype:
        """The torch dtype."""
        return self.tensor.dtype

    @property
    def trainable(self) -> bool:
        """Whether the optimizer updates it (a Parameter with ``requires_grad``)."""
        return isinstance(self.tensor, nn.Parameter) and self.tensor.requires_grad

    def numpy(self) -> np.ndarray:
        """A NumPy copy in Keras's layout."""
        return self.value.detach().cpu().numpy().copy()

    def assign(self, value: Any) -> None:
        """Copy ``value`` (Keras's layout; an array, a tensor, a Weight) into the tensor.

        Raises:
            ValueError: when the shape differs from ``self.shape``.
        """
        if isinstance(value, Weight):
            value = value.value
        new = torch.as_tensor(np.asarray(value) if not isinstance(value, Tensor) else value)
        if tuple(new.shape) != self.shape:
            raise ValueError(
                f"Expected a value of shape {self.shape} for weight {self.path!r}. "
                f"Received: value.shape={tuple(new.shape)}"
            )
        new = new.to(device=self.tensor.device, dtype=self.tensor.dtype)
        with torch.no_grad():
            self.tensor.copy_(new if self._from_keras is None else self._from_keras(new))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __repr__(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        return f"<Weight path={self.path}, shape={self.shape}, dtype={dtype}>"


def torch_gradient(variable: Any, grad: Any) -> tuple[Tensor, Tensor | None, str]:
    """``(parameter, gradient in the parameter's layout, name)`` of a variable and its gradient.

    Args:
        variable: a :class:`Weight`, a weight's ``value``, or a torch tensor.
        grad: the gradient in the variable's layout (Keras's for a weight), or None.

    Returns:
        The torch tensor, the gradient (a tensor shaped, typed and placed like it; None for
        None) and the variable's path (its shape for a plain tensor).

    Raises:
        TypeError: when ``variable`` is not one of those.
        ValueError: when the gradient's shape differs from the variable's.

    Example:
        >>> layer = K.layers.Dense(1)
        >>> _ = layer(torch.ones(2, 4))
        >>> param, g, name = torch_gradient(layer.trainable_weights[0], torch.ones(4, 1))
        >>> tuple(g.shape), name.endswith("/kernel")
        ((1, 4), True)
    """
    if isinstance(variable, KerasLayoutView):
        variable = variable._kerasish_weight
    if isinstance(variable, Weight):
        param, name, shape, back = (
            variable.tensor,
            variable.path,
            variable.shape,
            variable._from_keras,
        )
    elif isinstance(variable, Tensor):
        param, shape, back = variable, tuple(variable.shape), None
        name = f"tensor of shape {shape}"
    else:
        raise TypeError(
            "Expected a variable: a kerasish weight, its .value or a torch tensor. "
            f"Received: variable={variable!r}"
        )
    if grad is None:
        return param, None, name
    grad = grad.value if isinstance(grad, Weight) else grad
    grad = torch.as_tensor(grad).detach()
    if type(grad) is not Tensor:
        grad = grad.as_subclass(Tensor)
    if tuple(grad.shape) != shape:
        raise ValueError(
            f"Expected a gradient of shape {shape} for {name}. "
            f"Received: grad.shape={tuple(grad.shape)}"
        )
    grad = grad.to(device=param.device, dtype=param.dtype)
    if back is not None:
        grad = back(grad)
    if grad.stride() != param.stride():
        grad = torch.empty_like(param).copy_(grad)
    return param, grad, name


def keras_name(owner: nn.Module, torch_name: str) -> str:
    """The Keras name of ``owner``'s tensor ``torch_name`` inside a kerasish layer.

    Example:
        >>> keras_name(nn.BatchNorm1d(3), "running_var")
        'moving_variance'
    """
    if isinstance(owner, nn.modules.batchnorm._BatchNorm):
        return _BN_NAMES.get(torch_name, torch_name)
    if isinstance(owner, nn.RNNBase):
        return _RNN_NAMES.get(torch_name, torch_name)
    if isinstance(owner, nn.Embedding) and torch_name == "weight":
        return "embeddings"
    if torch_name == "weight" and isinstance(owner, nn.modules.conv._ConvNd):
        return "depthwise_kernel" if _is_depthwise(owner) else "kernel"
    if torch_name == "weight" and isinstance(owner, nn.Linear):
        return "kernel"
    if torch_name == "weight" and _is_affine(owner):
        return "gamma"
    if torch_name == "bias" and _is_affine(owner):
        return "beta"
    return torch_name


def _is_affine(owner: nn.Module) -> bool:
    return isinstance(owner, nn.LayerNorm | nn.GroupNorm) or type(owner).__name__ == "_LazyAffine"


def _is_depthwise(conv: nn.Module) -> bool:
    return conv.groups > 1 and conv.weight.shape[1] == 1 and not conv.transposed


def _transpose(t: Tensor) -> Tensor:
    return t.t()


def _layouts(owner: nn.Module, torch_name: str, tensor: Tensor) -> tuple[Any, Any]:
    """``(to_keras, from_keras)`` for a tensor of a module inside a kerasish layer."""
    if isinstance(owner, nn.Linear | nn.RNNBase) and tensor.ndim == 2:
        return _transpose, _transpose
    if not (isinstance(owner, nn.modules.conv._ConvNd) and torch_name == "weight"):
        return None, None
    rank = tensor.ndim - 2
    to_axes = (*range(2, 2 + rank), 1, 0)
    from_axes = (rank + 1, rank, *range(rank))
    if _is_depthwise(owner):
        groups = owner.groups
        return (
            lambda t: t.permute(to_axes).reshape(*t.shape[2:], groups, t.shape[0] // groups),
            lambda k: k.reshape(*k.shape[:rank], 1, -1).permute(from_axes),
        )
    if owner.groups == 1:
        return (lambda t: t.permute(to_axes)), (lambda k: k.permute(from_axes))
    return None, None


def _own_tensors(module: nn.Module) -> Iterator[tuple[str, Tensor]]:
    yield from module.named_parameters(recurse=False)
    persistent = module._buffers.keys() - module._non_persistent_buffers_set
    for name, buf in module.named_buffers(recurse=False):
        if name in persistent and buf.is_floating_point():
            yield name, buf


def collect(module: nn.Module, name_of: Callable[[nn.Module], str | None]) -> list[Weight]:
    """The weights of ``module``'s tree in Keras's order, lazy ones left out.

    Args:
        module: the root.
        name_of: a module's Keras layer name, None for modules that are not kerasish layers;
            a layer is "built in" when its class lives in ``kerasish.layers``.

    Returns:
        One :class:`Weight` per distinct tensor.
    """
    out: list[Weight] = []
    seen: set[int] = set()

    def visit(m: nn.Module, layer: str, builtin: bool, prefix: str) -> None:
        own = name_of(m)
        if own is not None:
            layer, builtin, prefix = own, type(m).__module__ == "kerasish.layers", ""
        names = getattr(m, "keras_weight_names", None)
        names = names() if callable(names) else {}
        for torch_name, tensor in _own_tensors(m):
            if is_lazy(tensor) or id(tensor) in seen:
                continue
            seen.add(id(tensor))
            if builtin:
                name, layout = keras_name(m, torch_name), _layouts(m, torch_name, tensor)
            else:
                name, layout = names.get(torch_name, prefix + torch_name), (None, None)
            out.append(Weight(tensor, name, f"{layer}/{name}", *layout))
        for child_name, child in m.named_children():
            visit(child, layer, builtin, f"{prefix}{child_name}.")

    visit(module, name_of(module) or type(module).__name__.lower(), False, "")
    return out


def _layer_name(module: nn.Module) -> str | None:
    return module.name if isinstance(module, WeightsAPI) else None


class WeightsAPI:
    """Keras's weights API of a layer or model: views, NumPy get/set, ``count_params``.

    Needs ``name`` and ``built`` from the class it is mixed into (``KerasLayerAPI``).

    Example:
        >>> layer = K.layers.BatchNormalization()
        >>> _ = layer(torch.randn(4, 3))
        >>> [w.name for w in layer.non_trainable_weights], layer.count_params()
        (['moving_mean', 'moving_variance'], 12)
    """

    @property
    def weights(self) -> list[Weight]:
        """Every weight (trainable, then non-trainable per layer, then sublayers), as views.

        Read-only, as Keras's: a parameter of a kerasish layer or model can't be named
        ``weights``.
        """
        return collect(self, _layer_name)

    def get_weight(self, name: str) -> Weight | None:
        """This layer's own weight named ``name`` (``"kernel"``, ...), None if it has none yet.

        Example:
            >>> layer = K.layers.Dense(2)
            >>> _ = layer(torch.ones(1, 5))
            >>> layer.get_weight("kernel").shape
            (5, 2)
        """
        path = f"{_layer_name(self)}/{name}"
        return next((w for w in self.weight_views() if w.path == path), None)

    def weight_views(self) -> list[Weight]:
        """The weights as :class:`Weight` views (what ``weights`` returns by default)."""
        return collect(self, _layer_name)

    @property
    def trainable_weights(self) -> list[Weight]:
        """The weights the optimizer updates."""
        return [w for w in self.weight_views() if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Weight]:
        """The other weights (frozen parameters, BatchNorm's moving statistics, buffers)."""
        return [w for w in self.weight_views() if not w.trainable]

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays, in Keras's order and layouts (a Dense kernel is
        ``(in, out)``; see :mod:`kerasish.layers.weights`)."""
        return [w.numpy() for w in self.weight_views()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set the weights from arrays in :meth:`get_weights`'s order and layouts.

        Raises:
            ValueError: when the number of arrays or a shape differs.
        """
        own = self.weight_views()
        if len(weights) != len(own):
            raise ValueError(
                f"Expected {len(own)} weight arrays for {self.name!r} "
                f"({[w.path for w in own]}). Received: {len(weights)} arrays"
            )
        for w, value in zip(own, weights):
            w.assign(value)

    def count_params(self) -> int:
        """The number of weight values (trainable and not), as Keras counts them.

        Raises:
            ValueError: when the layer is not built yet.
        """
        if not self.built:
            raise ValueError(
                f"Expected a built layer to count its parameters. Received: {self.name!r}, "
                "not built yet: call it on a batch (or build it) first"
            )
        return sum(w.tensor.numel() for w in self.weight_views())
