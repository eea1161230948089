"""Checks of chapter 6 (Beyond matrices): claims C30 (depth), C31 (single neuron), C32 (low model rank)."""
from __future__ import annotations

import numpy as np

from . import claim, require


# ----------------------------------------------------------------------------------------- C30
@claim("C30", "Once $\\sigma_1$ has left the scale of the initialization, it moves as "
       "$\\dot\\sigma_1 = -N\\sigma_1^{2-2/N}u_1^\\top\\nabla_W R_S v_1$ (Arora et al.) along a depth-3 run.",
       computed="sigma_1, its exact velocity u^T dW/dt v from the factors, and the formula's value, at "
                "several moments of one gradient-descent run (depth 3, alpha = 0.05).",
       cross_check="The exact velocity is computed from the factors without the balance assumption; "
                   "the formula assumes balance.",
       tolerance="relative 1e-3 once sigma_1 > 0.1 (the O(alpha^2) = 2.5e-3 imbalance of the start is "
                 "then small against sigma_1^(4/3) >= 0.05); at least 3 such moments spanning a tenfold "
                 "growth of sigma_1, so the formula is tested where it makes a difference.")
def singular_value_speed_matches_depth_formula(sigma, exact, predicted):
    sigma, exact, predicted = (np.asarray(v, float) for v in (sigma, exact, predicted))
    grown = sigma > 0.1
    require(grown.sum() >= 3 and sigma[grown].max() > 10 * sigma[grown].min(),
            f"need >= 3 moments after the escape over a tenfold growth of sigma_1, got sigma = {sigma}")
    rel = np.abs(exact[grown] - predicted[grown]) / np.abs(exact[grown])
    require(np.all(rel < 1e-3), f"exact and predicted velocities differ by {rel.max():.2e} (relative) > 1e-3")
    return {"moments": int(grown.sum()), "max relative gap": float(rel.max())}


@claim("C30", "On $[[1,\\star,3],[\\star,5,\\star],[3,\\star,9]]$ depth 3 (and 4) learns the rank-1 completion "
       "($W_{12}W_{21} = W_{11}W_{22} = 5$), which depth 2 misses.",
       computed="The learned W of gradient descent from alpha = 0.1 for >= 10 seeds at each depth.",
       cross_check="Depth 2 on the same seeds must end at rank 2 (the Chapter 5 result); the fill is "
                   "compared with the exact rank-1 value sqrt(5).",
       tolerance="fit: every observed entry within 1e-2 (the runs stop at loss 1e-7); rank 1: "
                 "sigma_2 < 1e-2 sigma_1 (at depth >= 3 the leftover sigma_2 decays only like "
                 "sigma^(4/3), slowly, after the loss has reached 1e-7); W12 W21 within 0.1 of 5 (the "
                 "2x2 minor of a rank-1 fill); rank 2: sigma_2 > 0.1 sigma_1; >= 90% of the seeds.")
def depth_three_finds_rank_one_fill(W_by_depth, problem):
    from ..completion import as_completion
    problem = as_completion(problem)
    out = {}
    for N, Ws in W_by_depth.items():
        Ws = np.asarray(Ws, float)
        require(len(Ws) >= 10, f"depth {N}: need >= 10 seeds, got {len(Ws)}")
        fits = np.mean([problem.fits(W, atol=1e-2) for W in Ws])
        require(fits >= 0.9, f"depth {N}: only {fits:.0%} of the runs fit the data")
        sv = np.linalg.svd(Ws, compute_uv=False)
        ratio = sv[:, 1] / sv[:, 0]
        if N == 2:
            frac = np.mean(ratio > 0.1)
            require(frac >= 0.9, f"depth 2: only {frac:.0%} of the runs end at rank 2")
        else:
            frac = np.mean((ratio < 1e-2) & (np.abs(Ws[:, 0, 1] * Ws[:, 1, 0] - 5) < 0.1))
            require(frac >= 0.9, f"depth {N}: only {frac:.0%} of the runs end at a rank-1 fill")
        out[f"depth {N} fraction"] = float(frac)
    require(2 in W_by_depth and any(N >= 3 for N in W_by_depth), "need depth 2 and a depth >= 3")
    return out


