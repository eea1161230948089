"""Checks of the claims of chapter 1 (Background): C1-C10.

Each check receives the evidence that the chapter computed (training runs over seeds, limits,
convex references) and states the claim as a property of it; see :mod:`mfbook.claims`.

Explained in: chapter 1 (Background); the appendix page "Claims and how they are checked".
"""
from __future__ import annotations

import numpy as np

from ..completion import as_completion
from . import claim, require

__all__ = ["flat_descent_keeps_unobserved_entries", "factorized_descent_fills_rank_one",
           "zero_fill_approached_as_a_power_of_alpha", "fill_agrees_with_min_rank_and_min_nuclear",
           "fill_is_min_rank_not_min_nuclear", "min_rank_fill_needs_tiny_init",
           "step_size_lowers_finite_alpha_fill", "factorized_sensing_generalizes",
           "commuting_descent_reaches_min_trace", "hadamard_descent_reaches_min_l1",
           "lift_reproduces_asymmetric_descent"]

#: at least this fraction of the seeded runs must show a "training does X" property
FRACTION = 0.9
#: runs per statistic
MIN_RUNS = 10


def _fraction(ok) -> float:
    return float(np.mean(np.asarray(ok, bool)))


def _constraints(problem):
    """The observation map as a matrix C (n x d1 d2) and the data m: C vec(W) = m on S_x."""
    rows = np.flatnonzero(problem.mask.ravel())
    C = np.zeros((rows.size, problem.mask.size))
    C[np.arange(rows.size), rows] = 1.0
    return C, problem.values.ravel()[rows]


def _closest_interpolant(problem, W0):
    """argmin ||W - W0||_F subject to the observations, by least squares on the constraint system
    (independent of :func:`mfbook.min_frobenius`)."""
    C, m = _constraints(problem)
    w0 = np.asarray(W0, float).ravel()
    step = np.linalg.lstsq(C, m - C @ w0, rcond=None)[0]       # minimum-norm correction
    return (w0 + step).reshape(problem.shape)


def _nuclear_min_over_missing_entry(problem, grid):
    """For a 2 x 2 matrix with one missing entry: the nuclear norm on a grid of values of that
    entry (a brute-force reference, independent of the cvxpy solver)."""
    (i, j), = np.argwhere(~problem.mask)
    W = np.broadcast_to(problem.with_fill(0.0), (grid.size, 2, 2)).copy()
    W[:, i, j] = grid
    return np.linalg.svd(W, compute_uv=False).sum(axis=1)


@claim("C1", "Gradient descent on the plain matrix $W$ never moves an unobserved entry and converges "
       "to the interpolant closest to its start $W_0$; from $W_0 = 0$ the unknowns are filled with zeros.",
       computed="gradient descent on W (depth 1) from R >= 10 random starts, and one run from a start "
                "of scale 1e-12",
       cross_check="the closest interpolant is computed by least squares on the constraint system, "
                   "not by mfbook.min_frobenius",
       tolerance="unobserved entries equal to rounding (1e-12: their gradient is exactly zero); "
                 "1e-4 to the closest interpolant (runs stop at loss 1e-10, so an observed entry is "
                 "off by at most sqrt(n 1e-10) < 3e-5); the zero-start fill below 1e-10 (a start of "
                 "scale 1e-12 is zero to that precision)")
def flat_descent_keeps_unobserved_entries(problem, starts, learned, zero_start_learned):
    p = as_completion(problem)
    starts, learned = np.asarray(starts, float), np.asarray(learned, float)
    require(len(learned) >= MIN_RUNS, f"need >= {MIN_RUNS} runs, got {len(learned)}")
    moved = np.abs(learned - starts)[:, ~p.mask].max()
    require(moved <= 1e-12 * max(1.0, np.abs(starts).max()),
            f"an unobserved entry moved by {moved:.2e}: the plain model should never move it")
    gaps = np.array([np.abs(W - _closest_interpolant(p, W0)).max() for W0, W in zip(starts, learned)])
    require(np.all(gaps < 1e-4), f"a run ends {gaps.max():.2e} from the interpolant closest to its start")
    fill = np.abs(np.asarray(zero_start_learned, float)[~p.mask]).max()
    require(fill < 1e-10, f"from a zero start the unknowns should stay 0, got {fill:.2e}")
    require(np.allclose(_closest_interpolant(p, np.zeros(p.shape))[~p.mask], 0.0),
            "the minimum-norm interpolant should be zero off the data")
    return {"runs": len(learned), "largest move of an unknown": moved,
            "largest distance to the closest interpolant": gaps.max()}


