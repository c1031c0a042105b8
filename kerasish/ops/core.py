"""Keras's ``keras.ops`` core: tensor conversion, dtypes, control flow, slicing and scatter.

Inputs may be torch tensors, NumPy arrays or Python numbers/lists; outputs are torch tensors.
A NumPy array or Python value meeting a tensor is placed on that tensor's device. Dtypes are
torch's (Python floats become ``torch.get_default_dtype()``, Python ints ``int64``); a
``dtype`` argument takes a ``torch.dtype`` or a Keras name (``"float32"``, ``"int32"``, ...).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "cast",
    "cond",
    "dtype",
    "map",
    "scan",
    "switch",
    "convert_to_numpy",
    "convert_to_tensor",
    "fori_loop",
    "is_tensor",
    "scatter",
    "scatter_update",
    "shape",
    "slice",
    "slice_update",
    "standardize_dtype",
    "stop_gradient",
    "tensors_like",
    "vectorized_map",
    "while_loop",
]

_NAMES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "uint8": torch.uint8,
    "uint16": torch.uint16,
    "uint32": torch.uint32,
    "uint64": torch.uint64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
    "float": torch.float32,
    "int": torch.int64,
    "half": torch.float16,
    "double": torch.float64,
}


def standardize_dtype(dtype: Any) -> torch.dtype | None:
    """A ``torch.dtype`` for a Keras dtype name, a NumPy dtype or a ``torch.dtype``.

    Args:
        dtype: ``None`` (returned as is), a ``torch.dtype``, a name such as ``"float32"``
            or a NumPy dtype / scalar type.

    Returns:
        The ``torch.dtype``, or ``None`` for ``None``.

    Raises:
        ValueError: for an unknown dtype.

    Example:
        >>> standardize_dtype("int32")
        torch.int32
        >>> standardize_dtype(np.float64)
        torch.float64
    """
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    if hasattr(dtype, "name") and not isinstance(dtype, str):  # np.dtype
        dtype = dtype.name
    elif isinstance(dtype, type) and issubclass(dtype, np.generic):
        dtype = np.dtype(dtype).name
    elif dtype is float or dtype is int or dtype is bool:
        dtype = dtype.__name__
    name = str(dtype).removeprefix("torch.")
    if name not in _NAMES:
        raise ValueError(
            f"Expected a dtype such as 'float32', 'int32' or a torch.dtype. Received: dtype={dtype!r}"
        )
    return _NAMES[name]


def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor (Keras's backend tensor).

    Args:
        x: anything.

    Returns:
        True for a ``torch.Tensor``.

    Example:
        >>> is_tensor(torch.ones(2)), is_tensor(np.ones(2))
        (True, False)
    """
    return isinstance(x, Tensor)


