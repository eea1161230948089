"""Checks of chapter 3 (hierarchical intrinsic invariant manifolds): claims C18, C21-C24.

Each check receives trajectories as ``(t, A, B, loss)`` tuples (the factors at every record, as
returned by :func:`mfbook.manifolds.rk4_flow` and :func:`mfbook.manifolds.descent_from`) and states
the claim as a property of them.

Explained in: chapter 3 (Hierarchical intrinsic invariant manifolds).
"""
from __future__ import annotations

import numpy as np

from . import claim, require
from ..completion import as_completion
from ..connectivity import connectivity
from ..manifolds import imbalance, off_subspace, subspace_basis, top_subspace_angle

#: singular values below this fraction of the largest are not counted in a rank. At alpha = 1e-12
#: the directions not yet escaped are below 3e-5 of the largest on the plateaus of the 4x4 example,
#: the escaped ones above 5e-2 of it (sigma_3 / sigma_1 = 0.909 / 15.8): 1e-3 sits between, with a
#: factor of about 40 on either side.
RANK_CUT = 1e-3


def _count(sv):
    return int(np.sum(sv > RANK_CUT * sv[0])) if sv[0] > 0 else 0


def _slowest(loss, idx):
    """The plateau record where the loss changes least per record: the closest approach to the saddle."""
    step = np.abs(np.diff(loss, append=loss[-1]))
    idx = idx[idx < len(loss) - 1]
    return idx[np.argmin(step[idx])]


def _plateau_records(loss, level):
    """Records whose loss is within 1% of a plateau level."""
    return np.where(np.abs(loss / level - 1) < 1e-2)[0]


@claim("C18", "During small-initialization training $\\mathrm{rank}(A) = \\mathrm{rank}(B^\\top) = "
       "\\mathrm{rank}(W_{aug})$ on every plateau (equal to $k$ on the rank-$k$ plateau), and the top-$k$ subspaces "
       "$\\mathrm{row}(A)$ and $\\mathrm{col}(B)$ coincide (up to a small angle that vanishes with $\\alpha$).",
       computed="gradient-descent runs (lr 0.1) of the 4x4 example from alpha = 1e-12, one per seed, with "
                "their factors at every record; the best rank-k losses from alternating least squares",
       cross_check="plateaus are located by the independent best rank-k fits, not by the runs; a gradient-"
                   "flow run (RK4) gives the angle's scaling with alpha in the chapter",
       tolerance="ranks count singular values above 1e-3 of the largest (between the escaped and the "
                 "unescaped directions, see RANK_CUT); angle below 1e-4 rad (unrelated subspaces are O(1) "
                 "apart); at least 90% of >= 10 seeds (a seed may end a plateau between two records)")
def ranks_of_factors_agree_in_training(runs, best_losses):
    require(len(runs) >= 10, f"need at least 10 seeds, got {len(runs)}")
    good, worst_angle = 0, 0.0
    for t, As, Bs, loss in runs:
        ok = True
        for k, level in best_losses.items():
            idx = _plateau_records(loss, level)
            if idx.size == 0:
                ok = False
                break
            closest = _slowest(loss, idx)
            for i in idx:
                aug = np.concatenate([As[i], Bs[i].T], axis=0)
                counts = {_count(np.linalg.svd(X, compute_uv=False)) for X in (As[i], Bs[i], aug)}
                angle = top_subspace_angle(As[i], Bs[i], max(counts))
                worst_angle = max(worst_angle, angle)
                # the three counts agree on the whole plateau (the next direction may already be
                # growing near its end, in A and B together) and equal k where the loss moves slowest
                ok &= len(counts) == 1 and angle < 1e-4 and (i != closest or counts == {k})
        good += ok
    frac = good / len(runs)
    require(frac >= 0.9, f"ranks of A, B^T, W_aug agree and equal k on every plateau in only {frac:.0%} "
            "of the runs (expected >= 90%)")
    return {"seeds": len(runs), "fraction": frac, "largest angle (rad)": worst_angle}


