"""The small-initialization limit path compiled with numba, the runs of a batch in parallel.

The same algorithm as the batched NumPy code in :mod:`mfbook.limit`: at each critical point the
Hessian, its eigendecomposition and the escape direction (``limit_path``; ``limit_path_narrow`` does
the same with factors only as wide as the rank learned so far, which is exact where the escapes are
simple), then the transit to the next plateau (``transit``): Dormand-Prince 8(5,3) steps on
:math:`\\dot\\theta = -\\nabla R_S(\\theta)`, optionally with the variational equation
:math:`\\dot\\delta = -\\nabla^2 R_S(\\theta)\\,\\delta`, the same error norm and step-size rule,
the same stopping tests and the same Newton finish of a slow approach. Written with explicit loops,
without temporaries in the steps and with the right-hand side inlined (numba's ``inline="always"``;
measured: a third of the cost of a step on a 2 x 2 problem, a tenth on a 4 x 4, with bit-identical
results): for the book's problems one right-hand side costs a fraction of a microsecond here instead
of tens of microseconds of NumPy call overhead, and a batch no longer waits for its slowest run. The
runs of a batch are independent: :mod:`mfbook.limit` hands slices of a batch to one thread per core
(``limit_batch`` releases the GIL; every run seeds its own random fallback,
so the results do not depend on the number of threads).

Explained in: chapter 4 (Training dynamics) -- the method; this module only makes it fast.
"""
import numpy as np
from numba import njit

REACHED, TIMEOUT, UNBOUNDED = 0, 1, 2


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
def _pinv_step(H, g):
    """H^+ g for the symmetric H (as ``numpy.linalg.pinv(H, 1e-10, hermitian=True) @ g``)."""
    w, Q = np.linalg.eigh(H)
    cut = 1e-10 * np.max(np.abs(w))
    c = Q.T @ g
    for q in range(g.size):
        c[q] = c[q] / w[q] if abs(w[q]) > cut else 0.0
    return Q @ c


@njit(cache=True)
def _lu_solve(M, b, min_pivot):
    """Solve M x = b by Gaussian elimination with partial pivoting (M and b are overwritten).
    Returns (x, ok): ok is False when a pivot is at most ``min_pivot`` times the largest entry of M
    (M numerically singular; x is then not computed)."""
    p = b.size
    big = 0.0
    for i in range(p):
        for j in range(p):
            big = max(big, abs(M[i, j]))
    tiny = min_pivot * big
    for k in range(p):
        piv = k
        for i in range(k + 1, p):
            if abs(M[i, k]) > abs(M[piv, k]):
                piv = i
        if not abs(M[piv, k]) > tiny:
            return b, False
        if piv != k:
            for j in range(k, p):
                M[k, j], M[piv, j] = M[piv, j], M[k, j]
            b[k], b[piv] = b[piv], b[k]
        for i in range(k + 1, p):
            f = M[i, k] / M[k, k]
            if f != 0.0:
                for j in range(k + 1, p):
                    M[i, j] -= f * M[k, j]
                b[i] -= f * b[k]
    for k in range(p - 1, -1, -1):
        s = b[k]
        for j in range(k + 1, p):
            s -= M[k, j] * b[j]
        b[k] = s / M[k, k]
    return b, True


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
def _dop853_step(y, f, h, Ms, Vs, d1, d, d2, p, dw, rtol, atol, Atab, Bw, E3, E5, K, ys, y_new, work):
    """One Dormand-Prince 8(5,3) step of size ``h`` from ``y`` (with ``f`` its right-hand side):
    writes the stages to ``K`` (``K[S]`` is the right-hand side at the new point) and the new point
    to ``y_new``; returns the scaled error norm of the first ``p`` components (the step is
    accepted when it is at most 1). The norm is scipy's for DOP853. ``work`` comes from
    :func:`_work`. Stage sums run over the stages in order (zero coefficients skipped), along
    contiguous rows of ``K``."""
    E, dE, acc, acc3 = work
    S = Bw.size
    P2 = y.size
    K[0] = f
    for s in range(1, S + 1):
        coef = Atab[s] if s < S else Bw
        acc[:] = 0.0
        for j in range(s):
            c = coef[j]
            if c != 0.0:
                for q in range(P2):
                    acc[q] += c * K[j, q]
        out = ys if s < S else y_new
        for q in range(P2):
            out[q] = y[q] + h * acc[q]
        _rhs(out, Ms, Vs, d1, d, d2, p, dw, K[s], E, dE)
    acc[:p] = 0.0
    acc3[:] = 0.0
    for j in range(S + 1):
        c5 = E5[j]
        c3 = E3[j]
        for q in range(p):
            acc[q] += c5 * K[j, q]
            acc3[q] += c3 * K[j, q]
    e5 = 0.0
    e3 = 0.0
    for q in range(p):
        sc = atol + rtol * max(abs(y[q]), abs(y_new[q]))
        e5 += (acc[q] / sc) ** 2
        e3 += (acc3[q] / sc) ** 2
    err = abs(h) * e5 / np.sqrt(max(e5 + 0.01 * e3, 1e-300) * p)
    return err if np.isfinite(err) else np.inf


@njit(cache=True)
def _sumsq(x, lo, hi):
    """sum of x[lo:hi]**2, in order, without a temporary."""
    s = 0.0
    for q in range(lo, hi):
        s += x[q] * x[q]
    return s


@njit(cache=True)
def _work(d1, d2, P2, p):
    """Work space of :func:`_dop853_step`."""
    return np.empty((d1, d2)), np.empty((d1, d2)), np.empty(P2), np.empty(p)


@njit(cache=True)
def _cholesky(M, min_pivot):
    """The Cholesky factor of the symmetric M in its lower triangle (M is overwritten); False if a
    pivot is at most ``min_pivot`` times the largest diagonal entry (M not positive definite enough)."""
    p = M.shape[0]
    tiny = 0.0
    for q in range(p):
        tiny = max(tiny, M[q, q])
    tiny *= min_pivot
    for k in range(p):
        piv = M[k, k]
        for j in range(k):
            piv -= M[k, j] * M[k, j]
        if not piv > tiny:
            return False
        piv = np.sqrt(piv)
        M[k, k] = piv
        for i in range(k + 1, p):
            s = M[i, k]
            for j in range(k):
                s -= M[i, j] * M[k, j]
            M[i, k] = s / piv
    return True


@njit(cache=True)
def _cholesky_solve(L, b):
    """x with L L^T x = b, L from :func:`_cholesky`."""
    p = b.size
    x = b.copy()
    for i in range(p):
        s = x[i]
        for j in range(i):
            s -= L[i, j] * x[j]
        x[i] = s / L[i, i]
    for i in range(p - 1, -1, -1):
        s = x[i]
        for j in range(i + 1, p):
            s -= L[j, i] * x[j]
        x[i] = s / L[i, i]
    return x


@njit(cache=True)
def _solve_symmetric(M, b, min_pivot):
    """(x, ok) with M x = b for the symmetric M: by Cholesky where M is positive definite (about p^3/6
    operations, half of LU), else by LU with partial pivoting; ok is False where a pivot of that is at
    most ``min_pivot`` of the largest entry (M numerically singular). M and b are left as they are."""
    C = M.copy()
    if _cholesky(C, min_pivot):
        return _cholesky_solve(C, b), True
    return _lu_solve(M.copy(), b.copy(), min_pivot)