def _fill_statistics(problem, fill, learned, tol):
    """Fraction of runs that fit the data and equal ``fill`` within ``tol``."""
    p = as_completion(problem)
    learned = np.asarray(learned, float)
    require(len(learned) >= MIN_RUNS, f"need >= {MIN_RUNS} training runs, got {len(learned)}")
    require(p.fits(fill, atol=1e-9), "the claimed fill does not agree with the data")
    err = np.abs(learned - np.asarray(fill, float)).max(axis=(1, 2))
    return _fraction(err < tol), err


@claim("C2", "On $\\begin{bmatrix}1&2&3\\\\\\star&4&\\star\\\\\\star&\\star&9\\end{bmatrix}$ the factorized "
       "model trained from a small start fills in the rank-one matrix $vv^\\top$, $v = (1, 2, 3)$.",
       computed="gradient descent (lr 0.1) from alpha = 1e-9 over >= 10 seeds, and the small-init limit",
       cross_check="the training runs are compared with the claimed matrix directly; the limit solver "
                   "is a second, independent route",
       tolerance="1e-3 for a run (runs stop at loss 1e-10, which leaves the observed entries off by "
                 "2e-5 and the filled ones, products of ratios of them, by ~1e-4; the zero fill of the "
                 "plain model is 2 away); 1e-6 for the limit (its rtol is 1e-10); >= 90% of the seeds")
def factorized_descent_fills_rank_one(problem, fill, learned, limit):
    fill = np.asarray(fill, float)
    s = np.linalg.svd(fill, compute_uv=False)
    require(s[1] < 1e-12 * s[0], "the claimed fill is not of rank one")
    frac, err = _fill_statistics(problem, fill, learned, 1e-3)
    require(frac >= FRACTION, f"only {frac:.0%} of the runs end within 1e-3 of the rank-one fill "
                              f"(largest distance {err.max():.3g})")
    lim = np.abs(np.asarray(limit, float) - fill).max()
    require(lim < 1e-6, f"the small-init limit is {lim:.2e} from the rank-one fill")
    return {"runs": len(err), "fraction at the fill": frac, "largest distance": err.max()}


@claim("C3", "On $\\begin{bmatrix}0&1\\\\2&\\star\\end{bmatrix}$ the learned entry tends to 0 as "
       "$\\alpha\\to0$, but slowly: like $\\alpha^{p}$ with $p = 1 - 1/\\sqrt2 \\approx 0.293$ for the "
       "flow, and a slightly smaller $p$ for gradient descent with step 0.1.",
       computed="gradient descent (lr 0.1) and gradient flow from alpha = 1e-3 ... 1e-15 (factors "
                "1000) over >= 10 seeds; the small-init limit and the min-nuclear-norm completion",
       cross_check="training runs at five scales beside the limit solver and the convex solver",
       tolerance="limit and nuclear fill below 1e-4 (cvxpy's entries are good to ~1e-5); the exponent "
                 "of the flow within 0.003 of 1 - 1/sqrt 2 (between 1e-12 and 1e-15 the per-decade "
                 "exponent is settled to 1e-5; 0.003 is 10x the step-0.01 shift, 5x below the "
                 "step-0.1 one); |*| below 1e-3 at alpha = 1e-15 (0.5 times 1e-12^0.28 = 2e-4)")