def convert_to_tensor(x: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Convert a tensor, NumPy array or Python value to a torch tensor.

    Args:
        x: the value.
        dtype: the dtype wanted (cast when it differs); ``None`` keeps or infers it.
        device: where to put it (a torch extension; Keras has no such argument).

    Returns:
        A ``torch.Tensor`` (``x`` itself when nothing changes).

    Example:
        >>> convert_to_tensor([1.0, 2.0])
        tensor([1., 2.])
        >>> convert_to_tensor(np.arange(3), dtype="float32")
        tensor([0., 1., 2.])
    """
    dtype = standardize_dtype(dtype)
    if isinstance(x, Tensor):
        return x.to(device=device, dtype=dtype) if (dtype or device) else x
    if isinstance(x, np.ndarray | np.generic):
        return torch.as_tensor(np.asarray(x), device=device).to(dtype=dtype)
    return torch.as_tensor(x, dtype=dtype, device=device)


def tensors_like(*xs: Any) -> list[Tensor]:
    """Convert values to tensors, placing non-tensors on the device of the first tensor.

    Args:
        *xs: tensors, arrays or Python values.

    Returns:
        A list of tensors, one per value.

    Example:
        >>> [t.tolist() for t in tensors_like(torch.ones(2), 3)]
        [[1.0, 1.0], 3]
    """
    device = next((x.device for x in xs if isinstance(x, Tensor)), None)
    return [convert_to_tensor(x, device=device) for x in xs]


def convert_to_numpy(x: Any) -> np.ndarray:
    """A NumPy array with ``x``'s values (copied off the device, detached).

    Args:
        x: a tensor, array or Python value.

    Returns:
        A ``np.ndarray``.

    Example:
        >>> convert_to_numpy(torch.tensor([1, 2]))
        array([1, 2])
    """
    if isinstance(x, Tensor):
        x = x.detach().cpu()
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    return np.asarray(x)


def cast(x: Any, dtype: Any) -> Tensor:
    """Cast ``x`` to ``dtype``.

    Args:
        x: a tensor, array or Python value.
        dtype: a ``torch.dtype`` or Keras name.

    Returns:
        The tensor in ``dtype``.

    Example:
        >>> cast([1.7, -1.7], "int32")
        tensor([ 1, -1], dtype=torch.int32)
    """
    return convert_to_tensor(x).to(standardize_dtype(dtype))


def shape(x: Any) -> tuple[int, ...]:
    """The shape of ``x`` as a tuple of ints.

    Args:
        x: a tensor, array or Python value.

    Returns:
        The shape.

    Example:
        >>> shape(torch.zeros(2, 3))
        (2, 3)
    """
    return tuple(x.shape) if hasattr(x, "shape") else tuple(np.shape(x))


def stop_gradient(variable: Any) -> Tensor:
    """``variable`` detached from the autograd graph.

    Args:
        variable: a tensor.

    Returns:
        The detached tensor.

    Example:
        >>> stop_gradient(torch.ones(1, requires_grad=True)).requires_grad
        False
    """
    return convert_to_tensor(variable).detach()


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """``true_fn()`` if ``pred`` else ``false_fn()`` (eager: reads ``pred`` on the host).

    Args:
        pred: a boolean (or one-element tensor).
        true_fn: called when ``pred`` is true.
        false_fn: called otherwise.

    Returns:
        The result of the function called.

    Example:
        >>> cond(torch.tensor(True), lambda: 1, lambda: 2)
        1
    """
    return true_fn() if bool(pred) else false_fn()


def while_loop(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    maximum_iterations: int | None = None,
) -> Any:
    """Run ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``, as Keras does.

    Args:
        cond: the condition on the loop variables.
        body: returns the next loop variables (same structure).
        loop_vars: a tuple/list of values, or one value.
        maximum_iterations: an optional bound on the number of iterations.

    Returns:
        The final loop variables, in the structure given.

    Example:
        >>> while_loop(lambda i: i < 10, lambda i: (i + 3,), (0,))
        (12,)
    """
    is_tuple = isinstance(loop_vars, tuple | list)
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    i = 0
    while bool(cond(*state)) and (maximum_iterations is None or i < maximum_iterations):
        out = body(*state)
        state = tuple(out) if is_tuple else (out,)
        i += 1
    return state if is_tuple else state[0]


def fori_loop(lower: int, upper: int, body_fun: Callable[[int, Any], Any], init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``.

    Args:
        lower: first index.
        upper: one past the last index.
        body_fun: the step.
        init_val: the starting value.

    Returns:
        The final value.

    Example:
        >>> fori_loop(0, 4, lambda i, v: v + i, 0)
        6
    """
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    """Map ``function`` over the first axis of ``elements`` (``torch.vmap``).

    Args:
        function: a function of one slice.
        elements: a tensor (or a structure of tensors sharing their first axis).

    Returns:
        The stacked results.

    Example:
        >>> vectorized_map(lambda v: v.sum(), torch.ones(3, 2))
        tensor([2., 2., 2.])
    """
    return torch.vmap(function)(elements)


def _slices(start_indices: Sequence[Any], sizes: Sequence[int]) -> tuple[Any, ...]:
    return tuple(builtins.slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, sizes))


