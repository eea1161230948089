"""One softmax attention head whose query-key matrix is factorized, trained by gradient descent.

A sequence has ``L`` tokens :math:`x_1, \\dots, x_L \\in \\mathbb R^d`; the last one is the query. The head
scores every token by a bilinear form and reads out a fixed value per token,

.. math:: s_j = x_L^\\top W_Q W_K^\\top x_j,\\qquad p = \\mathrm{softmax}(s),\\qquad
          \\hat y = \\sum_j p_j\\, v_j,\\quad v_j = c^\\top x_j ,

and the loss is :math:`R_S = \\frac1B\\sum_b (\\hat y_b - y_b)^2` over ``B`` sequences. Only the
query and key matrices :math:`W_Q, W_K \\in \\mathbb R^{d\\times d}` are trained (the value readout
:math:`c` is fixed), so the model is a *nonlinear sensing* problem for the matrix
:math:`M = W_Q W_K^\\top`: the same factorization :math:`M = AB` as in the rest of the book, observed
through a softmax instead of through entries. A batch of ``R`` runs is trained at once (leading
run axis), with analytic gradients:

.. math:: \\frac{\\partial R_S}{\\partial M} = G = \\frac2B\\sum_b (\\hat y_b - y_b)
          \\sum_j p_{bj}(v_{bj} - \\hat y_b)\\, x_{bL} x_{bj}^\\top,\\qquad
          \\nabla_{W_Q} = G W_K,\\quad \\nabla_{W_K} = G^\\top W_Q .

Explained in: chapter 6 (Beyond matrices).
"""
from __future__ import annotations

import numpy as np

from .training import DivergenceError

# a trained head's weight product keeps small singular values along directions the data leave
# loose (from init scale 1e-3 after 4000 steps sigma_2/sigma_1 is about 4e-3, still shrinking with
# more training; larger scales leave larger ones); a relative threshold of 1e-2 counts only the
# learned directions
RANK_RTOL = 1e-2

__all__ = ["make_task", "head_output", "train_head", "factor_tangent_dimension", "RANK_RTOL"]


def make_task(rank: int, dim: int = 8, tokens: int = 6, samples: int = 40, strength: float = 3.0, seed=0):
    """A synthetic task whose target scores use a rank-``rank`` bilinear form.

    Tokens are i.i.d. :math:`\\mathcal N(0, I_d)`; the target matrix is
    :math:`M^* = \\frac{\\text{strength}}{d}\\sum_{k\\le r} u_k w_k^\\top` with orthonormal
    :math:`u_k`, :math:`w_k`, and the value readout :math:`c` is a random unit vector.

    Returns
    -------
    dict with ``X`` (B, L, d), ``y`` (B,), ``c`` (d,), ``M`` (d, d) (the target :math:`M^*`).

    Explained in: chapter 6.
    """
    if not (1 <= rank <= dim):
        raise ValueError(f"rank must be between 1 and dim = {dim}, got {rank}")
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((dim, rank)))[0]
    V = np.linalg.qr(rng.standard_normal((dim, rank)))[0]
    M = strength / np.sqrt(dim) * U @ V.T
    c = rng.standard_normal(dim)
    c /= np.linalg.norm(c)
    X = rng.standard_normal((samples, tokens, dim))
    y = head_output(M[None], X, c)[0]
    return {"X": X, "y": y, "c": c, "M": M}


def _features(X):
    """:math:`\\Phi_{bl} = \\mathrm{vec}(x_{bL} x_{bl}^\\top)`, so that :math:`s_{bl} = \\Phi_{bl}^\\top \\mathrm{vec}(M)`: (B L, d^2)."""
    B, L, d = X.shape
    return np.einsum("bi,blj->blij", X[:, -1, :], X).reshape(B * L, d * d)


def _probs(M, Phi, shape):
    R = M.shape[0]
    s = (M.reshape(R, -1) @ Phi.T).reshape((R,) + shape)            # (R, B, L)
    s = s - s.max(axis=2, keepdims=True)
    p = np.exp(s)
    return p / p.sum(axis=2, keepdims=True)


def head_output(M, X, c) -> np.ndarray:
    """:math:`\\hat y` of the head for query-key matrices ``M`` (R, d, d) on sequences ``X`` (B, L, d): (R, B).

    Explained in: chapter 6.
    """
    M, X, c = np.asarray(M, float), np.asarray(X, float), np.asarray(c, float)
    p = _probs(M, _features(X), X.shape[:2])
    return np.einsum("rbl,bl->rb", p, X @ c)