def zero_fill_approached_as_a_power_of_alpha(problem, scales, learned, flow_learned, limit, nuclear,
                                              exponent=1 - 1 / np.sqrt(2)):
    p = as_completion(problem)
    (i, j), = np.argwhere(~p.mask)
    scales = np.asarray(scales, float)
    gd, fl = np.abs(np.asarray(learned, float)), np.abs(np.asarray(flow_learned, float))
    require(gd.shape[1] >= MIN_RUNS and fl.shape[1] >= MIN_RUNS, f"need >= {MIN_RUNS} seeds per scale")
    require(abs(np.asarray(limit)[i, j]) < 1e-4 and abs(np.asarray(nuclear)[i, j]) < 1e-4,
            "the limit and the minimum-nuclear-norm completion should both fill 0")
    shrinking = _fraction(np.all(np.diff(gd, axis=0) < 0, axis=0))
    require(shrinking >= FRACTION, f"|*| shrinks with alpha in only {shrinking:.0%} of the seeds")
    require(_fraction(gd[-1] < 1e-3) >= FRACTION, f"|*| at alpha = {scales[-1]:g} is up to {gd[-1].max():.2e}")
    slope = lambda v: np.log(v[-1] / v[-2]) / np.log(scales[-1] / scales[-2])  # noqa: E731
    p_flow, p_gd = slope(fl), slope(gd)
    require(np.all(np.abs(p_flow - exponent) < 0.003),
            f"the flow's exponent {np.median(p_flow):.4f} is not {exponent:.4f}")
    require(_fraction(p_gd < p_flow) >= FRACTION and np.all(p_gd > 0),
            f"gradient descent with a finite step should approach 0 more slowly (exponent {np.median(p_gd):.4f})")
    return {"flow exponent": np.median(p_flow), "step-0.1 exponent": np.median(p_gd),
            "largest |*| at the smallest scale": gd[-1].max()}


def _two_by_two_references(problem, limit, nuclear, min_rank_W, learned, value):
    p = as_completion(problem)
    (i, j), = np.argwhere(~p.mask)
    frac, err = _fill_statistics(p, p.with_fill(value), learned, 1e-3)
    require(frac >= FRACTION, f"only {frac:.0%} of the runs fill within 1e-3 of {value} "
                              f"(largest distance {err.max():.3g})")
    require(abs(np.asarray(limit)[i, j] - value) < 1e-6, f"the small-init limit fills {np.asarray(limit)[i, j]}")
    grid = np.linspace(value - 50, value + 50, 200_001)            # step 5e-4
    best = grid[np.argmin(_nuclear_min_over_missing_entry(p, grid))]
    require(abs(best - np.asarray(nuclear)[i, j]) < 1e-3,
            f"cvxpy's minimum nuclear norm fill {np.asarray(nuclear)[i, j]:.4f} disagrees with the grid's {best:.4f}")
    rank_one = abs(np.linalg.det(np.asarray(min_rank_W, float))) < 1e-9 and p.fits(min_rank_W, atol=1e-9)
    require(rank_one and abs(np.asarray(min_rank_W)[i, j] - value) < 1e-6,
            "the minimum-rank (rank-one) completion should fill the claimed value")
    return frac, err, float(np.asarray(nuclear)[i, j])


@claim("C4", "On $\\begin{bmatrix}1&2\\\\\\star&3\\end{bmatrix}$ training from a small start fills "
       "$\\star = 1.5$, which is both the minimum-rank and the minimum-nuclear-norm completion.",
       computed="gradient descent (lr 0.1, alpha = 1e-12) over >= 10 seeds, the small-init limit, "
                "cvxpy's min nuclear norm, mfbook.min_rank",
       cross_check="training runs beside the limit solver; the nuclear-norm fill is confirmed by a "
                   "brute-force grid over the missing entry",
       tolerance="1e-3 for the runs (they stop at loss 1e-16; the candidates differ by >= 0.5); 1e-6 "
                 "for the limit; 1e-3 between cvxpy and a grid of step 5e-4")
def fill_agrees_with_min_rank_and_min_nuclear(problem, learned, limit, nuclear, min_rank_W, value=1.5):
    frac, err, nuc = _two_by_two_references(problem, limit, nuclear, min_rank_W, learned, value)
    require(abs(nuc - value) < 1e-3, f"the minimum nuclear norm fill {nuc:.4f} should also be {value}")
    return {"runs": len(err), "fraction at the fill": frac, "largest distance": err.max()}


