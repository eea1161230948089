"""Falsification tests of chapter 5's claim checks: each check is fed wrong science and must fail."""
import numpy as np
import pytest
from conftest import refutes

import mfbook
from mfbook import sweep
from mfbook.claims import implicit_regularization as check

THREE = "1 * 3; * 5 *; 3 * 9"
TINY = "0 1; 2 *"
TIED = "0 1; 1 *"
M2 = "1 2 *; 3 4 *; * * 5"


def train(problem, init_scale, seeds=10, lr=0.1, max_steps=100_000):
    p = mfbook.as_completion(problem)
    V, K = np.repeat(p.values[None], seeds, 0), np.repeat(p.mask[None], seeds, 0)
    return mfbook.gradient_descent_batch(V, K, init_scale, lr, max_steps, tol=1e-10, seed=0)[0]


# ---- C19 ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def three():
    limits = [mfbook.small_init_limit(THREE, seed=s).W for s in range(10)]
    return limits, train(THREE, 1e-6), mfbook.nuclear_norm(mfbook.min_nuclear_norm(THREE))


def test_three_by_three_passes_on_training(three):
    limits, trained, nuc = three
    check.three_by_three_rank_two(problem=THREE, limits=limits, trained=trained, min_nuclear=nuc,
                                  quiet=True)


def test_three_by_three_refuted_by_the_rank_one_completion(three):
    limits, _, nuc = three
    v = np.array([1, np.sqrt(5), 3])
    rank_one = np.repeat(np.outer(v, v)[None], 10, 0)        # the lowest-rank answer, also norm 15
    with refutes(check.three_by_three_rank_two):
        check.three_by_three_rank_two(problem=THREE, limits=limits, trained=rank_one, min_nuclear=nuc,
                                      quiet=True)


# ---- C29 ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def blocks():
    problems = ["* 1; 2 *", "* 1; 1 *", M2, THREE]
    return (problems, [mfbook.small_init_limit(p).W for p in problems],
            [mfbook.min_nuclear_norm(p) for p in problems])


def test_zero_free_blocks_refuted_by_a_large_initialization(blocks):
    problems, limits, convex = blocks
    large = train(M2, 1.0, lr=0.05)                          # alpha = 1: no implicit bias left
    with refutes(check.nuclear_norm_minimal_on_zero_free_blocks):
        check.nuclear_norm_minimal_on_zero_free_blocks(problems=problems, limits=limits, convex=convex,
                                                       trained_problem=M2, trained=large, quiet=True)


def test_zero_free_blocks_refuted_by_an_incomplete_pattern(blocks):
    problems, limits, convex = blocks
    m1 = "1 2 *; 3 * *; * * 5"                              # disconnected but not complete bipartite
    with refutes(check.nuclear_norm_minimal_on_zero_free_blocks):
        check.nuclear_norm_minimal_on_zero_free_blocks(
            problems=problems + [m1], limits=limits + [mfbook.small_init_limit(m1).W],
            convex=convex + [mfbook.min_nuclear_norm(m1)], trained_problem=M2,
            trained=train(M2, 1e-6), quiet=True)


@pytest.fixture(scope="module")
def tied():
    scales = [1e-4, 1e-8, 1e-12]
    return scales, np.stack([train(TIED, a, seeds=20) for a in scales]), train("* 1; 1 *", 1e-8)


def test_tied_zero_passes(tied):
    scales, runs, zero_free = tied
    check.tied_rates_observed_zero_break_min_nuclear(problem=TIED, trained=runs, scales=scales,
                                                     zero_free_problem="* 1; 1 *",
                                                     zero_free_trained=zero_free, quiet=True)


def test_tied_zero_refuted_by_the_convex_answer(tied):
    scales, runs, zero_free = tied
    convex = np.broadcast_to(mfbook.min_nuclear_norm(TIED), runs.shape)   # * = 0 for every run
    with refutes(check.tied_rates_observed_zero_break_min_nuclear):
        check.tied_rates_observed_zero_break_min_nuclear(problem=TIED, trained=convex, scales=scales,
                                                         zero_free_problem="* 1; 1 *",
                                                         zero_free_trained=zero_free, quiet=True)


