"""The saddle-to-saddle path of one problem: record a critical point (``_visit``), escape along the
top eigendirection of :math:`-\\nabla^2 R_S` (carrying the initial direction where the escape is
degenerate), transit, repeat -- at the width of the rank learned so far (``limit_path_narrow``) or at
full width (``limit_path``).
"""
import numpy as np
from numba import njit

from .codes import CONVERGED, CRAWLS, DEGENERATE, DONE, STALLED, TIMEOUT, UNBOUNDED
from .graph import components
from .integrator import transit
from .linalg import _balanced, _numerical_rank, _product, _spectrum_below, _svd, _widen
from .loss import _hessian, _loss, _residual_into
from .manifold import SERIES_ORDER, SERIES_TOL, _manifold_start
from .newton import newton_polish


@njit(cache=True)
def _saddle_arrays(L, d1, d2):
    """The record of up to L saddles of one path: W, loss, rank, escape rate, multiplicity."""
    return np.zeros((L, d1, d2)), np.zeros(L), np.zeros(L, np.int64), np.zeros(L), np.zeros(L, np.int64)


@njit(cache=True)
def _grown(X, need):
    """``X`` with at least ``need`` rows: doubled (zeros appended) as often as it takes. The records
    of a path grow with the critical points it visits (a rank-r path visits about r + 2 of them),
    instead of being allocated for ``max_saddles`` d1 x d2 products up front."""
    while X.shape[0] < need:
        X = np.concatenate((X, np.zeros_like(X)))
    return X


@njit(cache=True)
def _room(saddles, ns):
    """The record ``saddles`` (:func:`_saddle_arrays`) with room for saddle number ``ns``."""
    SW, Sloss, Srank, Srate, Smult = saddles
    return (_grown(SW, ns + 1), _grown(Sloss, ns + 1), _grown(Srank, ns + 1), _grown(Srate, ns + 1),
            _grown(Smult, ns + 1))


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
def _active_part(vec, d1, w, d, d2):
    """The first ``w`` inner directions of ``vec`` (factors at inner width d), as factors at width w."""
    qa = d1 * d
    act = np.zeros((d1 + d2) * w)
    for i in range(d1):
        for k in range(w):
            act[i * w + k] = vec[i * d + k]
    for k in range(w):
        for j in range(d2):
            act[d1 * w + k * d2 + j] = vec[qa + k * d2 + j]
    return act


@njit(cache=True)
def _top_projection(vec, Qa, n_act, U, Vt, n_new, d1, w, d, d2):
    """The projection of ``vec`` (inner width d: w active directions, then d - w inactive ones where the
    factors are 0) onto the top eigenspace of -H at a critical point of inner width w: spanned by the
    top ``n_act`` eigenvectors of the active block (columns of ``Qa``) and, if ``n_new`` is 1, by
    z = (u_1, -v_1)/sqrt2 in each inactive direction (u_1, v_1 the top singular pair of the residual
    gradient). Returns (the active part at width w, the coefficient of z in each inactive direction)."""
    pw = (d1 + d2) * w
    qa = d1 * d
    act = _active_part(vec, d1, w, d, d2)
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
    v = _widen(proj_act, d1, w, d2, wn)
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


#: a carried direction has a part in an eigenspace when that part is above this, relative to its size
#: (as ``LEADING`` of :mod:`mfbook.saddle_to_saddle`)
LEADING = 1e-10


@njit(cache=True)
def _leading_rest(rest, Qa, active, U, sig, Vt, d1, w, d, d2, group):
    """The part of the carried direction ``rest`` (inner width d, its part in the escape space removed)
    that can lead a later escape as alpha -> 0: its part in the eigenspace of the largest eigenvalue of
    -H at the critical point (inner width w) that it has a part in (above ``LEADING`` of its size),
    eigenvalues within ``group`` of each other counting as one. Near the critical point the flow stays
    for a time log(1/alpha)/lambda_1, and the part of eigenvalue mu grows like alpha^(-mu/lambda_1):
    every other part is smaller by a power of alpha (the reference's ``_leading_part``).

    The eigenvectors of -H: those of the active block (columns of ``Qa``, eigenvalues ``active``) and,
    in each inactive inner direction, (u_q, -v_q)/sqrt2 and (u_q, v_q)/sqrt2 of eigenvalues +sigma_q and
    -sigma_q (the singular triples ``U``, ``sig``, ``Vt`` of the residual gradient), and 0 on the rest."""
    pw = (d1 + d2) * w
    qa = d1 * d
    m = d - w
    r = sig.size
    r2 = 1.0 / np.sqrt(2.0)
    size = np.sqrt(np.sum(rest * rest))
    act = _active_part(rest, d1, w, d, d2)
    ca = Qa.T @ act if pw > 0 else np.zeros(0)
    cp = np.zeros((m, r))
    cm = np.zeros((m, r))
    null = np.zeros((m, d1 + d2))
    for k in range(m):
        for i in range(d1):
            null[k, i] = rest[i * d + w + k]
        for j in range(d2):
            null[k, d1 + j] = rest[qa + (w + k) * d2 + j]
        for q in range(r):
            ux = 0.0
            vy = 0.0
            for i in range(d1):
                ux += U[i, q] * null[k, i]
            for j in range(d2):
                vy += Vt[q, j] * null[k, d1 + j]
            cp[k, q] = (ux - vy) * r2
            cm[k, q] = (ux + vy) * r2
        for q in range(r):        # what is left is in the null space of the block (eigenvalue 0)
            for i in range(d1):
                null[k, i] -= (cp[k, q] + cm[k, q]) * r2 * U[i, q]
            for j in range(d2):
                null[k, d1 + j] -= (cm[k, q] - cp[k, q]) * r2 * Vt[q, j]
    cut = LEADING * size
    top = -np.inf
    for q in range(ca.size):
        if abs(ca[q]) > cut:
            top = max(top, active[q])
    for k in range(m):
        for q in range(r):
            if abs(cp[k, q]) > cut:
                top = max(top, sig[q])
            if abs(cm[k, q]) > cut:
                top = max(top, -sig[q])
        if np.sqrt(np.sum(null[k] * null[k])) > cut:
            top = max(top, 0.0)
    if top == -np.inf:
        return rest
    act[:] = 0.0
    for q in range(ca.size):
        if abs(active[q] - top) <= group:
            act += ca[q] * Qa[:, q]
    out = _widen(act, d1, w, d2, d)
    for k in range(m):
        for q in range(r):
            a = cp[k, q] if abs(sig[q] - top) <= group else 0.0
            b = cm[k, q] if abs(-sig[q] - top) <= group else 0.0
            for i in range(d1):
                out[i * d + w + k] += (a + b) * r2 * U[i, q]
            for j in range(d2):
                out[qa + (w + k) * d2 + j] += (b - a) * r2 * Vt[q, j]
        if abs(top) <= group:
            for i in range(d1):
                out[i * d + w + k] += null[k, i]
            for j in range(d2):
                out[qa + (w + k) * d2 + j] += null[k, d1 + j]
    return out