@claim("C5", "On $\\begin{bmatrix}1&2\\\\3&\\star\\end{bmatrix}$ training from a small start fills "
       "$\\star = 6$, the minimum-rank completion, not the minimum-nuclear-norm one ($\\star = 1$).",
       computed="gradient descent (lr 0.1, alpha = 1e-12) over >= 10 seeds, the small-init limit, "
                "cvxpy's min nuclear norm, mfbook.min_rank",
       cross_check="training runs beside the limit solver; the nuclear-norm fill is confirmed by a "
                   "brute-force grid over the missing entry",
       tolerance="1e-3 for the runs (they stop at loss 1e-16; the two candidates differ by 5); 1e-6 for "
                 "the limit; 1e-3 between cvxpy and a grid of step 5e-4")
def fill_is_min_rank_not_min_nuclear(problem, learned, limit, nuclear, min_rank_W, value=6.0):
    frac, err, nuc = _two_by_two_references(problem, limit, nuclear, min_rank_W, learned, value)
    require(abs(nuc - value) > 1, f"the minimum nuclear norm fill {nuc:.4f} should differ from {value}")
    return {"runs": len(err), "fraction at the fill": frac, "min nuclear fill": nuc}


@claim("C6", "On $\\begin{bmatrix}1&2\\\\10&\\star\\end{bmatrix}$ the learned entry tends to the "
       "rank-one fill 20, from below, and only for a really small start: at $\\alpha = 10^{-3}$ it is "
       "still at most three quarters of the way.",
       computed="gradient descent (lr 0.1) from alpha = 1e-1 ... 1e-12 over >= 10 seeds; the limit",
       cross_check="training runs at twelve scales beside the limit solver",
       tolerance="1e-3 at the smallest scale and above 20 (runs stop at loss 1e-10; the finite-alpha "
                 "gap at 1e-12 is far below); 'three quarters' (15) at 1e-3: a gap of 5 that no "
                 "stopping tolerance can make; >= 90% of the seeds")
def min_rank_fill_needs_tiny_init(scales, learned, limit, value=20.0):
    scales, learned = np.asarray(scales, float), np.asarray(learned, float)
    require(learned.shape[1] >= MIN_RUNS, f"need >= {MIN_RUNS} seeds per scale")
    require(abs(np.asarray(limit)[1, 1] - value) < 1e-6, f"the limit fills {np.asarray(limit)[1, 1]}")
    at_1e3 = learned[np.argmin(np.abs(np.log(scales / 1e-3)))]
    require(_fraction(at_1e3 < 0.75 * value) >= FRACTION, f"at alpha = 1e-3 the fill reaches {at_1e3.max():.3g}")
    rising = _fraction(np.all(np.diff(learned, axis=0) > -1e-3, axis=0))
    require(rising >= FRACTION, f"the fill rises as alpha shrinks in only {rising:.0%} of the seeds")
    require(np.all(learned < value + 1e-3), f"a run overshoots the limit: {learned.max():.4f}")
    require(_fraction(np.abs(learned[-1] - value) < 1e-3) >= FRACTION,
            f"at alpha = {scales[-1]:g} the fill is still {np.abs(learned[-1] - value).max():.2e} off")
    return {"seeds": learned.shape[1], "lowest at 1e-3": at_1e3.min(), "highest at 1e-3": at_1e3.max()}


@claim("C6", "The gap between gradient descent with step 0.1 and the gradient flow at a finite "
       "$\\alpha$ comes from the step size: from the same start, descent fills less than the flow, "
       "and the gap shrinks in proportion to the step.",
       computed="for alpha = 1e-3 and 1e-6 and >= 10 seeds: gradient flow and gradient descent from "
                "the same starts with steps 0.1 and 0.01",
       cross_check="two integrators of the same dynamics (adaptive DOP853 and fixed-step descent)",
       tolerance="the ratio of the gaps for steps 0.01 and 0.1 within [0.05, 0.2] (first order in the "
                 "step predicts 0.1; a factor 2 either way); >= 90% of the seeds")
