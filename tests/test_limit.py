"""Tests of the small-initialization limit solver (mfbook.limit)."""
import numpy as np
import pytest

import mfbook
from mfbook import Completion, small_init_limit, small_init_limit_batch

FOUR = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"
THREE = "1 * 3; * 5 *; 3 * 9"


@pytest.mark.parametrize("text, where, value", [
    ("0 1; 2 *", (1, 1), 0.0),
    ("1 2; * 3", (1, 0), 1.5),
    ("1 2; 3 *", (1, 1), 6.0),
    ("1 2; 10 *", (1, 1), 20.0),
    (FOUR, (1, 3), 1.2),
])
def test_seed_examples_reach_their_limits(text, where, value):
    r = small_init_limit(text)
    assert r.status == "converged"
    assert abs(r.W[where] - value) < 1e-6
    assert r.loss < 1e-20


def test_four_by_four_learns_rank_by_rank():
    r = small_init_limit(FOUR)
    assert r.ranks == [0, 1, 2, 3]
    for k, plateau in zip(range(1, 3), r.plateaus[1:3]):
        assert plateau == pytest.approx(mfbook.best_rank_k(FOUR, k).loss, rel=1e-6)


@pytest.mark.parametrize("shape, width", [((3, 3), 3), ((2, 5), 5), ((5, 3), 2)])
def test_initial_directions_are_the_draws_of_init_factors(shape, width):
    """The limit path starts from the direction gradient flow starts from with the same seed: the
    solver writes the draws straight into a row instead of calling init_factors."""
    from mfbook import limit

    seeds = [0, 1, 12345]
    got = limit._directions(shape, seeds, width)
    for row, seed in zip(got, seeds):
        A0, B0 = mfbook.init_factors(shape, 1.0, seed=seed, width=width)
        theta = np.concatenate([A0.ravel(), B0.ravel()])
        np.testing.assert_allclose(row, theta / np.linalg.norm(theta), rtol=1e-14, atol=0)


def test_three_by_three_depends_on_the_seed():
    """The properties, not this package's seed values: every seed gives a rank-2 limit of nuclear norm
    15 (the minimum) with W12 = W21, and W12 changes with the seed (its value is checked against
    gradient flow from a tiny start in test_disconnected_limits_agree_with_gradient_flow_from_tiny_init)."""
    w12 = []
    for seed in range(4):
        r = small_init_limit(THREE, seed=seed)
        assert r.rank == 2
        assert np.linalg.svd(r.W, compute_uv=False).sum() == pytest.approx(15.0, abs=1e-6)
        assert r.W[1, 0] == pytest.approx(r.W[0, 1], abs=1e-8)
        w12.append(r.W[0, 1])
    assert np.ptp(w12) > 0.1 and len(set(np.round(w12, 6))) == 4


def test_batch_equals_single_runs():
    problems = ["1 2; 10 *", "0 1; 2 *", "1 2; * 3"]
    batch = small_init_limit_batch(problems, seed=[0, 0, 0])
    for q, r in zip(problems, batch):
        assert np.allclose(r.W, small_init_limit(q).W, atol=1e-8)


@pytest.mark.parametrize("text, seed", [("1 2; 3 *", 0), ("1 * 3; * 5 *; 3 * 9", 1),
                                        ("3.5 * * *; * 0.27 * *; * * * -0.65; * * -0.51 *", 0)])
def test_gradient_flow_approaches_the_limit(text, seed):
    """Gradient flow from the same seed gets closer to the limit as the init scale decreases."""
    limit = small_init_limit(text, seed=seed).W
    errors = [np.abs(mfbook.gradient_flow(text, init_scale=a, seed=seed).W - limit).max()
              for a in (1e-4, 1e-6, 1e-8)]
    assert errors[-1] < 1e-3
    assert errors[0] >= errors[1] * 0.9 and errors[1] >= errors[2] * 0.9


def _random_problems(count, seed=0, d=4):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        k = rng.integers(1, 4)
        M = rng.standard_normal((d, k)) @ rng.standard_normal((k, d))
        mask = np.zeros(d * d, bool)
        mask[rng.choice(d * d, rng.integers(4, 16), replace=False)] = True
        out.append(Completion.from_arrays(M, mask.reshape(d, d)))
    return out