@claim("C22", "Proposition 1 (corrected): gradient flow started in $\\overline\\Omega_k(V)$ keeps "
       "$\\mathrm{row}(A), \\mathrm{col}(B) \\subseteq V$ and $\\mathrm{rank}(W_{aug}) = k$, for any data; "
       "from a balanced start it stays in $\\Omega_k(V)$ itself ($\\mathrm{rank}\\,A = \\mathrm{rank}\\,B = k$).",
       computed="RK4 gradient-flow runs from random points of Omega_k (generic and balanced) on several random "
                "incomplete 4x4 matrices, with the basis Q of V",
       cross_check="plain gradient descent (another discretization) from one of the same starts",
       tolerance="part outside V below 1e-10 (rounding accumulates to ~1e-14 over 800 steps); ranks with a "
                 "1e-8 relative cut (the factors are O(1), rounding is 1e-16); balanced runs keep "
                 "sigma_k(A) above 1e-3 of sigma_1(A)")
def flow_stays_in_omega_k(runs, cross_run=None):
    require(len({r["data"] for r in runs}) >= 3, "need runs on at least three data sets ('for any data')")
    worst = 0.0
    n_bal = 0
    for r in list(runs) + ([cross_run] if cross_run is not None else []):
        As, Bs, Q, k = r["A"], r["B"], r["Q"], r["k"]
        off = max(off_subspace(As, Q, "row").max(), off_subspace(Bs, Q, "col").max())
        worst = max(worst, float(off))
        require(off < 1e-10, f"the flow left V (part outside {off:.1e}) for k = {k}")
        aug = np.concatenate([As, np.swapaxes(Bs, 1, 2)], axis=1)
        sv = np.linalg.svd(aug, compute_uv=False)
        require(np.all(np.sum(sv > 1e-8 * sv[:, :1], axis=1) == k), f"rank(W_aug) is not {k} all along")
        require(r["loss"][-1] < 0.99 * r["loss"][0], "the flow did no work on the data")
        scale = np.linalg.norm(As[0]) ** 2
        if imbalance(As[0], Bs[0]) < 1e-12 * scale:
            n_bal += 1
            require(np.all(imbalance(As, Bs) < 1e-8 * scale), "balance A^T A = B B^T was not conserved")
            sA = np.linalg.svd(As, compute_uv=False)
            sB = np.linalg.svd(Bs, compute_uv=False)
            require(np.all(sA[:, k - 1] > 1e-3 * sA[:, 0]) and np.all(sB[:, k - 1] > 1e-3 * sB[:, 0]),
                    "a factor of a balanced run lost rank")
    require(n_bal >= 1, "no balanced run among the evidence")
    return {"runs": len(runs), "balanced runs": n_bal, "largest part outside V": worst}


@claim("C23", "Proposition 1 (hierarchy) along training: the hidden subspace occupied on the rank-$k$ plateau "
       "lies inside the one of the rank-$(k+1)$ plateau, so training climbs "
       "$\\Omega_1 \\subset \\Omega_2 \\subset \\Omega_3$ one dimension at a time.",
       computed="gradient-descent runs of the 4x4 example from alpha = 1e-12 (>= 10 seeds) with their factors; "
                "the best rank-k losses that locate the plateaus",
       cross_check="the nesting is measured between different times of one run (nothing in the dynamics "
                   "forces an earlier subspace to survive later escapes); best rank-k fits by ALS",
       tolerance="part of the plateau-k subspace outside the plateau-(k+1) one below 1e-4 (random subspaces: "
                 "O(1)); at least 90% of the seeds")