def step_size_lowers_finite_alpha_fill(flow, descent):
    flow = np.asarray(flow, float)
    require(flow.shape[-1] >= MIN_RUNS, f"need >= {MIN_RUNS} seeds")
    lrs = sorted(descent)
    gaps = {lr: flow - np.asarray(descent[lr], float) for lr in lrs}
    below = _fraction(np.all([gaps[lr] > 0 for lr in lrs], axis=0))
    require(below >= FRACTION, f"descent fills less than the flow in only {below:.0%} of the runs")
    ratio = gaps[lrs[0]] / gaps[lrs[-1]]
    expected = lrs[0] / lrs[-1]
    ok = _fraction((ratio > expected / 2) & (ratio < 2 * expected))
    require(ok >= FRACTION, f"the gap does not scale with the step (median ratio {np.median(ratio):.3g}, "
                            f"first order predicts {expected:.3g})")
    return {"median gap at the largest step": np.median(gaps[lrs[-1]]),
            "median ratio of gaps": np.median(ratio), "spread of the flow over seeds": np.ptp(flow, axis=-1).min()}


@claim("C7", "In Gaussian sensing ($d = 50$, $m = 300$, rank-2 truth), gradient descent on $X$ from 0 "
       "returns the minimum Frobenius norm solution, whose relative test error is about "
       "$\\sqrt{1 - m/d^2}$; the factorized model from a small start, trained to convergence, "
       "generalizes: a test error less than a quarter of that, and lower the smaller the start.",
       computed="sensing descent on X (200 steps) and on UV^T from alpha = 1e-2, 1e-5 and 1e-9 "
                "(>= 10 random starts at the smallest scale), run until every loss is below 1e-5",
       cross_check="the plain model is compared with np.linalg.lstsq's minimum-norm solution; the "
                   "plain error with the projection estimate sqrt(1 - m/d^2)",
       tolerance="1e-6 to the lstsq solution (200 steps contract the error by 1e-10); 0.03 on the "
                 "projection estimate (the kept fraction of ||X*||^2 fluctuates by ~0.01); 'a quarter' "
                 "states 'generalizes' as a large factor; converged: loss < 1e-5 (6e-6 of the starting "
                 "loss) and a settled test error (change < 0.01 over the last fifth of the steps, 20x "
                 "below the margin to a quarter of the plain error); >= 90% of the starts")