def test_random_batch_is_finite_with_a_status():
    problems = _random_problems(30, seed=3)
    results = small_init_limit_batch(problems)
    for r in results:
        assert r.status in {"converged", "unbounded", "stalled", "not settled"}
        assert np.all(np.isfinite(r.W))
        if r.status == "converged":
            assert r.loss < 1e-12


def test_batch_results_do_not_depend_on_the_threads():
    """The compiled runs of a batch are shared out over the threads. Each run is computed on its
    own (with its own seed for the random fallback), so one thread and all threads give the same bits."""
    numba = pytest.importorskip("numba")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("a single CPU core: nothing runs in parallel")
    problems = _random_problems(24, seed=5)
    shared = small_init_limit_batch(problems)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        alone = small_init_limit_batch(problems)
    finally:
        numba.set_num_threads(threads)
    # some runs meet a degenerate escape, so the second pass (carrying the direction) runs in parallel too
    assert any(s.multiplicity != 4 - s.rank for r in shared for s in r.saddles[1:-1])
    for a, b in zip(shared, alone):
        assert a.ranks == b.ranks and a.status == b.status
        np.testing.assert_array_equal(a.W, b.W)


@pytest.mark.parametrize("text", ["0 1; 2 *", "1 2; 10 *", "1 * 3; * 5 *; 3 * 9", FOUR, "1 2 *; 3 * 5",
                                  "1 2 3 *; 2 * 6 8; * 6 * 12"])
def test_compiled_path_follows_the_reference(text, monkeypatch):
    """The compiled path (factors only as wide as the rank so far, the initial direction carried
    only where an escape is degenerate, as for THREE) visits the same saddles as the reference (full
    width, always carrying it; mfbook.saddle_to_saddle): same W, ranks, escape rates and multiplicities of the full-width
    Hessian (counted block by block in the narrow path, also for non-square problems)."""
    import mfbook.limit as limit

    assert limit._kernel is not None, "numba is a requirement: the compiled integrator must load"
    fast = small_init_limit(text, seed=1)
    monkeypatch.setattr(limit, "_kernel", None)       # without numba: the reference, same method
    slow = small_init_limit(text, seed=1)
    assert fast.ranks == slow.ranks and fast.status == slow.status
    assert [s.multiplicity for s in fast.saddles] == [s.multiplicity for s in slow.saddles]
    np.testing.assert_allclose([s.rate for s in fast.saddles], [s.rate for s in slow.saddles],
                               rtol=1e-6, atol=1e-12 * fast.saddles[0].rate)
    np.testing.assert_allclose(fast.W, slow.W, rtol=0, atol=1e-9 * np.abs(fast.W).max())
    assert fast.A.shape == slow.A.shape and np.allclose(fast.A @ fast.B, fast.W)
    if fast.method == "narrow":   # rebalanced at every critical point, as the flow from 0 keeps it
        np.testing.assert_allclose(fast.A.T @ fast.A, fast.B @ fast.B.T, atol=1e-12 * np.abs(fast.W).max())


