"""The loss :math:`R_S = \\frac1n\\sum_{S_x}((AB)_{ij} - M_{ij})^2` on the flat parameter vector
:math:`\\theta = (A, B)`: residual, gradient, Hessian-vector products, the Hessian, and the
right-hand side of the flow with its variational equation. Written with explicit loops and work
space (no temporaries), for the small problems of the book; the integrator's right-hand side also
on the observed entries only, for sparse large ones. The six functions on the integrator's inner loop
are inlined into their callers (``inline="always"``): about a quarter of the solver's time on the
book's examples, for a few seconds more of compilation.
"""
import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _residual_into(th, Ms, Vs, d1, d, d2, E):
    """E = Ms * (A B) - Vs, the residual gradient (2/n) P(AB - M), written into ``E``.

    (Loops ordered so that the innermost one runs along contiguous rows; every sum still adds
    its terms in the order of the summation index.)"""
    pa = d1 * d
    for i in range(d1):
        for j in range(d2):
            E[i, j] = 0.0
        for k in range(d):
            a = th[i * d + k]
            for j in range(d2):
                E[i, j] += a * th[pa + k * d2 + j]
        for j in range(d2):
            E[i, j] = Ms[i, j] * E[i, j] - Vs[i, j]


@njit(cache=True)
def _residual(th, Ms, Vs, d1, d, d2):
    E = np.empty((d1, d2))
    _residual_into(th, Ms, Vs, d1, d, d2, E)
    return E


@njit(cache=True, inline="always")
def _grad(th, E, d1, d, d2, out, sign):
    """out[:p] = sign * grad R = sign * (E B^T, A^T E)."""
    pa = d1 * d
    for i in range(d1):
        for k in range(d):
            s = 0.0
            for j in range(d2):
                s += E[i, j] * th[pa + k * d2 + j]
            out[i * d + k] = sign * s
    for q in range(pa, pa + d * d2):
        out[q] = 0.0
    for i in range(d1):
        for k in range(d):
            a = th[i * d + k]
            for j in range(d2):
                out[pa + k * d2 + j] += a * E[i, j]
    if sign != 1.0:
        for q in range(pa, pa + d * d2):
            out[q] *= sign


@njit(cache=True, inline="always")
def _hvp_into(th, E, v, Ms, d1, w, dv, d2, out, off, sign, dE):
    """out[off:off+q] = sign * H(theta) v, with H the Hessian of R_S and v = (X, Y); ``dE`` is work space.

    theta has inner width ``w``, v (and the output) width ``dv >= w``: theta is taken padded with
    zero columns of A and rows of B (their first w inner directions are the same). On the padded
    directions H acts as (X, Y) -> (E Y, E^T X) (the factors are 0 there)."""
    pa = d1 * w
    qa = d1 * dv
    for i in range(d1):
        for j in range(d2):
            dE[i, j] = 0.0
        for k in range(w):
            x = v[i * dv + k]
            a = th[i * w + k]
            for j in range(d2):
                dE[i, j] += x * th[pa + k * d2 + j] + a * v[qa + k * d2 + j]
        for j in range(d2):
            dE[i, j] *= Ms[i, j]
    for i in range(d1):
        for k in range(dv):
            s = 0.0
            if k < w:
                for j in range(d2):
                    s += dE[i, j] * th[pa + k * d2 + j] + E[i, j] * v[qa + k * d2 + j]
            else:
                for j in range(d2):
                    s += E[i, j] * v[qa + k * d2 + j]
            out[off + i * dv + k] = sign * s
    for q in range(off + qa, off + qa + dv * d2):
        out[q] = 0.0
    for i in range(d1):
        for k in range(dv):
            x = v[i * dv + k]
            if k < w:
                a = th[i * w + k]
                for j in range(d2):
                    out[off + qa + k * d2 + j] += x * E[i, j] + a * dE[i, j]
            else:
                for j in range(d2):
                    out[off + qa + k * d2 + j] += x * E[i, j]
    if sign != 1.0:
        for q in range(off + qa, off + qa + dv * d2):
            out[q] *= sign


@njit(cache=True, inline="always")
def _rhs(y, Ms, Vs, d1, d, d2, p, dw, out, E, dE):
    """out = d/dt (theta, delta) = (-grad R, -H delta), delta (after the p entries of theta, inner
    width ``dw``; 0: no delta) transported by the variational equation; ``E``, ``dE`` are (d1, d2)
    work space."""
    _residual_into(y, Ms, Vs, d1, d, d2, E)
    _grad(y, E, d1, d, d2, out, -1.0)
    if dw > 0:
        _hvp_into(y, E, y[p:], Ms, d1, d, dw, d2, out, p, -1.0, dE)


@njit(cache=True, inline="always")
def _rhs_observed(y, Ms, Vs, oi, oj, d1, d, d2, p, out, Eo):
    """out[:p] = -grad R at theta = ``y[:p]``, on the observed entries only (``oi``, ``oj``: their rows
    and columns, row-major; ``Eo``: work space of that length). The same products summed in the same
    order as :func:`_rhs` without delta, which adds only zeros for the unobserved entries, so the same
    numbers, at a cost of n d instead of d1 d2 d (n the number of observed entries)."""
    pa = d1 * d
    for q in range(oi.size):
        i = oi[q]
        j = oj[q]
        s = 0.0
        for k in range(d):
            s += y[i * d + k] * y[pa + k * d2 + j]
        Eo[q] = Ms[i, j] * s - Vs[i, j]
    for q in range(p):
        out[q] = 0.0
    for q in range(oi.size):
        i = oi[q]
        j = oj[q]
        e = Eo[q]
        for k in range(d):
            out[i * d + k] += e * y[pa + k * d2 + j]
            out[pa + k * d2 + j] += y[i * d + k] * e
    for q in range(p):
        out[q] = -out[q]