@njit(cache=True)
def _convex_up_to_symmetry(th, Ms, Vs, d1, d, d2):
    """Is the Hessian at ``th`` positive definite up to the symmetry: H + c T T^T (:func:`_gauge_fixed`)
    positive definite, every Cholesky pivot above 1e-10 of the largest diagonal entry? At a critical
    point, where the orbit's tangents T span the null space of H if the point is isolated, this says
    that it is a strict local minimum up to the symmetry; elsewhere, that the loss is locally convex
    across the orbits."""
    return _cholesky(_gauge_fixed(_hessian(th, Ms, Vs, d1, d, d2, th.size), th, d1, d, d2), 1e-10)


@njit(cache=True)
def _spectrum_below(H, c):
    """Are all eigenvalues of -H below c > 0 (H + c I positive definite, by Cholesky)? At a saddle of the
    narrow path where the escape into a new inner direction (rate sigma_1(E)) is faster than anything
    in the active block, this settles the active block without its eigenvalues: none reaches the
    cut-off c below the escape rate."""
    if not c > 0.0:
        return False
    M = H.copy()
    for q in range(H.shape[0]):
        M[q, q] += c
    return _cholesky(M, 0.0)


@njit(cache=True)
def transit(y0, Ms, Vs, d1, d, d2, n, dw, rate, rtol, atol, g0, big, t_limit, wscale,
            Atab, Bw, E3, E5, expo, max_steps, gtol, snap, snap_min, snap_after, snap_allowed, narrow):
    """Integrate one run from just off a saddle to the next plateau; returns (state, outcome).

    The state is theta (inner width d) followed, if ``dw > 0``, by a direction delta of inner width
    ``dw`` transported by the variational equation (kept at unit length). A slow approach is
    finished by Newton (:func:`newton_snap`): below ``snap`` of the peak gradient once two attempts
    agree, or, on the ``narrow`` path (factors of full rank d: the symmetry is GL(d)), at the first
    attempt that lands on a strict local minimum (:func:`_convex_up_to_symmetry`), already below
    ``snap_min`` if the loss is also locally convex where the flow is."""
    p = d1 * d + d * d2
    P2 = y0.size
    S = Bw.size
    y = y0.copy()
    f = np.empty(P2)
    work = _work(d1, d2, P2, p)
    _rhs(y, Ms, Vs, d1, d, d2, p, dw, f, work[0], work[1])
    K = np.empty((S + 1, P2))
    ys = np.empty(P2)
    y_new = np.empty(P2)
    t = 0.0
    tries = 0
    h = 0.05 / max(rate, 1e-12)
    escaped = False
    gpeak = 0.0
    gbest = np.inf
    ybest = y.copy()
    next_snap = snap_after
    snapW = np.empty((d1, d2))
    have_snap = False
    loss0 = _loss(y, Ms, Vs, d1, d, d2, n)
    outcome = REACHED
    while tries <= 100 * max_steps:   # a guard; `late` below ends every run long before
        tries += 1
        err = _dop853_step(y, f, h, Ms, Vs, d1, d, d2, p, dw, rtol, atol, Atab, Bw, E3, E5, K, ys, y_new, work)
        factor = min(max(0.9 * max(err, 1e-10) ** -expo, 0.2), 5.0)
        h_used = h
        if err <= 1.0:
            h = h * factor
        else:
            h = h * min(factor, 1.0)
            continue
        # accepted
        y[:] = y_new
        f[:] = K[S]
        if dw > 0:
            dn = max(np.sqrt(_sumsq(y, p, P2)), 1e-300)
            y[p:] /= dn
            f[p:] /= dn
        t += h_used
        gn = np.sqrt(_sumsq(f, 0, p))
        if not escaped:
            escaped = _loss_into(y, Ms, Vs, d1, d, d2, n, work[0]) < loss0 * (1 - 1e-6) - 1e-15
        gpeak = max(gpeak, gn) if escaped else 0.0
        if escaped and gn < gbest:
            gbest = gn
            ybest[:] = y
        close = escaped and gn < gtol * min(gpeak, g0)
        late_tail = gn < snap * gpeak
        early_tail = narrow and gn < snap_min * gpeak
        if escaped and not close and snap_allowed and (late_tail or early_tail) and tries >= next_snap:
            if late_tail or _convex_up_to_symmetry(y[:p], Ms, Vs, d1, d, d2):
                th, conv = newton_snap(y[:p].copy(), Ms, Vs, d1, d, d2, n, g0, 8, narrow)
                next_snap = tries + 10 + tries // 2
                if late_tail:
                    W = th[:d1 * d].copy().reshape(d1, d) @ th[d1 * d:].copy().reshape(d, d2)
                    agree = conv and have_snap and np.max(np.abs(W - snapW)) <= 1e-11 * wscale
                    if conv and not agree and narrow:
                        agree = _convex_up_to_symmetry(th, Ms, Vs, d1, d, d2)
                    have_snap = conv
                    if conv:
                        snapW[:] = W
                else:   # earlier: only from where the loss is locally convex (above) onto a strict minimum
                    agree = conv and _convex_up_to_symmetry(th, Ms, Vs, d1, d, d2)
                if agree:
                    y[:p] = th
                    close = True
            else:   # not yet where the loss is locally convex (a cheap test): look again soon
                next_snap = tries + 2 + tries // 8
        left = escaped and gbest < 1e-3 * gpeak and gn > 30 * gbest
        unb = _sumsq(y, 0, p) > big
        late = t > t_limit or tries > max_steps
        if unb:
            outcome = UNBOUNDED
        elif late and not close and not left:
            outcome = TIMEOUT
        if close or left or unb or late:
            if left:
                y[:] = ybest
            return y, outcome
    return y, TIMEOUT


@njit(cache=True)
def newton_polish_batch(Theta, Ms, Vs, d1, d, d2, iters, gtiny):
    """:func:`newton_polish` for every row of ``Theta``."""
    out = np.empty_like(Theta)
    for r in range(Theta.shape[0]):
        out[r] = newton_polish(Theta[r], Ms[r], Vs[r], d1, d, d2, iters, gtiny[r], np.bool_(False))
    return out


