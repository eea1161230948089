"""Problems whose observed entries fall into several connected pieces: the pieces (union-find on
the observed positions), and the path computed one piece at a time, the pieces' critical points merged
in the order of their escape rates (``limit_path_components``).
"""
import numpy as np
from numba import njit

from .codes import CONVERGED, DONE, STALLED
from .linalg import _numerical_rank, _svd
from .loss import _residual
from .path import _room, _saddle_arrays, _top_projection, limit_path_narrow


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
        _, _, Sl, _, Sra, Smu, ns, st, Sth, SL, end = limit_path_narrow(
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
        if ns > 2 or end != DONE or (ns == 2 and not np.any(direction != 0.0)):
            _, _, Sl, _, Sra, Smu, ns, st, Sth, SL, end = limit_path_narrow(
                dc, np.bool_(True), seed, Msc, Vsc, n, m1, d, m2, gs, ts, ws, rtol, limit, Atab, Bw, E3, E5, expo, eps,
                gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after, snap_max_p, polish_tol)
            if end != DONE:
                SW, Sloss, Srank, Srate, Smult = _saddle_arrays(1, d1, d2)
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
        saddles = _room(saddles, ns)
        SW, Sloss, Srank, Srate, Smult = saddles
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
