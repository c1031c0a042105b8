"""The Keras layer API that ``kerasish.layers.Layer`` and ``kerasish.Model`` share.

``KerasLayerAPI`` is mixed into both. It gives:

- Keras-style subclassing: define ``build(input_shape)`` and ``call(inputs, training=None,
  mask=None)`` instead of ``forward`` (a plain ``forward`` keeps working). The first call runs
  ``build`` with the input's shape (a tuple with the batch axis) and sets ``built``;
  ``add_weight`` creates weights; NumPy inputs are converted to tensors.
- ``model(x, training=False)``: the layer and everything in it run in inference mode
  (BatchNorm on its moving statistics, no dropout) for that call only, and a ``call``
  that takes ``training`` receives it (``None`` becomes the module's ``training`` flag).
- ``add_loss`` and ``losses``: this layer's and its sublayers' losses of the last call
  (reset at each outermost call, as Keras does), plus the weight regularization terms.
- masks: ``compute_mask(inputs, mask)``; a layer that produces a mask (``Masking``,
  ``Embedding(mask_zero=True)``) attaches it to its output as ``_keras_mask`` and the next
  layers that take ``mask`` receive it (those with ``supports_masking`` pass it on).
- the weights API: ``weights``, ``trainable_weights``, ``non_trainable_weights`` (see
  :mod:`kerasish.layers.weights`), ``get_weights``/``set_weights`` (NumPy, Keras's order and
  layouts), ``count_params``, and Keras's automatic ``name`` (``dense``, ``dense_1``, ...).

Symbolic inputs (the functional API) are not handled here: set ``SYMBOLIC_CALL`` to a
callable ``(layer, args, kwargs) -> output``; a call any of whose positional arguments (or
items of a list/tuple argument) has the attribute ``__kerasish_symbolic__`` goes to it.

Plain tensor calls without keyword arguments take a fast path (one check, then
``nn.Module.__call__``) while no model in the process uses masks or ``add_loss``.
"""

from __future__ import annotations

import inspect
import re
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.parameter import UninitializedParameter
from torch.optim.optimizer import register_optimizer_step_post_hook

from kerasish import initializers
from kerasish.layers import weights as weights_lib
from kerasish.layers.naming import to_snake_case, unique_name

__all__ = ["KerasLayerAPI", "SYMBOLIC_CALL", "default_build", "mark_masking"]

SYMBOLIC_CALL: Callable[[nn.Module, tuple, dict], Any] | None = None
"""Set by the functional API: called as ``SYMBOLIC_CALL(layer, args, kwargs)`` for symbolic
inputs (objects with ``__kerasish_symbolic__``)."""


class _State:
    """Process-wide switches that keep the plain call path free of the masking/losses work."""

    masking = False  # a mask-producing layer exists
    losses = False  # add_loss was called or a regularizer attached
    depth = 0  # nesting of slow-path calls (0: outermost)
    slow = False  # masking or losses


_STATE = _State()
_CONSTRAINED: weakref.WeakSet = weakref.WeakSet()
_HOOK: list[Any] = []
_PARAMS: dict[type, tuple[bool, bool, bool]] = {}


def mark_masking() -> None:
    """Called by mask-producing layers at construction: calls start looking for masks."""
    _STATE.masking = _STATE.slow = True


def _mark_losses() -> None:
    _STATE.losses = _STATE.slow = True


def _is_symbolic(args: tuple) -> bool:
    for a in args:
        items = a if isinstance(a, list | tuple) else (a,)
        if any(hasattr(i, "__kerasish_symbolic__") for i in items):
            return True
    return False


def _call_params(cls: type) -> tuple[bool, bool, bool]:
    """(uses ``call``, its function takes ``training``, takes ``mask``) for a class.

    A ``call(..., **kwargs)`` takes both; a ``forward(*args, **kwargs)`` neither (it may hand
    them to a torch module that does not).
    """
    if cls not in _PARAMS:
        uses_call = cls.forward is KerasLayerAPI.forward
        fn = cls.call if uses_call else cls.forward
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):
            params = {}
        var_kw = uses_call and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        _PARAMS[cls] = (uses_call, "training" in params or var_kw, "mask" in params or var_kw)
    return _PARAMS[cls]


def _has_custom_build(cls: type) -> bool:
    return not getattr(cls.build, "_kerasish_default", False)


