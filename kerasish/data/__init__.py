"""kerasish's data: any input (arrays | tensors | dicts | Dataset | DataLoader | PyDataset |
Hugging Face dataset | generator) -> the batches a loop iterates.

- ``arrays``: in-memory data to tensors, sample counts, rows by index.
- ``sources``: ``ArraySource`` / ``LoaderSource`` / ``IteratorSource`` yield ``(x, y, sw)``.
- ``adapters``: ``adapt`` picks the source for an input.
- ``py_dataset``: ``PyDataset`` (Keras's batches-by-index dataset, thread/process workers).
- ``hf``: Hugging Face ``datasets`` as map-style rows; ``from_hf`` adds a collator.
- ``cursor``: ``PassCursor``, epochs of ``steps_per_epoch`` continuing a pass (as Keras).
- ``split``: ``validation_split`` / ``validation_data``.
- ``checks``: one-pass checks before training (class/sample weights, NaN/inf) and input casts.
- ``sharding``: per-rank DataLoader samplers; ``prefetch``: the CUDA side-stream prefetcher.
- ``feed``: ``Feed``, a source as the loop iterates it (device, class weights, channels-last).
- ``make``: ``make_sources`` (fit) and ``make_feed`` (evaluate/predict) build the feeds.
"""

from kerasish.data.adapters import adapt, check_batch_size, yields_batches
from kerasish.data.arrays import check_lengths, first_dim, is_arraylike, nbytes, take, to_tensor
from kerasish.data.checks import (
    cast_batch,
    cast_inputs,
    check_class_coverage,
    check_class_weight,
    check_finite_weights,
    labels_of,
    needs_cast,
    warn_non_finite,
)
from kerasish.data.cursor import PassCursor
from kerasish.data.feed import Feed, class_weight_table, keep_on_device, to_channels_last, weigh
from kerasish.data.hf import HFData, from_hf, is_hf_dataset, is_hf_dataset_dict
from kerasish.data.make import check_arrays, loader_kwargs, make_feed, make_sources
from kerasish.data.prefetch import CudaPrefetcher
from kerasish.data.py_dataset import PyDataset, PyDatasetSource, is_py_dataset
from kerasish.data.sharding import ShardSampler, with_sampler
from kerasish.data.sources import (
    ArraySource,
    Batch,
    IteratorSource,
    LoaderSource,
    peek,
    unpack,
    warn_exhausted,
)
from kerasish.data.split import split_validation, unpack_validation

__all__ = [
    "check_batch_size",
    "yields_batches",
    "PassCursor",
    "HFData",
    "from_hf",
    "is_hf_dataset",
    "is_hf_dataset_dict",
    "PyDataset",
    "PyDatasetSource",
    "is_py_dataset",
    "adapt",
    "ArraySource",
    "Batch",
    "cast_batch",
    "cast_inputs",
    "check_arrays",
    "check_class_coverage",
    "check_class_weight",
    "check_finite_weights",
    "check_lengths",
    "class_weight_table",
    "CudaPrefetcher",
    "Feed",
    "first_dim",
    "is_arraylike",
    "IteratorSource",
    "keep_on_device",
    "labels_of",
    "loader_kwargs",
    "LoaderSource",
    "make_feed",
    "make_sources",
    "nbytes",
    "needs_cast",
    "peek",
    "ShardSampler",
    "split_validation",
    "take",
    "to_channels_last",
    "to_tensor",
    "unpack",
    "unpack_validation",
    "warn_exhausted",
    "warn_non_finite",
    "weigh",
    "with_sampler",
]
