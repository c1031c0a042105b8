"""A dynamic graph: an RNN whose forward loops over each sequence's own length, in fit().

The lecture's point about PyTorch: each forward pass builds a new graph, so plain Python
control flow decides its shape. Here every batch is a list of sequences of different lengths,
with no padding and no masks: ``forward`` runs the recurrent cell once per time step of each
sequence (a 3-step sequence makes a 3-step graph, a 12-step one a 12-step graph) and
classifies the last hidden state. The task: is the sum of the sequence's numbers positive?

Batches come from a ``DataLoader`` whose ``collate_fn`` keeps the sequences as a list (the
default collate would try to stack them and fail). A batch is ``((sequences,), labels)``:
kerasish calls the model with a tuple's items as positional arguments, so the one-item tuple
hands the whole list to ``forward`` as its single argument.

    python examples/dynamic_graph.py [--epochs 8] [--samples 512]
"""

from __future__ import annotations

import argparse

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

import kerasish as K

MIN_LEN, MAX_LEN = 2, 12


class SignOfSum(Dataset):
    """``samples`` sequences of 1-d numbers, lengths drawn from [MIN_LEN, MAX_LEN]; the label
    is 1 when the sequence sums to more than 0, else 0."""

    def __init__(self, samples: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        lengths = torch.randint(MIN_LEN, MAX_LEN + 1, (samples,), generator=g).tolist()
        self.sequences = [torch.randn(n, 1, generator=g) for n in lengths]
        self.labels = [int(s.sum() > 0) for s in self.sequences]

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.sequences[i], self.labels[i]


def collate(
    items: list[tuple[torch.Tensor, int]],
) -> tuple[tuple[list[torch.Tensor]], torch.Tensor]:
    """Keep the sequences as a list (no padding); stack only the labels."""
    sequences = [seq for seq, _ in items]
    labels = torch.tensor([label for _, label in items])
    return (sequences,), labels


class VariableLengthRNN(K.Model):
    """An Elman RNN cell unrolled in Python, as many steps as each sequence is long."""

    def __init__(self, input_size: int = 1, hidden: int = 16, classes: int = 2):
        super().__init__()
        self.hidden = hidden
        self.cell = nn.RNNCell(input_size, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, sequences: list[torch.Tensor]) -> torch.Tensor:
        finals = []
        for seq in sequences:
            h = seq.new_zeros(1, self.hidden)
            for x_t in seq:  # data-dependent trip count: this sequence's own length
                h = self.cell(x_t.unsqueeze(0), h)
            finals.append(h)
        return self.head(torch.cat(finals))


def loaders(samples: int, batch_size: int = 32) -> tuple[DataLoader, DataLoader]:
    """Training and validation loaders of variable-length sequences."""
    train = DataLoader(SignOfSum(samples, seed=0), batch_size, shuffle=True, collate_fn=collate)
    val = DataLoader(SignOfSum(samples // 4, seed=1), batch_size, collate_fn=collate)
    return train, val


def main(argv: list[str] | None = None) -> tuple[VariableLengthRNN, dict[str, list[float]]]:
    """Train the RNN; return the model and its history."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--samples", type=int, default=512)
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args(argv)

    K.utils.set_random_seed(0)
    train, val = loaders(args.samples)
    model = VariableLengthRNN()
    model.compile(
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-2),
        loss="cross_entropy",
        metrics=["accuracy"],
        device="cpu",
    )
    history = model.fit(train, validation_data=val, epochs=args.epochs, verbose=args.verbose)
    print(
        f"loss {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}, "
        f"validation accuracy {history.history['val_accuracy'][-1]:.4f}"
    )
    return model, history.history


if __name__ == "__main__":
    main()