def default_build(fn: Callable) -> Callable:
    """Mark ``fn`` as a class's default ``build`` (not a Keras-style one to run at the first
    call)."""
    fn._kerasish_default = True
    return fn


def _shape_of(x: Any) -> Any:
    if isinstance(x, Tensor):
        return tuple(x.shape)
    if isinstance(x, list | tuple):
        return [_shape_of(v) for v in x]
    if isinstance(x, dict):
        return {k: _shape_of(v) for k, v in x.items()}
    return None


def _to_tensor(x: Any, device: torch.device | None) -> Any:
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x))
        if t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        return t if device is None else t.to(device)
    if isinstance(x, list | tuple) and any(isinstance(v, np.ndarray) for v in x):
        return type(x)(_to_tensor(v, device) for v in x)
    return x


def _cast(x: Any, dtype: torch.dtype) -> Any:
    if isinstance(x, Tensor) and x.is_floating_point() and x.dtype != dtype:
        return x.to(dtype)
    return x


def _first_mask(x: Any) -> Any:
    if isinstance(x, list | tuple):
        masks = [getattr(v, "_keras_mask", None) for v in x]
        return None if all(m is None for m in masks) else masks
    return getattr(x, "_keras_mask", None)


def _attach_mask(out: Any, mask: Any) -> None:
    if isinstance(out, Tensor):
        out._keras_mask = mask
    elif isinstance(out, list | tuple) and isinstance(mask, list | tuple):
        for o, m in zip(out, mask):
            _attach_mask(o, m)
    elif isinstance(out, list | tuple) and out and isinstance(out[0], Tensor):
        out[0]._keras_mask = mask


