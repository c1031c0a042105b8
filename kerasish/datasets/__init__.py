"""Built-in data sets: ``digits`` (bundled with scikit-learn), ``mnist``, ``fashion_mnist``,
``cifar10`` (downloaded through torchvision into a cache on first use)."""

from kerasish.datasets import cifar10, digits, fashion_mnist, mnist

__all__ = ["digits", "mnist", "fashion_mnist", "cifar10"]