@claim("C30", "From a balanced start with $\\det W_0 > 0$ on $[[\\star,1],[1,0]]$ at depth 3, $\\det W$ keeps "
       "its sign, $\\sigma_2$ stays above the bound derived from $\\dot\\sigma = -N\\sigma^{2-2/N}(\\dots)$, "
       "and $|W_{11}|$ and every norm grow while $\\sigma_2/\\sigma_1$ and the loss fall.",
       computed="Gradient descent with a step below the stability limit (1/L, L a Hessian bound) from "
                "balanced starts of >= 10 seeds with det W_0 > 0; records of W and of the loss.",
       cross_check="The lower bound on sigma_2 is computed independently of the run "
                   "(mfbook.deep.balanced_sigma_floor); random unbalanced starts fail the sign test.",
       tolerance="sign of det: exact at every record; sigma_2 >= floor (1 - 1e-6) (the discrete step "
                 "of size <= 1/L departs from the flow by far less); growth and decay compared at "
                 "three times over the last two thirds of the run, for >= 90% of the runs.")
def rank_falls_while_norms_grow(t, W, loss, depth=3):
    from ..deep import balanced_sigma_floor
    t, W, loss = np.asarray(t, float), np.asarray(W, float), np.asarray(loss, float)
    det = np.linalg.det(W)
    require(len(W) >= 10 and np.all(det[:, 0] > 0), "need >= 10 runs, all with det W_0 > 0")
    kept = np.all(det > 0, axis=1)
    require(np.all(kept), f"det W changed sign in {np.sum(~kept)} of {len(W)} runs")
    sv = np.linalg.svd(W, compute_uv=False)
    G = 2 * np.sqrt(loss[:, :1] / 3.0)             # |u^T grad v| <= ||grad||_F <= 2 sqrt(R_S(0) / n), n = 3
    floor = balanced_sigma_floor(sv[:, :1, 1], t[None], depth, G)
    require(np.all(sv[:, :, 1] >= floor * (1 - 1e-6)), "sigma_2 fell below the balanced-flow floor")
    idx = [np.searchsorted(t, f * t[-1] - 1e-9) for f in (1 / 3, 2 / 3, 1.0)]
    Wc = W[:, idx]
    grow = {"|W11|": np.abs(Wc[:, :, 0, 0]), "Frobenius": np.linalg.norm(Wc, axis=(2, 3)),
            "nuclear": sv[:, idx].sum(axis=2), "spectral": sv[:, idx, 0]}
    out = {}
    for name, v in grow.items():
        frac = np.mean(np.all(np.diff(v, axis=1) > 0, axis=1))
        require(frac >= 0.9, f"{name} grows in only {frac:.0%} of the runs")
    ratio = sv[:, idx, 1] / sv[:, idx, 0]
    frac = np.mean(np.all(np.diff(ratio, axis=1) < 0, axis=1) & np.all(np.diff(loss[:, idx], axis=1) < 0, axis=1))
    require(frac >= 0.9, f"sigma_2/sigma_1 and the loss fall in only {frac:.0%} of the runs")
    out.update({"runs": len(W), "median |W11| at the end": float(np.median(grow["|W11|"][:, -1])),
                "median sigma2/sigma1 at the end": float(np.median(ratio[:, -1]))})
    return out


# ----------------------------------------------------------------------------------------- C31
@claim("C31", "The target $\\tanh(x+1)$ has model rank 3 in its representations $a_2 = w_2 = b_2 = 0$ and "
       "$a_1 + a_2 = 1$ (both neurons $(\\cdot, 1, 1)$), 4 with $a_2 = 0$ and generic $(w_2, b_2)$, 5 with "
       "$w_2 = b_2 = 0 \\ne a_2$; generic parameters have 6: the optimistic sample size is 3.",
       computed="Model ranks (Jacobian rank on 61 points of [-3, 3]) of the listed parameters, their "
                "function errors, and model ranks of random parameters.",
       cross_check="Each representation is verified to equal the target on the grid before its rank counts.",
       tolerance="function error < 1e-28 (exact representations, round-off only); the Jacobian rank "
                 "uses singular values above 1e-8 of the largest (tanh features are analytic: the gap "
                 "is many orders).")
