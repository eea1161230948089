"""Problems whose observed entries fall into several connected pieces (:func:`components`, in
graph.py): each piece as a problem of its own (``component_problem``), its factors in
the common inner coordinates (``escape_direction``, ``component_factors``), and the path of the whole
run, the pieces' critical points merged in the order of their escape rates (``merged_path``). The
narrow pass of each piece is called in between from Python (:func:`mfbook.limit._components_pass`):
numba links a function's callees into its own machine code, and a compiled driver that called the
narrow pass compiled all of it once more (10 s of the cold compile).
"""
import numpy as np
from numba import njit

from .codes import STALLED
from .linalg import _numerical_rank, _svd
from .loss import _residual
from .graph import components
from .path import _room, _saddle_arrays, _top_projection


@njit(cache=True)
def component_counts(Ms):
    """The number of components (:func:`components`) of each problem of a batch."""
    out = np.empty(Ms.shape[0], np.int64)
    for r in range(Ms.shape[0]):
        out[r] = components(Ms[r], Ms.shape[1], Ms.shape[2])[1]
    return out


@njit(cache=True)
def component_problem(delta0, Ms, Vs, n, label, c, d1, d, d2):
    """Component ``c`` (of ``label``, :func:`components`) of one run as a problem of its own: Ms and Vs
    on its rows and columns, its scales (as ``problem_scales`` in loss.py, with the run's n: the loss
    is the run's), and its part of the initial direction ``delta0`` at inner width d, normalized.

    The rows of A and the columns of B of different components never meet in the loss, so gradient
    flow is one independent flow per component, on its own parameters, from its own part of the
    initial point (Proposition 2 of Bai, Zhao & Zhang; chapter 3). So is the limit."""
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
    size = np.sqrt(size2)
    gs = max(2.0 / n * size, 1e-300)
    ts = np.sqrt(2.0 * np.sqrt(min(m1, m2)) * max(size, 1e-300))
    ws = big + 1e-300
    pa = d1 * d
    dc = np.empty((m1 + m2) * d)
    for a in range(m1):
        for k in range(d):
            dc[a * d + k] = delta0[rows[a] * d + k]
    for k in range(d):
        for b in range(m2):
            dc[m1 * d + k * m2 + b] = delta0[pa + k * d2 + cols[b]]
    dc /= max(np.sqrt(np.sum(dc * dc)), 1e-300)
    return Msc, Vsc, gs, ts, ws, dc


@njit(cache=True)
def escape_direction(dc, Msc, Vsc, m1, d, m2):
    """The inner direction of a component's first escape from 0, as the whole flow takes it: the
    projection of its part ``dc`` of the initial direction onto the top eigenspace at 0 is z in the
    inner direction c/|c| (c_k the coefficient of z in inner direction k, :func:`_top_projection`); 0
    where that projection is negligible. The residual gradient at 0 is computed exactly as the narrow
    path computes it (0 * Ms - Vs: the same signed zeros), so that its escape and this projection use
    the same singular vectors, one orientation."""
    U, _, Vt = _svd(_residual(np.zeros(0), Msc, Vsc, m1, np.int64(0), m2))
    _, ck = _top_projection(dc, np.empty((0, 0)), np.int64(0), U, Vt, np.int64(1), m1, np.int64(0), d, m2)
    cn = np.sqrt(np.sum(ck * ck))
    if cn > 1e-6:
        return ck / cn
    return np.zeros(d)


@njit(cache=True)
def component_factors(Sth, SL, ns, direction, m1, d, m2):
    """A component's factors at its ``ns`` critical points in the run's inner coordinates, one block per
    critical point (its rows of A, then its columns of B): from theta (``Sth``, canonical inner
    coordinates of the narrow pass) turned by the orientation L (``SL``: (A L, L^T B)), or, for a
    component with one escape, with its inner direction 0 put along ``direction``
    (:func:`escape_direction`)."""
    block = (m1 + m2) * d
    out = np.empty(ns * block)
    one = np.any(direction != 0.0)
    for s in range(ns):
        Ac = Sth[s, :m1 * d].copy().reshape(m1, d)
        Bc = Sth[s, m1 * d:].copy().reshape(d, m2)
        if one:
            Ap = np.empty((m1, d))
            Bp = np.empty((d, m2))
            for a in range(m1):
                for k in range(d):
                    Ap[a, k] = Ac[a, 0] * direction[k]
            for k in range(d):
                for b in range(m2):
                    Bp[k, b] = direction[k] * Bc[0, b]
        else:
            Ls = SL[s].copy()
            Ap = Ac @ Ls
            Bp = np.ascontiguousarray(Ls.T) @ Bc
        at = s * block
        out[at:at + m1 * d] = Ap.ravel()
        out[at + m1 * d:at + block] = Bp.ravel()
    return out


