"""The lecture's last two PyTorch points as examples: a hand-written autograd ReLU and a
dynamic graph, each checked against torch and trained with fit()."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

import kerasish as K

EXAMPLES = Path(__file__).parent.parent / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def relu_ex():
    return load("custom_autograd_relu")


@pytest.fixture(scope="module")
def dyn_ex():
    return load("dynamic_graph")


# ---------------------------------------------------------------- (a) custom autograd ReLU
def test_my_relu_passes_gradcheck_in_float64(relu_ex):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 5, dtype=torch.float64, generator=g)
    x = x + 0.1 * x.sign()  # keep finite differences away from the kink at 0
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(relu_ex.MyReLU.apply, (x,), eps=1e-6, atol=1e-8)


def test_my_relu_forward_and_gradients_equal_torch_relu(relu_ex):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 100, generator=g)
    x[0, :10] = 0.0  # exact zeros: the subgradient torch.relu picks there is 0
    upstream = torch.randn(32, 100, generator=g)
    ours_in, ref_in = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours, ref = relu_ex.MyReLU.apply(ours_in), torch.relu(ref_in)
    ours.backward(upstream)
    ref.backward(upstream)
    assert torch.equal(ours, ref)
    assert torch.equal(ours_in.grad, ref_in.grad)


def _graph_nodes(out: torch.Tensor) -> list[str]:
    """The type names of every node of ``out``'s autograd graph (each node once)."""
    names, seen, stack = [], set(), [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names.append(type(fn).__name__)
        stack.extend(f for f, _ in fn.next_functions)
    return names


def test_model_backpropagates_through_my_relu(relu_ex):
    names = _graph_nodes(relu_ex.build_model(hidden=16)(torch.randn(4, 1, 8, 8)))
    assert "MyReLUBackward" in names
    assert not any(n.startswith(("ReluBackward", "ThresholdBackward")) for n in names)


def test_fit_with_my_relu_follows_fit_with_torch_relu(relu_ex):
    (x, y), _ = K.datasets.digits.load_data()
    x, y = x[:256], y[:256]
    ours = relu_ex.build_model(hidden=32)
    layers = [copy.deepcopy(m) for m in ours.layers]  # the same weights...
    ref = K.Sequential([nn.ReLU() if isinstance(m, relu_ex.ReLULayer) else m for m in layers])
    assert sum(isinstance(m, nn.ReLU) for m in ref.layers) == 1  # ...and torch's own ReLU
    for model in (ours, ref):
        K.utils.set_random_seed(0)
        model.compile(optimizer="sgd", loss="cross_entropy", device="cpu")
        model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


def test_custom_relu_example_trains(relu_ex, capsys):
    result = relu_ex.main(["--epochs", "3", "--verbose", "0"])
    assert result["loss_after"] < 0.5 * result["loss_before"]
    assert result["accuracy"] > 0.8
    assert "training loss with the hand-written ReLU" in capsys.readouterr().out


# ---------------------------------------------------------------- (b) dynamic graph
def _count_cell_calls(model: nn.Module, sequences: list[torch.Tensor]) -> tuple[int, torch.Tensor]:
    calls = []
    handle = model.cell.register_forward_hook(lambda *_: calls.append(1))
    try:
        out = model(sequences)
    finally:
        handle.remove()
    return len(calls), out


def test_each_input_runs_as_many_steps_as_it_is_long(dyn_ex):
    model = dyn_ex.VariableLengthRNN()
    short, long = torch.randn(3, 1), torch.randn(7, 1)
    assert _count_cell_calls(model, [short])[0] == 3
    assert _count_cell_calls(model, [long])[0] == 7
    steps, out = _count_cell_calls(model, [short, long])
    assert steps == 10 and out.shape == (2, 2)
    # and the graph autograd records is as deep as the input is long: one tanh per step
    assert _graph_nodes(model([short])).count("TanhBackward0") == 3
    assert _graph_nodes(model([long])).count("TanhBackward0") == 7


def test_collate_keeps_variable_length_sequences(dyn_ex):
    data = dyn_ex.SignOfSum(40, seed=0)
    (seqs,), labels = next(iter(DataLoader(data, batch_size=8, collate_fn=dyn_ex.collate)))
    assert len(seqs) == 8 and labels.shape == (8,)
    assert len({len(s) for s in seqs}) > 1  # really of different lengths, unpadded
    assert all(int(s.sum() > 0) == int(t) for s, t in zip(seqs, labels, strict=True))


def test_dynamic_graph_example_trains_with_fit(dyn_ex, capsys):
    model, history = dyn_ex.main(["--epochs", "3", "--samples", "256", "--verbose", "0"])
    assert history["loss"][-1] < 0.75 * history["loss"][0]
    assert history["val_accuracy"][-1] > 0.75
    assert "validation accuracy" in capsys.readouterr().out


def test_evaluate_loss_is_the_per_sample_mean_over_ragged_batches(dyn_ex):
    K.utils.set_random_seed(0)
    model = dyn_ex.VariableLengthRNN()
    model.compile(optimizer="adam", loss="cross_entropy", device="cpu")
    val = DataLoader(dyn_ex.SignOfSum(64, seed=3), batch_size=32, collate_fn=dyn_ex.collate)
    ours = model.evaluate(val, verbose=0)
    with torch.no_grad():
        losses = [F.cross_entropy(model(*x), y, reduction="none") for x, y in val]
    assert ours == pytest.approx(torch.cat(losses).mean().item(), rel=1e-6)
