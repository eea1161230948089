"""The unstable manifold of a saddle as a power series :math:`\\theta_c + \\sum_m K_m s^m`
(the parametrization method: :math:`(m\\lambda_1 I + H) K_m = N_m`), so that a transit starts far out
on it instead of integrating the slow, nearly linear part of the escape.
"""
import numpy as np
from numba import njit

from .linalg import _solve_symmetric


SERIES_ORDER = 10    # terms of the unstable manifold's series (_manifold_start) ...


SERIES_TOL = 1e-13   # ... and the size of the last ones at the start, relative to the size of a fit


@njit(cache=True)
def _series_product(K, m, lo, hi, d1, d, d2, out):
    """out = sum over a = lo..hi of A_a B_(m-a): the part of the coefficient of s^m of A(s) B(s) that
    those terms give, for the series K[a] = (vec A_a, vec B_a)."""
    pa = d1 * d
    for i in range(d1):
        for j in range(d2):
            out[i, j] = 0.0
    for a in range(lo, hi + 1):
        b = m - a
        for i in range(d1):
            for k in range(d):
                x = K[a, i * d + k]
                if x != 0.0:
                    for j in range(d2):
                        out[i, j] += x * K[b, pa + k * d2 + j]


@njit(cache=True)
def manifold_series(th, v, H, lam, Ms, d1, d, d2, tscale, order):
    """The series of the unstable manifold of the critical point ``th`` (parametrization method).

    The manifold is written as :math:`K(s) = \\theta_c + \\sum_{m\\ge1} K_m s^m` with
    :math:`K_1 = \\tau v` (:math:`\\tau` = ``tscale``, v the unit escape direction of rate
    :math:`\\lambda`), parametrized so that the flow on it is :math:`\\dot s = \\lambda s`:
    :math:`\\phi_t(K(s)) = K(e^{\\lambda t} s)`. Then :math:`\\lambda s K'(s) = -\\nabla R_S(K(s))`, and
    since :math:`-\\nabla R_S` is a polynomial of degree 3 in :math:`\\theta`, equating powers of s gives
    for m >= 2

    .. math:: (m\\lambda I + H) K_m = N_m,

    H the Hessian at :math:`\\theta_c` and :math:`N_m` the order-m part of
    :math:`-\\nabla R_S(K_0 + \\dots + K_{m-1}s^{m-1})` (Cauchy products of the series of A, B,
    :math:`W = AB` and :math:`E = M_s \\circ W - V_s`). :math:`m\\lambda I + H` is positive definite
    (:math:`\\lambda` is the largest eigenvalue of -H), so every K_m exists and is unique. (m = 2 is
    the second-order term of the unstable manifold, :math:`(2\\lambda I + H)K_2 = -\\frac12\\nabla^3
    R_S[K_1, K_1]`.)

    Returns K, shape (order + 1, p): K[m] is :math:`K_m`.

    Explained in: chapter 4 (Training dynamics), the escape from a saddle.
    """
    pa = d1 * d
    p = pa + d * d2
    K = np.zeros((order + 1, p))
    K[0] = th
    K[1] = tscale * v
    Ec = np.zeros((order + 1, d1, d2))      # coefficients of E(s) (without the constant -Vs)
    Wk = np.empty((d1, d2))
    for m in range(order + 1):
        if m >= 2:
            _series_product(K, m, np.int64(1), m - 1, d1, d, d2, Wk)     # the part of W_m without K_m
            for i in range(d1):
                for j in range(d2):
                    Wk[i, j] *= Ms[i, j]
            rhs = np.zeros(p)
            for i in range(d1):
                for k in range(d):
                    s = 0.0
                    for a in range(1, m):
                        for j in range(d2):
                            s += Ec[a, i, j] * K[m - a, pa + k * d2 + j]
                    for j in range(d2):
                        s += Wk[i, j] * K[0, pa + k * d2 + j]
                    rhs[i * d + k] = -s
            for k in range(d):
                for j in range(d2):
                    s = 0.0
                    for a in range(1, m):
                        for i in range(d1):
                            s += K[m - a, i * d + k] * Ec[a, i, j]
                    for i in range(d1):
                        s += K[0, i * d + k] * Wk[i, j]
                    rhs[pa + k * d2 + j] = -s
            Mm = H.copy()
            for q in range(p):
                Mm[q, q] += m * lam
            K[m], _ = _solve_symmetric(Mm, rhs, 0.0)
        if m >= 1:
            _series_product(K, m, np.int64(0), m, d1, d, d2, Wk)
            for i in range(d1):
                for j in range(d2):
                    Ec[m, i, j] = Ms[i, j] * Wk[i, j]
    return K


@njit(cache=True)
def series_value(K, s):
    """sum over m of K[m] s^m (Horner)."""
    y = K[K.shape[0] - 1].copy()
    for m in range(K.shape[0] - 2, -1, -1):
        y = y * s + K[m]
    return y


@njit(cache=True)
def _manifold_start(th, v, H, lam, Ms, d1, d, d2, tscale, eps, s_max, order, tol):
    """A start far out on the unstable manifold of ``th``: :math:`K(s^*)` from :func:`manifold_series`,
    with :math:`s^*` the largest s (up to ``s_max``) at which the last two of its ``order`` terms are below ``tol``
    :math:`\\tau` (at least ``eps``, the departure distance of a second-order start). The flow from
    :math:`\\theta_c + \\varepsilon\\tau v` would take a time :math:`\\log(s^*/\\varepsilon)/\\lambda` to get
    there: the integrator skips that slow, nearly linear part of the escape. Returns (the start, s*)."""
    K = manifold_series(th, v, H, lam, Ms, d1, d, d2, tscale, order)
    s_star = s_max
    for m in range(order - 1, order + 1):
        r = np.sqrt(np.sum(K[m] * K[m]))
        if r > 0.0:
            s_star = min(s_star, (tol * tscale / r) ** (1.0 / m))
    s_star = max(s_star, eps)
    return series_value(K, s_star), s_star