def test_large_problems_take_the_numpy_path_only_for_the_full_width_passes(monkeypatch):
    """Above _kernel.MAX_PARAMETERS parameters the narrow passes still run compiled (THREE: one component at
    a time); a run that needs the full width (a repeated top singular value at the start, two new
    inner directions at once) is computed by the reference, with the same limit."""
    import mfbook.limit as limit

    problems = [THREE, "1 * 1; * * *; 1 * -1", "1 2 3; 2 4 *; * 6 9"]
    compiled = small_init_limit_batch(problems, seed=[0, 0, 0])
    assert [r.method for r in compiled] == ["components", "full width carrying", "narrow"]
    monkeypatch.setattr(limit._kernel, "MAX_PARAMETERS", 10)          # the problems have 18 parameters
    mixed = small_init_limit_batch(problems, seed=[0, 0, 0])
    assert [r.method for r in mixed] == ["components", "reference", "narrow"]
    for a, b in zip(compiled, mixed):
        assert a.ranks == b.ranks and a.status == b.status
        np.testing.assert_allclose(a.W, b.W, rtol=0, atol=1e-8 * np.abs(a.W).max())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_components_and_narrow_carrying_give_the_same_limit(seed):
    """THREE has two components, and its limit is computed one component at a time. Taken as one
    problem (the kernel started at its narrow carrying pass), the same limit comes from the narrow
    path carrying the initial direction through the degenerate second escape: two independent
    computations of the seed-dependent W[0, 1]."""
    import mfbook.limit as limit

    K = limit._kernel
    apart = small_init_limit(THREE, seed=seed)
    q = Completion.parse(THREE)
    b = limit._Batch(q.values[None], q.mask[None], 3)
    out = limit._runs([limit._directions(q.shape, [seed], 3), np.array([K.codes.CARRY]), np.array([seed + 7919]),
                       b.Ms, b.Vs, b.n, b.gscale, b.tscale, b.wscale],
                      (3, 3, 3, 1e-10, 5, True) + limit._compiled_method())
    theta, SW, Sloss, Srank, Srate, Smult, count, status, route, code = out[0]
    assert (apart.method, K.codes.ROUTE_NAMES[route], code) == ("components", "narrow carrying", K.codes.DONE)
    assert apart.ranks == list(Srank[:count]) == [0, 1, 2]
    assert [s.multiplicity for s in apart.saddles] == list(Smult[:count])
    whole = theta[:9].reshape(3, 3) @ theta[9:].reshape(3, 3)
    np.testing.assert_allclose(apart.W, whole, rtol=0, atol=1e-9)


@pytest.mark.parametrize("shape, width", [((2, 2), 1), ((3, 4), 2), ((4, 4), 3), ((5, 3), 5)])
def test_compiled_hessian_and_svd_agree_with_numpy(shape, width):
    """The kernel assembles the Hessian entry by entry and takes small SVDs by Jacobi rotations:
    both against NumPy (the Hessian as p products with the unit vectors, LAPACK's SVD)."""
    import mfbook.limit as limit
    from mfbook.factorization import hessian

    from mfbook._kernel.linalg import _svd
    from mfbook._kernel.loss import _hessian

    rng = np.random.default_rng(sum(shape) + width)
    values = rng.standard_normal(shape)
    mask = rng.random(shape) < 0.6
    values[0, 0], mask[0, 0] = 0.0, True                 # an observed zero
    A, B = rng.standard_normal((shape[0], width)), rng.standard_normal((width, shape[1]))
    b = limit._Batch(values[None], mask[None], width)
    theta = np.concatenate([A.ravel(), B.ravel()])
    H = _hessian(theta, b.Ms[0], b.Vs[0], shape[0], width, shape[1], theta.size)
    np.testing.assert_allclose(H, hessian(A, B, values, mask), rtol=0, atol=1e-12 * np.abs(H).max())
    assert np.array_equal(H, H.T)
    for M in (A @ B, rng.standard_normal(shape), np.outer(rng.standard_normal(shape[0]), np.ones(shape[1]))):
        U, s, Vt = _svd(M)
        np.testing.assert_allclose(s, np.linalg.svd(M, compute_uv=False), rtol=0, atol=1e-13 * s[0])
        np.testing.assert_allclose(U @ np.diag(s) @ Vt, M, rtol=0, atol=1e-13 * s[0])
        r = int(np.sum(s > 1e-12 * s[0]))                 # singular vectors of the non-zero values: orthonormal
        np.testing.assert_allclose(U[:, :r].T @ U[:, :r], np.eye(r), atol=1e-13)
        np.testing.assert_allclose(Vt[:r] @ Vt[:r].T, np.eye(r), atol=1e-13)
        short = Vt if shape[0] >= shape[1] else U.T                # the short side: a full orthonormal basis
        np.testing.assert_allclose(short @ short.T, np.eye(min(shape)), atol=1e-13)


@pytest.mark.parametrize("text", ["* * 1 *; -1.73 * * -0.93; * * * *; * 1.33 -4.21 *",
                                  "* * 0.48 *; * -0.23 * *; 1.05 * 0.32 *; * * * 0.06",
                                  "* * * *; * -0.38 * *; * * * 2.72; * * -3.24 6.81"])
