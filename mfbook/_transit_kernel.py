"""Compiled transit between two critical points (numba), one run at a time.

The same algorithm as the batched NumPy integrator in :mod:`mfbook.limit` (``_transit``):
Dormand-Prince 8(5,3) steps on :math:`\\dot\\theta = -\\nabla R_S(\\theta)` together with the
variational equation :math:`\\dot\\delta = -\\nabla^2 R_S(\\theta)\\,\\delta`, the same error norm and
step-size rule, the same stopping tests and the same Newton finish of a slow approach. Written
for a single run with explicit loops, and looped over the runs of a batch inside the compiled code
(``transit_batch``): for the book's problems one right-hand side costs about a microsecond here
instead of tens of microseconds of NumPy call overhead, and a batch no longer waits for its
slowest run.

Explained in: chapter 4 (Training dynamics) -- the method; this module only makes it fast.
"""
import numpy as np
from numba import njit

REACHED, TIMEOUT, UNBOUNDED = 0, 1, 2


@njit(cache=True)
def _residual(th, Ms, Vs, d1, d, d2):
    """E = Ms * (A B) - Vs, the residual gradient (2/n) P(AB - M)."""
    pa = d1 * d
    E = np.empty((d1, d2))
    for i in range(d1):
        for j in range(d2):
            s = 0.0
            for k in range(d):
                s += th[i * d + k] * th[pa + k * d2 + j]
            E[i, j] = Ms[i, j] * s - Vs[i, j]
    return E


@njit(cache=True)
def _grad(th, E, d1, d, d2, out, sign):
    """out[:p] = sign * grad R = sign * (E B^T, A^T E)."""
    pa = d1 * d
    for i in range(d1):
        for k in range(d):
            s = 0.0
            for j in range(d2):
                s += E[i, j] * th[pa + k * d2 + j]
            out[i * d + k] = sign * s
    for k in range(d):
        for j in range(d2):
            s = 0.0
            for i in range(d1):
                s += th[i * d + k] * E[i, j]
            out[pa + k * d2 + j] = sign * s


@njit(cache=True)
def _hvp(th, E, v, Ms, d1, d, d2, out, off, sign):
    """out[off:off+p] = sign * H(theta) v, with H the Hessian of R_S and v = (X, Y)."""
    pa = d1 * d
    dE = np.empty((d1, d2))
    for i in range(d1):
        for j in range(d2):
            s = 0.0
            for k in range(d):
                s += v[i * d + k] * th[pa + k * d2 + j] + th[i * d + k] * v[pa + k * d2 + j]
            dE[i, j] = Ms[i, j] * s
    for i in range(d1):
        for k in range(d):
            s = 0.0
            for j in range(d2):
                s += dE[i, j] * th[pa + k * d2 + j] + E[i, j] * v[pa + k * d2 + j]
            out[off + i * d + k] = sign * s
    for k in range(d):
        for j in range(d2):
            s = 0.0
            for i in range(d1):
                s += v[i * d + k] * E[i, j] + th[i * d + k] * dE[i, j]
            out[off + pa + k * d2 + j] = sign * s


@njit(cache=True)
def _rhs(y, Ms, Vs, d1, d, d2, p, with_delta, out):
    E = _residual(y, Ms, Vs, d1, d, d2)
    _grad(y, E, d1, d, d2, out, -1.0)
    if with_delta:
        _hvp(y, E, y[p:], Ms, d1, d, d2, out, p, -1.0)


@njit(cache=True)
def _loss(th, Ms, Vs, d1, d, d2, n):
    # E = (2/n) P(AB - M), so sum over the observed entries of (AB - M)^2 / n = n/4 * sum E^2
    E = _residual(th, Ms, Vs, d1, d, d2)
    return 0.25 * n * np.sum(E * E)


@njit(cache=True)
def _hessian(th, Ms, Vs, d1, d, d2, p):
    E = _residual(th, Ms, Vs, d1, d, d2)
    H = np.empty((p, p))
    e = np.zeros(p)
    col = np.empty(p)
    for q in range(p):
        e[q] = 1.0
        _hvp(th, E, e, Ms, d1, d, d2, col, 0, 1.0)
        H[:, q] = col
        e[q] = 0.0
    return 0.5 * (H + H.T)


