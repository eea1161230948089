"""Checks of chapter 4 (training dynamics): claims C15-C17, C20, C25-C27.

Training evidence is a :class:`mfbook.Trajectory` (gradient descent or flow) or its arrays; critical
points are ``(problem, A, B)`` triples.

Explained in: chapter 4 (Training dynamics: from saddle to saddle).
"""
from __future__ import annotations

import numpy as np

from . import claim, require
from ..completion import as_completion
from ..connectivity import connectivity
from ..factorization import hessian, loss_gradient


def _near(loss, level, rel):
    return np.abs(loss / level - 1) < rel


@claim("C15", "On the connected $4\\times4$ example small-initialization training learns the rank-3 completion "
       "($\\star = 1.2$), while training from a large initialization ($\\alpha = 1$) learns a rank-4 one.",
       computed="gradient descent (lr 0.1, to loss 1e-12) from >= 10 seeds at a small alpha and at alpha = 1",
       cross_check="the alpha -> 0 limit solver (a different algorithm: saddle-to-saddle continuation) must "
                   "give rank 3 and * = 1.2 as well",
       tolerance="rank 3 means sigma_4 < 1e-4 sigma_1, rank 4 means sigma_4 > 1e-3 sigma_1 (the two groups "
                 "are 3 decades apart; a loss of 1e-12 leaves sigma_4 ~ 1e-6); * within 1e-3 of 1.2 (the stop "
                 "at loss 1e-12 leaves ~1e-5); at least 90% (small) and 80% (large) of the seeds")
def small_init_gives_rank_three(small, large, limit, truth=1.2, entry=(1, 3)):
    small, large = np.asarray(small), np.asarray(large)
    require(len(small) >= 10 and len(large) >= 10, "need at least 10 seeds at each scale")
    s_small = np.linalg.svd(small, compute_uv=False)
    s_large = np.linalg.svd(large, compute_uv=False)
    rank3 = (s_small[:, 3] < 1e-4 * s_small[:, 0]) & (np.abs(small[:, entry[0], entry[1]] - truth) < 1e-3)
    rank4 = s_large[:, 3] > 1e-3 * s_large[:, 0]
    require(rank3.mean() >= 0.9, f"small init: rank-3 completion in only {rank3.mean():.0%} of the seeds")
    require(rank4.mean() >= 0.8, f"large init: rank 4 in only {rank4.mean():.0%} of the seeds")
    require(limit.rank == 3 and abs(limit.W[entry] - truth) < 1e-8, "the limit solver disagrees")
    return {"small: fraction rank 3": rank3.mean(), "large: fraction rank 4": rank4.mean(),
            "largest sigma4/sigma1 (small)": (s_small[:, 3] / s_small[:, 0]).max(),
            "smallest sigma4/sigma1 (large)": (s_large[:, 3] / s_large[:, 0]).min()}


@claim("C16", "From a small initialization the loss falls in steps: it rests on each plateau longer than it "
       "takes to fall onto it, and the gradient norm dips on a plateau far below its spikes between plateaus.",
       computed="gradient-descent runs (>= 10 seeds, small alpha) with loss and gradient norm per record; the "
                "plateau levels (best rank-k losses, alternating least squares)",
       cross_check="the plateau levels come from an independent solver, not from the runs",
       tolerance="rest = time within 1% of the level; it must exceed the fall from 99% of the previous level "
                 "(a smooth decay would rest less than it falls); gradient dip below 1e-2 of the neighbouring "
                 "spikes (two decades: near a saddle the gradient shrinks like the distance to it); >= 90% of seeds")
def loss_falls_in_steps(runs, levels):
    require(len(runs) >= 10, f"need at least 10 seeds, got {len(runs)}")
    levels = list(levels)
    good, ratios = 0, []
    for r in runs:
        t, loss, g = np.asarray(r.t), np.asarray(r.loss), np.asarray(r.grad_norm)
        ok = bool(np.all(np.diff(t) > 0) and np.all(np.diff(loss) <= 1e-12 * loss[:-1] + 1e-300))
        bounds = [loss[0]] + levels + [0.0]
        for k in range(1, len(bounds) - 1):
            on = np.where(_near(loss, bounds[k], 1e-2))[0]
            if on.size < 2 or not ok:
                ok = False
                break
            rest = t[on[-1]] - t[on[0]]
            start = np.argmax(loss < 0.99 * bounds[k - 1])
            fall = t[on[0]] - t[start]
            before = (loss < 0.99 * bounds[k - 1]) & (loss > 1.01 * bounds[k])
            after = (loss < 0.99 * bounds[k]) & (loss > 1.01 * bounds[k + 1])
            if not before.any() or not after.any():
                ok = False
                break
            dip = g[on].min() / min(g[before].max(), g[after].max())
            ratios.append(dip)
            ok &= rest > fall and dip < 1e-2
        good += ok
    frac = good / len(runs)
    require(frac >= 0.9, f"stepwise loss with gradient dips in only {frac:.0%} of the runs")
    return {"seeds": len(runs), "fraction": frac, "largest dip/spike ratio": max(ratios) if ratios else np.nan}


