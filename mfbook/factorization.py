"""The matrix factorization model, its loss, gradient and Hessian.

Model (depth :math:`L`, default 2): :math:`W = F_1 F_2 \\cdots F_L`; for depth 2,
:math:`W = AB` with :math:`A \\in \\mathbb{R}^{d_1\\times d}`, :math:`B \\in \\mathbb{R}^{d\\times d_2}`.

Loss (mean squared error over the observed set, :math:`n = |S_x|`):

.. math:: R_S(\\theta) = \\frac1n \\sum_{(i,j)\\in S_x} \\big(W_{ij} - M_{ij}\\big)^2 .

With :math:`E = \\frac2n P_{S_x}(W - M)` (the gradient of :math:`R_S` with respect to :math:`W`),

.. math:: \\nabla_{F_k} R_S = (F_1\\cdots F_{k-1})^\\top\\, E\\, (F_{k+1}\\cdots F_L)^\\top,
          \\qquad \\text{depth 2: } \\nabla_A R_S = E B^\\top,\\ \\nabla_B R_S = A^\\top E.

Hessian of the depth-2 model applied to a direction :math:`(X, Y)`: with
:math:`\\dot E = \\frac2n P_{S_x}(XB + AY)`,

.. math:: \\nabla^2 R_S[X, Y] = \\big(\\dot E B^\\top + E Y^\\top,\\; X^\\top E + A^\\top \\dot E\\big).

Every function accepts leading batch dimensions (stacks of problems or of directions).

Explained in: chapter 4 (Training dynamics); the model is introduced in chapter 1.
"""
from __future__ import annotations

import numpy as np

from .seeding import generator

__all__ = [
    "product",
    "loss",
    "loss_gradient",
    "hessian_vector_product",
    "hessian",
    "init_factors",
    "factor_shapes",
]


def factor_shapes(shape: tuple[int, int], depth: int = 2, width: int | None = None) -> list[tuple[int, int]]:
    """Shapes of the factors :math:`F_1, \\dots, F_L` for a (d1, d2) matrix and hidden width d.

    The default width is :math:`\\max(d_1, d_2)` (the over-parameterized, full-width model).

    Explained in: chapter 6 (Beyond: depth).
    """
    d1, d2 = shape
    if depth < 1 or int(depth) != depth:
        raise ValueError(f"depth must be a positive integer, got {depth}")
    width = max(d1, d2) if width is None else int(width)
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    if depth == 1:
        return [(d1, d2)]
    return [(d1, width)] + [(width, width)] * (depth - 2) + [(width, d2)]


def init_factors(shape, init_scale: float, seed=0, depth: int = 2, width: int | None = None) -> list[np.ndarray]:
    """Small random initialization: every entry of every factor is :math:`\\alpha\\, \\mathcal N(0, 1)`.

    The standard normal draws come from ``numpy.random.default_rng(seed)`` factor by factor,
    so ``gradient_descent``, ``gradient_flow`` and ``small_init_limit`` with the same seed start
    from the same direction (the book's seed convention: :mod:`mfbook.seeding`).

    Explained in: chapter 1 (Background).
    """
    if not (np.isfinite(init_scale) and init_scale > 0):
        raise ValueError(f"init_scale must be a positive number, got {init_scale}")
    rng = generator(seed)
    return [init_scale * rng.standard_normal(s) for s in factor_shapes(shape, depth, width)]


def product(factors) -> np.ndarray:
    """:math:`W = F_1 F_2 \\cdots F_L` (batched over leading dimensions).

    Explained in: chapter 1 (Background).
    """
    W = factors[0]
    for F in factors[1:]:
        W = W @ F
    return W


def loss(factors, values, mask) -> np.ndarray:
    """:math:`R_S` for factors (batched): mean squared error over the observed entries.

    Explained in: chapter 1 (Background).
    """
    W = product(factors)
    r = np.where(mask, W - values, 0.0)
    n = np.sum(mask, axis=(-2, -1))
    return np.sum(r * r, axis=(-2, -1)) / n


def loss_gradient(factors, values, mask):
    """Loss and gradient with respect to every factor.

    Returns
    -------
    loss : ndarray, shape batch
    grads : list of ndarray, same shapes as ``factors``

    Explained in: chapter 4 (Training dynamics).
    """
    L = len(factors)
    prefix = [None] * L  # F_1 ... F_{k-1}
    acc = None
    for k in range(L):
        prefix[k] = acc
        acc = factors[k] if acc is None else acc @ factors[k]
    W = acc
    n = np.sum(mask, axis=(-2, -1))[..., None, None]
    diff = np.where(mask, W - values, 0.0)
    E = (2.0 / n) * diff
    value = np.sum(diff * diff, axis=(-2, -1)) / n[..., 0, 0]
    grads = [None] * L
    suffix = None  # F_{k+1} ... F_L
    for k in range(L - 1, -1, -1):
        G = E if suffix is None else E @ np.swapaxes(suffix, -1, -2)
        if prefix[k] is not None:
            G = np.swapaxes(prefix[k], -1, -2) @ G
        grads[k] = G
        suffix = factors[k] if suffix is None else factors[k] @ suffix
    return value, grads


def hessian_vector_product(A, B, X, Y, values, mask):
    """:math:`\\nabla^2 R_S(A, B)[X, Y]` for the depth-2 model (batched).

    ``X``, ``Y`` may carry an extra leading dimension of directions relative to ``A``, ``B``.

    Explained in: chapter 4 (Training dynamics).
    """
    n = np.sum(mask, axis=(-2, -1))[..., None, None]
    E = (2.0 / n) * np.where(mask, A @ B - values, 0.0)
    dE = (2.0 / n) * np.where(mask, X @ B + A @ Y, 0.0)
    HX = dE @ np.swapaxes(B, -1, -2) + E @ np.swapaxes(Y, -1, -2)
    HY = np.swapaxes(X, -1, -2) @ E + np.swapaxes(A, -1, -2) @ dE
    return HX, HY


def hessian(A, B, values, mask) -> np.ndarray:
    """The full Hessian of :math:`R_S` at :math:`(A, B)` in the coordinates
    :math:`\\theta = (\\mathrm{vec}\\,A, \\mathrm{vec}\\,B)` (row-major), shape (..., p, p) with
    :math:`p = d_1 d + d d_2`. Batched over leading dimensions of ``A``, ``B``, ``values``, ``mask``.

    Explained in: chapter 4 (Training dynamics, Theorem 1).
    """
    A = np.asarray(A, dtype=float)
    B = np.asarray(B, dtype=float)
    d1, d = A.shape[-2:]
    d2 = B.shape[-1]
    pa, p = d1 * d, d1 * d + d * d2
    basis = np.eye(p)
    X = basis[:, :pa].reshape(p, d1, d)
    Y = basis[:, pa:].reshape(p, d, d2)
    # add the direction axis just before the matrix axes
    Ae, Be = A[..., None, :, :], B[..., None, :, :]
    ve, me = np.asarray(values)[..., None, :, :], np.asarray(mask)[..., None, :, :]
    HX, HY = hessian_vector_product(Ae, Be, X, Y, ve, me)
    H = np.concatenate([HX.reshape(HX.shape[:-2] + (pa,)), HY.reshape(HY.shape[:-2] + (p - pa,))], axis=-1)
    return 0.5 * (H + np.swapaxes(H, -1, -2))