def test_tied_zero_refuted_by_distinct_rates(tied):
    scales, _, zero_free = tied
    runs = np.stack([train(TINY, a, seeds=20) for a in scales])          # no tie: [[0,1],[2,*]]
    with refutes(check.tied_rates_observed_zero_break_min_nuclear):
        check.tied_rates_observed_zero_break_min_nuclear(problem=TINY, trained=runs, scales=scales,
                                                         zero_free_problem="* 1; 1 *",
                                                         zero_free_trained=zero_free, quiet=True)


# ---- C3 -------------------------------------------------------------------------------------

SCALES = 10.0 ** -np.arange(6, 17)


def _stars(problem):
    return np.array([[mfbook.gradient_flow(problem, init_scale=a, seed=s).W[1, 1] for a in SCALES]
                     for s in range(10)])


def test_tiny_exponent_passes():
    check.tiny_star_decays_as_power(problem=TINY, scales=SCALES, star=_stars(TINY),
                                    limit_star=mfbook.small_init_limit(TINY).W[1, 1], quiet=True)


def test_tiny_exponent_refuted_by_another_ratio():
    star = _stars("0 1; 3 *")                                  # exponent 0.4648, not 1 - 1/sqrt 2
    with refutes(check.tiny_star_decays_as_power):
        check.tiny_star_decays_as_power(problem=TINY, scales=SCALES, star=star, limit_star=0.0,
                                        quiet=True)


# ---- C28 and C13 ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def connected():
    _, _, truth, mask = sweep.sample_problems(ranks=(2,), sizes=range(9, 15), repeats=40, seed=1)
    pick = np.arange(0, len(truth), 6)
    problems = [mfbook.Completion.from_arrays(truth[i], mask[i]) for i in pick]
    paths = mfbook.small_init_limit_batch(problems, seed=0)
    min_ranks = sweep.min_rank_batch(truth[pick], mask[pick], upper=np.full(len(pick), 2))
    fit0 = sweep.rank_k_fit_batch(truth[pick], mask[pick], 0)
    fit1 = sweep.rank_k_fit_batch(truth[pick], mask[pick], 1, iters=500)
    best = [np.r_[a, b, 0.0, 0.0, 0.0] for a, b in zip(fit0, fit1)]
    holds = [check.omega_k_optimal_everywhere(r.ranks, r.plateaus, b, np.mean(p.values[p.mask] ** 2))
             for r, p, b in zip(paths, problems, best)]
    first = holds.index(True)
    large = sweep.gradient_descent_compact(truth[pick], mask[pick], init_scale=1.0, lr=0.05, seed=0)[0]
    return dict(truth=truth, mask=mask, pick=pick, problems=problems, paths=paths, min_ranks=min_ranks,
                best=best, first=first, trained=train(problems[first], 1e-10), large=large)


def _theorem3(c, limits, trained=None):
    check.min_rank_where_every_omega_k_optimal(
        problems=c["problems"], paths=[(r.ranks, r.plateaus) for r in c["paths"]], limits=limits,
        best=c["best"], min_ranks=c["min_ranks"], trained_problem=c["problems"][c["first"]],
        trained=c["trained"] if trained is None else trained, quiet=True)


def test_theorem3_passes(connected):
    _theorem3(connected, [r.W for r in connected["paths"]])


def test_theorem3_refuted_by_large_initialization(connected):
    with refutes(check.min_rank_where_every_omega_k_optimal):   # alpha = 1: full-rank fits
        _theorem3(connected, list(connected["large"]))