def optimistic_size_is_model_rank_three(ranks, errors, generic_ranks):
    for name, e in errors.items():
        require(e < 1e-28, f"{name} does not represent the target (error {e:.1e})")
    expected = {"a2 = w2 = b2 = 0": 3, "split a1 + a2 = 1": 3, "a2 = 0": 4, "w2 = b2 = 0, a2 != 0": 5}
    for name, r in expected.items():
        require(ranks.get(name) == r, f"model rank of '{name}': expected {r}, got {ranks.get(name)}")
    require(np.all(np.asarray(generic_ranks) == 6), "generic parameters must have full model rank 6")
    return {"optimistic sample size": min(ranks.values())}


@claim("C31", "Smaller initialization generalizes better: the fraction of runs that fit the samples with "
       "a wild function falls as $\\alpha$ shrinks and vanishes for small $\\alpha$, and the mean test error "
       "drops by over an order of magnitude from $\\alpha = 1$ to $\\alpha \\le 0.1$; below that it no longer "
       "improves systematically (at $n = 4$ it is not monotone).",
       computed="Test errors of >= 10 seeds per scale (the same initial directions at every scale) at "
                "n = 3 and n = 4 samples, trained to loss < 1e-6.",
       cross_check="The 'wild' threshold is tied to the small-initialization limit: 5x the largest error "
                   "of any imbalance angle in the scan of the chapter (1.9e-5 at n = 3).",
       tolerance="wild = test error > 1e-4 (above every small-init limit, see cross-check); fraction wild "
                 "at alpha = 1 >= 5%, at the two smallest scales <= 1 run in 20; mean error ratio > 10; "
                 "no systematic gain below 0.1: paired fraction of seeds improved <= 0.6 "
                 "(binomial sd 0.08 at 40 seeds: a real gain would show as > 0.6).")
def small_init_removes_wild_interpolants(scales, test_err, loss):
    scales, err = np.asarray(scales, float), np.asarray(test_err, float)   # err: (sizes, scales, seeds)
    require(np.all(np.diff(scales) < 0), "scales must be listed from large to small")
    require(err.shape[2] >= 10, "need >= 10 seeds per scale")
    require(np.all(np.asarray(loss) < 1e-6), "every run must fit its samples (loss < 1e-6)")
    wild = (err > 1e-4).mean(axis=2)                                       # (sizes, scales)
    mean = err.mean(axis=2)
    out = {}
    for i in range(err.shape[0]):
        require(wild[i, 0] >= 0.05, f"size {i}: alpha = {scales[0]} gives only {wild[i, 0]:.0%} wild runs")
        require(np.all(wild[i, -2:] <= 0.05), f"size {i}: small scales still give wild runs {wild[i, -2:]}")
        require(np.all(np.diff(wild[i]) <= 1.0 / err.shape[2] + 1e-12),
                f"size {i}: the wild fraction grows as alpha shrinks: {wild[i]}")
        small = scales <= 0.1
        require(mean[i, 0] > 10 * mean[i, small].max(), f"size {i}: mean error at alpha = 1 not 10x worse")
        out[f"wild fraction at alpha=1, size {i}"] = float(wild[i, 0])
    j, k = np.flatnonzero(scales <= 0.1)[:2]
    improved = np.mean(err[-1, k] < err[-1, j])
    require(improved <= 0.6, f"between alpha = {scales[j]} and {scales[k]} the last size improves "
            f"for {improved:.0%} of the seeds: a systematic gain")
    out["paired improvement below 0.1"] = float(improved)
    return out


