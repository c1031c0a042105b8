"""Export for inference: ONNX, TorchScript or ``torch.export``, checked against the model; or a
Hugging Face ``save_pretrained`` directory (``format="hf"``).

``export_model`` (also ``model.export``) traces the model in eval mode on an example batch
(given, made from an ``input_shape``, or the batch the model was built with), writes the file
atomically and, with ``verify``, reloads it (onnxruntime for ONNX) and compares its outputs
with the model's. ``format="hf"`` writes a wrapped ``transformers`` model as the directory
``from_pretrained`` loads (``hf.save_pretrained``).

Example:
    >>> import onnxruntime
    >>> export_model(model, "model.onnx", input_shape=(None, 1, 8, 8))
    >>> session = onnxruntime.InferenceSession("model.onnx")
    >>> session.run(None, {session.get_inputs()[0].name: x_test[:4]})[0].shape
    (4, 10)
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import os
import warnings
from typing import Any

import torch

from kerasish import tree
from kerasish.saving.atomic import atomic_path
from kerasish.saving.hf import save_pretrained

__all__ = ["EXPORT_FORMATS", "export_model"]

EXPORT_FORMATS = ("onnx", "torchscript", "torch_export", "hf")
_EXPORT_EXTRA = "pip install 'kerasish[export]'"
_RTOL, _ATOL = 1e-3, 1e-4


def export_model(
    model: Any,
    filepath: str | os.PathLike,
    format: str = "onnx",
    *,
    example: Any = None,
    input_shape: Any = None,
    dynamic_batch: bool = True,
    verify: bool = True,
    opset_version: int | None = None,
) -> None:
    """Export ``model`` for inference to ONNX, TorchScript or ``torch.export``, or a wrapped
    Hugging Face model as a ``save_pretrained`` directory.

    The model is exported in eval mode from an example batch. With ``verify`` the file is
    reloaded (onnxruntime for ONNX) and its outputs compared with the model's. Also
    ``model.export(filepath, format)``.

    Args:
        model: the model.
        filepath: the output file (``.onnx``, ``.pt`` for TorchScript, ``.pt2`` for
            torch.export; a directory for "hf").
        format: "onnx" (needs ``pip install 'kerasish[export]'``), "torchscript" (deprecated by
            PyTorch, traced), "torch_export", or "hf" (``model.save_pretrained(filepath)``: a
            ``config.json`` and ``model.safetensors`` that ``from_pretrained`` loads; the other
            arguments do not apply).
        example: an input batch: a tensor, an array, or a tuple of them for several inputs.
        input_shape: instead of ``example``, a shape such as ``(None, 3, 32, 32)`` (random
            values; ``None`` becomes 2). Without either, the batch the model was built with
            (``model.example_input``).
        dynamic_batch: let the batch dimension vary (where the model allows it).
        verify: reload the file and compare outputs (rtol 1e-3, atol 1e-4).
        opset_version: the ONNX opset (default: torch's).

    Raises:
        ValueError: for an unknown format or no example.
        ImportError: naming the ``export`` extra when onnx/onnxruntime are missing (the ``hf``
            extra for "hf").
        TypeError: for "hf" when the model does not wrap a transformers ``PreTrainedModel``.
        RuntimeError: when the reloaded export does not match the model.

    Example:
        >>> import os
        >>> model.export("model.onnx", input_shape=(None, 1, 8, 8), verify=True)
        >>> os.path.exists("model.onnx")
        True
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(
            f"Expected format to be one of {list(EXPORT_FORMATS)}. Received: format={format!r}"
        )
    path = os.fspath(filepath)
    if format == "hf":
        save_pretrained(model, path)
        return
    args = _example_args(model, example, input_shape)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            expected = _flat_outputs(model(*args))
        got = _EXPORTERS[format](model, args, path, dynamic_batch, verify, opset_version)
        if verify:
            _check_close(list(got), expected, format)
    finally:
        model.train(was_training)


# --------------------------------------------------------------------------- the example


def _example_args(model: Any, example: Any, input_shape: Any) -> tuple[torch.Tensor, ...]:
    if example is None and input_shape is not None:
        with torch.random.fork_rng(devices=[]):
            example = _random_batch(input_shape)
    if example is None:
        example = getattr(model, "example_input", None)
    if example is None:
        raise ValueError(
            "Expected an example batch or an input_shape to export with (or a model that was "
            "built or fit). Received: example=None, input_shape=None"
        )
    args = tuple(example) if isinstance(example, list | tuple) else (example,)
    if not all(isinstance(a, torch.Tensor) or hasattr(a, "__array__") for a in args):
        raise TypeError(
            "Expected example to be a tensor, a NumPy array, or a tuple of them (positional "
            f"inputs). Received: example of type {type(example).__name__}"
        )
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    return tuple(torch.as_tensor(a).to(device) for a in args)


def _random_batch(shape: Any) -> Any:
    """Random values of ``shape`` (batch first, None read as 2); a list or dict of shapes
    gives a list or dict of batches."""
    if isinstance(shape, dict):
        return {k: _random_batch(v) for k, v in shape.items()}
    if isinstance(shape, list) and shape and isinstance(shape[0], tuple | list):
        return [_random_batch(s) for s in shape]
    if (
        not isinstance(shape, tuple | list)
        or not all(d is None or (isinstance(d, int) and d > 0) for d in shape)
        or len(shape) < 1
    ):
        raise ValueError(
            f"Expected input_shape to be a tuple like (None, 64), batch dimension "
            f"first. Received: input_shape={shape!r}"
        )
    return torch.rand(*[2 if d is None else d for d in shape])


def _flat_outputs(out: Any) -> list[torch.Tensor]:
    return [t for t in tree.flatten(out) if isinstance(t, torch.Tensor)]


def _check_close(got: list[Any], expected: list[torch.Tensor], fmt: str) -> None:
    if len(got) != len(expected):
        raise RuntimeError(
            f"Expected the {fmt} export to give {len(expected)} outputs. Received: {len(got)}"
        )
    for g, e in zip(got, expected):
        g = torch.as_tensor(g).detach().cpu().float()
        e = e.detach().cpu().float()
        if g.shape != e.shape or not torch.allclose(g, e, rtol=_RTOL, atol=_ATOL):
            diff = (g - e).abs().max().item() if g.shape == e.shape else "shapes differ"
            raise RuntimeError(
                f"Expected the {fmt} export to match the model within rtol={_RTOL}, "
                f"atol={_ATOL}. Received: max abs difference {diff} (shapes {tuple(g.shape)} "
                f"vs {tuple(e.shape)})"
            )


# --------------------------------------------------------------------------- the formats


def _require(module: str, what: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{what} needs the {module} package: {_EXPORT_EXTRA}") from e


def _dynamic_shapes(model: Any, args: tuple[torch.Tensor, ...], dynamic_batch: bool) -> Any:
    if not dynamic_batch:
        return None
    specs = tuple({0: torch.export.Dim.AUTO} for _ in args)
    params = inspect.signature(model.forward).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return (specs,)  # forward(*inputs) (a functional model): one spec for the *args tuple
    return specs


def _export_onnx(model, args, path, dynamic_batch, verify, opset_version) -> Any:
    _require("onnx", "Exporting to ONNX")
    _require("onnxscript", "Exporting to ONNX")
    ort = _require("onnxruntime", "Checking the ONNX export") if verify else None
    with atomic_path(path) as tmp, contextlib.redirect_stdout(io.StringIO()):
        torch.onnx.export(
            model,
            args,
            tmp,
            dynamo=True,
            external_data=False,
            dynamic_shapes=_dynamic_shapes(model, args, dynamic_batch),
            opset_version=opset_version,
            verbose=False,
        )
    if ort is not None:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        feeds = {i.name: a.detach().cpu().numpy() for i, a in zip(session.get_inputs(), args)}
        return session.run(None, feeds)
    return None


def _export_torchscript(model, args, path, dynamic_batch, verify, opset_version) -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.jit.*deprecated", category=FutureWarning)
        traced = torch.jit.trace(model, args, check_trace=False, strict=False)
        with atomic_path(path) as tmp:
            torch.jit.save(traced, tmp)
        if verify:
            return _flat_outputs(torch.jit.load(path, map_location=args[0].device)(*args))
    return None


def _export_torch_export(model, args, path, dynamic_batch, verify, opset_version) -> Any:
    program = torch.export.export(
        model, args, dynamic_shapes=_dynamic_shapes(model, args, dynamic_batch)
    )
    with atomic_path(path) as tmp:
        torch.export.save(program, tmp)
    if verify:
        return _flat_outputs(torch.export.load(path).module()(*args))
    return None


_EXPORTERS = {
    "onnx": _export_onnx,
    "torchscript": _export_torchscript,
    "torch_export": _export_torch_export,
}