def test_visited_wording_refuted_by_a_path_through_every_rank(connected):
    c = connected
    j = c["first"]                                             # a path 0 -> 1 -> 2 at the minimum rank
    path = c["paths"][j]
    with refutes(check.visited_only_wording_is_false):
        check.visited_only_wording_is_false(problem=c["problems"][j], ranks=path.ranks,
                                            plateaus=path.plateaus, best=c["best"][j],
                                            min_rank=c["min_ranks"][j], trained=c["trained"], quiet=True)


def test_connected_frequency_refuted_by_large_initialization(connected):
    c, large = connected, connected["large"]
    with refutes(check.connected_mostly_min_rank):
        check.connected_mostly_min_rank(problems=c["problems"], limit_ranks=[r.rank for r in c["paths"]],
                                        trained_ranks=mfbook.numerical_rank(large, 1e-3),
                                        min_ranks=c["min_ranks"], quiet=True)


def test_connected_frequency_refuted_when_every_run_is_minimal(connected):
    c = connected
    ranks = [r.rank for r in c["paths"]]
    with refutes(check.connected_mostly_min_rank):                # the reference copied from the output
        check.connected_mostly_min_rank(problems=c["problems"], limit_ranks=ranks, trained_ranks=ranks,
                                        min_ranks=ranks, quiet=True)


# ---- C29: the nine disconnected patterns of a 3 x 3 rank-1 matrix ----------------------------

def _nine_patterns():
    v = np.array([1.0, 2.0, 3.0])
    out = []
    for i in range(3):
        for j in range(3):
            k = np.zeros((3, 3), bool)
            k[i, j] = True
            k[np.ix_([a for a in range(3) if a != i], [b for b in range(3) if b != j])] = True
            out.append(mfbook.Completion.from_arrays(np.where(k, np.outer(v, v), 0.0), k))
    return out


@pytest.fixture(scope="module")
def nine():
    problems = _nine_patterns()
    lims = mfbook.small_init_limit_batch(problems, seed=0)
    V = np.repeat(np.stack([p.values for p in problems]), 10, 0)
    K = np.repeat(np.stack([p.mask for p in problems]), 10, 0)
    small = mfbook.gradient_descent_batch(V, K, 1e-6, 0.1, 100_000, tol=1e-10, seed=0)[0]
    large = mfbook.gradient_descent_batch(V, K, 1.0, 0.05, 100_000, tol=1e-10, seed=0)[0]
    return dict(problems=problems, ranks=[r.ranks for r in lims], plateaus=[r.plateaus for r in lims],
                limits=[r.W for r in lims], convex=[mfbook.min_nuclear_norm(p) for p in problems],
                small=small.reshape(9, 10, 3, 3), large=large.reshape(9, 10, 3, 3))


def _nine(c, trained, **over):
    ev = dict(problems=c["problems"], ranks=c["ranks"], plateaus=c["plateaus"], limits=c["limits"],
              convex=c["convex"], trained=trained)
    ev.update(over)
    check.nine_patterns_rank_two_min_nuclear(**ev, quiet=True)


def test_nine_patterns_pass(nine):
    _nine(nine, nine["small"])


def test_nine_patterns_refuted_by_the_rank_one_completions(nine):
    rank_one = np.stack([np.repeat(check._balanced_rank_one(p)[None], 10, 0) for p in nine["problems"]])
    with refutes(check.nine_patterns_rank_two_min_nuclear):   # same nuclear norm, but rank 1
        _nine(nine, rank_one)


def test_nine_patterns_refuted_by_a_large_initialization(nine):
    with refutes(check.nine_patterns_rank_two_min_nuclear):   # alpha = 1: nuclear norm above the bound
        _nine(nine, nine["large"])


def test_nine_patterns_refuted_by_a_path_without_the_saddle(nine):
    skipped = [[0, 2] for _ in nine["ranks"]]                 # as if both components escaped at once
    plateaus = [np.array([p[0], p[2]]) for p in nine["plateaus"]]
    with refutes(check.nine_patterns_rank_two_min_nuclear):
        _nine(nine, nine["small"], ranks=skipped, plateaus=plateaus)