@claim("C31", "At small initialization the learned function depends on the start only through the "
       "imbalance ratio $C/\\|C\\|$: starts with the same ratio give the same function, other ratios "
       "generally do not.",
       computed="Learned functions (on 201 points) from random starts at alpha = 1e-6, from starts with "
                "the same ratio but other coordinates, from starts on the growing modes, and from "
                "starts with the ratio rotated by 0.3 rad.",
       cross_check="The same-ratio starts are verified to have the same ratio (to 1e-12) and to differ "
                   "from the first starts elsewhere.",
       tolerance="same function: sup gap < 1e-5 (the finite alpha = 1e-6 leaves O(alpha) traces); "
                 "different: sup gap > 1e-3 (100x the same-ratio bound) for at least 2 of the rotated starts "
                 "(a whole range of ratios leads to the target itself, so not all).")
def same_imbalance_ratio_same_function(ratio_gap, coord_gap, same_gap, mode_gap, rotated_gap):
    require(ratio_gap < 1e-12 and coord_gap > 1e-7, "the second starts must share the ratio, not the point")
    same_gap, mode_gap, rotated_gap = (np.asarray(v, float) for v in (same_gap, mode_gap, rotated_gap))
    require(np.all(same_gap < 1e-5) and np.all(mode_gap < 1e-5),
            f"same ratio, different function: gaps {same_gap.max():.1e}, {mode_gap.max():.1e}")
    differ = int(np.sum(rotated_gap > 1e-3))
    require(differ >= 2, f"only {differ} of the rotated ratios change the function")
    return {"max gap, same ratio": float(max(same_gap.max(), mode_gap.max())), "rotated that differ": differ}


def _classify(err, loss, err_more, tol):
    converged = loss < tol
    target = converged & (err < 1e-10)
    other = converged & ~target
    stalled = ~converged
    approaching = stalled & (err_more < 0.95 * err)           # still falling towards the target
    return target, other, stalled, approaching


@claim("C31", "Sample-size thresholds of the two-neuron network on $\\tanh(x+1)$ from small initialization: "
       "with 2 samples no imbalance angle recovers the target, with 3 only isolated angles do, with 4 an "
       "interval of angles does (and other angles end at non-target interpolants), and from 5 on no run "
       "ends at a non-target interpolant.",
       computed="For n = 2..6 and imbalance angles on [0, pi/4]: test error and loss after a budget of "
                "steps, and the test error after the same budget again for the runs still above the "
                "loss tolerance.",
       cross_check="Runs are counted in four classes (converged to the target, converged elsewhere, "
                   "stalled and still approaching, stalled and not): a stalled run never counts as a "
                   "recovery.",
       tolerance="converged: loss < 1e-14 (the paper's 1e-15 order); target: test error < 1e-10 "
                 "(sup gap ~1e-5); stalled runs approach when their error still falls (by > 5%, above round-off) over the extra "
                 "budget; interval: >= 1/4 of the angles in a row; isolated: every interior angle at n = 3 "
                 "has error > 1e-9.")
def sample_size_thresholds_three_four_five(ns, phis, err, loss, err_more, tol=1e-14):
    ns, phis = list(ns), np.asarray(phis, float)
    err, loss, err_more = (np.asarray(v, float) for v in (err, loss, err_more))
    require(ns == [2, 3, 4, 5, 6], f"need the sample sizes 2..6, got {ns}")
    require(np.isclose(phis[0], 0) and np.isclose(phis[-1], np.pi / 4), "angles must span [0, pi/4]")
    counts = {}
    for i, n in enumerate(ns):
        target, other, stalled, approaching = _classify(err[i], loss[i], err_more[i], tol)
        counts[n] = (int(target.sum()), int(other.sum()), int(stalled.sum()), int(approaching.sum()))
        if n == 2:
            require(not target.any() and np.all(err[i] > 1e-6), "n = 2 recovered the target")
        if n == 3:
            require(np.all(~stalled), "n = 3: every run should converge")
            require(target[0] and target[-1] and not target[1:-1].any() and np.all(err[i, 1:-1] > 1e-9),
                    f"n = 3: the target should be recovered exactly at phi = 0 and pi/4 only, got {target}")
        if n >= 4:
            edges = np.diff(np.r_[0, target.astype(int), 0])
            longest = np.max(np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1), initial=0)
            require(longest >= len(phis) / 4, f"n = {n}: no interval of recovering angles (longest {longest})")
        if n == 4:
            require(other.sum() >= 2, f"n = 4: expected non-target interpolants, found {other.sum()}")
        if n >= 5:
            require(not other.any(), f"n = {n}: {other.sum()} runs converged to a non-target interpolant")
            require(np.all(approaching == stalled), f"n = {n}: a stalled run is not approaching the target")
    return {f"n={n} (target, other, stalled, approaching)": str(c) for n, c in counts.items()}