@njit(cache=True)
def _newton_step(th, g, Ms, Vs, d1, d, d2, p):
    """theta - H^+ g, with H^+ the pseudo-inverse of the symmetric Hessian (as
    ``numpy.linalg.pinv(H, 1e-10, hermitian=True)``); None if H is not finite."""
    H = _hessian(th, Ms, Vs, d1, d, d2, p)
    if not np.all(np.isfinite(H)):
        return None
    w, Q = np.linalg.eigh(H)
    cut = 1e-10 * np.max(np.abs(w))
    c = Q.T @ g
    for q in range(p):
        c[q] = c[q] / w[q] if abs(w[q]) > cut else 0.0
    return th - Q @ c


@njit(cache=True)
def newton_polish(theta, Ms, Vs, d1, d, d2, iters):
    """Up to ``iters`` pseudo-inverse Newton steps on grad R = 0, each kept only if it lowers |grad R|."""
    p = theta.size
    th = theta.copy()
    g = np.empty(p)
    gt = np.empty(p)
    for _ in range(iters):
        _grad(th, _residual(th, Ms, Vs, d1, d, d2), d1, d, d2, g, 1.0)
        trial = _newton_step(th, g, Ms, Vs, d1, d, d2, p)
        if trial is None:
            break
        _grad(trial, _residual(trial, Ms, Vs, d1, d, d2), d1, d, d2, gt, 1.0)
        if not np.sum(gt * gt) < np.sum(g * g):
            break
        th = trial
    return th


@njit(cache=True)
def newton_snap(theta, Ms, Vs, d1, d, d2, n, gscale, iters):
    """Pseudo-inverse Newton steps on grad R = 0; returns (end point, converged without raising the loss)."""
    p = theta.size
    loss0 = _loss(theta, Ms, Vs, d1, d, d2, n)
    th = theta.copy()
    g = np.empty(p)
    for _ in range(iters):
        _grad(th, _residual(th, Ms, Vs, d1, d, d2), d1, d, d2, g, 1.0)
        if np.sqrt(np.sum(g * g)) < 1e-12 * gscale:
            break
        nxt = _newton_step(th, g, Ms, Vs, d1, d, d2, p)
        if nxt is None:
            return th, False
        th = nxt
        if not np.all(np.isfinite(th)):
            th[:] = 0.0
    _grad(th, _residual(th, Ms, Vs, d1, d, d2), d1, d, d2, g, 1.0)
    ok = np.sqrt(np.sum(g * g)) < 1e-12 * gscale and _loss(th, Ms, Vs, d1, d, d2, n) <= loss0 * (1 + 1e-9) + 1e-30
    return th, ok


@njit(cache=True)
def _dop853_step(y, f, h, Ms, Vs, d1, d, d2, p, with_delta, rtol, atol, Atab, Bw, E3, E5, K, ys, y_new):
    """One Dormand-Prince 8(5,3) step of size ``h`` from ``y`` (with ``f`` its right-hand side):
    writes the stages to ``K`` (``K[S]`` is the right-hand side at the new point) and the new point
    to ``y_new``; returns the scaled error norm of the first ``p`` components (the step is
    accepted when it is at most 1). The norm is scipy's for DOP853."""
    S = Bw.size
    P2 = y.size
    K[0] = f
    for s in range(1, S):
        for q in range(P2):
            acc = 0.0
            for j in range(s):
                acc += Atab[s, j] * K[j, q]
            ys[q] = y[q] + h * acc
        _rhs(ys, Ms, Vs, d1, d, d2, p, with_delta, K[s])
    for q in range(P2):
        acc = 0.0
        for j in range(S):
            acc += Bw[j] * K[j, q]
        y_new[q] = y[q] + h * acc
    _rhs(y_new, Ms, Vs, d1, d, d2, p, with_delta, K[S])
    e5 = 0.0
    e3 = 0.0
    for q in range(p):
        sc = atol + rtol * max(abs(y[q]), abs(y_new[q]))
        a5 = 0.0
        a3 = 0.0
        for j in range(S + 1):
            a5 += E5[j] * K[j, q]
            a3 += E3[j] * K[j, q]
        e5 += (a5 / sc) ** 2
        e3 += (a3 / sc) ** 2
    err = abs(h) * e5 / np.sqrt(max(e5 + 0.01 * e3, 1e-300) * p)
    return err if np.isfinite(err) else np.inf