@njit(cache=True)
def flow(y0, Ms, Vs, d1, d, d2, n, rtol, atol, t_max, tol, Atab, Bw, E3, E5, expo, max_tries):
    """Gradient flow of one depth-2 problem from ``y0`` until the loss is below ``tol`` or ``t_max``.

    The step-size rule is scipy's for DOP853 (safety 0.9, factors 0.2 to 10, no growth right after
    a rejection). When a step takes the loss below ``tol``, the crossing inside that step is
    located (regula falsi on the log of the loss over shorter steps from the same point), so the
    run ends where the loss is just below ``tol``, as an event of ``solve_ivp`` would.

    Returns (times, states at the accepted steps, converged, number of right-hand sides).
    """
    p = y0.size
    S = Bw.size
    K = np.empty((S + 1, p))
    ys = np.empty(p)
    y_new = np.empty(p)
    y_try = np.empty(p)
    f = np.empty(p)
    y = y0.copy()
    work = _work(d1, d2, p, p)
    _rhs(y, Ms, Vs, d1, d, d2, p, 0, f, work[0], work[1])
    nfev = 1
    T = np.empty(256)
    Y = np.empty((256, p))
    T[0] = 0.0
    Y[0] = y
    m = 1
    if _loss(y, Ms, Vs, d1, d, d2, n) < tol:
        return T[:1], Y[:1], True, nfev
    # first step as in Hairer, Norsett & Wanner (and scipy): 1% of |y| / |f| in the error norm
    d0 = 0.0
    df = 0.0
    for q in range(p):
        sc = atol + rtol * abs(y[q])
        d0 += (y[q] / sc) ** 2
        df += (f[q] / sc) ** 2
    h = 1e-6 if d0 < 1e-10 * p or df < 1e-10 * p else 0.01 * np.sqrt(d0 / df)
    t = 0.0
    rejected = False
    converged = False
    tries = 0
    while tries < max_tries and t < t_max:
        tries += 1
        h = min(h, t_max - t)
        err = _dop853_step(y, f, h, Ms, Vs, d1, d, d2, p, 0, rtol, atol, Atab, Bw, E3, E5, K, ys, y_new, work)
        nfev += S
        if err > 1.0:
            h *= max(0.2, 0.9 * err ** -expo)
            rejected = True
            continue
        factor = min(10.0, 0.9 * max(err, 1e-10) ** -expo)
        if rejected:
            factor = min(1.0, factor)
        rejected = False
        lo = _loss(y_new, Ms, Vs, d1, d, d2, n)
        t_new = t + h
        if lo < tol:
            # the loss crossed tol inside this step: regula falsi (Illinois) on
            # g(s) = log loss(step of length s) - log tol, with g(0) > 0 > g(h)
            a, ga = 0.0, np.log(_loss(y, Ms, Vs, d1, d, d2, n) / tol)
            b, gb = h, np.log(max(lo, 1e-300) / tol)
            side = 0
            for _ in range(30):
                if gb > -1e-3:   # within 0.1% of tol, on the converged side
                    break
                c = b - gb * (b - a) / (gb - ga)
                _dop853_step(y, f, c, Ms, Vs, d1, d, d2, p, 0, rtol, atol, Atab, Bw, E3, E5, K, ys, y_try, work)
                nfev += S
                gc = np.log(max(_loss(y_try, Ms, Vs, d1, d, d2, n), 1e-300) / tol)
                if gc < 0.0:
                    b, gb = c, gc
                    y_new[:] = y_try
                    if side == -1:
                        ga *= 0.5
                    side = -1
                else:
                    a, ga = c, gc
                    if side == 1:
                        gb *= 0.5
                    side = 1
            t_new = t + b
            converged = True
        if m == T.size:   # grow the record
            T2 = np.empty(2 * m)
            Y2 = np.empty((2 * m, p))
            T2[:m] = T
            Y2[:m] = Y
            T, Y = T2, Y2
        T[m] = t_new
        Y[m] = y_new
        m += 1
        if converged:
            break
        t = t_new
        y[:] = y_new
        f[:] = K[S]
        h *= factor
    return T[:m], Y[:m], converged, nfev


# ---------------------------------------------------------------------------------------------
# the whole saddle-to-saddle path of one run (the level loop of ``small_init_limit_batch``)

CONVERGED, STALLED = 0, 1   # path status codes (UNBOUNDED = 2 as above)
# (Constant flags passed to compiled functions are written np.bool_(...), np.int64(...): numba compiles a
# function again for every literal value it is called with, and these calls would compile the whole path twice.)
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
            _series_product(K, m, 1, m - 1, d1, d, d2, Wk)     # the part of W_m without K_m
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
            _series_product(K, m, 0, m, d1, d, d2, Wk)
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


@njit(cache=True)
def _widen(theta, d1, w, d2, wide):
    """The factors in ``theta`` (inner width ``w``) padded to width ``wide`` with zero columns of A
    and zero rows of B."""
    out = np.zeros(d1 * wide + wide * d2)
    for i in range(d1):
        for k in range(w):
            out[i * wide + k] = theta[i * w + k]
    for k in range(w):
        for j in range(d2):
            out[d1 * wide + k * d2 + j] = theta[d1 * w + k * d2 + j]
    return out


@njit(cache=True)
def _product(theta, d1, d, d2):
    """W = A B (also for d = 0)."""
    W = np.zeros((d1, d2))
    pa = d1 * d
    for i in range(d1):
        for k in range(d):
            a = theta[i * d + k]
            for j in range(d2):
                W[i, j] += a * theta[pa + k * d2 + j]
    return W


SVD_JACOBI_MAX = 8   # _svd: one-sided Jacobi up to this size, LAPACK above


@njit(cache=True)
def _svd(M):
    """Thin SVD (U, s, Vt) of M (m x n): s descending, U m x r and Vt r x n, r = min(m, n), with
    orthonormal columns / rows, except that the singular vectors of a zero singular value on the long
    side (columns of U if m >= n, rows of Vt if m < n) are left 0: the limit path only uses the top
    pair, and products weighted by the singular values.

    Up to ``SVD_JACOBI_MAX`` rows and columns by one-sided Jacobi rotations (Hestenes): the columns of
    M (of M^T if it is wide) are rotated in pairs until they are orthogonal to rounding level; their
    norms are the singular values. For the small matrices of the limit path this is several times
    faster than LAPACK through numba (which allocates and queries work space on every call) and as
    accurate (singular values to a few ulps of the largest, measured against LAPACK)."""
    m, n = M.shape
    if max(m, n) > SVD_JACOBI_MAX:
        U, s, Vt = np.linalg.svd(M)
        r = min(m, n)
        return np.ascontiguousarray(U[:, :r]), s, np.ascontiguousarray(Vt[:r, :])
    wide = m < n
    X = M.T.copy() if wide else M.copy()
    if wide:
        m, n = n, m
    V = np.eye(n)
    for _ in range(60):
        rotated = False
        for i in range(n - 1):
            for j in range(i + 1, n):
                a = 0.0
                b = 0.0
                c = 0.0
                for k in range(m):
                    a += X[k, i] * X[k, i]
                    b += X[k, j] * X[k, j]
                    c += X[k, i] * X[k, j]
                if c == 0.0 or abs(c) <= 1e-15 * np.sqrt(a * b):
                    continue
                rotated = True
                zeta = (b - a) / (2.0 * c)
                t = (1.0 if zeta >= 0.0 else -1.0) / (abs(zeta) + np.sqrt(1.0 + zeta * zeta))
                cs = 1.0 / np.sqrt(1.0 + t * t)
                sn = cs * t
                for k in range(m):
                    xi = X[k, i]
                    X[k, i] = cs * xi - sn * X[k, j]
                    X[k, j] = sn * xi + cs * X[k, j]
                for k in range(n):
                    vi = V[k, i]
                    V[k, i] = cs * vi - sn * V[k, j]
                    V[k, j] = sn * vi + cs * V[k, j]
        if not rotated:
            break
    norms = np.empty(n)
    for i in range(n):
        a = 0.0
        for k in range(m):
            a += X[k, i] * X[k, i]
        norms[i] = np.sqrt(a)
    order = np.argsort(-norms)
    U = np.zeros((m, n))
    s = np.empty(n)
    Vt = np.empty((n, n))
    for r in range(n):
        c = order[r]
        s[r] = norms[c]
        for k in range(n):
            Vt[r, k] = V[k, c]
        if norms[c] > 0.0:
            for k in range(m):
                U[k, r] = X[k, c] / norms[c]
    if wide:
        return np.ascontiguousarray(Vt.T), s, np.ascontiguousarray(U.T)
    return U, s, Vt