# ----------------------------------------------------------------------------------------- C32
@claim("C32", "Trained from a small start, a 10-neuron $\\tanh$ network condenses (its input weights are "
       "nearly rank 1) and has a lower numerical model rank than when trained from a large start.",
       computed="Numerical model ranks (Jacobian singular values above 1e-3 of the largest, on 61 points) "
                "and sigma_2/sigma_1 of the input weights of >= 10 networks trained from alpha = 1e-3 and "
                "from alpha = 0.5 on n = 6 samples.",
       cross_check="Two measures of low rank that do not share code: the Jacobian's spectrum and the "
                   "input-weight matrix's singular values.",
       tolerance="model-rank threshold 1e-3 relative (a smooth 1-D family has fast-decaying Jacobian "
                 "singular values, so only the comparison between starts is meaningful); condensed: "
                 "median sigma_2/sigma_1 < 0.1, spread: > 0.3 (an order-one spread of the rows).")
def trained_tanh_network_has_low_model_rank(rank_small, rank_large, cond_small, cond_large):
    rank_small, rank_large = np.asarray(rank_small), np.asarray(rank_large)
    require(len(rank_small) >= 10 and len(rank_large) >= 10, "need >= 10 seeds per scale")
    ms, ml = np.median(rank_small), np.median(rank_large)
    require(ms < ml, f"model rank from the small start ({ms}) not below the large start's ({ml})")
    cs, cl = np.median(cond_small), np.median(cond_large)
    require(cs < 0.1 and cl > 0.3, f"input weights: sigma2/sigma1 {cs:.3f} (small), {cl:.3f} (large)")
    return {"median model rank, small start": float(ms), "median model rank, large start": float(ml),
            "median sigma2/sigma1 small start": float(cs)}


@claim("C32", "An attention head whose target scores use a rank-1 bilinear form learns a rank-1 "
       "$W_QW_K^\\top$ from a small start (with tangent dimension $2rd - r^2$), not from a large one.",
       computed="Learned M = W_Q W_K^T for >= 10 seeds at three initialization scales; numerical rank "
                "(singular values above 1e-2 of the largest), effective rank, the tangent dimension of the "
                "factorization, and the relative distance to the target M*.",
       cross_check="The tangent dimension is the numerical rank of (dA, dB) -> dA B + A dB, computed from "
                   "the factors, not from M; it must equal 2rd - r^2 = 11 for r = 1, d = 6.",
       tolerance="numerical rank at 1e-2 of sigma_1 (M's residual directions from alpha = 1e-3 are "
                 "~3e-3); the tangent count at 1e-1 = sqrt(1e-2) (its singular values are those of the "
                 "factors, square roots of M's); >= 90% of small-start seeds; large start: median "
                 "numerical rank >= 3.")
def attention_learns_low_rank_query_key(scales, num_rank, tangent_dim, rel_err, loss, dim, rank):
    scales = np.asarray(scales, float)
    num_rank, tangent_dim, rel_err = (np.asarray(v) for v in (num_rank, tangent_dim, rel_err))
    require(num_rank.shape[1] >= 10, "need >= 10 seeds per scale")
    s = int(np.argmin(scales))
    l = int(np.argmax(scales))
    require(np.all(np.asarray(loss)[s] < 1e-5), "the small-start runs must fit the data")
    frac = np.mean(num_rank[s] == rank)
    require(frac >= 0.9, f"only {frac:.0%} of the small-start heads have numerical rank {rank}")
    tangent = 2 * rank * dim - rank ** 2
    frac_t = np.mean(tangent_dim[s] == tangent)
    require(frac_t >= 0.9, f"tangent dimension {tangent} in only {frac_t:.0%} of the small-start runs")
    require(np.median(num_rank[l]) >= 3, f"the large start also gives low rank ({np.median(num_rank[l])})")
    return {"rank-1 fraction, small start": float(frac), "tangent dimension": tangent,
            "median rank, large start": float(np.median(num_rank[l])),
            "median relative error of M, small start": float(np.median(rel_err[s]))}