@claim("C17", "Each plateau of small-initialization training sits at the best rank-$k$ approximation of the "
       "observed data: the loss comes within 0.1% of the best rank-$k$ loss, with the gradient there far "
       "below its spikes.",
       computed="training runs (gradient flow from alpha = 1e-16) of one or more problems; for each, the best "
                "rank-k losses of its own data (alternating least squares)",
       cross_check="the best fits come from alternating least squares with restarts, not from training",
       tolerance="closest approach within 1e-3 (relative) of the fit (measured: <= 1e-3 at alpha = 1e-16 for the "
                 "patterns with the shortest rank-2 plateau, ~1e-8 for most); gradient there below 1e-2 of the "
                 "run's largest (a run merely crossing the level in transit has a ratio of order 0.1-1)")
def plateaus_are_best_rank_k_fits(runs, fits):
    worst = worst_g = 0.0
    for r, levels in zip(runs, fits):
        loss, g = np.asarray(r.loss), np.asarray(r.grad_norm)
        for level in levels:
            rel = np.abs(loss / level - 1)
            j = int(np.argmin(rel))                                   # the closest approach
            require(rel[j] < 1e-3 and g[j] < 1e-2 * g.max(),
                    f"a run does not rest at the best rank-k loss {level:.6g} (closest {rel[j]:.1e}, "
                    f"gradient {g[j] / g.max():.1e} of its largest there)")
            worst = max(worst, float(rel[j]))
            worst_g = max(worst_g, float(g[j] / g.max()))
    return {"runs": len(runs), "closest approach (relative), worst run": worst,
            "gradient there / largest, worst run": worst_g}


@claim("C20", "For the disconnected $3\\times3$ example small-initialization training rests at a sub-optimal "
       "rank-1 saddle: loss well above the best rank-1 loss, with the small component still zero.",
       computed="gradient-descent runs (>= 10 seeds, small alpha) of [[1,*,3],[*,5,*],[3,*,9]]; the loss of the "
                "rank-1 critical point of the limit path; the best rank-1 loss (alternating least squares)",
       cross_check="the saddle's level comes from the limit solver, the best rank-1 loss from ALS; the runs are "
                   "plain gradient descent",
       tolerance="rest = >= 3 time units within 0.1% of the level (6 e-foldings of the saddle's escape rate 2: a "
                 "transit crosses the band far faster) with the gradient dipping below 1e-3 of its largest; "
                 "small component below 1e-3 of max|W| there; level above the best rank-1 loss by more than 1; "
                 ">= 90% of the seeds")
def disconnected_run_rests_at_suboptimal_saddle(problem, runs, level, best_rank1_loss):
    problem = as_completion(problem)
    require(len(runs) >= 10, f"need at least 10 seeds, got {len(runs)}")
    require(level > best_rank1_loss + 1, f"the saddle level {level:.3g} is not sub-optimal")
    small = min(connectivity(problem).components, key=lambda c: len(c.rows) * len(c.cols))
    good = 0
    for r in runs:
        on = np.where(_near(r.loss, level, 1e-3))[0]
        if on.size < 2 or r.t[on[-1]] - r.t[on[0]] < 3:
            continue
        j = on[np.argmin(r.grad_norm[on])]
        if r.grad_norm[j] > 1e-3 * r.grad_norm.max():
            continue
        W = r.W_path[j]
        part = max(np.abs(W[list(small.rows)]).max(), np.abs(W[:, list(small.cols)]).max())
        good += part < 1e-3 * np.abs(W).max()
    frac = good / len(runs)
    require(frac >= 0.9, f"rest at the sub-optimal rank-1 saddle in only {frac:.0%} of the runs")
    return {"seeds": len(runs), "fraction": frac, "saddle loss": level, "best rank-1 loss": best_rank1_loss}


@claim("C25", "Theorem 1 (hidden width $d \\ge \\min(d_1, d_2)$): every critical point of $R_S$ is a strict saddle "
       "or a global minimum (loss 0).",
       computed="critical points (gradient below 1e-8): those of the limit paths, best rank-k fits in balanced "
                "factors, and points found by Newton's method from random starts on random problems",
       cross_check="the Newton points are found without any training or limit solver; the Hessian is assembled "
                   "from Hessian-vector products independent of the solvers",
       tolerance="gradient below 1e-8 (Newton reaches 1e-13); loss 0 means below 1e-10; strict saddle means a "
                 "Hessian eigenvalue below -1e-6 (numerical zero eigenvalues of the symmetry are ~1e-12)")