@njit(cache=True)
def _balanced(theta, d1, w, d2):
    """The balanced factors of W = A B (A^T A = B B^T) nearest to the given ones, at width w.

    Gradient flow conserves A^T A - B B^T, and the limit path starts at 0, so its critical points
    are balanced; Newton steps, which fix W, do not keep the balance. The balanced factorizations
    of W (rank w) are A' = U S^(1/2) O, B' = O^T S^(1/2) V^T (SVD W = U S V^T, O orthogonal); the
    nearest one (least |A' - A|^2 + |B' - B|^2) has O the orthogonal polar factor of
    S^(1/2) (U^T A + V^T B^T). So the factors only lose the small imbalance of the Newton steps and
    keep their orientation (as the flow, which rotates them continuously)."""
    pa = d1 * w
    U, s, Vt = _svd(_product(theta, d1, w, d2))
    k = min(w, s.size)
    A = theta[:pa].copy().reshape(d1, w)
    B = theta[pa:].copy().reshape(w, d2)
    r = np.sqrt(s[:k])
    Us = np.ascontiguousarray(U[:, :k]) * r
    Vs = np.ascontiguousarray(Vt[:k, :].T) * r
    P, _, Qt = _svd(Us.T @ A + Vs.T @ B.T)     # k x w: P k x k, Qt k x w
    O = P @ Qt
    out = np.zeros(theta.size)
    out[:pa] = (Us @ O).ravel()
    out[pa:] = (O.T @ Vs.T).ravel()
    return out


@njit(cache=True)
def _numerical_rank(W):
    """Number of singular values above 1e-6 times the largest (as :func:`mfbook.limit.numerical_rank`)."""
    sv = _svd(W)[1]
    rank = 0
    for s in sv:
        if s > 1e-6 * max(sv[0], 1e-300):
            rank += 1
    return rank


@njit(cache=True)
def _saddle_arrays(L, d1, d2):
    """The record of up to L saddles of one path: W, loss, rank, escape rate, multiplicity."""
    return np.zeros((L, d1, d2)), np.zeros(L), np.zeros(L, np.int64), np.zeros(L), np.zeros(L, np.int64)


@njit(cache=True)
def _visit(theta, Ms, Vs, n, d1, w, d2, lam, mult, min_rate, gscale, level, max_saddles, saddles, ns, status,
           last_norm):
    """Record the critical point ``theta`` (inner width ``w``, escape rate ``lam``, multiplicity
    ``mult``) as saddle ``ns`` of a path, and decide whether the path ends there: at a minimum, after
    ``max_saddles`` departures (stalled), or when it crawls: no progress since the last plateau (same
    rank, loss not even halved), an unattained infimum if the factors grew, stalled if not.

    Returns (number of saddles, rank, status, whether the path ends, |theta|)."""
    SW, Sloss, Srank, Srate, Smult = saddles
    W = _product(theta, d1, w, d2)
    rank = _numerical_rank(W)
    loss = _loss(theta, Ms, Vs, d1, w, d2, n)
    is_min = lam <= min_rate * gscale
    SW[ns] = W
    Sloss[ns] = loss
    Srank[ns] = rank
    Srate[ns] = lam
    Smult[ns] = mult
    ns += 1
    tnorm = np.sqrt(np.sum(theta * theta))
    if level >= 2 and not is_min and rank == Srank[ns - 2] and loss > 0.5 * Sloss[ns - 2]:
        status = UNBOUNDED if tnorm > last_norm * (1 + 1e-6) else STALLED
        is_min = True
    if level == max_saddles and not is_min:
        status = STALLED
    return ns, rank, status, is_min or level == max_saddles, tnorm


DONE, DEGENERATE, CRAWLS = 0, 1, 2   # how a path ended: done, or left for another pass (limit_run)


@njit(cache=True)
def _gauge_move(delta, before, after, d1, w, d, d2):
    """Carry the direction ``delta`` (inner width d, its first w directions those of theta) along a
    change of factors theta = (A, B) -> (A G, G^{-1} B) within the orbit of GL(w) (``before`` ->
    ``after``, same W, full rank w): the flow commutes with that symmetry, so a transported direction
    (X, Y) becomes (X G, G^{-1} Y). G = (A^T A)^{-1} A^T A', G^{-1} = B' B^T (B B^T)^{-1}."""
    pa = d1 * w
    A = before[:pa].copy().reshape(d1, w)
    B = before[pa:].copy().reshape(w, d2)
    G = np.linalg.solve(A.T @ A, A.T @ after[:pa].copy().reshape(d1, w))
    Gi = np.linalg.solve(B @ B.T, B @ after[pa:].copy().reshape(w, d2).T).T
    qa = d1 * d
    X = np.empty((d1, w))
    Y = np.empty((w, d2))
    for i in range(d1):
        for k in range(w):
            X[i, k] = delta[i * d + k]
    for k in range(w):
        for j in range(d2):
            Y[k, j] = delta[qa + k * d2 + j]
    X = X @ G
    Y = Gi @ Y
    for i in range(d1):
        for k in range(w):
            delta[i * d + k] = X[i, k]
    for k in range(w):
        for j in range(d2):
            delta[qa + k * d2 + j] = Y[k, j]


@njit(cache=True)
def _top_projection(vec, Qa, n_act, U, Vt, n_new, d1, w, d, d2):
    """The projection of ``vec`` (inner width d: w active directions, then d - w inactive ones where the
    factors are 0) onto the top eigenspace of -H at a critical point of inner width w: spanned by the
    top ``n_act`` eigenvectors of the active block (columns of ``Qa``) and, if ``n_new`` is 1, by
    z = (u_1, -v_1)/sqrt2 in each inactive direction (u_1, v_1 the top singular pair of the residual
    gradient). Returns (the active part at width w, the coefficient of z in each inactive direction)."""
    pw = (d1 + d2) * w
    qa = d1 * d
    act = np.zeros(pw)
    for i in range(d1):
        for k in range(w):
            act[i * w + k] = vec[i * d + k]
    for k in range(w):
        for j in range(d2):
            act[d1 * w + k * d2 + j] = vec[qa + k * d2 + j]
    proj_act = np.zeros(pw)
    if n_act > 0:
        Qt = np.ascontiguousarray(Qa[:, pw - n_act:])
        proj_act = Qt @ (Qt.T @ act)
    c = np.zeros(d - w)
    if n_new == 1:
        r2 = 1.0 / np.sqrt(2.0)
        for k in range(d - w):
            s = 0.0
            for i in range(d1):
                s += U[i, 0] * r2 * vec[i * d + w + k]
            for j in range(d2):
                s -= Vt[0, j] * r2 * vec[qa + (w + k) * d2 + j]
            c[k] = s
    return proj_act, c