# ----------------------------------------------------------------------------------------- C30 (size)
@claim("C30", "On $50\\times50$ rank-3 completion from uniform observations, depth 3 recovers the matrix "
       "from fewer observations than the minimum-nuclear-norm completion (depth 1) and than depth 2, "
       "and where it does its effective rank is that of the truth while theirs is well above it.",
       computed="Stored curves (benchmarks/deep_completion.py): relative error on the hidden entries, "
                "effective rank and training loss of >= 10 seeds per count and depth; the effective rank "
                "of the true matrices; a live rerun of some depth-3 runs and their stored values.",
       cross_check="The live rerun must reproduce the stored errors (the stored file is what the code "
                   "produces); every depth must recover at the largest count (the problems are solvable "
                   "by all three, so the comparison is about the count).",
       tolerance="recovered: hidden-entry error < 1e-2 (failures sit above 1e-1, recoveries below 1e-3 "
                 "at depth 3: an order of magnitude either side); a depth recovers from a count on when "
                 ">= 80% of the seeds do at that and every larger count (8 of 10: one or two seeds may "
                 "stall on a plateau within the step budget); effective rank within 0.1 of the truth's "
                 "(its spread over seeds is 0.03) against more than 1 above it; live rerun within 1e-6 "
                 "relative (floating-point reordering only).")
def deep_completion_recovers_with_fewer_observations(counts, err, eff, loss, true_eff, live_err,
                                                      stored_err):
    counts = np.asarray(counts)
    err, eff, loss = (np.asarray(v, float) for v in (err, eff, loss))    # (3 depths, seeds, counts)
    require(err.shape[0] == 3 and err.shape[1] >= 10, "need depths 1, 2, 3 and >= 10 seeds")
    require(np.all(np.diff(counts) > 0), "counts must increase")
    live_err, stored_err = np.asarray(live_err, float), np.asarray(stored_err, float)
    gap = np.max(np.abs(live_err - stored_err) / np.abs(stored_err))
    require(gap < 1e-6, f"the live rerun differs from the stored runs by {gap:.1e} (relative)")
    frac = (err < 1e-2).mean(axis=1)                                        # (3, counts)
    first = []
    for N in range(3):
        ok = frac[N] >= 0.8
        require(ok[-1], f"depth {N + 1} does not recover at the largest count ({frac[N, -1]:.0%})")
        k = len(ok) - int(np.argmin(ok[::-1])) if not ok.all() else 0    # start of the final run of True
        first.append(k)
    require(first[2] < first[0] and first[2] < first[1],
            f"depth 3 recovers from count {counts[first[2]]}, depths 1 and 2 from "
            f"{counts[first[0]]} and {counts[first[1]]}: not fewer")
    k = first[2]
    truth = float(np.median(true_eff))
    med = np.median(eff[:, :, k], axis=1)
    require(abs(med[2] - truth) < 0.1, f"depth 3 effective rank {med[2]:.3f} vs truth {truth:.3f}")
    require(np.all(med[:2] > truth + 1), f"depths 1, 2 effective ranks {med[:2]} not above the truth + 1")
    require(np.median(loss[2, :, k]) < 1e-6, "depth 3 does not fit the observations where it recovers")
    return {"recovery count depth 1": int(counts[first[0]]), "depth 2": int(counts[first[1]]),
            "depth 3": int(counts[first[2]]), "effective ranks there (1, 2, 3)": str(med.round(2)),
            "truth": round(truth, 3), "live gap": float(gap)}
