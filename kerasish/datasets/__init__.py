"""Built-in data sets: ``digits`` (bundled with scikit-learn), ``mnist``, ``fashion_mnist``,
``cifar10`` (downloaded through torchvision into a cache on first use).

``mnist``, ``fashion_mnist`` and ``cifar10`` return what Keras's loaders of the same names
return (uint8 images in [0, 255], uint8 labels); ``digits`` is kerasish's own (float32 images
in [0, 1], channels-first, int64 labels), ready for a model as it is.
"""

from kerasish.datasets import cifar10, digits, fashion_mnist, mnist

__all__ = ["digits", "mnist", "fashion_mnist", "cifar10"]