def test_disconnected_limits_agree_with_gradient_flow_from_tiny_init(text):
    """A disconnected problem's limit is put together from its components' paths, and the entries
    between two components depend on the orientation of each one's escape: the projection of the
    initial direction and the escape itself must come from the same singular vectors (LAPACK's
    vectors of -Vs and of 0 * Ms - Vs, which differ only in signed zeros, can have opposite signs:
    the limit was off by 0.5 to 5.5 on these sweep problems). Reference: gradient flow from init
    1e-30 (converged in init: from 1e-20 it gives the same to 1e-10)."""
    q = Completion.parse(text)
    for seed in (0, 1):
        limit = small_init_limit(q, seed=seed)
        assert limit.method == "components"
        flow = mfbook.gradient_flow(q, init_scale=1e-30, seed=seed, t_max=1e7).W
        np.testing.assert_allclose(limit.W, flow, rtol=0, atol=1e-4)


def test_a_crawl_is_not_reported_as_converged():
    """At width 1 the infimum of "0 1; 2 *" is not attained (a rank-1 fit needs W11 = 0 with W12, W21
    non-zero): the flow crawls. The compiled path once called the crawl "converged" (gradient 6e-4 of
    its scale, a small negative rate); a converged result must be a critical point, and the reference
    agrees that this one is not."""
    res = small_init_limit("0 1; 2 *", width=1)
    assert res.status == "not settled" == mfbook.saddle_to_saddle("0 1; 2 *", width=1).status
    for text in ("1 2; 3 *", "1 * 3; * 5 *; 3 * 9", "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"):
        res = small_init_limit(text, width=1)
        q = res.problem
        _, grads = mfbook.loss_gradient([res.A, res.B], q.values, q.mask)
        assert res.status != "converged" or max(np.abs(g).max() for g in grads) < 1e-8 * q.scale


def test_an_exact_tie_beyond_the_dense_reference_is_not_settled_not_a_long_run():
    """The identity, fully observed: every singular value of the residual gradient ties, so the escape
    needs all inner directions at once, which only the full-width reference follows, with a dense
    Hessian per critical point. At 20 x 20 it does (the identity, from one plateau); at 50 x 50
    (5000 parameters, 200 MB per Hessian) the run is reported "not settled" at the origin, at once,
    instead of a run of many minutes."""
    small = small_init_limit(Completion.from_arrays(np.eye(20), np.ones((20, 20), bool)))
    assert small.status == "converged" and small.method == "reference" and small.ranks == [0, 20]
    np.testing.assert_allclose(small.W, np.eye(20), atol=1e-8)
    big = small_init_limit(Completion.from_arrays(np.eye(50), np.ones((50, 50), bool)))
    assert big.status == "not settled" and big.ranks == [0] and not big.W.any()
    assert big.saddles[0].multiplicity == small.saddles[0].multiplicity * 50 ** 2 // 20 ** 2


def test_the_right_hand_side_on_the_observed_entries_is_the_dense_one_bit_for_bit():
    """The integrator's right-hand side on sparse patterns runs over the observed entries only; it adds
    the same products in the same order as the dense loops (which add only zeros for the other
    entries), so the flow, and every limit computed with it, is unchanged to the last bit."""
    from mfbook._kernel.integrator import _work
    from mfbook._kernel.loss import _rhs, _rhs_observed, problem_scales

    rng = np.random.default_rng(4)
    for d1, d2, d, n in ((20, 20, 3, 60), (12, 30, 5, 50), (40, 10, 20, 45)):
        mask = np.zeros(d1 * d2, bool)
        mask[rng.choice(d1 * d2, n, replace=False)] = True
        values = np.where(mask, rng.standard_normal(d1 * d2), 0.0).reshape(1, d1, d2)
        _, Ms, Vs, *_ = problem_scales(values, mask.reshape(1, d1, d2))
        p = (d1 + d2) * d
        work = _work(d1, d2, p, p, Ms[0], 0)
        assert work[4].size == n                        # the sparse path is taken
        y = rng.standard_normal(p)
        dense, sparse = np.empty(p), np.empty(p)
        _rhs(y, Ms[0], Vs[0], d1, d, d2, p, 0, dense, np.empty((d1, d2)), np.empty((d1, d2)))
        _rhs_observed(y, Ms[0], Vs[0], work[4], work[5], d1, d, d2, p, sparse, work[6])
        assert np.array_equal(dense, sparse)
