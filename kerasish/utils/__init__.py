"""Utilities: seeding and freezing, and Keras's data helpers (``keras.utils`` names).

The one job of this package is re-exporting: ``general`` (seeding, freezing, notebooks),
``numerical`` (``to_categorical``, ``normalize``), ``sequences`` (``pad_sequences``,
``timeseries_dataset_from_array``), ``images`` (``load_img``, ``img_to_array``,
``array_to_img``, ``save_img``), ``datasets`` (``text_dataset_from_directory``,
``split_dataset``) and ``plotting`` (``plot_model``); also ``PyDataset`` (from
``kerasish.data``), ``unpack_x_y_sample_weight`` and ``clear_session`` (restarts Keras's automatic
layer names: ``dense``, ``dense_1``, ...).
"""

from kerasish.data.py_dataset import PyDataset
from kerasish.utils.datasets import split_dataset, text_dataset_from_directory
from kerasish.utils.general import (
    clear_session,
    freeze,
    image_dataset_from_directory,
    in_notebook,
    set_random_seed,
    unfreeze,
    unpack_x_y_sample_weight,
)
from kerasish.utils.images import array_to_img, img_to_array, load_img, save_img
from kerasish.utils.numerical import normalize, to_categorical
from kerasish.utils.plotting import model_to_dot, plot_model
from kerasish.utils.sequences import pad_sequences, timeseries_dataset_from_array

__all__ = [
    "set_random_seed",
    "freeze",
    "unfreeze",
    "image_dataset_from_directory",
    "in_notebook",
    "to_categorical",
    "normalize",
    "pad_sequences",
    "timeseries_dataset_from_array",
    "load_img",
    "img_to_array",
    "array_to_img",
    "save_img",
    "text_dataset_from_directory",
    "split_dataset",
    "model_to_dot",
    "plot_model",
    "unpack_x_y_sample_weight",
    "PyDataset",
    "clear_session",
]
