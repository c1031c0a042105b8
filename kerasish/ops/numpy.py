"""``keras.ops.numpy``: the NumPy-like ops, gathered from the modules that define them."""

from kerasish.ops.arrays import *  # noqa: F403
from kerasish.ops.arrays import __all__ as _arrays
from kerasish.ops.creation import *  # noqa: F403
from kerasish.ops.creation import __all__ as _creation
from kerasish.ops.elementwise import *  # noqa: F403
from kerasish.ops.elementwise import __all__ as _elementwise
from kerasish.ops.joining import *  # noqa: F403
from kerasish.ops.joining import __all__ as _joining
from kerasish.ops.math import logaddexp
from kerasish.ops.products import *  # noqa: F403
from kerasish.ops.products import __all__ as _products
from kerasish.ops.reductions import *  # noqa: F403
from kerasish.ops.reductions import __all__ as _reductions
from kerasish.ops.searching import *  # noqa: F403
from kerasish.ops.searching import __all__ as _searching
from kerasish.ops.statistics import *  # noqa: F403
from kerasish.ops.statistics import __all__ as _statistics

__all__ = [
    *_arrays, *_creation, *_elementwise, *_joining, *_products, *_reductions, *_searching,
    *_statistics, "logaddexp",
]  # fmt: skip