@njit(cache=True)
def merged_path(kept, first, label, nc, Closs, Crate, Cmult, Ccount, crawled, status, d1, d, d2, gscale, eig_group,
                max_saddles):
    """The path of a whole run from its components' paths: the products of the components' critical
    points, in the order of the escapes. At each, the components whose next escape is fastest leave
    (ties: all of them), as the whole flow would: the top eigenvalue of -H is the largest of the
    components'. Losses add up, the escape rate is the largest pending one, the multiplicity the sum
    over the components at that rate (and, at a minimum, the d zero eigenvalues of each row and column
    without observations).

    ``kept`` holds the components' factors (:func:`component_factors`), component c from ``first[c]``;
    ``Closs``, ``Crate``, ``Cmult`` their losses, rates and multiplicities, ``Ccount`` how many critical
    points each has. ``crawled`` is the component whose stage crawled (-1: none): the path stops where
    it would leave its last critical point, with that component at the end point of its crawl (kept
    after its critical points). At most ``max_saddles + 1`` critical points; a path cut there is
    ``STALLED``.

    Returns (theta, the critical points' W, losses, ranks, rates and multiplicities, their number,
    the status)."""
    L = max_saddles + 1
    pa = d1 * d
    saddles = _saddle_arrays(1, d1, d2)
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
        lam = -np.inf
        loss = 0.0
        for c in range(nc):
            lam = max(lam, Crate[c, at[c]])
            loss += Closs[c, at[c]]
        _merged_factors(kept, first, at, label, nc, d1, d, d2, A, B)
        cut = lam - eig_group * max(abs(lam), gscale)
        mult = free if cut <= 0.0 else 0
        for c in range(nc):
            if Crate[c, at[c]] >= cut:
                mult += Cmult[c, at[c]]
        saddles = _room(saddles, ns)
        SW, Sloss, Srank, Srate, Smult = saddles
        SW[ns] = A @ B
        Sloss[ns] = loss
        Srank[ns] = _numerical_rank(SW[ns])
        Srate[ns] = lam
        Smult[ns] = mult
        ns += 1
        # the components whose next escape is the fastest leave; the path ends when none does, or when
        # the one that leaves is the component that crawls
        going = 0
        for c in range(nc):
            if at[c] < Ccount[c] - 1 and Crate[c, at[c]] >= cut:
                going += 1
        if crawled >= 0 and at[crawled] == Ccount[crawled] - 1 and Crate[crawled, at[crawled]] >= cut:
            at[crawled] += 1                # the crawl's end point
            _merged_factors(kept, first, at, label, nc, d1, d, d2, A, B)
            break
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
    return theta, SW, Sloss, Srank, Srate, Smult, ns, status


@njit(cache=True)
def _merged_factors(kept, first, at, label, nc, d1, d, d2, A, B):
    """A and B of a whole run with component c at its critical point number ``at[c]``: the components'
    factors (``kept``, from ``first[c]``, a block of its rows of A then its columns of B per critical
    point) put on their own rows and columns, zero elsewhere."""
    A[:] = 0.0
    B[:] = 0.0
    for c in range(nc):
        rows = np.flatnonzero(label[:d1] == c)
        cols = np.flatnonzero(label[d1:] == c)
        m1, m2 = rows.size, cols.size
        at_c = first[c] + at[c] * (m1 + m2) * d
        for a in range(m1):
            for k in range(d):
                A[rows[a], k] += kept[at_c + a * d + k]
        at_c += m1 * d
        for k in range(d):
            for b in range(m2):
                B[k, cols[b]] += kept[at_c + k * m2 + b]