def critical_points_strict_saddle_or_global(points, min_newton=10, width_hypothesis=True):
    saddles = minima = newton = 0
    for p in points:
        problem, A, B = as_completion(p["problem"]), p["A"], p["B"]
        d1, d2 = problem.shape
        require(not width_hypothesis or A.shape[1] >= min(d1, d2), f"width {A.shape[1]} < min(d1, d2) = {min(d1, d2)}: Theorem 1 "
                "needs d >= min(d1, d2)")
        value, grads = loss_gradient([A, B], problem.values, problem.mask)
        require(max(np.abs(g).max() for g in grads) < 1e-8, "not a critical point")
        lam = np.linalg.eigvalsh(hessian(A, B, problem.values, problem.mask))[0]
        if value < 1e-10:
            minima += 1
        else:
            require(lam < -1e-6, f"a critical point with loss {float(value):.3g} and no negative curvature "
                    f"(smallest Hessian eigenvalue {lam:.2e}): a spurious local minimum")
            saddles += 1
        newton += p.get("source") == "newton"
    require(newton >= min_newton, f"only {newton} Newton-found critical points (need {min_newton})")
    return {"critical points": len(points), "strict saddles": saddles, "global minima": minima,
            "found by Newton": newton}


@claim("C26", "Theorem 2: runs started at $\\theta_c + \\alpha\\theta_0$ for different $\\alpha$ coincide after the "
       "shift $\\frac{1}{\\lambda_1}\\log\\frac{1}{\\alpha}$, with $\\lambda_1$ the escape rate of $\\theta_c$.",
       computed="runs for several alpha from one critical point (the origin: ordinary training; the rank-1 "
                "saddle: the saddle's balanced factors plus alpha theta_0); the rate lambda_1 of that point",
       cross_check="lambda_1 comes from the Hessian / residual at theta_c (chapter's C27), not from the runs",
       tolerance="the shifted drop times must spread less than 2% of the raw spread: a rate off by x% leaves "
                 "x% of it")
def escape_time_shift_collapses(runs, alphas, rate, level):
    times = []
    for r in runs:
        t, loss = np.asarray(r[0]), np.asarray(r[1])
        require(np.all(np.diff(t) > 0), "the time axis is not increasing")
        below = np.where(loss < level)[0]
        require(below.size and below[0] > 0, "a run never crosses the level")
        i = below[0]
        times.append(np.interp(level, [loss[i], loss[i - 1]], [t[i], t[i - 1]]))
    times = np.array(times)
    shift = np.log(1 / np.asarray(alphas, float)) / rate
    raw, shifted = np.ptp(times), np.ptp(times - shift)
    require(raw > 1.0, "the raw drop times do not spread: the alphas are too close")
    require(shifted < 0.02 * raw, f"after the shift the drop times still spread by {shifted:.3g} "
            f"({shifted / raw:.1%} of the raw {raw:.3g})")
    return {"raw spread": raw, "shifted spread": shifted}


@claim("C27", "The escape rate of a critical point with a free inner direction is "
       "$\\lambda_1 = \\sigma_1(E_c)$, the top singular value of the scaled residual; no Hessian eigenvalue is "
       "below $-\\sigma_1(E_c)$; the trajectory grows at that rate.",
       computed="critical points (balanced factors with rank < d); growth rates fitted to a training run (the "
                "norm of W near the origin, the loss leaving the rank-1 plateau) with the rates they should have",
       cross_check="three independent numbers: eigenvalues of the assembled Hessian, singular values of the "
                   "residual, and exponential fits to a gradient-flow run",
       tolerance="Hessian vs residual to 1e-8 relative (both exact up to rounding); fitted rates to 1e-2 "
                 "(a fit over a finite window sees the next-fastest direction at relative size ~e^-gap)")
def escape_rate_is_top_residual_singular_value(points, growth):
    for p in points:
        problem, A, B = as_completion(p["problem"]), p["A"], p["B"]
        lam = -np.linalg.eigvalsh(hessian(A, B, problem.values, problem.mask))[0]
        s1 = np.linalg.svd((2.0 / problem.n_observed) * problem.residual(A @ B), compute_uv=False)[0]
        require(abs(lam - s1) <= 1e-8 * max(s1, 1e-12), f"top eigenvalue of -H {lam:.8g} != sigma_1(E) {s1:.8g}")
    for measured, predicted in growth:
        require(abs(measured / predicted - 1) < 1e-2, f"growth rate {measured:.5g} vs predicted {predicted:.5g}")
    return {"critical points": len(points), "growth rates checked": len(growth)}
