"""Reference completions: what the explicit regularizers would choose.

* minimum Frobenius norm: :math:`\\min \\|W - W_0\\|_F` s.t. :math:`W_{ij} = M_{ij}` on :math:`S_x` -- copy the
  observed entries into :math:`W_0` (zeros by default). It is where gradient flow on the
  non-factorized model goes;
* minimum nuclear norm: :math:`\\min \\|W\\|_* = \\sum_i \\sigma_i(W)` s.t. the observations, a convex
  program solved with cvxpy and the Clarabel interior-point solver (imported on first use);
* best rank-:math:`k` fit: :math:`\\min_{\\operatorname{rank} W \\le k} \\frac1n \\sum_{S_x} (W_{ij} - M_{ij})^2`,
  computed by alternating least squares from many random starts, all run together;
* minimum rank: the smallest :math:`k` whose best rank-:math:`k` fit is exact (rank one decided
  exactly by a cycle test on :math:`G_M`).

Each has a batched twin for the many small problems of a sweep (``rank_k_fit_batch``,
``rank_one_feasible``, ``min_rank_batch``, ``min_nuclear_norm_batch``): all runs and restarts of
alternating least squares advance together, and one parametrized convex program serves every run
of a shape. Every reference divides the data by its largest observed magnitude first and scales the
answer back, so it solves the same problem at every scale.

Why the rank-:math:`k` fit is trusted to be global: the problem is non-convex, so no single run
certifies it. We run ``restarts`` independent starts (default 24) and report how many of them
reach the best value (``BestRankK.hits``); for every example in the book the best value is
reached by many starts, and for an exact fit (loss 0) global optimality is automatic.

Explained in: chapter 1 (Background) and chapter 2 (Connectivity).
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import numpy as np

from .completion import as_completion
from .seeding import generator

__all__ = ["nuclear_norm", "min_frobenius", "min_nuclear_norm", "best_rank_k", "BestRankK", "min_rank",
           "rank_k_fit_batch", "rank_one_feasible", "min_rank_batch", "min_nuclear_norm_batch"]


def nuclear_norm(W) -> float | np.ndarray:
    """:math:`\\|W\\|_* = \\sum_i \\sigma_i(W)` (batched).

    Explained in: chapter 1 (Background).
    """
    return np.linalg.svd(np.asarray(W, float), compute_uv=False).sum(axis=-1)


def min_frobenius(problem, W0=None) -> np.ndarray:
    """:math:`\\arg\\min \\|W - W_0\\|_F` among matrices that match the observations.

    The minimizer keeps :math:`W_0` off :math:`S_x` and the data on it; with :math:`W_0 = 0`
    every unknown is filled with 0.

    Explained in: chapter 1 (Background).
    """
    problem = as_completion(problem)
    W0 = np.zeros(problem.shape) if W0 is None else np.asarray(W0, float)
    if W0.shape != problem.shape:
        raise ValueError(f"W0 has shape {W0.shape}, the problem has shape {problem.shape}")
    return problem.with_fill(W0)


#: the largest d1 + d2 that :func:`min_nuclear_norm` accepts: its semidefinite program has a
#: (d1 + d2) x (d1 + d2) matrix variable; measured on 2 cores, 30 x 30 takes about 3 s and 40 x 40
#: about 30 s and 1.5 GB, 1 x 2000 would ask for terabytes
MAX_NUCLEAR_SIZE = 64


def _scale_invariant(fn):
    """Solve on the problem divided by its scale (:meth:`Completion.normalized`), scale the answer
    back: every reference answers the same problem at every scale of the data (1e-200 to 1e200)."""
    @functools.wraps(fn)
    def solve(problem, *args, **kwargs):
        unit, c = as_completion(problem).normalized()
        return _rescaled(fn(unit, *args, **kwargs), c)
    return solve


def _rescaled(answer, c):
    if isinstance(answer, np.ndarray):
        return answer * c
    if isinstance(answer, tuple):                  # min_rank: (rank, completion)
        return (answer[0], answer[1] * c)
    raise TypeError(type(answer))


_MEMO: dict = {}
_MEMO_SIZE = 256


def _memo(fn):
    """Remember the answer for the last few hundred problems: a widget asks for the same reference
    on every move of a slider that does not change the problem. Answers are returned as copies."""
    @functools.wraps(fn)
    def remembered(problem, *args, **kwargs):
        problem = as_completion(problem)
        if any(isinstance(a, np.random.Generator) for a in (*args, *kwargs.values())):
            return fn(problem, *args, **kwargs)
        key = (fn.__name__, problem.shape, problem.values.tobytes(), problem.mask.tobytes(),
               args, tuple(sorted(kwargs.items())))
        if key not in _MEMO:
            if len(_MEMO) >= _MEMO_SIZE:
                _MEMO.pop(next(iter(_MEMO)))
            _MEMO[key] = fn(problem, *args, **kwargs)
        return copy.deepcopy(_MEMO[key])
    return remembered


@_scale_invariant
@_memo
def min_nuclear_norm(problem, tol: float = 1e-12) -> np.ndarray:
    """:math:`\\arg\\min \\|W\\|_*` subject to :math:`W_{ij} = M_{ij}` on :math:`S_x` (cvxpy + Clarabel).

    The minimizer need not be unique; the solver returns one of them (interior-point methods
    tend to the analytic centre of the optimal face). cvxpy is imported on first use.
    Accuracy: the optimal value to about 1e-9; the entries of the minimizer to about 1e-5
    (the objective is flat to second order near a rank-deficient optimum, so an
    interior-point gap of :math:`\\epsilon` moves the entries by about :math:`\\sqrt\\epsilon`).

    Raises
    ------
    ValueError
        If :math:`d_1 + d_2` exceeds ``MAX_NUCLEAR_SIZE`` (64): the semidefinite program grows as
        :math:`(d_1 + d_2)^2` variables and its solve time and memory much faster (40 x 40: about
        30 s and 1.5 GB); this is checked before anything is allocated.
    RuntimeError
        If the solver does not report an optimal solution.

    The data are divided by their largest observed magnitude before solving and the answer is
    scaled back, so the program is the same at every scale of the data.

    Explained in: chapter 1 (Background) and chapter 5 (Implicit regularization, Theorem 4).
    """
    problem = as_completion(problem)
    d1, d2 = problem.shape
    if d1 + d2 > MAX_NUCLEAR_SIZE:
        raise ValueError(f"problem: min_nuclear_norm supports d1 + d2 <= {MAX_NUCLEAR_SIZE} (its "
                         f"semidefinite program grows fast), got a {d1} x {d2} matrix")
    if problem.scale == 0.0:
        return np.zeros(problem.shape)       # every observation is 0: W = 0 has nuclear norm 0
    import cvxpy as cp

    obs = np.argwhere(problem.mask)
    X = cp.Variable(problem.shape)
    constraints = [X[obs[:, 0], obs[:, 1]] == problem.values[problem.mask]]
    prob = cp.Problem(cp.Minimize(cp.normNuc(X)), constraints)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "optimal_inaccurate" is checked below
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol)
    if prob.status not in ("optimal", "optimal_inaccurate") or X.value is None:
        raise RuntimeError(f"the nuclear-norm program ended with status {prob.status!r}")
    W = np.asarray(X.value, float)
    return problem.with_fill(W)


@dataclass
class BestRankK:
    """Result of :func:`best_rank_k`.

    Attributes
    ----------
    W : ndarray
        The best rank-k matrix found.
    loss : float
        Its mean squared misfit on the observed entries.
    hits : int
        How many of the ``restarts`` starts reached ``loss`` (to 1e-9 relative).
    restarts : int

    Explained in: the prerequisites appendix (Eckart-Young) and chapter 4.
    """

    W: np.ndarray
    loss: float
    hits: int
    restarts: int


def best_rank_k(problem, k: int, restarts: int = 24, seed=0, iters: int = 3000, tol: float = 1e-15,
                target: float = 0.0) -> BestRankK:
    """Best rank-``k`` fit of the observed entries by alternating least squares.

    .. math:: \\min_{U \\in \\mathbb R^{d_1\\times k}, V \\in \\mathbb R^{d_2\\times k}}
              \\frac1n \\sum_{(i,j)\\in S_x} \\big((UV^\\top)_{ij} - M_{ij}\\big)^2

    Each sweep solves, for every row :math:`i`, the least squares problem for :math:`u_i` with
    :math:`V` fixed (and then for every :math:`v_j`); all ``restarts`` random starts run together.
    A ridge of :math:`10^{-12}` keeps rows with fewer than :math:`k` observations well posed.
    The sweeps stop when no start improves by more than ``tol`` (relative), or as soon as one
    start's loss is at most ``target`` (:func:`min_rank` only needs to know that an exact fit exists).

    The data are divided by their largest observed magnitude first (and ``target`` with them), so
    the fit is the same at every scale of the data.

    Returns
    -------
    BestRankK

    Explained in: chapter 4 (Training dynamics: the plateaus sit at these fits).
    """
    problem, c = as_completion(problem).normalized()
    fit = _best_rank_k(problem, k, restarts, seed, iters, tol, target / c / c)
    return BestRankK(fit.W * c, fit.loss * c * c, fit.hits, fit.restarts)


def _best_rank_k(problem, k, restarts, seed, iters, tol, target) -> BestRankK:
    d1, d2 = problem.shape
    if int(k) != k or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k}")
    k = int(k)
    P = problem.mask.astype(float)
    M = problem.values
    n = problem.n_observed
    if k == 0:
        W = np.zeros(problem.shape)
        return BestRankK(W, float(problem.loss(W)), restarts, restarts)
    rng = generator(seed)
    scale = np.sqrt(np.abs(M[problem.mask]).mean() + 1e-12)
    U = scale * rng.standard_normal((restarts, d1, k))
    V = scale * rng.standard_normal((restarts, d2, k))
    ridge = 1e-12 * np.eye(k)
    PM = P * M

    def solve_side(P_, PM_, other):
        G = np.einsum("ij,sja,sjb->siab", P_, other, other) + ridge
        rhs = np.einsum("ij,sja->sia", PM_, other)
        return np.linalg.solve(G, rhs[..., None])[..., 0]

    def losses(U, V):
        R = P * (U @ np.swapaxes(V, 1, 2) - M)
        return np.sum(R * R, axis=(1, 2)) / n

    prev = losses(U, V)
    for _ in range(iters):
        U = solve_side(P, PM, V)
        V = solve_side(P.T, PM.T, U)
        cur = losses(U, V)
        if np.all(prev - cur <= tol * (1 + prev)) or cur.min() <= target:
            prev = cur
            break
        prev = cur
    best = int(np.argmin(prev))
    hits = int(np.sum(prev <= prev[best] * (1 + 1e-9) + 1e-14))
    return BestRankK(U[best] @ V[best].T, float(prev[best]), hits, restarts)


@_scale_invariant
@_memo
def min_rank(problem, tol: float = 1e-10, restarts: int = 24, seed=0) -> tuple[int, np.ndarray]:
    """Smallest rank of a matrix that matches every observation, and one such completion.

    Tries :math:`k = 0, 1, \\dots` and returns the first that admits an exact fit: rank 1 (when no
    observation is 0) by the exact cycle test of :func:`rank_one_feasible`, higher ranks when the
    best rank-:math:`k` fit (:func:`best_rank_k`) has loss below ``tol`` times the mean squared
    observation (an exact fit certifies feasibility; a rank is declared infeasible only when every
    restart of alternating least squares misses, which can crawl on some patterns).

    Returns
    -------
    rank : int
    completion : ndarray
        A completion of that rank (not unique in general).

    Explained in: chapter 1 (Background) and chapter 5 (Implicit regularization, Theorem 3).
    """
    problem = as_completion(problem)
    level = float(np.mean(problem.values[problem.mask] ** 2)) + 1e-300
    observed = problem.values[problem.mask]
    for k in range(min(problem.shape) + 1):
        if k == 1 and np.all(observed != 0):       # decided exactly, without alternating least squares
            u, v, consistent = _rank_one_factors(problem.values, problem.mask)
            if consistent:
                return 1, problem.with_fill(np.outer(u, v))
            continue
        fit = _best_rank_k(problem, k, restarts, seed, 3000, 1e-15, 1e-14 * tol * level)
        if fit.loss <= tol * level:
            return k, problem.with_fill(fit.W)
    raise RuntimeError("no exact fit found up to full rank (this should not happen)")


def rank_k_fit_batch(values, masks, k: int, restarts: int = 8, iters: int = 3000, seed=0, target=None) -> np.ndarray:
    """Best rank-``k`` misfit of every run, by alternating least squares over all runs and restarts.

    .. math:: \\min_{U \\in \\mathbb R^{d_1\\times k}, V \\in \\mathbb R^{d_2\\times k}}
              \\frac1n \\sum_{(i,j)\\in S_x} \\big((UV^\\top)_{ij} - M_{ij}\\big)^2

    Every half-sweep solves one :math:`k\\times k` ridge-regularized (:math:`10^{-12}(1 + \\operatorname{tr} G)`)
    normal equation per row (then per column) for all runs and restarts in one batched
    ``numpy.linalg.solve``. A run leaves the batch when its best restart is below ``target`` (an array,
    one value per run) or when no restart improves any more (relative change below :math:`10^{-14}`);
    alternating least squares can crawl for thousands of sweeps before an exact fit, hence the
    default ``iters``.

    Returns
    -------
    ndarray, shape (R,)
        The smallest misfit over the restarts (an upper bound on the true minimum; zero
        certifies that a rank-``k`` completion exists).

    Explained in: chapter 2 (Connectivity, the minimum-rank reference of the sweep).
    """
    values, masks = np.asarray(values, float), np.asarray(masks, bool)
    R, d1, d2 = values.shape
    n = masks.sum(axis=(1, 2)).astype(float)
    Mz = np.where(masks, values, 0.0)
    if k == 0:
        return np.sum(Mz ** 2, axis=(1, 2)) / n
    target = np.full(R, -1.0) if target is None else np.asarray(target, float)
    rng = generator(seed)
    level = np.sqrt(np.abs(Mz).sum(axis=(1, 2)) / n + 1e-12)[:, None, None, None]
    U = level * rng.standard_normal((R, restarts, d1, k))
    V = level * rng.standard_normal((R, restarts, d2, k))
    P = np.broadcast_to(masks[:, None].astype(float), (R, restarts, d1, d2))
    M = np.broadcast_to(Mz[:, None], (R, restarts, d1, d2))
    ridge = 1e-12 * np.eye(k)

    def solve(P_, PM_, other):
        G = np.einsum("xsij,xsja,xsjb->xsiab", P_, other, other)
        G = G + ridge * (1.0 + np.trace(G, axis1=-2, axis2=-1))[..., None, None]
        rhs = np.einsum("xsij,xsja->xsia", PM_, other)
        return np.linalg.solve(G, rhs[..., None])[..., 0]

    def misfit(P_, M_, n_, U, V):
        D = P_ * (U @ np.swapaxes(V, 2, 3) - M_)
        return np.sum(D * D, axis=(2, 3)) / n_[:, None]

    best = np.full(R, np.inf)
    act = np.arange(R)
    p, m, u, v = P, M, U, V
    prev = misfit(p, m, n, u, v)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(iters):
            pm = p * m
            u = solve(p, pm, v)
            v = solve(np.swapaxes(p, 2, 3), np.swapaxes(pm, 2, 3), u)
            cur = misfit(p, m, n[act], u, v)
            cur = np.where(np.isfinite(cur), cur, np.inf)
            low = cur.min(axis=1)
            best[act] = low
            stalled = np.all((prev - cur <= 1e-14 * (1 + prev)) | ~np.isfinite(prev), axis=1)
            done = (low <= target[act]) | stalled
            prev = cur
            if done.any():
                keep = ~done
                act, p, m, u, v, prev = act[keep], p[keep], m[keep], u[keep], v[keep], prev[keep]
                if act.size == 0:
                    break
    return best


def rank_one_feasible(values, masks) -> np.ndarray:
    """Exact test: does a rank-one matrix match every observation? (batched over runs)

    With all observations non-zero, :math:`W = uv^\\top` must satisfy :math:`u_i v_j = M_{ij}` on every
    edge of :math:`G_M`. Fix :math:`u` and :math:`v` along a spanning tree of each component (rows get
    :math:`u_i`, columns :math:`v_j`, any start value 1); a rank-one completion exists if and only if every
    remaining edge agrees, i.e. every cycle of :math:`G_M` is consistent (products along it match
    to :math:`10^{-9}` relative). Components are independent (their unknown cross entries are free).
    Runs with an observed zero return ``None`` (undecided; the zero forces :math:`u_i = 0` or :math:`v_j = 0`).

    Returns
    -------
    ndarray of object, shape (R,)
        True, False or None per run.

    Explained in: chapter 2 (Connectivity, the minimum-rank reference of the sweep).
    """
    values, masks = np.asarray(values, float), np.asarray(masks, bool)
    out = np.empty(len(values), dtype=object)
    for r, (Mv, mk) in enumerate(zip(values, masks)):
        out[r] = None if np.any(mk & (Mv == 0)) else _rank_one_factors(Mv, mk)[2]
    return out


def _rank_one_factors(Mv, mk):
    """``(u, v, consistent)``: :math:`u_i v_j = M_{ij}` fixed along a spanning tree of every component
    of :math:`G_M` (rows and columns with no observation get 0), and whether every other observed
    entry agrees (to 1e-9 relative). Needs every observation non-zero."""
    u, v = np.zeros(Mv.shape[0]), np.zeros(Mv.shape[1])
    seen_r, seen_c = np.zeros(Mv.shape[0], bool), np.zeros(Mv.shape[1], bool)
    for i0 in np.flatnonzero(mk.any(axis=1)):
        if seen_r[i0]:
            continue
        u[i0], seen_r[i0] = 1.0, True
        stack = [("r", i0)]
        while stack:
            side, x = stack.pop()
            if side == "r":
                for j in np.flatnonzero(mk[x] & ~seen_c):
                    v[j], seen_c[j] = Mv[x, j] / u[x], True
                    stack.append(("c", j))
            else:
                for i in np.flatnonzero(mk[:, x] & ~seen_r):
                    u[i], seen_r[i] = Mv[i, x] / v[x], True
                    stack.append(("r", i))
    W = np.outer(u, v)
    consistent = bool(np.all(np.abs(W - Mv)[mk] <= 1e-9 * np.abs(Mv[mk])))
    return u, v, consistent


def min_rank_batch(values, masks, upper=None, tol: float = 1e-10, restarts: int = 8, iters: int = 3000, seed=0):
    """Minimum rank of an exact completion for every run (batched).

    Rank 0 is feasible when every observation is 0; rank 1 is decided exactly by
    :func:`rank_one_feasible` (when no observation is 0); for :math:`k \\ge 2` (and rank 1 with observed
    zeros) the first :math:`k` whose best rank-:math:`k` misfit (:func:`rank_k_fit_batch`) is below ``tol``
    times the mean squared observation. ``upper`` (for example the ground-truth rank, or the rank of
    an exact completion found by training) is a certified upper bound: ranks at or above it are not
    searched.

    A false "infeasible" for :math:`k \\ge 2` needs every restart of alternating least squares to miss an
    exact fit within ``iters`` sweeps; :func:`mfbook.min_rank` cross-checks this in the tests.

    Returns
    -------
    ndarray of int, shape (R,)

    Explained in: chapter 2 (Connectivity, the minimum-rank reference of the sweep).
    """
    values, masks = np.asarray(values, float), np.asarray(masks, bool)
    R, d1, d2 = values.shape
    top = min(d1, d2)
    upper = np.full(R, top) if upper is None else np.minimum(np.asarray(upper, int), top)
    level = np.sum(np.where(masks, values, 0.0) ** 2, axis=(1, 2)) / masks.sum(axis=(1, 2)) + 1e-300
    result = upper.copy()
    undecided = np.ones(R, bool)
    rng = generator(seed)
    for k in range(top):
        idx = np.flatnonzero(undecided & (upper > k))
        if idx.size == 0:
            break
        if k == 0:
            ok = ~np.any(masks[idx] & (values[idx] != 0), axis=(1, 2))
        elif k == 1:
            exact = rank_one_feasible(values[idx], masks[idx])
            ok = np.array([bool(e) for e in exact])
            unsure = np.array([e is None for e in exact])
            if unsure.any():
                j = idx[unsure]
                fit = rank_k_fit_batch(values[j], masks[j], 1, restarts, iters, rng, target=tol * level[j])
                ok[unsure] = fit <= tol * level[j]
        else:
            fit = rank_k_fit_batch(values[idx], masks[idx], k, restarts, iters, rng, target=tol * level[idx])
            ok = fit <= tol * level[idx]
        result[idx[ok]] = k
        undecided[idx[ok]] = False
    return result


def min_nuclear_norm_batch(values, masks, tol: float = 1e-12) -> np.ndarray:
    """:math:`\\min \\|W\\|_*` subject to the observations, for every run (cvxpy + Clarabel).

    One parametrized program serves every run of the shape: :math:`W = P\\circ M + (1 - P)\\circ Z`
    with the mask :math:`P` and the observed values as cvxpy parameters and :math:`Z` free, so cvxpy
    compiles the program once and each run only re-solves it (about 5 ms instead of 20 ms for a
    4 x 4 problem compiled anew).

    Returns
    -------
    ndarray, shape (R,)
        The optimal values (accurate to about 1e-8).

    Explained in: chapter 2 (Connectivity, the minimum-nuclear-norm reference of the sweep).
    """
    import warnings

    import cvxpy as cp

    values, masks = np.asarray(values, float), np.asarray(masks, bool)
    P, PM = cp.Parameter(values.shape[1:]), cp.Parameter(values.shape[1:])
    program = cp.Problem(cp.Minimize(cp.normNuc(PM + cp.multiply(1 - P, cp.Variable(values.shape[1:])))))
    out = np.empty(len(values))
    for r, (v, m) in enumerate(zip(values, masks)):
        P.value, PM.value = m.astype(float), np.where(m, v, 0.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "optimal_inaccurate" is checked below
            program.solve(solver=cp.CLARABEL, tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol)
        if program.status not in ("optimal", "optimal_inaccurate"):
            raise RuntimeError(f"the nuclear-norm program of run {r} ended with status {program.status!r}")
        out[r] = program.value
    return out
