"""Checks of the claims of chapter 0 (A first run): C6 and C13 on the chapter's example.

Explained in: chapter 0 (A first run); the appendix page "Claims and how they are checked".
"""
from __future__ import annotations

import numpy as np

from ..completion import as_completion
from . import claim, require

__all__ = ["flow_fill_tends_to_twenty", "learned_fill_is_min_rank_not_min_nuclear",
           "connected_pattern_learns_lowest_rank"]

FRACTION = 0.9      # at least this fraction of the seeded runs must show a "training does X" property
MIN_RUNS = 10


def _fraction(ok) -> float:
    return float(np.mean(np.asarray(ok, bool)))


@claim("C6", "On $\\begin{bmatrix}1&2\\\\10&\\star\\end{bmatrix}$ gradient flow fills $\\star$ with a "
       "value that rises towards 20 as $\\alpha$ shrinks, is still far from it at $\\alpha = 10^{-3}$, "
       "and reaches it only for a tiny start; the $\\alpha\\to0$ limit is 20, a rank-one matrix.",
       computed="gradient flow from alpha = 1e-1, 1e-3, 1e-6, 1e-9, 1e-12 over >= 10 seeds; the small-init limit",
       cross_check="training runs (an adaptive integrator of the flow) beside the limit solver",
       tolerance="1e-3 at the smallest scale, 1e-12 (the flow stops at loss 1e-12, which leaves "
                 "~4e-5; at 1e-9 the finite-alpha gap is still up to ~6e-3); 'far' = below 15 at 1e-3, a gap of 5 no integration error can make; "
                 "1e-6 for the limit (rtol 1e-10); >= 90% of the seeds")
def flow_fill_tends_to_twenty(scales, learned, limit):
    scales, learned = np.asarray(scales, float), np.asarray(learned, float)   # learned: (S, R)
    require(learned.shape[1] >= MIN_RUNS, f"need >= {MIN_RUNS} seeds per scale")
    limit = np.asarray(limit, float)
    require(abs(limit[1, 1] - 20) < 1e-6 and np.linalg.svd(limit, compute_uv=False)[1] < 1e-6,
            f"the limit fills {limit[1, 1]:.6g}: not the rank-one 20")
    order = np.argsort(scales)[::-1]
    ordered = learned[order]
    rising = _fraction(np.all(np.diff(ordered, axis=0) > 0, axis=0))
    require(rising >= FRACTION, f"the fill rises as alpha shrinks in only {rising:.0%} of the seeds")
    at_1e3 = learned[np.argmin(np.abs(np.log(scales / 1e-3)))]
    require(_fraction(at_1e3 < 15) >= FRACTION, f"at alpha = 1e-3 the fill already reaches {at_1e3.max():.3g}")
    last = np.abs(ordered[-1] - 20)
    require(_fraction(last < 1e-3) >= FRACTION, f"at alpha = {scales.min():g} the fill is {last.max():.2e} off")
    return {"seeds": learned.shape[1], "range at 1e-3": f"{at_1e3.min():.2f}-{at_1e3.max():.2f}",
            "largest error at the smallest scale": last.max()}


@claim("C6", "The completion learned from a small start is the minimum-rank one ($\\star = 20$), not the "
       "minimum-nuclear-norm one ($\\star = 1$) nor the minimum-Frobenius one ($\\star = 0$).",
       computed="the small-init limit and gradient-flow runs from alpha = 1e-12 (>= 10 seeds); "
                "mfbook.min_rank, min_nuclear_norm (cvxpy), min_frobenius",
       cross_check="the nuclear norm over a grid of values of the missing entry (no convex solver); "
                   "the training runs beside the limit",
       tolerance="1e-3 for the runs and 1e-6 for the limit (as in the check above); 1e-3 between cvxpy "
                 "and a grid of step 1e-3; the nuclear norms must differ by > 1 (they differ by 10.5)")
