"""The Dormand-Prince 8(5,3) integrator (coefficients in :mod:`mfbook.dop853`): one step, the
transit from a saddle to the next plateau (``transit``, with the stopping tests), and plain gradient
flow to a loss threshold (``flow``, used by :func:`mfbook.gradient_flow`).
"""
import numpy as np
from numba import njit

from .codes import REACHED, TIMEOUT, UNBOUNDED
from .linalg import _sumsq
from .loss import _loss, _loss_into, _rhs, _rhs_observed
from .newton import _convex_up_to_symmetry, newton_snap


@njit(cache=True)
def _dop853_step(y, f, h, Ms, Vs, d1, d, d2, p, dw, rtol, atol, Atab, Bw, E3, E5, K, ys, y_new, work):
    """One Dormand-Prince 8(5,3) step of size ``h`` from ``y`` (with ``f`` its right-hand side):
    writes the stages to ``K`` (``K[S]`` is the right-hand side at the new point) and the new point
    to ``y_new``; returns the scaled error norm of the first ``p`` components (the step is
    accepted when it is at most 1). The norm is scipy's for DOP853. ``work`` comes from
    :func:`_work`. Stage sums run over the stages in order (zero coefficients skipped), along
    contiguous rows of ``K``."""
    E, dE, acc, acc3, oi, oj, Eo = work
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
        if oi.size > 0:
            _rhs_observed(out, Ms, Vs, oi, oj, d1, d, d2, p, K[s], Eo)
        else:
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


#: the right-hand side runs on the observed entries only (:func:`_rhs_observed`, the same numbers)
#: where there are at least this many entries and at most a sixth of them are observed (measured
#: here: at 40% of a 200 x 200 problem the scattered loops took 1.9 times the dense ones; at 3%,
#: a third)
SPARSE_MIN_ENTRIES, SPARSE_MAX_FRACTION = 100, 1.0 / 6.0


@njit(cache=True)
def _work(d1, d2, P2, p, Ms, dw):
    """Work space of :func:`_dop853_step`, with the rows and columns of the observed entries (``Ms``
    nonzero) where the right-hand side runs on them alone (no carried direction, ``dw`` = 0, and a
    sparse pattern: ``SPARSE_MIN_ENTRIES``, ``SPARSE_MAX_FRACTION``), else none."""
    rows, cols = np.nonzero(Ms)
    if dw > 0 or d1 * d2 < SPARSE_MIN_ENTRIES or rows.size > SPARSE_MAX_FRACTION * d1 * d2:
        rows, cols = rows[:0], cols[:0]
    return (np.empty((d1, d2)), np.empty((d1, d2)), np.empty(P2), np.empty(p), rows, cols,
            np.empty(rows.size))


#: a transit has reached the integrator's floor near a critical point when its gradient has stayed below
#: FLOOR of its peak for WINDOW accepted steps and the loss rose on a quarter of them or more: exact
#: gradient flow lowers the loss at every step, and a crawl does (its steps at their stability limit
#: ring around the point, raising the loss on about half of them); as in :mod:`mfbook.saddle_to_saddle`
FLOOR = 1e-6
WINDOW = 100


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
    work = _work(d1, d2, P2, p, Ms, dw)
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
    below = 0           # accepted steps in a row below FLOOR of the peak gradient
    rises = 0           # ... on which the loss rose (counted per WINDOW of them)
    last_loss = np.inf
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
        gn = np.sqrt(_sumsq(f, np.int64(0), p))
        if not escaped:
            escaped = _loss_into(y, Ms, Vs, d1, d, d2, n, work[0]) < loss0 * (1 - 1e-6) - 1e-15
        gpeak = max(gpeak, gn) if escaped else 0.0
        if escaped and gn < gbest:
            gbest = gn
            ybest[:] = y
        close = escaped and gn < gtol * min(gpeak, g0)
        if escaped and gn < FLOOR * gpeak:        # the integrator's floor (above)
            now = _loss_into(y, Ms, Vs, d1, d, d2, n, work[0])
            below += 1
            rises += now > last_loss
            last_loss = now
            if below % WINDOW == 0:
                close = close or 4 * rises >= WINDOW
                rises = 0
        else:
            below, rises, last_loss = 0, 0, np.inf
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
        unb = _sumsq(y, np.int64(0), p) > big
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
    dw = np.int64(0)    # (no carried direction; np.int64: the same compiled step as transit's)
    work = _work(d1, d2, p, p, Ms, dw)
    _rhs(y, Ms, Vs, d1, d, d2, p, dw, f, work[0], work[1])
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
        err = _dop853_step(y, f, h, Ms, Vs, d1, d, d2, p, dw, rtol, atol, Atab, Bw, E3, E5, K, ys, y_new, work)
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
                _dop853_step(y, f, c, Ms, Vs, d1, d, d2, p, dw, rtol, atol, Atab, Bw, E3, E5, K, ys, y_try, work)
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
