"""The data checks before the first step: one forward of each feed's small first batch, the
compiled loss on it, and the targets of whole in-memory arrays.

``check_feed`` runs before any parameter or optimizer changes (``fit``, ``evaluate``,
``predict`` and ``train_on_batch`` call it). It

- forwards the first (up to 2) samples in eval mode without gradients, with a pre-hook on
  every submodule for that one call only (nothing is added to the per-batch path), so an error
  inside ``forward`` is re-raised naming the batch shapes and the module (path and class)
  that failed, as Keras does;
- decides the input cast: inputs go to the model as they are; when that forward fails on a
  dtype, floating inputs of another dtype (float16/float64/bfloat16), then integer inputs too,
  are cast to the model's floating dtype (its first floating parameter's). The first cast
  under which the forward succeeds is applied to every batch of the feed (``feed.input_cast``).
  So integer token ids stay integer for an ``Embedding``, and uint8 images or float64 tables
  reach a ``Conv2d``/``Linear`` as float32;
- calls the compiled loss on that batch (a loss of another signature raises here, not after a
  step), checks its targets, and for in-memory arrays checks the targets of every sample in one
  vectorised pass (labels in ``[0, C)`` for sparse crossentropy, C from the model's output);
- checks that ``class_weight`` names the classes of a non-array source's first batch.

``first_step_check`` runs the same checks inside the loop's first real step instead, so a
loop over N batches calls ``forward`` N times (as Keras, whose build forward runs only on
symbolic tensors, for unbuilt models: here a model with lazy layers keeps the 2-sample
forward that gives them their shapes). A ``FirstStep`` hooks that step's forward (the error
names the layer; targets and loss are checked right after the forward, before any
backward); when the step fails it restores the buffers and calls its ``undo`` (fit drops the
optimizer it just built), and on a dtype error it finds the input cast as above and runs the
step again on the cast batch.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NoReturn

import torch
from torch.nn.parameter import is_lazy

from kerasish import data as data_lib
from kerasish import losses, tree
from kerasish.training.compile import loss_pairs, named_outputs
from kerasish.training.steps import output_logits

__all__ = [
    "check_feed",
    "check_validation_source",
    "model_dtype",
    "describe",
    "first_step_check",
    "FirstStep",
]

_DTYPE_ERROR = re.compile(
    r"dtype|scalar type|type \(|Long|Float|Half|Double|Byte|BFloat16|Int\b|same type", re.I
)
_CPU = torch.device("cpu")


def check_feed(
    model: Any, feed: Any, name: str, *, targets: bool = True, class_weight: Any = None
) -> tuple[Any, Any]:
    """Check ``feed``'s first batch against the model (see the module docstring).

    Args:
        model: a compiled kerasish model.
        feed: a ``kerasish.data.Feed``; its ``input_cast`` is set when the model needs one.
        name: the data's argument name for messages ("x", "validation_data").
        targets: check the compiled loss and the targets (fit/evaluate), or not (predict).
        class_weight: fit's ``class_weight`` dict, checked against the batch's classes.

    Returns:
        ``(x, y_pred)``: the first batch's inputs (cast) and the model's outputs for them.

    Raises:
        ValueError / TypeError: "Expected …. Received: …", before anything changed.

    Example:
        >>> feed, _ = K.data.make_feed(x, y, batch_size=32, device=model.device,
        ...                            strategy=model.strategy)
        >>> xb, y_pred = check_feed(model, feed, "x")
        >>> tuple(y_pred.shape)
        (2, 10)
        >>> bad, _ = K.data.make_feed(x, y + 10, batch_size=32, device=model.device,
        ...                           strategy=model.strategy)
        >>> check_feed(model, bad, "x")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
            ...
        ValueError: Expected class labels in [0, 10) for sparse_categorical_crossentropy ...
    """
    x, y, sw = feed.peek()
    targets = _data_checks(model, feed, name, y, targets, class_weight)
    x, y_pred = checked_forward(model, feed, x, name)
    if targets:
        _check_outputs(model, feed, name, (x, y, sw), y_pred, whole=True)
    return x, y_pred


def _data_checks(
    model: Any, feed: Any, name: str, y: Any, targets: bool, class_weight: Any
) -> bool:
    """The checks that need no forward; whether the targets are to be checked."""
    if class_weight is not None and not isinstance(feed.source, data_lib.ArraySource):
        data_lib.check_class_coverage(class_weight, y, name)
    if not (targets and model.loss is not None and model.uses_compiled_loss()):
        return False
    if y is None:
        raise ValueError(
            f"Expected each batch of {name} to carry targets (x, y) for the compiled "
            f"loss. Received: batches without y"
        )
    return True


def _check_outputs(
    model: Any, feed: Any, name: str, batch: tuple, y_pred: Any, whole: bool
) -> None:
    """The targets (of all in-memory samples when ``whole``) and the loss on one batch."""
    x, y, sw = batch
    if not isinstance(model.loss, Mapping | list | tuple):
        y_pred = output_logits(y_pred)
    if whole and isinstance(feed.source, data_lib.ArraySource):
        _check_all_targets(model, feed.source, y_pred, name)
    else:
        _check_targets(model, y, y_pred, name)
    _check_loss(model, x, y, sw, y_pred, name)


def model_dtype(model: torch.nn.Module) -> torch.dtype:
    """The model's floating dtype: its first floating parameter's (or buffer's), else torch's
    default dtype.

    Example:
        >>> model_dtype(torch.nn.Linear(2, 1).double())
        torch.float64
    """
    for t in (*model.parameters(), *model.buffers()):
        if t.is_floating_point():
            return t.dtype
    return torch.get_default_dtype()


# ------------------------------------------------------------------ the checked first step
def first_step_check(
    model: Any,
    feed: Any,
    name: str,
    *,
    targets: bool = True,
    class_weight: Any = None,
) -> FirstStep | None:
    """A ``FirstStep`` for ``feed``'s first real step, or None where ``check_feed``'s own
    forward is needed: a distributed or ``jit_compile`` model, lazy layers (their shapes are
    needed before the optimizer and the callbacks start), or inputs that may need a cast
    over epochs of ``steps_per_epoch``.

    The checks that need no forward (targets present, ``class_weight`` classes) run now.

    Args:
        model, feed, name, targets, class_weight: as ``check_feed``.

    Raises:
        ValueError / TypeError: as ``check_feed``, for the checks that need no forward.

    Example:
        >>> feed, _ = K.data.make_feed(x, y, batch_size=32, device=model.device,
        ...                            strategy=model.strategy)
        >>> check = first_step_check(model, feed, "x")
        >>> tuple(check.x.shape)
        (2, 1, 8, 8)
    """
    x, y, _ = feed.peek()
    cfg = model.compile_config
    if (
        model.strategy.is_distributed
        or (cfg is not None and cfg.jit_compile)
        or any(is_lazy(p) for p in model.parameters())
        or (feed.default_steps is not None and data_lib.needs_cast(x, model_dtype(model), True))
    ):
        return None
    targets = _data_checks(model, feed, name, y, targets, class_weight)
    return FirstStep(model, feed, name, x, targets)


class FirstStep:
    """The first real step of a loop, checked as ``check_feed`` checks (see the module
    docstring). Call it with the step and the Feed's first ``(x, y, sample_weight)``.

    Attributes:
        x: the first (up to 2) samples of the feed's inputs (``model.example_input``).
        undo: None, or a callable run when the checked step fails (fit drops the optimizer
            it built for this fit, so a failed first step changes nothing).
        cast: the input cast the first batch needed (None when none).
    """

    def __init__(self, model: Any, feed: Any, name: str, x: Any, targets: bool):
        self.model, self.feed, self.name, self.x = model, feed, name, x
        self.targets = targets
        self.undo: Callable[[], None] | None = None
        self.cast: tuple[torch.dtype, bool] | None = None
        self._batch: tuple = ()
        self._seen = False
        self._depth = 0

    def __call__(self, step: Callable[[Any], Any], batch: tuple, pack: Any = None) -> Any:
        """``step(pack(batch))`` (``step(batch)`` without ``pack``), checked."""
        buffers = {k: b.clone() for k, b in self.model.named_buffers()}
        try:
            return self._checked(step, batch, pack, buffers)
        except BaseException:
            _restore(self.model, buffers)
            if self.undo is not None:
                self.undo()
            raise

    def _checked(self, step: Callable[[Any], Any], batch: tuple, pack: Any, buffers: dict) -> Any:
        rng = _rng_state(self.model)
        try:
            try:
                return self._attempt(step, batch, pack, deep=False)
            except _Failure:  # run it again with every module hooked, to name the one failing
                _restore(self.model, buffers)
                _set_rng_state(rng)
                return self._attempt(step, batch, pack)
        except _Failure as failure:
            if not _is_dtype_error(failure.error):
                _reraise(failure, batch[0], self.name)
            xc, _ = checked_forward(self.model, self.feed, self.x, self.name)
            if self.feed.input_cast is None:
                _reraise(failure, batch[0], self.name)
            if self.model.example_input is self.x:  # fit's: the batch the model was built with
                self.model.example_input = xc
            self.cast, self.x = self.feed.input_cast, xc
            batch = data_lib.cast_batch(self.cast, batch)
            _restore(self.model, buffers)
            _set_rng_state(rng)  # the cast step draws what a step on cast data draws
            try:
                return self._attempt(step, batch, pack)
            except _Failure as again:
                _reraise(again, batch[0], self.name)
        except _Checked as checked:
            raise checked.error from checked.error.__cause__

    def rest(self, batches: Iterator[tuple]) -> Iterator[tuple]:
        """The loop's other batches, cast as the first one was."""
        if self.cast is None:
            return batches
        return map(functools.partial(data_lib.cast_batch, self.cast), batches)

    def _attempt(
        self, step: Callable[[Any], Any], batch: tuple, pack: Any, deep: bool = True
    ) -> Any:
        """One try of the step; ``deep`` hooks every submodule, so that a failure names the
        innermost module running (a first, shallow try hooks only the model: the check of
        its outputs, and whether the error came from inside its forward)."""
        model, stack = self.model, []
        self._batch, self._seen, self._depth = batch, False, 0
        handles = _hook_modules(model, stack) if deep else []
        handles.append(model.register_forward_pre_hook(self._enter_model))
        handles.append(model.register_forward_hook(self._leave_model))
        try:
            return step(batch if pack is None else pack(batch))
        except (_Checked, KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:  # noqa: BLE001 - re-raised with the layer that failed
            if not stack and not self._depth:
                raise  # not in forward: the step's own error
            path, module, args = stack[-1] if stack else ("", model, (batch[0],))
            raise _Failure(err, path, module, args) from err
        finally:
            for h in handles:
                h.remove()

    def _enter_model(self, module: Any, args: Any) -> None:
        self._depth += 1

    def _leave_model(self, module: Any, args: Any, output: Any) -> None:
        self._depth -= 1
        if self._seen or self._depth:
            return
        self._seen = True
        if self.targets:
            try:
                _check_outputs(self.model, self.feed, self.name, self._batch, output, True)
            except (ValueError, TypeError) as err:
                raise _Checked(err) from None


class _Checked(Exception):
    """A check's error raised from inside the first step's forward (re-raised as it is)."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def _reraise(failure: _Failure, x: Any, name: str) -> NoReturn:
    report = _report(failure, x, name)
    if report is failure.error:
        raise report
    raise report from failure.error


def _rng_state(model: Any) -> tuple[torch.Tensor, Any]:
    """The CPU generator's state, and the model's CUDA device's (None off CUDA)."""
    device = getattr(model, "device", None)
    on_cuda = isinstance(device, torch.device) and device.type == "cuda"
    return torch.get_rng_state(), (device, torch.cuda.get_rng_state(device)) if on_cuda else None


def _set_rng_state(state: tuple[torch.Tensor, Any]) -> None:
    cpu, cuda = state
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state(cuda[1], cuda[0])


def _restore(model: Any, buffers: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for k, b in model.named_buffers():
            if k in buffers and b.shape == buffers[k].shape:
                b.copy_(buffers[k])


# ------------------------------------------------------------------ the checked forward
def checked_forward(model: Any, feed: Any, x: Any, name: str) -> tuple[Any, Any]:
    """Forward ``x`` as it is, else cast (see the module docstring); set ``feed.input_cast``.

    Raises:
        ValueError / TypeError: (for a RuntimeError/IndexError, or a TypeError, in forward)
            naming the batch shapes and the module that failed; other exceptions keep their
            type and message and gain that as a note.
    """
    dtype = model_dtype(model)
    casts = [None] + [(dtype, i) for i in (False, True) if data_lib.needs_cast(x, dtype, i)]
    failures: list[_Failure] = []
    for cast in casts:
        xc = x if cast is None else data_lib.cast_inputs(x, *cast)
        try:
            y_pred = _traced_forward(model, xc)
        except _Failure as failure:
            failures.append(failure)
            if not _is_dtype_error(failure.error):
                break
            continue
        feed.input_cast = cast
        return xc, y_pred
    _reraise(_pick(failures), x, name)


class _Failure(Exception):
    """An exception inside the check forward, with the innermost module that was running."""

    def __init__(self, error: BaseException, path: str, module: Any, args: Any):
        super().__init__(str(error))
        self.error, self.path, self.module, self.args = error, path, module, args


def _traced_forward(model: Any, x: Any) -> Any:
    """One eval-mode, no-grad forward with a pre/post hook on each submodule (removed after)."""
    stack: list[tuple[str, Any, Any]] = []
    handles = _hook_modules(model, stack)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model.forward_batch(x)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # noqa: BLE001 - re-raised with the layer that failed
        path, module, args = stack[-1] if stack else ("", model, (x,))
        raise _Failure(err, path, module, args) from err
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()


def _hook_modules(model: Any, stack: list) -> list[Any]:
    handles = []
    for path, module in model.named_modules():
        if module is model:
            continue
        try:
            handles.append(module.register_forward_pre_hook(functools.partial(_enter, stack, path)))
            handles.append(module.register_forward_hook(functools.partial(_leave, stack)))
        except RuntimeError:  # e.g. a scripted module
            continue
    return handles


def _enter(stack: list, path: str, module: Any, args: Any) -> None:
    stack.append((path, module, args))


def _leave(stack: list, module: Any, args: Any, output: Any) -> None:
    if stack and stack[-1][1] is module:
        stack.pop()


def _is_dtype_error(err: BaseException) -> bool:
    return isinstance(err, RuntimeError) and bool(_DTYPE_ERROR.search(str(err)))


def _pick(failures: list[_Failure]) -> _Failure:
    """The failure to report: the last one that is not about dtypes (a cast revealed the real
    problem), else the first (the input as given)."""
    real = [f for f in failures if not _is_dtype_error(f.error)]
    return real[-1] if real else failures[0]


def _report(failure: _Failure, x: Any, name: str) -> BaseException:
    err, module = failure.error, failure.module
    where = f"{type(module).__name__} '{failure.path}'" if failure.path else type(module).__name__
    detail = (
        f"{name} batch {describe(x)}; {where} was called with {describe(failure.args)} and "
        f"raised {type(err).__name__}: {err}"
    )
    if isinstance(err, RuntimeError | IndexError | TypeError):
        kind = TypeError if isinstance(err, TypeError) else ValueError
        return kind(
            f"Expected {name} to fit the model (the error came from {where} on the first "
            f"batch, before training). Received: {detail}"
        )
    err.add_note(f"kerasish: on the first batch of {name}, before training: {detail}")
    return err


def describe(obj: Any) -> str:
    """Shapes and dtypes of a nested batch, for messages.

    Example:
        >>> describe((torch.zeros(2, 3), None))
        '(shape (2, 3) float32, None)'
    """
    if isinstance(obj, torch.Tensor):
        return f"shape {tuple(obj.shape)} {str(obj.dtype).replace('torch.', '')}"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        inner = ", ".join(describe(v) for v in obj)
        return f"({inner})" if len(obj) != 1 else describe(obj[0])
    return "None" if obj is None else type(obj).__name__


# ------------------------------------------------------------------ loss and targets
def _check_loss(model: Any, x: Any, y: Any, sw: Any, y_pred: Any, name: str) -> None:
    """Call the compiled loss on the first batch: a loss of another signature raises."""
    with torch.no_grad():
        try:
            model.compute_loss(x, y, y_pred, sw)
        except TypeError as err:
            raise TypeError(
                f"Expected the loss to be callable as loss(y_true, y_pred) and to return a "
                f"tensor. Received: loss={model.loss!r}, which raised TypeError: {err}"
            ) from err
        except (RuntimeError, KeyError, IndexError) as err:
            raise ValueError(
                f"Expected targets of {name} that the compiled loss accepts. Received: y "
                f"{describe(y)}, y_pred {describe(y_pred)}; the loss raised "
                f"{type(err).__name__}: {err}"
            ) from err


def _check_targets(model: Any, y: Any, y_pred: Any, name: str) -> None:
    if isinstance(model.loss, Mapping):
        y, y_pred = named_outputs(model, y), named_outputs(model, y_pred)
    try:
        pairs = loss_pairs(model.loss, y, y_pred)
    except (KeyError, IndexError, TypeError) as err:
        raise ValueError(
            f"Expected targets of {name} with an entry for each output's loss. Received: y "
            f"{describe(y)}, y_pred {describe(y_pred)} ({type(err).__name__}: {err})"
        ) from None
    for lo, yt, yp in pairs:
        try:
            losses.check_targets(lo, yt, yp)
        except ValueError as err:
            raise ValueError(f"{err} (in the targets of {name})") from None


def _check_all_targets(model: Any, source: Any, y_pred: Any, name: str) -> None:
    """The targets of every sample of in-memory data, against the first batch's outputs
    broadcast (a view, no copy) to the whole data: one vectorised pass per target array."""
    if source.y is None:
        return
    n = source.num_samples
    y_all = tree.map_structure(_on_cpu, source.y)
    full = tree.map_structure(functools.partial(_expand, n), y_pred)
    _check_targets(model, y_all, full, name)


def _on_cpu(t: Any) -> Any:
    # One copy before training when the data lives on an accelerator; the label range
    # check reads tensors on the CPU only.
    return t.to(_CPU) if isinstance(t, torch.Tensor) and t.device.type != "cpu" else t


def _expand(n: int, p: Any) -> Any:
    if not isinstance(p, torch.Tensor) or p.dim() == 0:
        return p
    return _on_cpu(p[:1]).expand(n, *p.shape[1:])


# ------------------------------------------------------------------ one-shot generators
def check_validation_source(val: Any, plan: dict[str, Any], validates: Any) -> None:
    """Raise when a one-shot generator is to validate more than once without
    ``validation_steps``: it runs out after the first validation (which would log 0).

    Args:
        val: the validation feed (or None).
        plan: fit's arguments (``initial_epoch``, ``epochs``, ``validation_freq``,
            ``validation_steps``).
        validates: ``(epoch, validation_freq) -> bool``, whether that epoch validates.
    """
    source = None if val is None else val.source
    if not isinstance(source, data_lib.IteratorSource) or source.reiterable:
        return
    if plan["validation_steps"] is not None:
        return
    epochs = range(plan["initial_epoch"], plan["epochs"])
    count = sum(1 for e in epochs if validates(e, plan["validation_freq"]))
    if count > 1:
        raise ValueError(
            "Expected validation_data that can be iterated once per validation (a list, "
            "Dataset, DataLoader or other re-iterable), or validation_steps with an endless "
            "generator: a one-shot generator runs out after the first validation. Received: "
            f"a one-shot {type(source.iterable).__name__} for {count} validations, "
            "validation_steps=None"
        )