def factorized_sensing_generalizes(Z, b, plain_X, plain_test, fact_train, fact_test, scales):
    Z = np.asarray(Z, float)
    m, d, _ = Z.shape
    from ..sensing import single_thread_blas
    with single_thread_blas():             # two BLAS threads on a busy machine: 20x slower
        ref = np.linalg.lstsq(Z.reshape(m, -1), b, rcond=None)[0].reshape(d, d)
    require(np.allclose(plain_X, ref, atol=1e-6), "gradient descent on X is not the minimum-norm solution")
    predicted = np.sqrt(1 - m / d ** 2)
    require(abs(plain_test - predicted) < 0.03, f"plain test error {plain_test:.3f}, projection estimate {predicted:.3f}")
    scales = np.asarray(scales, float)
    fact_train, fact_test = np.asarray(fact_train, float), np.asarray(fact_test, float)
    require(np.all(fact_train[:, -1] < 1e-5), "a factorized run has not converged (loss >= 1e-5)")
    fifth = max(1, fact_test.shape[1] // 5)
    drift = np.abs(fact_test[:, -1] - fact_test[:, -1 - fifth]).max()
    require(drift < 0.01, f"the test error still moves ({drift:.3g} over the last fifth)")
    smallest = scales == scales.min()
    require(smallest.sum() >= MIN_RUNS, f"need >= {MIN_RUNS} starts at the smallest scale")
    final = fact_test[:, -1]
    good = _fraction(final[smallest] < plain_test / 4)
    require(good >= FRACTION, f"only {good:.0%} of the small starts reach a quarter of the plain error")
    by_scale = [np.median(final[scales == s]) for s in sorted(set(scales), reverse=True)]
    require(np.all(np.diff(by_scale) < 0), f"the error does not fall with the scale: {np.round(by_scale, 3)}")
    return {"plain": plain_test, "estimate": predicted, "median factorized (smallest scale)": by_scale[-1],
            "largest factorized (smallest scale)": final[smallest].max()}


def _min_l1_values(D, b):
    from ..sensing import min_l1_nonnegative
    return np.array([min_l1_nonnegative(Di, bi).sum() for Di, bi in zip(D, b)])


@claim("C8", "For commuting measurements, gradient descent on $UU^\\top$ from $U_0 = \\alpha I$ tends, "
       "as $\\alpha\\to0$, to a minimum nuclear norm (minimum trace) PSD solution; the minimum value is "
       "unique, the minimizer need not be.",
       computed="gradient descent (lr 0.05, 20000 steps) from alpha I, alpha = 1e-2, 1e-4, 1e-6, on "
                ">= 10 random commuting problems; cvxpy's minimum trace on the chapter's problem",
       cross_check="the minimum trace of each problem by a linear program on the shared eigenbasis "
                   "(for the fitted values A(X)), and by cvxpy's semidefinite program on one problem",
       tolerance="fit: loss < 1e-6 (the runs are not all at machine precision after 20000 steps); trace "
                 "gap within 1e-6 of the LP at the smallest alpha on the chapter's problem; on every "
                 "problem the gap shrinks with alpha and is < 1% of the trace at 1e-6 (the approach can "
                 "be as slow as 1/log(1/alpha)); cvxpy agrees with the LP to 1e-6")
def commuting_descent_reaches_min_trace(Z, b, D, scales, X, cvx_trace):
    Z, b, D, X = (np.asarray(a, float) for a in (Z, b, D, X))     # (P, m, d, d), (P, m), (P, m, d), (P, S, d, d)
    P, S = X.shape[:2]
    require(P >= MIN_RUNS, f"need >= {MIN_RUNS} problems, got {P}")
    comm = max(np.abs(Zi @ Zj - Zj @ Zi).max() for Zp in Z for Zi in Zp for Zj in Zp)
    require(comm < 1e-12, f"the measurements do not commute ({comm:.1e})")
    fitted = np.einsum("pmij,psij->psm", Z, X)
    loss = np.mean((fitted - b[:, None]) ** 2, axis=-1)
    require(np.all(loss < 1e-6), f"a run does not fit its data (loss {loss.max():.1e})")
    require(np.linalg.eigvalsh(X).min() > -1e-9, "a learned matrix is not PSD")
    best = np.array([_min_l1_values(np.broadcast_to(D[k], (S,) + D[k].shape), fitted[k]) for k in range(P)])
    gap = (np.trace(X, axis1=-2, axis2=-1) - best) / best
    require(gap.min() > -1e-9, "a learned trace lies below the minimum: the LP reference is wrong")
    order = np.argsort(scales)[::-1]                       # largest alpha first
    shrinking = _fraction(np.all(np.diff(gap[:, order], axis=1) <= 1e-9, axis=1))
    require(shrinking >= FRACTION, f"the trace gap shrinks with alpha on only {shrinking:.0%} of the problems")
    small = gap[:, order[-1]]
    require(_fraction(small < 1e-2) >= FRACTION, f"relative trace gap at the smallest alpha up to {small.max():.2e}")
    require(small[0] < 1e-6, f"on the chapter's problem the gap is {small[0]:.2e} at the smallest alpha")
    require(abs(cvx_trace - _min_l1_values(D[:1], b[:1])[0]) < 1e-6, "cvxpy's minimum trace disagrees with the LP")
    return {"problems": P, "gap on the chapter's problem": small[0], "median relative gap": np.median(small),
            "largest relative gap": small.max()}


@claim("C9", "For $x = u\\odot u$ on non-negative least squares, gradient descent from $u_0 = \\alpha\\mathbf 1$ "
       "tends, as $\\alpha\\to0$, to a minimum $\\ell_1$ solution, which is sparse; in the shared "
       "eigenbasis it is the matrix descent of the commuting theorem.",
       computed="hadamard descent (lr 0.05, 20000 steps) from alpha = 1e-2, 1e-4, 1e-6 on >= 10 random "
                "problems; the diagonal of the matrix runs in the eigenbasis Q",
       cross_check="the minimum l1 value by scipy's linear program; the vector runs against the matrix "
                   "runs of C8",
       tolerance="fit: loss < 1e-6; l1 gap within 1e-6 on the chapter's problem at the smallest alpha, "
                 "shrinking with alpha and < 1% elsewhere (as in C8); sparsity on the chapter's problem: the "
                 "entries above 1e-3 of the largest are the LP's support, at most m (a vertex); vector = matrix "
                 "descent to 1e-9 (the same recursion, rounded differently)")
def hadamard_descent_reaches_min_l1(D, b, scales, x, matrix_diagonal):
    D, b, x = np.asarray(D, float), np.asarray(b, float), np.asarray(x, float)   # x: (P, S, n)
    P, S, n = x.shape
    m = D.shape[1]
    require(P >= MIN_RUNS, f"need >= {MIN_RUNS} problems, got {P}")
    fitted = np.einsum("pmn,psn->psm", D, x)
    loss = np.mean((fitted - b[:, None]) ** 2, axis=-1)
    require(np.all(loss < 1e-6) and x.min() >= 0, "a run does not fit its data")
    best = np.array([_min_l1_values(np.broadcast_to(D[k], (S, m, n)), fitted[k]) for k in range(P)])
    gap = (x.sum(-1) - best) / best
    order = np.argsort(scales)[::-1]
    shrinking = _fraction(np.all(np.diff(gap[:, order], axis=1) <= 1e-9, axis=1))
    require(shrinking >= FRACTION, f"the l1 gap shrinks with alpha on only {shrinking:.0%} of the problems")
    small = gap[:, order[-1]]
    require(_fraction(small < 1e-2) >= FRACTION and small[0] < 1e-6,
            f"relative l1 gap at the smallest alpha up to {small.max():.2e} (chapter's problem {small[0]:.1e})")
    from ..sensing import min_l1_nonnegative
    last, lp = x[0, order[-1]], min_l1_nonnegative(D[0], b[0])
    support = np.flatnonzero(last > 1e-3 * last.max())
    require(support.size <= m and np.array_equal(support, np.flatnonzero(lp > 1e-3 * lp.max())),
            f"on the chapter's problem the run's support {support} is not the LP's (at most m = {m} entries)")
    same = np.abs(np.asarray(matrix_diagonal, float) - x).max()
    require(same < 1e-9, f"vector and matrix descent differ by {same:.1e}")
    return {"problems": P, "gap on the chapter's problem": small[0], "support size": support.size,
            "vector vs matrix": same}


@claim("C10", "With the lifted measurements $\\tilde Z_i = \\frac12\\begin{bmatrix}0&Z_i\\\\Z_i^\\top&0\\end{bmatrix}$, "
       "gradient descent on $WW^\\top$, $W = \\begin{bmatrix}U\\\\V\\end{bmatrix}$, is gradient descent on "
       "$(U, V)$ step for step: the top-right block of the symmetric iterates is $UV^\\top$.",
       computed="400 steps of both descents from the same random start on a small Gaussian problem",
       cross_check="two separate implementations (asymmetric_descent, symmetric_descent on the lift)",
       tolerance="1e-12 relative (rounding only: the two recursions are algebraically identical); the "
                 "run must lower its loss 1000-fold, so the iterates are not a trivial fixed point")
def lift_reproduces_asymmetric_descent(asym_path, sym_block_path, losses):
    asym_path, sym_block_path = np.asarray(asym_path, float), np.asarray(sym_block_path, float)
    gap = np.abs(sym_block_path - asym_path).max()
    require(gap < 1e-12 * max(1.0, np.abs(asym_path).max()), f"the iterates differ by {gap:.1e}")
    require(losses[-1] < 1e-3 * losses[0], "the run does no work: its loss barely falls")
    return {"largest difference": gap, "loss reduction": losses[0] / losses[-1]}