@njit(cache=True)
def _carried_escape(delta, source, L, Qa, n_act, U, Vt, n_new, d1, w, d, d2):
    """The escape from a critical point of inner width w along the projection of ``source`` onto the top
    eigenspace of -H (:func:`_top_projection`; ``source`` is the carried direction ``delta``, or a random
    one where that misses the eigenspace).

    The projection has a coefficient c_k of z in each inactive direction; a reflection R of the
    inactive directions turns c into gamma e_0, and the first inactive direction becomes active: the
    escape needs one new inner direction, whatever the number of inactive ones. ``delta`` is rotated in
    place, and so is the orientation ``L`` (the factors in the original inner coordinates are
    (A L, L^T B): L becomes R L).

    Returns (escape direction at the new width, the new width, the rest of delta (delta minus its
    projection) at width d, the norm of the projection of source)."""
    pw = (d1 + d2) * w
    qa = d1 * d
    m = d - w
    proj_act, c = _top_projection(source, Qa, n_act, U, Vt, n_new, d1, w, d, d2)
    cn = np.sqrt(np.sum(c * c))
    size = np.sqrt(np.sum(proj_act * proj_act) + cn * cn)
    wn = w + 1 if cn > 1e-12 * size else w
    gamma = 0.0
    if wn > w:
        # Householder reflection R = I - 2 u u^T / u^T u with R c = gamma e_0, gamma = -sign(c_0) |c|
        gamma = -cn if c[0] >= 0.0 else cn
        u = c.copy()
        u[0] -= gamma
        f = 2.0 / np.sum(u * u)
        for i in range(d1):          # A R: the rows of A
            s = 0.0
            for k in range(m):
                s += delta[i * d + w + k] * u[k]
            for k in range(m):
                delta[i * d + w + k] -= f * s * u[k]
        for j in range(d2):          # R B: the columns of B
            s = 0.0
            for k in range(m):
                s += delta[qa + (w + k) * d2 + j] * u[k]
            for k in range(m):
                delta[qa + (w + k) * d2 + j] -= f * s * u[k]
        for j in range(d):           # R L: the columns of L
            s = 0.0
            for k in range(m):
                s += L[w + k, j] * u[k]
            for k in range(m):
                L[w + k, j] -= f * s * u[k]
    r2 = 1.0 / np.sqrt(2.0)
    v = np.zeros((d1 + d2) * wn)
    for i in range(d1):
        for k in range(w):
            v[i * wn + k] = proj_act[i * w + k]
    for k in range(w):
        for j in range(d2):
            v[d1 * wn + k * d2 + j] = proj_act[d1 * w + k * d2 + j]
    if wn > w:
        for i in range(d1):
            v[i * wn + w] = gamma * U[i, 0] * r2
        for j in range(d2):
            v[d1 * wn + w * d2 + j] = -gamma * Vt[0, j] * r2
    # the rest: delta (rotated) minus its own projection
    pa_d, c_d = _top_projection(delta, Qa, n_act, U, Vt, n_new, d1, w, d, d2)
    rest = delta.copy()
    for i in range(d1):
        for k in range(w):
            rest[i * d + k] -= pa_d[i * w + k]
        for k in range(m):
            rest[i * d + w + k] -= c_d[k] * U[i, 0] * r2
    for k in range(w):
        for j in range(d2):
            rest[qa + k * d2 + j] -= pa_d[d1 * w + k * d2 + j]
    for k in range(m):
        for j in range(d2):
            rest[qa + (w + k) * d2 + j] += c_d[k] * Vt[0, j] * r2
    return v, wn, rest, size


@njit(cache=True)
def limit_path_narrow(delta0, carry, seed, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, Atab,
                      Bw, E3, E5, expo, eps, gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after,
                      snap_max_p, polish_tol):
    """The saddle-to-saddle path of one run with factors only as wide as the rank learned so far.

    Started from 0 along the unstable manifold of each saddle, the flow keeps the columns of A and
    the rows of B in the span of the escape directions taken so far: after k escapes the factors
    have inner width k, and the other d - k inner directions stay exactly 0. At such a critical
    point the Hessian splits into the Hessian at width k (the active block) and d - k copies of the
    block of a new inner direction (x, y) -> (E y, E^T x), whose eigenvalues are the singular values
    :math:`\\pm\\sigma_i(E)` of the residual gradient E (and |d1 - d2| zeros). So the escape rate is
    the larger of the active block's top eigenvalue and :math:`\\sigma_1(E)`, the multiplicity is
    counted block by block, and when :math:`\\sigma_1(E)` is simple, every escape direction needs at
    most one new inner direction: the transit and the Newton steps run at width k + 1 (for a 4 x 4
    problem Hessians of 8, 16, 24 instead of 32 parameters). The W path is the full-width one,
    exactly.

    Without ``carry``, an escape that is not simple (a larger top eigenspace than the rotation orbit,
    or one in the active block) ends the run ``DEGENERATE``: it depends on the initial direction. With
    ``carry`` the initial direction ``delta0`` (inner width d) is carried: every escape leaves along its
    projection onto the top eigenspace (:func:`_carried_escape`), and the rest is transported through
    the transit by the variational equation at width d (on the inactive directions it is the block
    above, so it costs little). A run that needs more than one new direction at once (a repeated
    :math:`\\sigma_1(E)`) or meets factors of lower rank than their width ends ``DEGENERATE`` there
    too, for :func:`limit_path` (full width). A transit that does not settle within its time or step
    budget ends ``CRAWLS``: at full width the flow may leave such a slow stage through another inner
    direction (seeded by rounding errors, as in finite-precision training), so :func:`limit_path`
    computes the run again at full width.

    Returns what :func:`limit_path` returns (theta padded to width d) and, before its last entry
    (``DONE``, ``DEGENERATE`` or ``CRAWLS``), theta (padded) and the orientation L at each critical
    point: the factors in the original inner coordinates are (A L, L^T B) (L is the identity without
    ``carry``; with it, the reflections of :func:`_carried_escape`).

    Two things only the narrow path does: it rebalances the factors at every critical point
    (:func:`_balanced`; the flow conserves :math:`A^\\top A - B B^\\top`, Newton steps do not; the carried
    direction follows, :func:`_gauge_move`), and it accepts a Newton finish at once when it lands on a
    strict local minimum at width k + 1 (``narrow`` of :func:`transit`: the symmetry is GL(k + 1)).
    """
    np.random.seed(seed)
    L = max_saddles + 1
    saddles = _saddle_arrays(L, d1, d2)
    SW, Sloss, Srank, Srate, Smult = saddles
    w = np.int64(0)
    theta = np.zeros(0)
    delta = delta0.copy()
    orient = np.eye(d)                     # the factors in the original inner coordinates: (A L, L^T B)
    Sth = np.zeros((L, (d1 + d2) * d))      # theta (padded) and L at each critical point
    SL = np.zeros((L, d, d))
    E = np.empty((d1, d2))
    ns = np.int64(0)
    status = np.int64(CONVERGED)
    last_norm = 0.0
    atol = 1e-6 * eps * tscale
    big = (bigf * tscale) ** 2
    for level in range(max_saddles + 1):
        pw = (d1 + d2) * w
        if level > 0:
            polished = newton_polish(theta, Ms, Vs, d1, w, d2, 4, polish_tol * gscale, np.bool_(True))
            theta = _balanced(polished, d1, w, d2)
            if carry and _numerical_rank(_product(theta, d1, w, d2)) == w:
                _gauge_move(delta, polished, theta, d1, w, d, d2)
        _residual_into(theta, Ms, Vs, d1, w, d2, E)
        U, sig, Vt = _svd(E)
        Qa = np.empty((0, 0))
        active = np.empty(0)           # eigenvalues of -H in the active block, where they matter
        if w > 0:
            Hw = _hessian(theta, Ms, Vs, d1, w, d2, pw)
            if carry:
                active, Qa = np.linalg.eigh(-Hw)
            elif w == d or not _spectrum_below(Hw, sig[0] - eig_group * max(sig[0], gscale)):
                active = np.linalg.eigvalsh(-Hw)
        lam = active[active.size - 1] if active.size > 0 else -np.inf
        if w < d:
            lam = max(lam, sig[0])
        cut = lam - eig_group * max(abs(lam), gscale)
        n_act = 0
        for q in range(active.size):
            if active[q] >= cut:
                n_act += 1
        n_new = 0          # in one copy of the new-direction block
        if w < d:
            for q in range(sig.size):
                if sig[q] >= cut:
                    n_new += 1
                if -sig[q] >= cut:
                    n_new += 1
            if cut <= 0.0:
                n_new += abs(d1 - d2)
        ns, rank, status, ends, last_norm = _visit(theta, Ms, Vs, n, d1, w, d2, lam, n_act + (d - w) * n_new,
                                                   min_rate, gscale, level, max_saddles, saddles, ns, status,
                                                   last_norm)
        Sth[ns - 1] = _widen(theta, d1, w, d2, d)
        SL[ns - 1] = orient
        if ends:
            break
        if rank != w or n_new > 1 or (not carry and (n_act > 0 or n_new != 1)):
            return _widen(theta, d1, w, d2, d), SW, Sloss, Srank, Srate, Smult, ns, status, Sth, SL, DEGENERATE
        if carry:
            pa_s, c_s = _top_projection(delta, Qa, n_act, U, Vt, n_new, d1, w, d, d2)
            source = delta
            if np.sum(pa_s * pa_s) + np.sum(c_s * c_s) < 1e-12:   # delta misses the escape space: a random one
                source = np.random.standard_normal(delta.size)
            v, wn, rest, _ = _carried_escape(delta, source, orient, Qa, n_act, U, Vt, n_new, d1, w, d, d2)
            v /= np.sqrt(np.sum(v * v))
        else:
            wn = w + 1
            v = np.zeros((d1 + d2) * wn)
            for i in range(d1):
                v[i * wn + w] = U[i, 0] / np.sqrt(2.0)
            for j in range(d2):
                v[d1 * wn + w * d2 + j] = -Vt[0, j] / np.sqrt(2.0)
        th = _widen(theta, d1, w, d2, wn)
        pn = (d1 + d2) * wn
        # carrying the direction, start at eps: the rest is transported from the departure there
        y0, _ = _manifold_start(th, v, _hessian(th, Ms, Vs, d1, wn, d2, pn), lam, Ms, d1, wn, d2, tscale, eps,
                                eps if carry else 1.0, SERIES_ORDER, SERIES_TOL)
        if carry:
            y = np.empty(pn + delta.size)
            y[:pn] = y0
            y[pn:] = rest / max(np.sqrt(np.sum(rest * rest)), 1e-300)
        else:
            y = y0
        t_limit = 200.0 * np.log(1e9) / max(lam, 1e-12)
        y, outcome = transit(y, Ms, Vs, d1, wn, d2, n, d if carry else 0, lam, rtol, atol, gscale, big, t_limit,
                             wscale, Atab, Bw, E3, E5, expo, max_steps, gtol, snap, snap_min, snap_after, pn <= snap_max_p,
                             np.bool_(True))
        theta = y[:pn].copy()
        if carry:
            delta = y[pn:].copy()
        w = wn
        if outcome == UNBOUNDED:
            status = UNBOUNDED
            break
        if outcome == TIMEOUT:
            return _widen(theta, d1, w, d2, d), SW, Sloss, Srank, Srate, Smult, ns, status, Sth, SL, CRAWLS
    return _widen(theta, d1, w, d2, d), SW, Sloss, Srank, Srate, Smult, ns, status, Sth, SL, DONE