@njit(cache=True, inline="always")
def _loss_into(th, Ms, Vs, d1, d, d2, n, E):
    """R_S(theta), with ``E`` as work space: E = (2/n) P(AB - M), so the sum over the observed
    entries of (AB - M)^2 / n is n/4 times the sum of E^2."""
    _residual_into(th, Ms, Vs, d1, d, d2, E)
    s = 0.0
    for i in range(d1):
        for j in range(d2):
            s += E[i, j] * E[i, j]
    return 0.25 * n * s


@njit(cache=True)
def _loss(th, Ms, Vs, d1, d, d2, n):
    return _loss_into(th, Ms, Vs, d1, d, d2, n, np.empty((d1, d2)))


@njit(cache=True)
def _hessian(th, Ms, Vs, d1, d, d2, p):
    """The Hessian of R_S at theta = (vec A, vec B) (inner width d), assembled entry by entry:

    .. math:: H_{A_{ik}, A_{i'k'}} = \\delta_{ii'} \\sum_j (M_s)_{ij} B_{kj} B_{k'j}, \\quad
              H_{B_{kj}, B_{k'j'}} = \\delta_{jj'} \\sum_i (M_s)_{ij} A_{ik} A_{ik'}, \\quad
              H_{A_{ik}, B_{k'j}} = (M_s)_{ij} A_{ik'} B_{kj} + \\delta_{kk'} E_{ij}

    (M_s = 2/n on the observed entries, E the residual gradient; the same as p products
    :func:`_hvp_into` with the unit vectors, in about a tenth of the operations)."""
    E = _residual(th, Ms, Vs, d1, d, d2)
    pa = d1 * d
    H = np.zeros((p, p))
    for i in range(d1):                 # A-A: one d x d block per row of A
        for k in range(d):
            for kk in range(k, d):
                s = 0.0
                for j in range(d2):
                    s += Ms[i, j] * th[pa + k * d2 + j] * th[pa + kk * d2 + j]
                H[i * d + k, i * d + kk] = s
                H[i * d + kk, i * d + k] = s
    for j in range(d2):                 # B-B: one d x d block per column of B
        for k in range(d):
            for kk in range(k, d):
                s = 0.0
                for i in range(d1):
                    s += Ms[i, j] * th[i * d + k] * th[i * d + kk]
                H[pa + k * d2 + j, pa + kk * d2 + j] = s
                H[pa + kk * d2 + j, pa + k * d2 + j] = s
    for i in range(d1):                 # A-B
        for k in range(d):
            r = i * d + k
            for kk in range(d):
                a = th[i * d + kk]
                for j in range(d2):
                    x = Ms[i, j] * a * th[pa + k * d2 + j]
                    if kk == k:
                        x += E[i, j]
                    H[r, pa + kk * d2 + j] = x
                    H[pa + kk * d2 + j, r] = x
    return H


@njit(cache=True)
def problem_scales(values, masks):
    """Per problem: n, Ms = 2/n on the observed entries (0 elsewhere) and Vs = Ms * M, so that the
    residual gradient is E = Ms * W - Vs, and three scales: of the gradient, (2/n) |P(M)|_F; of theta at a
    balanced fit, sqrt(2 sqrt(min(d1, d2)) |P(M)|_F) (|A|^2 + |B|^2 = 2 |W|_* <= 2 sqrt(d) |M|_F); of W,
    the largest observed |M_ij|."""
    R, d1, d2 = values.shape
    n = np.zeros(R)
    Ms = np.zeros(values.shape)
    Vs = np.zeros(values.shape)
    gscale = np.empty(R)
    tscale = np.empty(R)
    wscale = np.empty(R)
    for r in range(R):
        size2 = 0.0
        big = 0.0
        for i in range(d1):
            for j in range(d2):
                if masks[r, i, j]:
                    n[r] += 1.0
                    size2 += values[r, i, j] ** 2
                    big = max(big, abs(values[r, i, j]))
        for i in range(d1):
            for j in range(d2):
                if masks[r, i, j]:
                    Ms[r, i, j] = 2.0 / n[r]
                    Vs[r, i, j] = 2.0 / n[r] * values[r, i, j]
        size = np.sqrt(size2)
        gscale[r] = max(2.0 / n[r] * size, 1e-300)
        tscale[r] = np.sqrt(2.0 * np.sqrt(min(d1, d2)) * max(size, 1e-300))
        wscale[r] = big + 1e-300
    return n, Ms, Vs, gscale, tscale, wscale


@njit(cache=True)
def gradient_norms(Theta, Ms, Vs, d1, d, d2):
    """|grad R_S| at each row of ``Theta`` (a run per row, with its own Ms and Vs)."""
    R = Theta.shape[0]
    out = np.empty(R)
    E, g = np.empty((d1, d2)), np.empty(Theta.shape[1])
    for r in range(R):
        _residual_into(Theta[r], Ms[r], Vs[r], d1, d, d2, E)
        _grad(Theta[r], E, d1, d, d2, g, 1.0)
        out[r] = np.sqrt(np.sum(g * g))
    return out