def slice(inputs: Any, start_indices: Sequence[Any], shape: Sequence[int]) -> Tensor:  # noqa: A001
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices``.

    Args:
        inputs: a tensor.
        start_indices: one start per axis.
        shape: the block's size per axis.

    Returns:
        The block (a view).

    Example:
        >>> slice(torch.arange(10).reshape(2, 5), (0, 1), (2, 2))
        tensor([[1, 2],
                [6, 7]])
    """
    return convert_to_tensor(inputs)[_slices(start_indices, shape)]


def slice_update(inputs: Any, start_indices: Sequence[Any], updates: Any) -> Tensor:
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    Args:
        inputs: a tensor.
        start_indices: one start per axis.
        updates: the new block.

    Returns:
        The updated copy.

    Example:
        >>> slice_update(torch.zeros(2, 3), (1, 1), torch.ones(1, 2))
        tensor([[0., 0., 0.],
                [0., 1., 1.]])
    """
    inputs, updates = tensors_like(inputs, updates)
    out = inputs.clone()
    out[_slices(start_indices, updates.shape)] = updates.to(out.dtype)
    return out


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> Tensor:
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (Keras's ``scatter``).

    Args:
        indices: ``(N, k)`` integer indices into the first ``k`` axes.
        values: ``N`` values (or slices); repeated indices add up.
        shape: the output shape.

    Returns:
        The new tensor.

    Example:
        >>> scatter([[0, 1], [1, 0]], [5.0, 7.0], (2, 2))
        tensor([[0., 5.],
                [7., 0.]])
    """
    values, indices = tensors_like(values, indices)
    out = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    out.index_put_(tuple(indices.long().T), values, accumulate=True)
    return out


def scatter_update(inputs: Any, indices: Any, updates: Any) -> Tensor:
    """A copy of ``inputs`` with ``updates`` written at ``indices`` (Keras's ``scatter_update``).

    Args:
        inputs: a tensor.
        indices: ``(N, k)`` integer indices into the first ``k`` axes.
        updates: ``N`` values (or slices).

    Returns:
        The updated copy.

    Example:
        >>> scatter_update(torch.zeros(2, 2), [[0, 0], [1, 1]], [1.0, 2.0])
        tensor([[1., 0.],
                [0., 2.]])
    """
    inputs, indices, updates = tensors_like(inputs, indices, updates)
    out = inputs.clone()
    out[tuple(indices.long().T)] = updates.to(out.dtype)
    return out


def dtype(x: Any) -> str:
    """The Keras name of ``x``'s dtype (``"float32"``, ``"int64"``, ...).

    Args:
        x: a tensor, array or Python value.

    Returns:
        The name.

    Example:
        >>> dtype(torch.zeros(1, dtype=torch.int32))
        'int32'
    """
    return str(convert_to_tensor(x).dtype).removeprefix("torch.")


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """``branches[index](*operands)``, ``index`` clamped to the branches (eager).

    Args:
        index: an int (or one-element tensor).
        branches: the functions.
        *operands: their arguments.

    Returns:
        The result of the branch called.

    Example:
        >>> switch(5, [lambda x: x + 1, lambda x: x * 10], 2)
        20
    """
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return branches[i](*operands)


def map(f: Callable[[Any], Any], xs: Any) -> Any:  # noqa: A001
    """``f`` applied to each slice of ``xs`` along the first axis, results stacked.

    Args:
        f: a function of one slice, returning a tensor.
        xs: a tensor.

    Returns:
        The stacked results.

    Example:
        >>> map(lambda v: v.sum(), torch.ones(3, 2))
        tensor([2., 2., 2.])
    """
    return torch.stack([convert_to_tensor(f(x)) for x in convert_to_tensor(xs)])


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: int | None = None,
    reverse: bool = False,
    unroll: int = 1,
) -> tuple[Any, Any]:
    """Loop ``carry, y = f(carry, x)`` over ``xs``'s first axis, as ``jax.lax.scan``.

    Args:
        f: the step; returns the new carry and this step's output (or None).
        init: the first carry.
        xs: a tensor scanned along axis 0 (or None, with ``length``).
        length: the number of steps when ``xs`` is None.
        reverse: scan from the end (the outputs keep ``xs``' order).
        unroll: ignored (eager).

    Returns:
        ``(final carry, stacked outputs)`` (outputs None when ``f`` returns None).

    Example:
        >>> scan(lambda c, x: (c + x, c), 0, torch.tensor([1, 2, 3]))
        (tensor(6), tensor([0, 1, 3]))
    """
    n = length if xs is None else len(xs)
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, [None] * n
    for i in order:
        carry, ys[i] = f(carry, None if xs is None else xs[i])
    if n == 0 or ys[0] is None:
        return carry, None
    return carry, torch.stack([convert_to_tensor(y) for y in ys])