@njit(cache=True)
def limit_path(delta0, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, carry, seed,
               Atab, Bw, E3, E5, expo, eps, gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after,
               snap_max_p, polish_tol):
    """The saddle-to-saddle path of one run at full width d.

    The first escape leaves along the projection of the initial direction onto the top eigenspace
    of -H. With ``carry`` the rest of the initial direction is transported through each transit by
    the variational equation and every escape leaves along its projection. Without it (half the
    work) every escape after the first takes the top eigenvector of -H, which is right whenever
    the top eigenspace is only the orbit of the rotation symmetry (multiplicity d - rank): then
    all its directions give the same W path. At the first saddle where that is not so the run
    stops and ends ``DEGENERATE``.

    Returns (theta, saddle W, losses, ranks, rates, multiplicities, number of saddles, status,
    ``DONE`` or ``DEGENERATE``).
    """
    np.random.seed(seed)
    pa = d1 * d
    p = pa + d * d2
    L = max_saddles + 1
    saddles = _saddle_arrays(L, d1, d2)
    SW, Sloss, Srank, Srate, Smult = saddles
    theta = np.zeros(p)
    delta = delta0.copy()
    proj = np.zeros(p)
    ns = np.int64(0)
    status = np.int64(CONVERGED)
    last_norm = 0.0
    atol = 1e-6 * eps * tscale
    big = (bigf * tscale) ** 2
    for level in range(max_saddles + 1):
        if level > 0:
            theta = newton_polish(theta, Ms, Vs, d1, d, d2, 4, polish_tol * gscale, np.bool_(False))
        H = _hessian(theta, Ms, Vs, d1, d, d2, p)
        w, Q = np.linalg.eigh(-H)
        lam = w[p - 1]
        cut = lam - eig_group * max(abs(lam), gscale)
        mult = 0
        for q in range(p):
            if w[q] >= cut:
                mult += 1
        ns, rank, status, ends, last_norm = _visit(theta, Ms, Vs, n, d1, d, d2, lam, mult, min_rate, gscale, level,
                                                   max_saddles, saddles, ns, status, last_norm)
        if ends:
            break
        Qt = np.ascontiguousarray(Q[:, p - mult:])
        if level == 0 or carry:
            proj = Qt @ (Qt.T @ delta)
            v = proj.copy()
            if np.sqrt(np.sum(v * v)) < 1e-6:   # the carried direction misses the escape space
                v = Qt @ (Qt.T @ np.random.standard_normal(p))
        elif mult != d - rank:
            return theta, SW, Sloss, Srank, Srate, Smult, ns, status, DEGENERATE
        else:
            v = Q[:, p - 1].copy()
        v /= np.sqrt(np.sum(v * v))
        # carrying the direction, start at eps: the rest is transported from the departure there
        y0, _ = _manifold_start(theta, v, H, lam, Ms, d1, d, d2, tscale, eps, eps if carry else 1.0, SERIES_ORDER,
                                SERIES_TOL)
        if carry:
            y = np.empty(2 * p)
            rest = delta - proj
            y[p:] = rest / max(np.sqrt(np.sum(rest * rest)), 1e-300)
        else:
            y = np.empty(p)
        y[:p] = y0
        t_limit = 200.0 * np.log(1e9) / max(lam, 1e-12)
        y, outcome = transit(y, Ms, Vs, d1, d, d2, n, d if carry else 0, lam, rtol, atol, gscale, big, t_limit, wscale,
                             Atab, Bw, E3, E5, expo, max_steps, gtol, snap, snap_min, snap_after, p <= snap_max_p, np.bool_(False))
        theta = y[:p].copy()
        if carry:
            delta = y[p:].copy()
        if outcome == UNBOUNDED:
            status = UNBOUNDED
            break
    return theta, SW, Sloss, Srank, Srate, Smult, ns, status, DONE


@njit(cache=True)
def _root(parent, v):
    """Root of v in a union-find forest (with path halving)."""
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v