def _loss_grad_M(M, Phi, v, y):
    """Loss (R,) and gradient with respect to :math:`M` (R, d, d); ``v`` = values (B, L)."""
    R, d = M.shape[0], M.shape[1]
    p = _probs(M, Phi, v.shape)
    yhat = np.einsum("rbl,bl->rb", p, v)
    r = yhat - y                                                      # (R, B)
    coef = (2.0 / v.shape[0]) * r[:, :, None] * p * (v[None] - yhat[:, :, None])   # (R, B, L)
    G = (coef.reshape(R, -1) @ Phi).reshape(R, d, d)
    return np.mean(r * r, axis=1), G


def train_head(task, init_scale, runs: int = 1, seed=0, lr: float = 0.5, max_steps: int = 20_000,
               tol: float = 1e-10, check_every: int = 100):
    """Gradient descent on :math:`(W_Q, W_K)` from :math:`\\alpha\\,\\mathcal N(0, 1)` entries, ``runs`` seeds at once.

    Parameters
    ----------
    task : dict
        From :func:`make_task` (``X``, ``y``, ``c``).
    init_scale : float or array_like (runs,)
        :math:`\\alpha`, one for all runs or one per run.
    runs : int
        Number of independent initializations (one generator, ``seed``).
    lr, max_steps, tol, check_every
        Step size; step budget; a run stops once :math:`R_S <` ``tol`` (checked every ``check_every``).

    Returns
    -------
    dict with ``WQ``, ``WK`` (R, d, d), ``M`` (R, d, d), ``loss`` (R,), ``steps`` (R,).

    Raises
    ------
    DivergenceError
        If a loss becomes non-finite.

    Explained in: chapter 6.
    """
    scale = np.broadcast_to(np.asarray(init_scale, float), (runs,))[:, None, None]
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError(f"init_scale must be positive and finite, got {init_scale!r}")
    X, y, c = (np.asarray(task[k], float) for k in ("X", "y", "c"))
    d = X.shape[2]
    Phi, v = _features(X), X @ c
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    WQ = scale * rng.standard_normal((runs, d, d))
    WK = scale * rng.standard_normal((runs, d, d))
    loss = np.full(runs, np.inf)
    steps = np.full(runs, int(max_steps))
    act = np.arange(runs)
    Q, K = WQ.copy(), WK.copy()
    step = 0
    while act.size and step < max_steps:
        k = min(int(check_every), int(max_steps) - step)
        for _ in range(k):
            _, G = _loss_grad_M(Q @ np.swapaxes(K, 1, 2), Phi, v, y)
            Q, K = Q - lr * G @ K, K - lr * np.swapaxes(G, 1, 2) @ Q
        step += k
        cur, _ = _loss_grad_M(Q @ np.swapaxes(K, 1, 2), Phi, v, y)
        if not np.all(np.isfinite(cur)):
            raise DivergenceError(f"gradient descent diverged near step {step}: lower lr={lr}")
        loss[act] = cur
        WQ[act], WK[act] = Q, K
        done = (cur < tol) | (step >= max_steps)
        steps[act[done]] = step
        act, Q, K = act[~done], Q[~done], K[~done]
    return {"WQ": WQ, "WK": WK, "M": WQ @ np.swapaxes(WK, 1, 2), "loss": loss, "steps": steps}


def factor_tangent_dimension(A, B, rtol: float = 1e-2) -> int:
    """Numerical rank of the differential :math:`(\\delta A, \\delta B) \\mapsto \\delta A\\, B + A\\,\\delta B`.

    The dimension of the set of outputs that the factorization :math:`M = AB` can reach to first
    order: the model rank of the factorized model at :math:`(A, B)`. When :math:`A` and :math:`B`
    both have rank :math:`r` (and are square, :math:`d\\times d`) it equals :math:`2rd - r^2`, the
    dimension of the manifold of rank-:math:`r` matrices (Chapter 2). Singular values below
    ``rtol`` times the largest count as zero.

    Explained in: chapter 6.
    """
    A, B = np.asarray(A, float), np.asarray(B, float)
    d1, k = A.shape
    d2 = B.shape[1]
    # vec(dA B) = (I kron B^T) vec(dA), vec(A dB) = (A kron I) vec(dB) (row-major vec)
    J = np.hstack([np.kron(np.eye(d1), B.T), np.kron(A, np.eye(d2))])
    sv = np.linalg.svd(J, compute_uv=False)
    return int(np.sum(sv > rtol * sv[0]))
