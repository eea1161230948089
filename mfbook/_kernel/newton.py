"""Newton steps that finish a slow approach to a critical point: gauge-fixed (the Hessian plus
:math:`c\\,TT^\\top`, :math:`T` the tangents of the symmetry orbit :math:`(A, B) \\mapsto (AQ, Q^{-1}B)`)
where the factors have full rank, the pseudo-inverse otherwise.
"""
import numpy as np
from numba import njit

from .linalg import _cholesky, _pinv_step, _solve_symmetric
from .loss import _grad, _hessian, _loss, _residual


@njit(cache=True)
def _gauge_fixed(H, th, d1, d, d2):
    """H + c T T^T, T the p x d^2 tangents (A Xi, -Xi B) of the orbit of GL(d) acting as
    (A, B) -> (A G, G^{-1} B), c = tr H / tr T T^T. When A and B have full rank d the orbit's tangents are
    exactly the null space of H at an isolated critical point (up to that symmetry); H has no other
    zero eigenvalue there, so the sum is invertible, and since the gradient is orthogonal to the
    orbit (R is invariant), the solution of (H + c T T^T) s = -g there is the pseudo-inverse step."""
    pa = d1 * d
    p = pa + d * d2
    T = np.zeros((p, d * d))
    for a in range(d):
        for b in range(d):
            col = a * d + b
            for i in range(d1):
                T[i * d + b, col] = th[i * d + a]          # A Xi: column b of A Xi is column a of A
            for j in range(d2):
                T[pa + a * d2 + j, col] = -th[pa + b * d2 + j]   # -Xi B: row a of Xi B is row b of B
    TT = T @ T.T
    trh = 0.0
    trt = 0.0
    for q in range(p):
        trh += H[q, q]
        trt += TT[q, q]
    c = trh / trt if trt > 0.0 and trh > 0.0 else 1.0
    return H + c * TT


@njit(cache=True)
def _newton_step(th, g, Ms, Vs, d1, d, d2, p, gauged):
    """(theta - H^+ g, True), with H^+ the pseudo-inverse of the symmetric Hessian; (theta, False) if H is
    not finite. (A pair rather than None: an optional array would make numba compile every function
    it reaches a second time.)

    With ``gauged`` (factors of full rank d, as on the narrow path) the step is a linear solve with
    the Hessian made invertible by :func:`_gauge_fixed`: by Cholesky where that is positive definite
    (near a strict minimum; about p^3/6 operations), else by LU (p^3/3), instead of an
    eigendecomposition; where it is still singular (a continuum of critical points, or factors of
    lower rank) it falls back to the pseudo-inverse."""
    H = _hessian(th, Ms, Vs, d1, d, d2, p)
    if not np.all(np.isfinite(H)):
        return th.copy(), False
    if gauged:
        x, ok = _solve_symmetric(_gauge_fixed(H, th, d1, d, d2), g, 1e-10)
        if ok:
            return th - x, True
    return th - _pinv_step(H, g), True


@njit(cache=True)
def newton_polish(theta, Ms, Vs, d1, d, d2, iters, gtiny, gauged):
    """Up to ``iters`` pseudo-inverse Newton steps on grad R = 0 (:func:`_newton_step`), each kept only
    if it lowers |grad R|; none once |grad R| <= ``gtiny`` (already at the level of rounding errors)."""
    p = theta.size
    th = theta.copy()
    g = np.empty(p)
    gt = np.empty(p)
    for _ in range(iters):
        _grad(th, _residual(th, Ms, Vs, d1, d, d2), d1, d, d2, g, 1.0)
        if np.sum(g * g) <= gtiny * gtiny:
            break
        trial, finite = _newton_step(th, g, Ms, Vs, d1, d, d2, p, gauged)
        if not finite:
            break
        _grad(trial, _residual(trial, Ms, Vs, d1, d, d2), d1, d, d2, gt, 1.0)
        if not np.sum(gt * gt) < np.sum(g * g):
            break
        th = trial
    return th


@njit(cache=True)
def newton_snap(theta, Ms, Vs, d1, d, d2, n, gscale, iters, gauged):
    """Pseudo-inverse Newton steps on grad R = 0 (:func:`_newton_step`); returns (end point, converged
    without raising the loss)."""
    p = theta.size
    loss0 = _loss(theta, Ms, Vs, d1, d, d2, n)
    th = theta.copy()
    g = np.empty(p)
    for _ in range(iters):
        _grad(th, _residual(th, Ms, Vs, d1, d, d2), d1, d, d2, g, 1.0)
        if np.sqrt(np.sum(g * g)) < 1e-12 * gscale:
            break
        nxt, finite = _newton_step(th, g, Ms, Vs, d1, d, d2, p, gauged)
        if not finite:
            return th, False
        th = nxt
        if not np.all(np.isfinite(th)):
            th[:] = 0.0
    _grad(th, _residual(th, Ms, Vs, d1, d, d2), d1, d, d2, g, 1.0)
    ok = np.sqrt(np.sum(g * g)) < 1e-12 * gscale and _loss(th, Ms, Vs, d1, d, d2, n) <= loss0 * (1 + 1e-9) + 1e-30
    return th, ok


@njit(cache=True)
def _convex_up_to_symmetry(th, Ms, Vs, d1, d, d2):
    """Is the Hessian at ``th`` positive definite up to the symmetry: H + c T T^T (:func:`_gauge_fixed`)
    positive definite, every Cholesky pivot above 1e-10 of the largest diagonal entry? At a critical
    point, where the orbit's tangents T span the null space of H if the point is isolated, this says
    that it is a strict local minimum up to the symmetry; elsewhere, that the loss is locally convex
    across the orbits."""
    return _cholesky(_gauge_fixed(_hessian(th, Ms, Vs, d1, d, d2, th.size), th, d1, d, d2), 1e-10)