@njit(cache=True)
def transit(y0, Ms, Vs, d1, d, d2, n, with_delta, rate, rtol, atol, g0, big, t_limit, wscale,
            Atab, Bw, E3, E5, expo, max_steps, gtol, snap, snap_after, snap_allowed):
    """Integrate one run from just off a saddle to the next plateau; returns (state, outcome)."""
    p = d1 * d + d * d2
    P2 = y0.size
    S = Bw.size
    y = y0.copy()
    f = np.empty(P2)
    _rhs(y, Ms, Vs, d1, d, d2, p, with_delta, f)
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
        err = _dop853_step(y, f, h, Ms, Vs, d1, d, d2, p, with_delta, rtol, atol, Atab, Bw, E3, E5, K, ys, y_new)
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
        if with_delta:
            dn = max(np.sqrt(np.sum(y[p:] ** 2)), 1e-300)
            y[p:] /= dn
            f[p:] /= dn
        t += h_used
        gn = np.sqrt(np.sum(f[:p] ** 2))
        lo = _loss(y, Ms, Vs, d1, d, d2, n)
        if lo < loss0 * (1 - 1e-6) - 1e-15:
            escaped = True
        gpeak = max(gpeak, gn) if escaped else 0.0
        if escaped and gn < gbest:
            gbest = gn
            ybest[:] = y
        close = escaped and gn < gtol * min(gpeak, g0)
        if escaped and not close and snap_allowed and gn < snap * gpeak and tries >= next_snap:
            th, conv = newton_snap(y[:p].copy(), Ms, Vs, d1, d, d2, n, g0, 8)
            next_snap = tries + 10 + tries // 2
            W = th[:d1 * d].copy().reshape(d1, d) @ th[d1 * d:].copy().reshape(d, d2)
            agree = conv and have_snap and np.max(np.abs(W - snapW)) <= 1e-11 * wscale
            have_snap = conv
            if conv:
                snapW[:] = W
            if agree:
                y[:p] = th
                close = True
        left = escaped and gbest < 1e-3 * gpeak and gn > 30 * gbest
        unb = np.sum(y[:p] ** 2) > big
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
def transit_batch(Y, Ms, Vs, d1, d, d2, n, with_delta, rate, rtol, atol, g0, big, t_limit, wscale,
                  Atab, Bw, E3, E5, expo, max_steps, gtol, snap, snap_after, snap_allowed):
    """:func:`transit` for every row of ``Y`` (per-run arrays stacked on axis 0), in one call."""
    out = np.empty_like(Y)
    outcome = np.empty(Y.shape[0], np.int64)
    for r in range(Y.shape[0]):
        out[r], outcome[r] = transit(Y[r], Ms[r], Vs[r], d1, d, d2, n[r], with_delta, rate[r], rtol,
                                     atol[r], g0[r], big[r], t_limit[r], wscale[r], Atab, Bw, E3, E5,
                                     expo, max_steps, gtol, snap, snap_after, snap_allowed)
    return out, outcome


@njit(cache=True)
def newton_polish_batch(Theta, Ms, Vs, d1, d, d2, iters):
    """:func:`newton_polish` for every row of ``Theta``."""
    out = np.empty_like(Theta)
    for r in range(Theta.shape[0]):
        out[r] = newton_polish(Theta[r], Ms[r], Vs[r], d1, d, d2, iters)
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
    _rhs(y, Ms, Vs, d1, d, d2, p, False, f)
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
        err = _dop853_step(y, f, h, Ms, Vs, d1, d, d2, p, False, rtol, atol, Atab, Bw, E3, E5, K, ys, y_new)
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
                _dop853_step(y, f, c, Ms, Vs, d1, d, d2, p, False, rtol, atol, Atab, Bw, E3, E5, K, ys, y_try)
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