def hierarchy_climbed_by_training(runs, best_losses):
    require(len(runs) >= 10, f"need at least 10 seeds, got {len(runs)}")
    levels = sorted(best_losses.items())
    good, worst = 0, 0.0
    for t, As, Bs, loss in runs:
        spaces = []
        for k, level in levels:
            idx = _plateau_records(loss, level)
            if idx.size == 0:
                break
            closest = _slowest(loss, idx)                                  # the record nearest the saddle
            spaces.append(subspace_basis(As[closest], RANK_CUT, "row"))
        if len(spaces) < len(levels):
            continue
        spaces.append(subspace_basis(As[-1], RANK_CUT, "row"))
        dims = [s.shape[1] for s in spaces]
        outside = [float(off_subspace(spaces[j].T, spaces[j + 1], "row")) for j in range(len(spaces) - 1)]
        worst = max([worst] + outside)
        good += dims == list(range(1, len(spaces) + 1)) and max(outside) < 1e-4
    frac = good / len(runs)
    require(frac >= 0.9, f"nested subspaces of dimensions 1, 2, 3 in only {frac:.0%} of the runs")
    return {"seeds": len(runs), "fraction": frac, "largest part outside the next": worst}


@claim("C21", "When $G_M$ is disconnected (and no observed zero joins two components), gradient flow splits "
       "into one independent system per connected component.",
       computed="three fixed-step flows from the same start: the base data, the data with one component's "
                "values changed, the data with the other component's values changed",
       cross_check="the components are read from connectivity(problem) (graph search), not from the flows",
       tolerance="untouched factors equal to 1e-12 (same arithmetic, so bit-for-bit in practice); the "
                 "changed component's factors must move by more than 1e-2 (they move by O(1))")
def components_evolve_independently(problem, runs):
    comps = connectivity(problem).components
    require(len(comps) >= 2, "the pattern is connected: nothing to decouple")
    base = runs["base"]
    diffs, moved = [], []
    for name, c in zip(("first changed", "second changed"), comps[:2]):
        other = [o for o in comps if o != c]
        rows = [i for o in other for i in o.rows]
        cols = [j for o in other for j in o.cols]
        r = runs[name]
        diffs.append(max(np.abs(base[1][:, rows] - r[1][:, rows]).max(),
                         np.abs(base[2][:, :, cols] - r[2][:, :, cols]).max()))
        moved.append(np.abs(base[1][:, list(c.rows)] - r[1][:, list(c.rows)]).max())
    require(max(diffs) < 1e-12, f"a component's factors changed with the other's data ({max(diffs):.1e})")
    require(min(moved) > 1e-2, "a component's own data did not move its factors")
    return {"untouched factors changed by": max(diffs), "own factors moved by": min(moved)}


@claim("C24", "Proposition 2: sub-$\\Omega_k$ manifolds (one subspace $V_c$ per component) are invariant for any "
       "observed values, and their outputs are strictly fewer: the sub-manifold with a component switched off "
       "cannot reach the loss of the best rank-1 fit.",
       computed="RK4 flows from points of sub-Omega_2 (dims 1, 1) on the 3x3 pattern with random values; a flow "
                "from sub-Omega_1 (second component off); the best rank-1 loss by alternating least squares",
       cross_check="the best rank-1 fit over all of Omega_1 comes from an independent solver (ALS restarts)",
       tolerance="part outside V_c below 1e-10 (rounding); switched-off rows and columns below 1e-12; the "
                 "sub-manifold's loss must exceed the best rank-1 loss by more than 1 (it is 5 vs 0)")
def sub_omega_invariant(problem, runs, off_run, best_rank1_loss):
    comps = connectivity(problem).components
    worst = 0.0
    for As, Bs, bases in runs:
        for c, V in zip(comps, bases):
            off = max(off_subspace(As[:, list(c.rows)], V, "row").max(),
                      off_subspace(Bs[:, :, list(c.cols)], V, "col").max())
            worst = max(worst, float(off))
    require(worst < 1e-10, f"a sub-Omega_k run left its subspaces ({worst:.1e})")
    t, As, Bs, loss = off_run
    c = comps[1]
    W = As @ Bs
    dead = max(np.abs(W[:, list(c.rows)]).max(), np.abs(W[:, :, list(c.cols)]).max())
    require(dead < 1e-12, "the switched-off component came alive")
    require(loss[-1] > best_rank1_loss + 1, f"sub-Omega_1 reached loss {loss[-1]:.3g}, not above the best "
            f"rank-1 loss {best_rank1_loss:.3g}")
    return {"largest part outside V_c": worst, "sub-Omega_1 loss": loss[-1], "best rank-1 loss": best_rank1_loss}