@njit(cache=True)
def components(Ms, d1, d2):
    """The connected components of the observed entries: a graph with the rows and the columns as
    vertices and an edge per observed entry (``Ms != 0``), zero or not -- every observed entry couples
    its row of A and its column of B in the loss. (The observation graph G_M of the book leaves out the
    observed zeros; on its components the limit is decided, but the flow decouples on these.)

    Returns (a label per vertex, rows first, then columns: -1 for a row or column without
    observations; the number of components)."""
    parent = np.arange(d1 + d2)
    seen = np.zeros(d1 + d2, np.bool_)
    for i in range(d1):
        for j in range(d2):
            if Ms[i, j] != 0.0:
                seen[i] = True
                seen[d1 + j] = True
                a = _root(parent, i)
                b = _root(parent, d1 + j)
                if a != b:
                    parent[a] = b
    label = np.full(d1 + d2, -1, np.int64)
    index = np.full(d1 + d2, -1, np.int64)
    count = 0
    for v in range(d1 + d2):
        if seen[v]:
            r = _root(parent, v)
            if index[r] < 0:
                index[r] = count
                count += 1
            label[v] = index[r]
    return label, count


@njit(cache=True)
def component_counts(Ms):
    """The number of components (:func:`components`) of each problem of a batch."""
    out = np.empty(Ms.shape[0], np.int64)
    for r in range(Ms.shape[0]):
        out[r] = components(Ms[r], Ms.shape[1], Ms.shape[2])[1]
    return out


@njit(cache=True)
def limit_path_components(delta0, seed, Ms, Vs, n, d1, d, d2, gscale, rtol, max_saddles, Atab, Bw, E3, E5, expo,
                          eps, gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after, snap_max_p,
                          polish_tol):
    """The saddle-to-saddle path of one run whose observed entries fall into several components.

    The rows of A and the columns of B of different components never meet in the loss, so gradient
    flow is one independent flow per component, on its own parameters, from its own part of the
    initial point (Proposition 2 of Bai, Zhao & Zhang; chapter 3). So is the limit: each component's
    path is computed on its own (the narrow path, on the component's rows and columns, with the full
    inner width d), and the factors are put together. What couples the components is only the inner
    space R^d they share: the entries of W between two components are products of their factors, so
    the factors must be in the original inner coordinates. The first escape of a component leaves
    along the projection of its part of the initial direction onto the top eigenspace at 0 (z in the
    inner direction c/|c|, c_k the coefficient of z in inner direction k: :func:`_top_projection`); a
    component with one escape needs nothing more. A component with more escapes is computed
    carrying its part of the initial direction, with its orientation (:func:`limit_path_narrow`).

    The critical points of the whole path are the products of the components' critical points, in
    the order of the escapes: at each, the component whose next escape is fastest leaves (as the
    whole flow would: the top eigenvalue of -H is the largest of the components'). Losses add up,
    the escape rate is the largest pending one, the multiplicity the sum over the components at that
    rate (and, at a minimum, the d zero eigenvalues of each row and column without observations).

    Returns what :func:`limit_path` returns; the last entry is ``DONE``, or ``DEGENERATE`` /
    ``CRAWLS`` if a component needs the full width (the caller computes the whole run at full width).
    """
    label, nc = components(Ms, d1, d2)
    L = max_saddles + 1
    pa = d1 * d
    CA = np.zeros((nc, L, d1, d))         # each component's factors at its critical points
    CB = np.zeros((nc, L, d, d2))
    Closs = np.zeros((nc, L))
    Crate = np.zeros((nc, L))
    Cmult = np.zeros((nc, L), np.int64)
    Ccount = np.zeros(nc, np.int64)
    status = np.int64(CONVERGED)
    for c in range(nc):
        rows = np.flatnonzero(label[:d1] == c)
        cols = np.flatnonzero(label[d1:] == c)
        m1, m2 = rows.size, cols.size
        Msc = np.empty((m1, m2))
        Vsc = np.empty((m1, m2))
        size2 = 0.0
        big = 0.0
        for a in range(m1):
            for b in range(m2):
                Msc[a, b] = Ms[rows[a], cols[b]]
                Vsc[a, b] = Vs[rows[a], cols[b]]
                if Msc[a, b] != 0.0:
                    x = Vsc[a, b] / Msc[a, b]
                    size2 += x * x
                    big = max(big, abs(x))
        size = np.sqrt(size2)          # the component's scales, as mfbook.limit._scales (same n)
        gs = max(2.0 / n * size, 1e-300)
        ts = np.sqrt(2.0 * np.sqrt(min(m1, m2)) * max(size, 1e-300))
        ws = big + 1e-300
        dc = np.empty((m1 + m2) * d)   # the component's part of the initial direction
        for a in range(m1):
            for k in range(d):
                dc[a * d + k] = delta0[rows[a] * d + k]
        for k in range(d):
            for b in range(m2):
                dc[m1 * d + k * m2 + b] = delta0[pa + k * d2 + cols[b]]
        dc /= max(np.sqrt(np.sum(dc * dc)), 1e-300)
        limit = min(min(m1, m2) + 2, max_saddles)
        _, _, Sl, _, Sra, Smu, ns, st, Sth, SL, end = limit_path_narrow(
            dc, np.bool_(False), seed, Msc, Vsc, n, m1, d, m2, gs, ts, ws, rtol, limit, Atab, Bw, E3, E5, expo, eps, gtol,
            bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after, snap_max_p, polish_tol)
        direction = np.zeros(d)         # inner direction of a single escape
        if end == DONE and ns <= 2:
            # the residual gradient at 0 exactly as the narrow path computed it (0 * Ms - Vs: the same signed
            # zeros), so that its escape and this projection use the same singular vectors, one orientation
            U, _, Vt = _svd(_residual(np.zeros(0), Msc, Vsc, m1, 0, m2))
            _, ck = _top_projection(dc, np.empty((0, 0)), np.int64(0), U, Vt, np.int64(1), m1, np.int64(0), d, m2)
            cn = np.sqrt(np.sum(ck * ck))
            if cn > 1e-6:
                direction = ck / cn
        if ns > 2 or end != DONE or (ns == 2 and not np.any(direction != 0.0)):
            _, _, Sl, _, Sra, Smu, ns, st, Sth, SL, end = limit_path_narrow(
                dc, np.bool_(True), seed, Msc, Vsc, n, m1, d, m2, gs, ts, ws, rtol, limit, Atab, Bw, E3, E5, expo, eps,
                gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after, snap_max_p, polish_tol)
            if end != DONE:
                SW, Sloss, Srank, Srate, Smult = _saddle_arrays(L, d1, d2)
                return np.zeros((d1 + d2) * d), SW, Sloss, Srank, Srate, Smult, 0, CONVERGED, end
        for s in range(ns):
            Ac = Sth[s, :m1 * d].copy().reshape(m1, d)
            Bc = Sth[s, m1 * d:].copy().reshape(d, m2)
            if np.any(direction != 0.0):      # one escape: canonical inner direction 0 is `direction`
                Ap = np.outer(Ac[:, 0], direction)
                Bp = np.outer(direction, Bc[0])
            else:
                Ls = SL[s].copy()
                Ap = Ac @ Ls
                Bp = np.ascontiguousarray(Ls.T) @ Bc
            for a in range(m1):
                CA[c, s, rows[a]] = Ap[a]
            for b in range(m2):
                CB[c, s, :, cols[b]] = Bp[:, b]
            Closs[c, s] = Sl[s]
            Crate[c, s] = Sra[s]
            Cmult[c, s] = Smu[s]
        Ccount[c] = ns
        status = max(status, st)
    # the path of the whole run: the components' critical points, merged in the order of the escapes
    saddles = _saddle_arrays(L, d1, d2)
    SW, Sloss, Srank, Srate, Smult = saddles
    free = 0                            # rows and columns without observations: d zero eigenvalues each
    for v in range(d1 + d2):
        if label[v] < 0:
            free += d
    at = np.zeros(nc, np.int64)
    A = np.zeros((d1, d))
    B = np.zeros((d, d2))
    ns = np.int64(0)
    while True:
        A[:] = 0.0
        B[:] = 0.0
        lam = -np.inf
        loss = 0.0
        for c in range(nc):
            A += CA[c, at[c]]
            B += CB[c, at[c]]
            lam = max(lam, Crate[c, at[c]])
            loss += Closs[c, at[c]]
        cut = lam - eig_group * max(abs(lam), gscale)
        mult = free if cut <= 0.0 else 0
        for c in range(nc):
            if Crate[c, at[c]] >= cut:
                mult += Cmult[c, at[c]]
        SW[ns] = A @ B
        Sloss[ns] = loss
        Srank[ns] = _numerical_rank(SW[ns])
        Srate[ns] = lam
        Smult[ns] = mult
        ns += 1
        # the components whose next escape is the fastest (ties: all of them, as in the whole flow) leave
        going = 0
        for c in range(nc):
            if at[c] < Ccount[c] - 1 and Crate[c, at[c]] >= cut:
                going += 1
        if going == 0 or ns == L:
            if going > 0:
                status = max(status, STALLED)
            break
        for c in range(nc):
            if at[c] < Ccount[c] - 1 and Crate[c, at[c]] >= cut:
                at[c] += 1
    theta = np.empty((d1 + d2) * d)
    theta[:pa] = A.ravel()
    theta[pa:] = B.ravel()
    return theta, SW, Sloss, Srank, Srate, Smult, ns, status, DONE


