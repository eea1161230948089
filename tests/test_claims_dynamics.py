"""Falsification tests of chapter 4's claim checks (mfbook.claims.dynamics): each feeds wrong science."""
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import refutes

import mfbook
from mfbook import manifolds as mf
from mfbook.claims import dynamics as check

FOUR = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"
THREE = "1 * 3; * 5 *; 3 * 9"
four = mfbook.Completion.parse(FOUR)


@pytest.fixture(scope="module")
def limit4():
    return mfbook.small_init_limit(FOUR)


@pytest.fixture(scope="module")
def best():
    return [mfbook.best_rank_k(FOUR, k).loss for k in (1, 2)]


def _batch(problem, alpha, seed, R=10):
    V, M = np.repeat(problem.values[None], R, 0), np.repeat(problem.mask[None], R, 0)
    return mfbook.gradient_descent_batch(V, M, init_scale=alpha, lr=0.1, max_steps=20000, tol=1e-12, seed=seed)[0]


def test_rank_three_refuted_by_the_min_frobenius_fill(limit4):
    zero_fill = np.repeat(np.where(four.mask, four.values, 0.0)[None], 10, 0)
    with refutes(check.small_init_gives_rank_three):
        check.small_init_gives_rank_three(small=zero_fill, large=_batch(four, 1.0, 1), limit=limit4, quiet=True)


def test_rank_three_refuted_by_a_large_initialization(limit4):
    large = _batch(four, 1.0, 1)
    with refutes(check.small_init_gives_rank_three):
        check.small_init_gives_rank_three(small=large, large=large, limit=limit4, quiet=True)


@pytest.fixture(scope="module")
def small_runs():
    return [mfbook.gradient_descent(FOUR, init_scale=1e-12, lr=0.1, max_steps=10000, tol=1e-12, seed=s,
                                    record_every=4) for s in range(10)]


def test_steps_hold_on_small_init(small_runs, best):
    check.loss_falls_in_steps(runs=small_runs, levels=best, quiet=True)


def test_steps_refuted_by_a_large_initialization(best):
    runs = [mfbook.gradient_descent(FOUR, init_scale=1.0, lr=0.1, max_steps=3000, tol=1e-12, seed=s)
            for s in range(10)]
    with refutes(check.loss_falls_in_steps):
        check.loss_falls_in_steps(runs=runs, levels=best, quiet=True)


def test_steps_refuted_by_a_shuffled_time_axis(small_runs, best):
    rng = np.random.default_rng(0)
    shuffled = []
    for r in small_runs:
        p = rng.permutation(len(r.t))
        shuffled.append(SimpleNamespace(t=r.t, loss=r.loss[p], grad_norm=r.grad_norm[p]))
    with refutes(check.loss_falls_in_steps):
        check.loss_falls_in_steps(runs=shuffled, levels=best, quiet=True)


def test_plateaus_refuted_by_the_fits_of_shuffled_data(small_runs):
    rng = np.random.default_rng(1)
    wrong = mfbook.Completion.from_arrays(np.where(four.mask, rng.permutation(four.values.ravel()).reshape(4, 4),
                                                   np.nan), four.mask)
    fits = [mfbook.best_rank_k(wrong, k).loss for k in (1, 2)]
    with refutes(check.plateaus_are_best_rank_k_fits):
        check.plateaus_are_best_rank_k_fits(runs=small_runs[:2], fits=[fits] * 2, quiet=True)


def test_suboptimal_saddle_refuted_by_a_large_initialization():
    runs = [mfbook.gradient_descent(THREE, init_scale=1.0, lr=0.1, max_steps=3000, tol=1e-12, seed=s)
            for s in range(10)]
    with refutes(check.disconnected_run_rests_at_suboptimal_saddle):
        check.disconnected_run_rests_at_suboptimal_saddle(THREE, runs=runs, level=5.0, best_rank1_loss=0.0,
                                                          quiet=True)


def test_landscape_refuted_by_a_narrow_factorization():
    narrow = mfbook.Completion.parse("-2.3 * -1.2; 1.5 2.6 *; * 2.3 -2.3")
    ends = [mfbook.gradient_descent(narrow, init_scale=1.0, lr=0.05, max_steps=20000, width=1, seed=s)
            for s in range(20)]
    stuck = [r for r in ends if r.loss[-1] > 1.1]
    A, B, _ = mf.newton_critical_point(stuck[0].A, stuck[0].B, narrow)
    with refutes(check.critical_points_strict_saddle_or_global):
        check.critical_points_strict_saddle_or_global(points=[dict(problem=narrow, A=A, B=B)], min_newton=0,
                                                      width_hypothesis=False, quiet=True)


@pytest.fixture(scope="module")
def origin_runs():
    alphas = [1e-3, 1e-5, 1e-7]
    runs = [mfbook.gradient_flow(FOUR, init_scale=a, t_max=30.0, seed=0) for a in alphas]
    return alphas, [(r.t, r.loss) for r in runs]


def test_time_shift_holds_with_the_right_rate(origin_runs, limit4):
    alphas, runs = origin_runs
    level = 0.5 * (limit4.plateaus[0] + limit4.plateaus[1])
    check.escape_time_shift_collapses(runs=runs, alphas=alphas, rate=limit4.saddles[0].rate, level=level, quiet=True)


def test_time_shift_refuted_by_a_wrong_rate(origin_runs, limit4):
    alphas, runs = origin_runs
    level = 0.5 * (limit4.plateaus[0] + limit4.plateaus[1])
    with refutes(check.escape_time_shift_collapses):
        check.escape_time_shift_collapses(runs=runs, alphas=alphas, rate=1.2 * limit4.saddles[0].rate,
                                          level=level, quiet=True)


def test_escape_rate_refuted_by_a_wrong_exponent(limit4):
    run = mfbook.gradient_flow(FOUR, init_scale=1e-8, t_max=8.0, seed=0)
    norm_W = np.linalg.norm(run.W_path, axis=(1, 2))
    early = (norm_W > 1e-14) & (norm_W < 1e-4)
    slope = np.polyfit(run.t[early], np.log(norm_W[early]), 1)[0]       # = 2 lambda_1, not lambda_1
    with refutes(check.escape_rate_is_top_residual_singular_value):
        check.escape_rate_is_top_residual_singular_value(points=[], growth=[(slope, limit4.saddles[0].rate)],
                                                         quiet=True)