def _constraint_hook(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
    """After every optimizer step, project the constrained weights that it updated."""
    if not len(_CONSTRAINED):
        return
    ids = {id(p) for group in optimizer.param_groups for p in group["params"]}
    for layer in list(_CONSTRAINED):
        layer.apply_constraints(ids)


class KerasLayerAPI(weights_lib.WeightsAPI):
    """Keras's layer API for ``nn.Module`` subclasses (see the module docstring).

    Example:
        >>> class Scale(K.layers.Layer):
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
        ...     def call(self, inputs):
        ...         self.add_loss(self.w.sum())
        ...         return inputs * self.w
        >>> layer = Scale()
        >>> layer(np.ones((2, 3))).shape, layer.built, float(layer.losses[0])
        (torch.Size([2, 3]), True, 3.0)
        >>> [w.name for w in layer.weights], layer.count_params()
        (['w'], 3)
    """

    _keras_built = False
    _keras_slow = False  # this instance needs the slow path (build, hooks, activity loss)
    _own_losses: list = []
    _activity_regularizer: Any = None
    supports_masking = False

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # The fast path first: one plain tensor (not a KerasTensor, a Tensor subclass), no
        # keyword arguments, nothing in the process needing masks or layer losses.
        if (
            len(args) == 1
            and not kwargs
            and type(args[0]) is Tensor
            and not self._keras_slow
            and not _STATE.slow
        ):
            return super().__call__(*args)
        if SYMBOLIC_CALL is not None and _is_symbolic(args):
            return SYMBOLIC_CALL(self, args, kwargs)
        if not kwargs and args and isinstance(args[0], Tensor) and not self._keras_slow:
            if not _STATE.slow:
                return super().__call__(*args)
        return self._keras_call(args, kwargs)

    def _keras_call(self, args: tuple, kwargs: dict) -> Any:
        device = self._weights_device()
        args = tuple(_to_tensor(a, device) for a in args)
        dtype = self.__dict__.get("_fixed_dtype")
        if dtype is not None:
            args = tuple(_cast(a, dtype) for a in args)
        track = _STATE.losses
        if track:
            if _STATE.depth == 0:
                self._clear_losses()
            _STATE.depth += 1
        try:
            return self._run(args, kwargs)
        finally:
            if track:
                _STATE.depth -= 1

    def _run(self, args: tuple, kwargs: dict) -> Any:
        uses_call, takes_training, takes_mask = _call_params(type(self))
        if not self._keras_built and _has_custom_build(type(self)) and args:
            self._build_for(args[0])
        explicit = "training" in kwargs
        training = kwargs.pop("training", None)
        if takes_training and uses_call:
            kwargs["training"] = self.training if training is None else bool(training)
        elif takes_training and explicit:
            kwargs["training"] = training
        mask = kwargs.get("mask")
        if _STATE.masking and mask is None and args:
            mask = _first_mask(args[0])
            if mask is not None and takes_mask:
                kwargs["mask"] = mask
        out = self._call_in_mode(training, args, kwargs)
        self._after_call(args, out, mask)
        return out

    def _call_in_mode(self, training: Any, args: tuple, kwargs: dict) -> Any:
        if training is None or bool(training) == self.training:
            return super().__call__(*args, **kwargs)
        modes = [(m, m.training) for m in self.modules()]
        self.train(bool(training))
        try:
            return super().__call__(*args, **kwargs)
        finally:
            for m, mode in modes:
                m.training = mode

    def _after_call(self, args: tuple, out: Any, mask: Any) -> None:
        if _STATE.masking and args:
            out_mask = self.compute_mask(args[0], mask)
            if out_mask is not None:
                _attach_mask(out, out_mask)
        regularizer = self._activity_regularizer
        if regularizer is not None:
            outputs = out if isinstance(out, list | tuple) else [out]
            for o in outputs:
                if isinstance(o, Tensor):  # divided by the batch size, as Keras 3
                    self.add_loss(regularizer(o) / (o.shape[0] if o.ndim else 1))
        if self.__dict__.get("_pending_inits"):
            self.apply_initializers()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        uses_call, takes_training, _ = _call_params(cls)
        cls._keras_slow = _has_custom_build(cls) or (uses_call and takes_training)

    def _refresh_slow(self) -> None:
        uses_call, takes_training, _ = _call_params(type(self))
        self.__dict__["_keras_slow"] = bool(
            (uses_call and takes_training)
            or (not self._keras_built and _has_custom_build(type(self)))
            or self._activity_regularizer is not None
            or self.__dict__.get("_fixed_dtype") is not None
            or self.__dict__.get("_pending_inits")
        )

    def _build_for(self, first: Any) -> None:
        self.__dict__["_build_device"] = first.device if isinstance(first, Tensor) else None
        try:
            self.build(_shape_of(first))
        finally:
            self.__dict__["_build_device"] = None
        self._keras_built = True
        self._refresh_slow()

    def _weights_device(self) -> torch.device | None:
        for p in self.parameters():
            if not isinstance(p, UninitializedParameter):
                return p.device
        return None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Runs :meth:`call` (Keras-style subclasses define ``call`` instead of ``forward``)."""
        return self.call(*args, **kwargs)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """The layer's computation; define it (or ``forward``) in a subclass.

        Raises:
            NotImplementedError: when neither ``call`` nor ``forward`` is defined.
        """
        raise NotImplementedError(
            f"Expected {type(self).__name__} to define call(inputs) or forward(inputs). "
            "Received: a class with neither"
        )

    @default_build
    def build(self, input_shape: Any = None) -> None:
        """Create the weights from the input's shape (with the batch axis); sets ``built``.

        Args:
            input_shape: e.g. ``(None, 8)``; a list of shapes for several inputs.
        """
        self._keras_built = True

    @property
    def built(self) -> bool:
        """Whether the layer is built: ``build`` ran (or ``built`` was set), or, for layers
        without their own ``build``, no parameter is still lazy."""
        if self._keras_built:
            return True
        if _has_custom_build(type(self)):
            return False
        return not any(isinstance(p, UninitializedParameter) for p in self.parameters())

    @built.setter
    def built(self, value: bool) -> None:
        self._keras_built = bool(value)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The output mask: ``mask`` passed on when ``supports_masking``, else None."""
        return mask if self.supports_masking else None

    # ------------------------------------------------------------------ names
    @property
    def name(self) -> str:
        """The layer's name: given, or Keras's automatic one (``dense``, ``dense_1``, ...)."""
        name = self.__dict__.get("_keras_name")
        if name is None:
            name = unique_name(to_snake_case(type(self).__name__))
            self.__dict__["_keras_name"] = name
        return name

    @name.setter
    def name(self, value: str | None) -> None:
        if value is None:
            return  # keeps the name (the automatic one is made at the first read)
        if not (isinstance(value, str) and value):
            raise ValueError(f"Expected name to be a non-empty string. Received: name={value!r}")
        self.__dict__["_keras_name"] = value

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        shape: Sequence[int] | None = None,
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        name: str | None = None,
    ) -> Tensor:
        """Create a weight, registered on the module, and return it.

        A trainable weight is an ``nn.Parameter``; a non-trainable one a buffer (saved with
        the state dict, never given to the optimizer). Assigning the result to an attribute
        (``self.kernel = self.add_weight(...)``) registers it under that attribute's name.

        Args:
            shape: the shape (``()`` for a scalar).
            initializer: a ``kerasish.initializers.get`` identifier; None means
                ``"glorot_uniform"`` for floating dtypes and ``"zeros"`` otherwise.
            dtype: a dtype or its name (the default float dtype when None).
            trainable: whether the optimizer updates it.
            regularizer: a callable of the weight whose value is added to ``losses``.
            constraint: a callable applied to the weight after each optimizer step.
            name: the Keras name (``"variable"`` when None).

        Returns:
            The ``nn.Parameter`` (or buffer tensor).
        """
        shape = tuple(shape or ())
        init = initializers.get(initializer if initializer is not None else "glorot_uniform")
        if initializer is None and dtype is not None and "int" in str(dtype):
            init = initializers.get("zeros")
        value = torch.as_tensor(init(shape, dtype=dtype, device=self.__dict__.get("_build_device")))
        torch_name = self._free_name(name or "variable")
        keras_names = self.__dict__.setdefault("_added_weights", {})
        if trainable:
            tensor: Tensor = nn.Parameter(value)
            self.register_parameter(torch_name, tensor)
        else:
            tensor = value
            self.register_buffer(torch_name, tensor)
        keras_names[torch_name] = name
        if regularizer is not None:
            self.add_weight_regularizer(torch_name, regularizer)
        if constraint is not None:
            self.add_weight_constraint(torch_name, constraint)
        return tensor

    def _free_name(self, name: str) -> str:
        base = re.sub(r"\W", "_", name) or "variable"
        base = base if base[0].isalpha() or base[0] == "_" else f"w_{base}"
        candidate, i = base, 0
        while hasattr(self, candidate):
            i += 1
            candidate = f"{base}_{i}"
        return candidate

    def __setattr__(self, name: str, value: Any) -> None:
        added = self.__dict__.get("_added_weights")
        if added and isinstance(value, Tensor):
            old = self._registered_name(value)
            if old is not None and old != name and not hasattr(type(self), name):
                self._rename_weight(old, name, value)
                return
        super().__setattr__(name, value)

    def _registered_name(self, value: Tensor) -> str | None:
        for store in (self._parameters, self._buffers):
            for key, t in store.items():
                if t is value and key in self._added_weights:
                    return key
        return None

    def _rename_weight(self, old: str, new: str, value: Tensor) -> None:
        added = self._added_weights
        keras = added.pop(old)
        added[new] = keras if keras is not None else new
        if old in self._parameters:
            del self._parameters[old]
            self.register_parameter(new, value)
        else:
            del self._buffers[old]
            self.register_buffer(new, value)
        for key in ("_regularized", "_constraints"):
            entries = self.__dict__.get(key, [])
            self.__dict__[key] = [(f, new if n == old else n) for f, n in entries]

    def keras_weight_names(self) -> dict[str, str]:
        """Torch attribute name -> Keras name of the weights made by :meth:`add_weight`."""
        return {k: v or "variable" for k, v in self.__dict__.get("_added_weights", {}).items()}

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss: Tensor) -> None:
        """Add a scalar tensor to the training loss (collected in ``losses``)."""
        if not _STATE.losses:
            _mark_losses()
        if "_own_losses" not in self.__dict__:
            self.__dict__["_own_losses"] = []
        self.__dict__["_own_losses"].append(loss)

    def _clear_losses(self) -> None:
        for m in self.modules():
            if m.__dict__.get("_own_losses"):
                m.__dict__["_own_losses"] = []

    @property
    def losses(self) -> list[Tensor]:
        """The losses of this layer and its sublayers: those ``add_loss`` added in the last
        call, then the regularization terms of the weights (computed now)."""
        if not _STATE.losses:
            return []
        out: list[Tensor] = []
        for m in self.modules():
            out.extend(m.__dict__.get("_own_losses", ()))
        for m in self.modules():
            for regularizer, weight in m.__dict__.get("_regularized", ()):
                view = _weight_view(m, weight)
                if view is not None:
                    out.append(regularizer(view.value))
        return out

    # ------------------------------------------------------------------ configuration
    @property
    def activity_regularizer(self) -> Any:
        """A callable of each output whose value ``losses`` collects (None for none)."""
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value: Any) -> None:
        self.__dict__["_activity_regularizer"] = value
        if value is not None:
            _mark_losses()
        self._refresh_slow()

    def set_weight_initializer(self, name: str, initializer: Callable) -> None:
        """Initialize the weight named ``name`` (``"kernel"``, ``"bias"``, ...) with
        ``initializer(shape, dtype=, device=)`` (in Keras's layout) once it exists: now, or
        as soon as the lazy module holding it is built, before the first computation."""
        self.__dict__.setdefault("_pending_inits", []).append((initializer, name))
        if self.apply_initializers():
            return
        for m in self.modules():
            if any(isinstance(p, UninitializedParameter) for p in m.parameters(recurse=False)):
                hook = _InitHook(self)
                hook.key = m.register_forward_pre_hook(hook).id
        self._refresh_slow()

    def apply_initializers(self) -> bool:
        """Run the pending initializers of the weights that exist; True when none is left."""
        pending = self.__dict__.get("_pending_inits", [])
        left = []
        for initializer, name in pending:
            view = _weight_view(self, name)
            if view is None:
                left.append((initializer, name))
                continue
            view.assign(initializer(view.shape, dtype=view.dtype, device=view.tensor.device))
        self.__dict__["_pending_inits"] = left
        if not left:
            self._refresh_slow()
        return not left

    def add_weight_regularizer(self, name: str, regularizer: Callable) -> None:
        """Add ``regularizer(weight)`` of the weight named ``name`` to ``losses``."""
        self.__dict__.setdefault("_regularized", []).append((regularizer, name))
        _mark_losses()

    def add_weight_constraint(self, name: str, constraint: Callable) -> None:
        """Replace the weight named ``name`` by ``constraint(weight)`` after each optimizer step."""
        self.__dict__.setdefault("_constraints", []).append((constraint, name))
        _register_constrained(self)

    def set_dtype(self, dtype: torch.dtype) -> None:
        """Keep the weights in ``dtype`` and cast floating inputs to it (Keras's ``dtype=``)."""
        self.__dict__["_fixed_dtype"] = dtype
        self.to(dtype=dtype)
        self._refresh_slow()

    @property
    def fixed_dtype(self) -> torch.dtype | None:
        """The dtype given with ``dtype=`` (None: the weights follow the first input)."""
        return self.__dict__.get("_fixed_dtype")

    def apply_constraints(self, only: set[int] | None = None) -> None:
        """Apply the weights' constraints now (after every optimizer step, automatically).

        Args:
            only: ids of the tensors to constrain (all when None).
        """
        with torch.no_grad():
            for m in self.modules():
                for constraint, weight in m.__dict__.get("_constraints", ()):
                    view = _weight_view(m, weight)
                    if view is not None and (only is None or id(view.tensor) in only):
                        view.assign(constraint(view.value))


class _InitHook:
    """Forward pre-hook of a lazy module: runs its layer's pending initializers once the
    module's own lazy hook (registered before) has created the weights."""

    key: int | None = None

    def __init__(self, layer: KerasLayerAPI) -> None:
        self.layer = layer

    def __call__(self, module: nn.Module, args: Any) -> None:
        if self.layer.apply_initializers() or not any(
            isinstance(p, UninitializedParameter) for p in module.parameters(recurse=False)
        ):
            module._forward_pre_hooks.pop(self.key, None)


def _weight_view(module: nn.Module, key: str) -> weights_lib.Weight | None:
    """The weight registered as ``key`` by ``add_weight``, else the layer's own weight whose
    Keras name is ``key`` (None while it does not exist)."""
    tensor = module._parameters.get(key, module._buffers.get(key))
    if tensor is not None and not isinstance(tensor, UninitializedParameter):
        name = module.keras_weight_names().get(key, key)
        return weights_lib.Weight(tensor, name, f"{module.name}/{name}")
    return module.get_weight(key)


def _register_constrained(layer: nn.Module) -> None:
    _CONSTRAINED.add(layer)
    if not _HOOK:
        _HOOK.append(register_optimizer_step_post_hook(_constraint_hook))