@njit(cache=True)
def _stacks(R, p, L, d1, d2):
    """Arrays for the stacked results of R runs (saddles padded to L), the pass of each and its code."""
    return (np.zeros((R, p)), np.zeros((R, L, d1, d2)), np.zeros((R, L)), np.zeros((R, L), np.int64),
            np.zeros((R, L)), np.zeros((R, L), np.int64), np.zeros(R, np.int64), np.zeros(R, np.int64),
            np.zeros(R, np.int64), np.zeros(R, np.int64))


# the passes of limit_run, as mfbook.limit.LimitResult.method names them
NARROW, FULL_WIDTH, FULL_WIDTH_CARRYING, NARROW_CARRYING, BY_COMPONENTS = 0, 1, 2, 3, 4
# how limit_run ended: DONE, or the stage at which it needs the initial direction (it is called again
# from there with it), or NUMPY: the full width is needed and the problem is too large for the compiled loops
START, COMPONENTS, CARRY, FULL, FULL_CARRY, NUMPY = 0, 3, 4, 5, 6, 7


@njit(cache=True)
def limit_run(delta0, start, seed, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, full_ok, Atab,
              Bw, E3, E5, expo, eps, gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after,
              snap_max_p, polish_tol):
    """The limit path of one run, pass by pass (the passes of :func:`mfbook.limit.small_init_limit_batch`):

    - observed entries in several components: :func:`limit_path_components` (``BY_COMPONENTS``);
      otherwise :func:`limit_path_narrow` without the initial direction (``NARROW``);
    - a degenerate escape on the narrow path: narrow again, carrying it (``NARROW_CARRYING``);
    - what still needs the full width (a stage that crawls, an escape into two new inner directions
      at once): :func:`limit_path` without carrying (``FULL_WIDTH``), then with it where an escape is
      degenerate (``FULL_WIDTH_CARRYING``).

    ``delta0`` is the initial direction, or empty when it has not been drawn yet (drawing it costs more
    than the common first pass): then a run that needs it stops with the stage as its code, and the
    caller calls again from that stage (``start``) with it. ``full_ok``: the full-width passes may run
    compiled (else the code is ``NUMPY``).

    Returns what :func:`limit_path` returns, with the pass that gave it before the code (``DONE``,
    a stage, or ``NUMPY``)."""
    method = (Atab, Bw, E3, E5, expo, eps, gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after,
              snap_max_p, polish_tol)
    have = delta0.size > 0
    stage = start
    while True:
        if stage == START:
            if components(Ms, d1, d2)[1] > 1:
                stage = COMPONENTS
                continue
            th, SW, Sl, Sr, Sra, Smu, ns, st, _, _, end = limit_path_narrow(
                delta0, np.bool_(False), seed, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, *method)
            if end == DONE:
                return th, SW, Sl, Sr, Sra, Smu, ns, st, NARROW, DONE
            stage = CARRY if end == DEGENERATE else FULL
            continue
        if not have or (stage >= FULL and not full_ok):
            SW, Sl, Sr, Sra, Smu = _saddle_arrays(max_saddles + 1, d1, d2)
            return np.zeros((d1 + d2) * d), SW, Sl, Sr, Sra, Smu, 0, CONVERGED, NARROW, NUMPY if have else stage
        if stage == COMPONENTS:
            th, SW, Sl, Sr, Sra, Smu, ns, st, end = limit_path_components(
                delta0, seed, Ms, Vs, n, d1, d, d2, gscale, rtol, max_saddles, *method)
            if end == DONE:
                return th, SW, Sl, Sr, Sra, Smu, ns, st, BY_COMPONENTS, DONE
            stage = FULL_CARRY if end == DEGENERATE else FULL
        elif stage == CARRY:
            th, SW, Sl, Sr, Sra, Smu, ns, st, _, _, end = limit_path_narrow(
                delta0, np.bool_(True), seed, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, *method)
            if end == DONE:
                return th, SW, Sl, Sr, Sra, Smu, ns, st, NARROW_CARRYING, DONE
            stage = FULL_CARRY    # a carried run that still needs the full width does all of it carrying
        else:
            carry = stage == FULL_CARRY
            th, SW, Sl, Sr, Sra, Smu, ns, st, end = limit_path(
                delta0, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, carry, seed, *method)
            if end == DONE or carry:
                return th, SW, Sl, Sr, Sra, Smu, ns, st, FULL_WIDTH_CARRYING if carry else FULL_WIDTH, DONE
            stage = FULL_CARRY


@njit(cache=True, nogil=True)
def limit_batch(Delta0, start, seeds, Ms, Vs, n, gscale, tscale, wscale, d1, d, d2, rtol, max_saddles, full_ok,
                Atab, Bw, E3, E5, expo, eps, gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after,
                snap_max_p, polish_tol):
    """:func:`limit_run` for every run of a batch (``Delta0``: the initial directions, or an empty row
    each; the arguments up to ``wscale`` have a row per run, the others are shared). Returns the
    stacked results: theta, saddle W, losses, ranks, rates, multiplicities, number of saddles, status,
    pass and code of each run. Releases the GIL, so threads can run slices of a batch side by side."""
    R = Ms.shape[0]
    out = _stacks(R, (d1 + d2) * d, max_saddles + 1, d1, d2)
    Theta, SW, Sloss, Srank, Srate, Smult, count, status, route, code = out
    for r in range(R):
        (Theta[r], SW[r], Sloss[r], Srank[r], Srate[r], Smult[r], count[r], status[r], route[r],
         code[r]) = limit_run(Delta0[r], start[r], seeds[r], Ms[r], Vs[r], n[r], d1, d, d2, gscale[r], tscale[r],
                              wscale[r], rtol, max_saddles, full_ok, Atab, Bw, E3, E5, expo, eps, gtol, bigf,
                              eig_group, min_rate, max_steps, snap, snap_min, snap_after, snap_max_p, polish_tol)
    return out
