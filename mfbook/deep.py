"""Deep matrix factorization: how depth sharpens the low-rank bias.

The model :math:`W = F_1 F_2 \\cdots F_N` (``depth=N`` in :func:`mfbook.gradient_descent` and
:func:`mfbook.gradient_flow`). Under gradient flow with *balanced* factors
(:math:`F_k^\\top F_k = F_{k+1}F_{k+1}^\\top`), every singular value :math:`\\sigma_r` of :math:`W` with
singular vectors :math:`u_r, v_r` moves as (Arora, Cohen, Hu & Luo 2019)

.. math:: \\dot\\sigma_r = -N\\,\\sigma_r^{2 - 2/N}\\, u_r^\\top \\nabla_W R_S\\, v_r ,

so for :math:`N \\ge 3` large singular values speed up and small ones are nearly frozen. A small
random initialization is balanced up to :math:`O(\\alpha^2)`.

Explained in: chapter 6 (Beyond matrices).
"""
from __future__ import annotations

import numpy as np

from .completion import as_completion
from .factorization import product

__all__ = ["effective_rank", "singular_value_velocity"]


def effective_rank(W) -> np.ndarray:
    """Effective rank :math:`\\exp\\big(-\\sum_r p_r \\log p_r\\big)`, :math:`p_r = \\sigma_r / \\sum_s \\sigma_s`.

    The entropy-based effective rank of Roy & Vetterli, used by Arora et al. (2019) to compare
    depths: 1 for a rank-1 matrix, :math:`k` for :math:`k` equal singular values, and in between
    for a decaying spectrum. Batched over leading dimensions.

    Parameters
    ----------
    W : array_like (..., d1, d2)

    Returns
    -------
    ndarray (...)

    Raises
    ------
    ValueError
        If ``W`` is not at least 2-D, or some matrix is zero.

    Explained in: chapter 6.
    """
    W = np.asarray(W, float)
    if W.ndim < 2:
        raise ValueError(f"W must be a matrix (or a stack of matrices), got shape {W.shape}")
    sv = np.linalg.svd(W, compute_uv=False)
    total = sv.sum(axis=-1, keepdims=True)
    if np.any(total == 0):
        raise ValueError("the effective rank of the zero matrix is undefined")
    p = sv / total
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=-1)
    return np.exp(ent)


def singular_value_velocity(factors, problem):
    """Velocity of the singular values of :math:`W = F_1\\cdots F_N` under gradient flow, and Arora's formula.

    Exact: :math:`\\dot W = -\\sum_k (F_1\\cdots F_{k-1})(F_1\\cdots F_{k-1})^\\top\\, E\\,
    (F_{k+1}\\cdots F_N)^\\top(F_{k+1}\\cdots F_N)` with :math:`E = \\nabla_W R_S`, and
    :math:`\\dot\\sigma_r = u_r^\\top \\dot W v_r`. Prediction for balanced factors:
    :math:`-N\\sigma_r^{2-2/N} u_r^\\top E v_r`.

    Parameters
    ----------
    factors : list of ndarray
        :math:`F_1, \\dots, F_N` (one problem, no batch axis).
    problem : Completion or str

    Returns
    -------
    sigma, exact, predicted : ndarray (min(d1, d2),)

    Explained in: chapter 6.
    """
    problem = as_completion(problem)
    factors = [np.asarray(F, float) for F in factors]
    N = len(factors)
    W = product(factors)
    if W.shape != problem.shape:
        raise ValueError(f"the factors multiply to shape {W.shape}, the problem has shape {problem.shape}")
    n = problem.mask.sum()
    E = (2.0 / n) * np.where(problem.mask, W - problem.values, 0.0)
    Wdot = np.zeros_like(W)
    for k in range(N):
        P = product(factors[:k]) if k else np.eye(W.shape[0])
        S = product(factors[k + 1:]) if k < N - 1 else np.eye(W.shape[1])
        Wdot -= P @ P.T @ E @ S.T @ S
    U, sigma, Vt = np.linalg.svd(W)
    r = len(sigma)
    exact = np.einsum("ir,ij,rj->r", U[:, :r], Wdot, Vt[:r])
    predicted = -N * sigma ** (2 - 2 / N) * np.einsum("ir,ij,rj->r", U[:, :r], E, Vt[:r])
    return sigma, exact, predicted
