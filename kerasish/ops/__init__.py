"""Keras 3's ``keras.ops`` over torch: Keras's names and argument orders, torch tensors out.

Every op takes torch tensors, NumPy arrays or Python numbers and returns torch tensors
(non-tensors meeting a tensor go to its device). The submodules mirror Keras's:
``ops.numpy`` (NumPy-like), ``ops.nn``, ``ops.math``, ``ops.linalg``, ``ops.image`` and
``ops.core``; all their names are also here, as in Keras. ``data_format=None`` (conv, pooling,
resize) is :func:`kerasish.config.image_data_format`.

Differences from Keras: dtypes follow torch (Python ints become ``int64``, index results
are ``int64`` where Keras gives ``int32``, no ``floatx``); ops run eagerly (``cond`` and
``while_loop`` read their predicate on the host); there are no symbolic tensors or sparse
tensors (``one_hot(sparse=True)`` raises).

Not covered (yet; Keras 3.15's ``keras.ops`` names missing here): ``conv_transpose``,
``separable_conv``, ``adaptive_average_pool``/``adaptive_max_pool``, ``ctc_loss``/``ctc_decode``,
``sparsemax``, ``sparse_sigmoid``, ``depth_to_space``/``space_to_depth``, ``fold``/``unfold``,
``extract_sequences``, the signal ops (``fft``, ``fft2``, ``ifft2``, ``rfft``, ``irfft``,
``stft``, ``istft``, the ``bartlett``/``blackman``/``hamming``/``hanning``/``kaiser``
windows), ``correlate``, ``histogram``, ``argpartition``, ``cdist``, ``corrcoef``, ``kron``,
``vander``, ``trapezoid``, ``diagflat``, ``geomspace``/``logspace``, ``erfc``, ``polar``,
``nanargmax``/``nanargmin``/``nancumsum``/``nancumprod``/``nanmedian``/``nanquantile``/
``nanpercentile``, ``segment_min``/``segment_prod``, linalg's ``slogdet``/``logdet``/``pinv``/
``matrix_rank``/``lu_factor``/``solve_triangular``/``cholesky_inverse``, ``associative_scan``,
``custom_gradient``, ``jvp``, ``vectorize``, ``rearrange``, ``get_item``, ``saturate_cast``,
``view``/``view_as_complex``/``view_as_real``; ``image.affine_transform``,
``image.map_coordinates``, ``image.crop_images``/``pad_images``, ``extract_patches`` and the
colour conversions.
Random ops are :mod:`kerasish.random`.

Example:
    >>> from kerasish import ops
    >>> ops.sum(ops.square(np.array([1.0, 2.0])))
    tensor(5., dtype=torch.float64)
    >>> ops.conv(torch.ones(1, 4, 4, 1), torch.ones(2, 2, 1, 1), data_format="channels_last").shape
    torch.Size([1, 3, 3, 1])
"""

from kerasish.ops import core, image, linalg, math, nn, numpy
from kerasish.ops.core import *  # noqa: F403
from kerasish.ops.core import __all__ as _core
from kerasish.ops.linalg import *  # noqa: F403
from kerasish.ops.linalg import __all__ as _linalg
from kerasish.ops.math import *  # noqa: F403
from kerasish.ops.math import __all__ as _math
from kerasish.ops.nn import *  # noqa: F403
from kerasish.ops.nn import __all__ as _nn
from kerasish.ops.numpy import *  # noqa: F403
from kerasish.ops.numpy import __all__ as _numpy

__all__ = sorted(
    {*_core, *_linalg, *_math, *_nn, *_numpy} - {"tensors_like", "standardize_dtype"}
) + ["core", "image", "linalg", "math", "nn", "numpy"]