@njit(cache=True)
def _leading_rest_dense(rest, H, Qt, Ms, d1, d, d2, group):
    """:func:`_leading_rest` at full width, with the Hessian ``H``: on each piece of the observed
    entries where the escape happens (the top eigenvectors ``Qt`` are above rounding there), the part of
    ``rest`` in the eigenspace of -H on that piece of the largest eigenvalue it has a part in; on the
    other pieces all of it (they decouple, and keep their part until their own escape)."""
    label, count = components(Ms, d1, d2)
    pa = d1 * d
    out = rest.copy()
    for c in range(count):
        idx = np.empty(0, np.int64)
        for i in range(d1):
            if label[i] == c:
                idx = np.concatenate((idx, i * d + np.arange(d)))
        for j in range(d2):
            if label[d1 + j] == c:
                idx = np.concatenate((idx, pa + np.arange(d) * d2 + j))
        part = rest[idx]
        size = np.sqrt(np.sum(part * part))
        if size == 0.0 or np.abs(Qt[idx]).max() <= 1e-12:
            continue
        mu, Q = np.linalg.eigh(np.ascontiguousarray(-H[idx][:, idx]))
        coef = Q.T @ part
        top = -np.inf
        for q in range(mu.size):
            if abs(coef[q]) > LEADING * size:
                top = max(top, mu[q])
        if top == -np.inf:
            continue
        kept = np.zeros(idx.size)
        for q in range(mu.size):
            if abs(mu[q] - top) <= group:
                kept += coef[q] * Q[:, q]
        out[idx] = kept
    return out


@njit(cache=True, nogil=True)
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
    saddles = _saddle_arrays(1, d1, d2)     # grown as the path visits critical points (_room)
    SW, Sloss, Srank, Srate, Smult = saddles
    w = np.int64(0)
    theta = np.zeros(0)
    delta = delta0.copy()
    orient = np.eye(d)                     # the factors in the original inner coordinates: (A L, L^T B)
    Sth = np.zeros((1, (d1 + d2) * d))      # theta (padded) and L at each critical point
    SL = np.zeros((1, d, d))
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
                active, Q = np.linalg.eigh(-Hw)
                Qa = np.ascontiguousarray(Q)    # (C order, as escape_direction passes it: one compiled variant)
            elif w == d or not _spectrum_below(Hw, sig[0] - eig_group * max(sig[0], gscale)):
                active = np.linalg.eigvalsh(-Hw)
        lam = active[active.size - 1] if active.size > 0 else -np.inf
        if w < d:
            lam = max(lam, sig[0])
        cut = lam - eig_group * max(abs(lam), gscale)
        n_act = np.int64(0)    # (np.int64: a literal 0 would compile the callees a second time)
        for q in range(active.size):
            if active[q] >= cut:
                n_act += 1
        n_new = np.int64(0)          # in one copy of the new-direction block
        if w < d:
            for q in range(sig.size):
                if sig[q] >= cut:
                    n_new += 1
                if -sig[q] >= cut:
                    n_new += 1
            if cut <= 0.0:
                n_new += abs(d1 - d2)
        saddles = _room(saddles, ns)
        SW, Sloss, Srank, Srate, Smult = saddles
        Sth = _grown(Sth, ns + 1)
        SL = _grown(SL, ns + 1)
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
            rest = _leading_rest(rest, Qa, active, U, sig, Vt, d1, w, d, d2, eig_group * max(abs(lam), gscale))
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


@njit(cache=True, nogil=True)
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
    saddles = _saddle_arrays(1, d1, d2)     # grown as the path visits critical points (_room)
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
        mult = np.int64(0)
        for q in range(p):
            if w[q] >= cut:
                mult += 1
        saddles = _room(saddles, ns)
        SW, Sloss, Srank, Srate, Smult = saddles
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
            rest = _leading_rest_dense(delta - proj, H, Qt, Ms, d1, d, d2, eig_group * max(abs(lam), gscale))
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
