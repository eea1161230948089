"""Problems whose observed entries fall into several connected pieces: the pieces (union-find on
the observed positions), and the path computed one piece at a time, the pieces' critical points merged
in the order of their escape rates (``limit_path_components``).
"""
import numpy as np
from numba import njit

from .codes import CONVERGED, CRAWL_FULL_WIDTH, CRAWLS, DONE, STALLED
from .linalg import _numerical_rank, _svd
from .loss import _residual
from .path import _grown, _room, _saddle_arrays, _top_projection, limit_path_narrow


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


@njit(cache=True, nogil=True)
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

    A component whose narrow pass crawls is computed again carrying its direction only in runs of at
    most ``CRAWL_FULL_WIDTH`` parameters, as a crawling run is computed again at full width (carrying
    the direction costs up to d times as much: 60 s for a component at d = 100); in larger runs the
    merged path stops where that component would leave its last critical point, with the component at
    the end point of its crawl, and the run is not settled.

    Returns what :func:`limit_path` returns; the last entry is ``DONE``, ``CRAWLS`` (a component's stage
    crawled: the path up to the crawl, as above) or ``DEGENERATE`` (a component needs the full width:
    the caller computes the whole run at full width).
    """
    label, nc = components(Ms, d1, d2)
    L = max_saddles + 1
    pa = d1 * d
    # each component's factors (A on its rows, B on its columns) at its critical points, the components
    # one after the other from ``first[c]``, grown as they come (no slots for the longest path of every
    # component up front: at d = 100 those took 16 MB per component); losses, rates and multiplicities
    # by component and critical point
    kept = np.zeros(1)
    first = np.zeros(nc + 1, np.int64)
    Lc = min(min(d1, d2) + 2, max_saddles) + 1
    Closs = np.zeros((nc, Lc))
    Crate = np.zeros((nc, Lc))
    Cmult = np.zeros((nc, Lc), np.int64)
    Ccount = np.zeros(nc, np.int64)
    crawled = -1                        # the component whose narrow pass crawled, if one did
    crawl_end = np.zeros(0)             # ... and its factors where the crawl stopped (its own rows and columns)
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
        size = np.sqrt(size2)          # the component's scales, as problem_scales in loss.py (same n)
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
        th, _, Sl, _, Sra, Smu, ns, st, Sth, SL, end = limit_path_narrow(
            dc, np.bool_(False), seed, Msc, Vsc, n, m1, d, m2, gs, ts, ws, rtol, limit, Atab, Bw, E3, E5, expo, eps, gtol,
            bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after, snap_max_p, polish_tol)
        direction = np.zeros(d)         # inner direction of a single escape
        if end == DONE and ns <= 2:
            # the residual gradient at 0 exactly as the narrow path computed it (0 * Ms - Vs: the same signed
            # zeros), so that its escape and this projection use the same singular vectors, one orientation
            U, _, Vt = _svd(_residual(np.zeros(0), Msc, Vsc, m1, np.int64(0), m2))
            _, ck = _top_projection(dc, np.empty((0, 0)), np.int64(0), U, Vt, np.int64(1), m1, np.int64(0), d, m2)
            cn = np.sqrt(np.sum(ck * ck))
            if cn > 1e-6:
                direction = ck / cn
        if end == CRAWLS and (d1 + d2) * d > CRAWL_FULL_WIDTH:
            # a stage that crawls in a run too large to be computed again (CRAWL_FULL_WIDTH): the run is
            # not settled; its path is merged up to the crawl, and this component ends where the crawl
            # stopped (not oriented by the initial direction: it is not a limit either way)
            crawled = c
            crawl_end = th
        elif ns > 2 or end != DONE or (ns == 2 and not np.any(direction != 0.0)):
            _, _, Sl, _, Sra, Smu, ns, st, Sth, SL, end = limit_path_narrow(
                dc, np.bool_(True), seed, Msc, Vsc, n, m1, d, m2, gs, ts, ws, rtol, limit, Atab, Bw, E3, E5, expo, eps,
                gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after, snap_max_p, polish_tol)
            if end != DONE:
                SW, Sloss, Srank, Srate, Smult = _saddle_arrays(1, d1, d2)
                return np.zeros((d1 + d2) * d), SW, Sloss, Srank, Srate, Smult, 0, CONVERGED, end
        block = (m1 + m2) * d
        first[c + 1] = first[c] + (ns + 1 if c == crawled else ns) * block    # (a crawl's end point after them)
        kept = _grown(kept, first[c + 1])
        if c == crawled:
            kept[first[c] + ns * block:first[c + 1]] = crawl_end
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
            at = first[c] + s * block
            kept[at:at + m1 * d] = Ap.ravel()
            kept[at + m1 * d:at + block] = Bp.ravel()
            Closs[c, s] = Sl[s]
            Crate[c, s] = Sra[s]
            Cmult[c, s] = Smu[s]
        Ccount[c] = ns
        status = max(status, st)
    # the path of the whole run: the components' critical points, merged in the order of the escapes
    saddles = _saddle_arrays(1, d1, d2)
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
        # the components whose next escape is the fastest (ties: all of them, as in the whole flow) leave;
        # the path ends when none does, or when the one that leaves is the component that crawls
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
    return theta, SW, Sloss, Srank, Srate, Smult, ns, status, CRAWLS if crawled >= 0 else DONE


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