def learned_fill_is_min_rank_not_min_nuclear(problem, limit, runs, min_rank_W, nuclear_W, frobenius_W):
    p = as_completion(problem)
    (i, j), = np.argwhere(~p.mask)
    runs = np.asarray(runs, float)
    require(len(runs) >= MIN_RUNS, f"need >= {MIN_RUNS} training runs")
    det = abs(np.linalg.det(np.asarray(min_rank_W, float)))
    require(det < 1e-9 and p.fits(min_rank_W, atol=1e-9), "the minimum-rank reference is not a rank-one completion")
    require(np.abs(np.asarray(limit) - min_rank_W).max() < 1e-6, "the limit is not the minimum-rank completion")
    near = _fraction(np.abs(runs - min_rank_W).max(axis=(1, 2)) < 1e-3)
    require(near >= FRACTION, f"only {near:.0%} of the runs end at the minimum-rank completion")
    grid = np.linspace(-50, 50, 100_001)
    W = np.broadcast_to(p.with_fill(0.0), (grid.size,) + p.shape).copy()
    W[:, i, j] = grid
    nuc = np.linalg.svd(W, compute_uv=False).sum(axis=1)
    require(abs(grid[np.argmin(nuc)] - nuclear_W[i, j]) < 1e-3, "cvxpy's nuclear-norm fill disagrees with the grid")
    n_learned = np.linalg.svd(np.asarray(limit, float), compute_uv=False).sum()
    n_nuc = np.linalg.svd(np.asarray(nuclear_W, float), compute_uv=False).sum()
    require(n_learned > n_nuc + 1, "the learned completion has (about) the minimum nuclear norm")
    require(abs(frobenius_W[i, j]) < 1e-12 and abs(limit[i, j] - frobenius_W[i, j]) > 1,
            "the minimum-Frobenius fill should be 0, far from the learned one")
    return {"learned *": limit[i, j], "min nuclear *": nuclear_W[i, j], "nuclear norms": f"{n_learned:.2f} vs {n_nuc:.2f}"}


def _components(problem):
    """Connected components of G_M by union-find on the observed non-zero entries (independent of
    mfbook.connectivity and networkx); isolated vertices are dropped."""
    p = as_completion(problem)
    d1, d2 = p.shape
    parent = list(range(d1 + d2))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    edges = np.argwhere(p.mask & (p.values != 0))
    for r, c in edges:
        parent[find(r)] = find(d1 + c)
    used = set(edges[:, 0]) | {d1 + c for c in edges[:, 1]}
    return len({find(v) for v in used})


@claim("C13", "The observed entries of $\\begin{bmatrix}1&2\\\\10&\\star\\end{bmatrix}$ form a connected "
       "graph, and training from a small start finds a completion of the lowest possible rank.",
       computed="mfbook.connectivity, gradient-flow runs from alpha = 1e-12 (>= 10 seeds), mfbook.min_rank",
       cross_check="the components are counted again by union-find on the non-zero observed entries",
       tolerance="rank counted with sigma_k > 1e-3 sigma_1 (runs stop at loss 1e-12, so a rank-one "
                 "matrix shows sigma_2 ~ 1e-5; a rank-two completion of this data has sigma_2 > 0.5); "
                 "fit to 1e-5; >= 90% of the seeds")
def connected_pattern_learns_lowest_rank(problem, kind, runs, min_rank):
    p = as_completion(problem)
    count = _components(p)
    require(count == 1, f"the observation graph has {count} components: not connected")
    require(kind == "connected", f"mfbook.connectivity says {kind!r}, union-find says connected")
    runs = np.asarray(runs, float)
    require(len(runs) >= MIN_RUNS, f"need >= {MIN_RUNS} training runs")
    s = np.linalg.svd(runs, compute_uv=False)
    ranks = (s > 1e-3 * s[:, :1]).sum(axis=1)
    fits = np.array([p.fits(W, atol=1e-5) for W in runs])
    ok = _fraction((ranks == min_rank) & fits)
    require(ok >= FRACTION, f"only {ok:.0%} of the runs fit the data with rank {min_rank} (ranks {ranks})")
    return {"components": count, "runs at the lowest rank": ok, "lowest rank": min_rank}
