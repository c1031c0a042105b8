"""``keras.ops.linalg``: ``norm``, ``inv``, ``det``, ``solve``, ``cholesky``, ``qr``, ``svd``, ``eigh``.

Thin ``torch.linalg`` calls with Keras's (NumPy's) argument names.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from kerasish.ops.core import convert_to_tensor, tensors_like

__all__ = ["cholesky", "det", "eig", "eigh", "inv", "lstsq", "norm", "qr", "solve", "svd"]


def _float(x: Any) -> Tensor:
    x = convert_to_tensor(x)
    return x if x.is_floating_point() or x.is_complex() else x.to(torch.get_default_dtype())


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """The vector or matrix norm, as ``np.linalg.norm``.

    ``axis=None``: the 2-norm of the flattened ``x`` (with ``ord=None``); an int: vector norms;
    two ints: matrix norms (``"fro"``, ``"nuc"``, 1, 2, inf, ...).

    Args:
        x: a tensor.
        ord: the order.
        axis: None, an axis, or two axes.
        keepdims: keep the reduced axes.

    Returns:
        The norm(s).

    Example:
        >>> norm(torch.tensor([3.0, 4.0]))
        tensor(5.)
    """
    x = _float(x)
    if axis is None and ord is not None and x.ndim == 2:
        axis = (0, 1)
    if axis is None:
        out = torch.linalg.vector_norm(x.reshape(-1))
        return out.reshape([1] * x.ndim) if keepdims else out
    dim = axis if isinstance(axis, int) else tuple(axis)
    return torch.linalg.norm(x, ord=ord, dim=dim, keepdim=keepdims)


def inv(x: Any) -> Tensor:
    """The inverse of (a batch of) square matrices.

    Args:
        x: ``(..., n, n)``.

    Returns:
        The inverses.

    Example:
        >>> inv(torch.tensor([[2.0, 0.0], [0.0, 4.0]]))
        tensor([[0.5000, 0.0000],
                [0.0000, 0.2500]])
    """
    return torch.linalg.inv(_float(x))


def det(x: Any) -> Tensor:
    """The determinant of (a batch of) square matrices.

    Args:
        x: ``(..., n, n)``.

    Returns:
        The determinants.

    Example:
        >>> round(det(torch.tensor([[2.0, 1.0], [1.0, 3.0]])).item(), 4)
        5.0
    """
    return torch.linalg.det(_float(x))


def solve(a: Any, b: Any) -> Tensor:
    """``x`` with ``a @ x = b``.

    Args:
        a: ``(..., n, n)``.
        b: ``(..., n, k)`` or ``(..., n)``.

    Returns:
        The solution.

    Example:
        >>> solve(torch.tensor([[2.0, 0.0], [0.0, 4.0]]), torch.tensor([2.0, 2.0]))
        tensor([1.0000, 0.5000])
    """
    a, b = tensors_like(a, b)
    return torch.linalg.solve(_float(a), _float(b))


def lstsq(a: Any, b: Any, rcond: float | None = None) -> Tensor:
    """The least-squares solution of ``a @ x = b``.

    Args:
        a: ``(m, n)``.
        b: ``(m,)`` or ``(m, k)``.
        rcond: the cut for small singular values.

    Returns:
        The solution ``x``.

    Example:
        >>> lstsq(torch.tensor([[1.0], [1.0]]), torch.tensor([1.0, 3.0]))
        tensor([2.0000])
    """
    a, b = (_float(t) for t in tensors_like(a, b))
    vector = b.ndim == 1
    b = b[:, None] if vector else b
    driver = "gelsd" if a.device.type == "cpu" else None
    x = torch.linalg.lstsq(a, b, rcond=rcond, driver=driver).solution
    return x[:, 0] if vector else x


def cholesky(x: Any, upper: bool = False) -> Tensor:
    """The Cholesky factor of (a batch of) positive-definite matrices.

    Args:
        x: ``(..., n, n)``.
        upper: return the upper factor instead of the lower.

    Returns:
        The factor.

    Example:
        >>> cholesky(torch.tensor([[4.0, 0.0], [0.0, 9.0]]))
        tensor([[2., 0.],
                [0., 3.]])
    """
    return torch.linalg.cholesky(_float(x), upper=upper)


def qr(x: Any, mode: str = "reduced") -> tuple[Tensor, Tensor]:
    """The QR decomposition.

    Args:
        x: ``(..., m, n)``.
        mode: ``"reduced"`` (default) or ``"complete"``.

    Returns:
        ``(q, r)``.

    Example:
        >>> q, r = qr(torch.eye(3)[:, :2])
        >>> q.shape, r.shape
        (torch.Size([3, 2]), torch.Size([2, 2]))
    """
    return tuple(torch.linalg.qr(_float(x), mode=mode))


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """The singular value decomposition.

    Args:
        x: ``(..., m, n)``.
        full_matrices: square ``u`` and ``vh``.
        compute_uv: return ``(u, s, vh)``; else the singular values only.

    Returns:
        ``(u, s, vh)`` or ``s``.

    Example:
        >>> svd(torch.diag(torch.tensor([3.0, 2.0])), compute_uv=False)
        tensor([3., 2.])
    """
    x = _float(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    return tuple(torch.linalg.svd(x, full_matrices=full_matrices))


def eigh(x: Any) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors of symmetric matrices.

    Args:
        x: ``(..., n, n)``, symmetric.

    Returns:
        ``(values, vectors)``.

    Example:
        >>> eigh(torch.diag(torch.tensor([2.0, 1.0])))[0]
        tensor([1., 2.])
    """
    return tuple(torch.linalg.eigh(_float(x)))


def eig(x: Any) -> tuple[Tensor, Tensor]:
    """Eigenvalues and eigenvectors of square matrices (complex).

    Args:
        x: ``(..., n, n)``.

    Returns:
        ``(values, vectors)``.

    Example:
        >>> eig(torch.diag(torch.tensor([2.0, 1.0])))[0]
        tensor([2.+0.j, 1.+0.j])
    """
    return tuple(torch.linalg.eig(_float(x)))
