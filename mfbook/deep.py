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
from .factorization import init_factors, loss_gradient, product

__all__ = ["effective_rank", "singular_value_velocity", "descent_with_stable_step", "balanced_sigma_floor",
           "balanced_factors"]


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


def _sharpness_bound(factors, E_norm, n):
    """Upper bound on the Hessian norm of :math:`R_S` at the current factors, one per run.

    With :math:`P_k = F_1\\cdots F_{k-1}`, :math:`S_k = F_{k+1}\\cdots F_N`, the first-order change
    :math:`\\delta W = \\sum_k P_k\\,\\delta F_k\\,S_k` obeys
    :math:`\\|\\delta W\\|_F^2 \\le \\sum_k \\|P_k\\|_F^2\\|S_k\\|_F^2\\,\\|\\delta\\theta\\|^2` (Cauchy-Schwarz), and the
    second-order change is at most :math:`\\sum_{k\\ne l}\\prod_{j\\ne k,l}\\|F_j\\|_F\\,\\|\\delta\\theta\\|^2`;
    hence :math:`\\|\\nabla^2 R_S\\| \\le \\frac2n\\big(\\sum_k \\|P_k\\|_F^2\\|S_k\\|_F^2
    + \\|P_\\Omega(W - M)\\|_F \\sum_{k\\ne l}\\prod_{j\\ne k,l}\\|F_j\\|_F\\big)`.
    """
    norms = np.stack([np.linalg.norm(F, axis=(-2, -1)) for F in factors])      # (N, R)
    total = np.prod(norms, axis=0)
    gauss = np.sum((total / norms) ** 2, axis=0)
    pair = total / (norms[:, None] * norms[None, :])                              # (N, N, R)
    second = np.sum(pair, axis=(0, 1)) - np.sum(np.diagonal(pair, axis1=0, axis2=1), axis=-1)
    return (2.0 / n) * (gauss + E_norm * second)


def balanced_factors(W, depth: int) -> list:
    """Balanced factors of ``W`` (R, d, d): :math:`F_1 = U\\Sigma^{1/N}`, :math:`F_k = \\Sigma^{1/N}`,
    :math:`F_N = \\Sigma^{1/N}V^\\top`, so that :math:`F_k^\\top F_k = F_{k+1}F_{k+1}^\\top` and the product is ``W``.

    Explained in: chapter 6.
    """
    U, sv, Vt = np.linalg.svd(np.asarray(W, float))
    root = sv ** (1.0 / depth)
    D = root[..., :, None] * np.eye(sv.shape[-1])
    return [U * root[..., None, :]] + [D.copy() for _ in range(depth - 2)] + [root[..., :, None] * Vt]


def descent_with_stable_step(problem, seeds, init_scale: float, depth: int, t_max: float,
                             max_lr: float = 0.1, record_every: float = 10.0, balanced: bool = False):
    """Gradient descent on :math:`W = F_1\\cdots F_N` for several seeds at once, with a step that stays stable.

    A fixed step :math:`\\eta` is stable only while the Hessian's largest eigenvalue stays below
    :math:`2/\\eta`; when a norm of :math:`W` grows without bound (the Razin-Cohen example), so does the
    Hessian (like :math:`\\sigma_1^{2-2/N}`), and a fixed step ends in oscillation. Here every step is
    :math:`\\eta_s = \\min(\\text{max\\_lr}, 1/L_s)`, with :math:`L_s` an upper bound of the Hessian norm at
    the current point (:func:`_sharpness_bound`; the same step for all runs, the smallest). A step
    of :math:`1/L` is half the stability limit, and by the descent lemma it lowers the loss, so the
    iterates follow gradient flow; the recorded time is :math:`t = \\sum_s \\eta_s`.

    Parameters
    ----------
    problem : Completion or str
    seeds : sequence of int
        One run per seed, started as :func:`mfbook.gradient_descent` with that seed
        (:func:`mfbook.factorization.init_factors`).
    init_scale : float
    depth : int
    t_max : float
        Flow time to reach.
    max_lr : float
        Largest step.
    record_every : float
        Flow time between records.
    balanced : bool
        Replace each random start by the balanced factors (:func:`balanced_factors`) of the same
        product :math:`W_0`: the hypothesis of the singular-value formula.

    Returns
    -------
    dict with ``t`` (T,), ``W`` (R, T, d1, d2), ``loss`` (R, T), ``steps`` (int).

    Explained in: chapter 6.
    """
    problem = as_completion(problem)
    if not (np.isfinite(t_max) and t_max > 0 and max_lr > 0 and record_every > 0):
        raise ValueError("t_max, max_lr and record_every must be positive")
    per_seed = [init_factors(problem.shape, init_scale, s, depth) for s in seeds]
    factors = [np.stack([f[k] for f in per_seed]) for k in range(depth)]
    if balanced:
        factors = balanced_factors(product(factors), depth)
    values, mask = problem.values, problem.mask
    n = float(mask.sum())
    t, steps, next_record = 0.0, 0, 0.0
    ts, Ws, losses = [], [], []
    while True:
        value, grads = loss_gradient(factors, values, mask)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"the loss became non-finite at t = {t:g}")
        if t >= next_record - 1e-12 or t >= t_max:
            ts.append(t)
            Ws.append(product(factors))
            losses.append(value)
            next_record += record_every
        if t >= t_max:
            break
        E_norm = np.sqrt(value * n)                       # ||P(W - M)||_F
        eta = min(max_lr, float(np.min(1.0 / _sharpness_bound(factors, E_norm, n))), t_max - t,
                  max(next_record - t, 1e-12))
        factors = [F - eta * G for F, G in zip(factors, grads)]
        t += eta
        steps += 1
    return {"t": np.array(ts), "W": np.stack(Ws, axis=1), "loss": np.stack(losses, axis=1), "steps": steps}


def balanced_sigma_floor(sigma0, t, depth: int, grad_bound: float):
    """Lower bound on a singular value of :math:`W` under balanced gradient flow.

    From :math:`\\dot\\sigma = -N\\sigma^{2-2/N}\\,u^\\top\\nabla_W R_S\\,v` and
    :math:`|u^\\top\\nabla_W R_S\\,v| \\le G`:
    for :math:`N \\ge 3`, :math:`\\frac{d}{dt}\\sigma^{-(N-2)/N} \\le (N-2)G`, so
    :math:`\\sigma(t) \\ge \\big(\\sigma_0^{-(N-2)/N} + (N-2)Gt\\big)^{-N/(N-2)} > 0`; for :math:`N = 2`,
    :math:`\\sigma(t) \\ge \\sigma_0 e^{-2Gt}`. A singular value never reaches zero in finite time.

    Explained in: chapter 6.
    """
    t = np.asarray(t, float)
    if depth == 2:
        return sigma0 * np.exp(-2 * grad_bound * t)
    if depth < 2:
        raise ValueError("depth must be at least 2")
    e = (depth - 2) / depth
    return (sigma0 ** (-e) + (depth - 2) * grad_bound * t) ** (-1 / e)
