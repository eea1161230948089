"""The batched phase-transition sweep (mfbook.sweep): sampling, training, references, verdicts."""
import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

import mfbook
from mfbook import sweep


def test_sample_problems_shapes_counts_ranks_and_seed():
    rank, n, truth, mask = sweep.sample_problems(ranks=(1, 3), sizes=(1, 7, 16), repeats=4, seed=3)
    assert truth.shape == mask.shape == (24, 4, 4)
    assert rank.tolist() == [1] * 12 + [3] * 12 and n.tolist()[:12] == [1] * 4 + [7] * 4 + [16] * 4
    assert (mask.sum(axis=(1, 2)) == n).all()
    assert (mfbook.numerical_rank(truth) == rank).all()
    again = sweep.sample_problems(ranks=(1, 3), sizes=(1, 7, 16), repeats=4, seed=3)
    assert np.array_equal(again[2], truth) and np.array_equal(again[3], mask)


@pytest.mark.parametrize("kwargs", [dict(ranks=(0,)), dict(ranks=(5,)), dict(sizes=(0,)), dict(sizes=(17,)),
                                    dict(repeats=0)])
def test_sample_problems_rejects_bad_sizes(kwargs):
    with pytest.raises(ValueError):
        sweep.sample_problems(**{"repeats": 1, **kwargs})


def test_default_repeats_follows_environment(monkeypatch):
    monkeypatch.delenv("MFBOOK_FULL", raising=False)
    monkeypatch.delenv("MFBOOK_STATIC", raising=False)
    assert sweep.default_repeats() == 3
    monkeypatch.setenv("MFBOOK_STATIC", "1")
    assert sweep.default_repeats() == 10
    monkeypatch.delenv("MFBOOK_STATIC")
    monkeypatch.setenv("MFBOOK_FULL", "1")
    assert sweep.default_repeats() == 10


def _stack(texts):
    probs = [mfbook.Completion.parse(t) for t in texts]
    return np.stack([p.values for p in probs]), np.stack([p.mask for p in probs])


def test_compact_descent_reaches_the_seed_limits():
    V, M = _stack(["1 2; 3 *", "1 2; * 3", "0 1; 2 *"])
    W, loss, steps = sweep.gradient_descent_compact(V, M, init_scale=1e-8, max_steps=200_000)
    assert abs(W[0, 1, 1] - 6) < 1e-3 and abs(W[1, 1, 0] - 1.5) < 1e-3
    assert 0 < W[2, 1, 1] < 0.02                     # the observed zero: slow approach to 0
    assert (loss < 1e-9).all() and (steps < 200_000).all()


def test_compact_descent_matches_the_reference_batch():
    rank, n, truth, mask = sweep.sample_problems(ranks=(2,), sizes=(10, 14), repeats=3, seed=1)
    W1, _, _ = sweep.gradient_descent_compact(truth, mask, init_scale=1e-4, tol=1e-16, max_steps=20_000, seed=5)
    W2, _, _ = mfbook.gradient_descent_batch(truth, mask, init_scale=1e-4, tol=1e-18, max_steps=20_000, seed=5)
    assert np.allclose(W1, W2, atol=1e-5)


def test_compact_descent_errors():
    V, M = _stack(["1 2; 3 *"])
    with pytest.raises(ValueError):
        sweep.gradient_descent_compact(V, M[:, :1], init_scale=1e-3)
    with pytest.raises(mfbook.DivergenceError):
        sweep.gradient_descent_compact(V * 100, M, init_scale=1e-1, lr=10.0)
    with pytest.raises(ValueError):
        sweep.train_batch(V, M, trainer="adam")


def test_rank_k_fits_and_min_rank_agree_with_mfbook_min_rank():
    rank, n, truth, mask = sweep.sample_problems(ranks=(1, 2, 3), sizes=(5, 8, 11), repeats=2, seed=2)
    fit0 = sweep.rank_k_fit_batch(truth, mask, 0)
    assert np.allclose(fit0, (np.where(mask, truth, 0) ** 2).sum(axis=(1, 2)) / n)
    ours = sweep.min_rank_batch(truth, mask, upper=rank, seed=0)
    theirs = [mfbook.min_rank(mfbook.Completion.from_arrays(v, m))[0] for v, m in zip(truth, mask)]
    assert ours.tolist() == theirs
    assert (ours <= rank).all()


def test_min_nuclear_norm_of_complete_bipartite_patterns_is_the_sum_over_blocks():
    texts = ["1 2 *; 3 4 *; * * 5", "1 * 3; * 5 *; 3 * 9", "0 1; 2 *"]
    for t in texts:
        V, M = _stack([t])
        conn = mfbook.connectivity(t)
        assert conn.kind == "disconnected-complete-bipartite"
        blocks = sum(mfbook.nuclear_norm(V[0][np.ix_(c.rows, c.cols)]) for c in conn.components)
        assert abs(sweep.min_nuclear_norm_batch(V, M)[0] - blocks) < 1e-6


def test_classify_batch_matches_connectivity():
    V, M = _stack(["1 2 *; 3 * *; * * 5", "1 2 *; 3 4 *; * * 5", "1 2 *; 3 4 *; 6 * 5"])
    assert sweep.classify_batch(V, M).tolist() == ["disconnected", "disconnected-complete-bipartite", "connected"]


@pytest.fixture(scope="module")
def small_sweep():
    return sweep.phase_transition(ranks=(1, 2), sizes=(3, 9, 16), repeats=3, seed=4, init_scale=1e-12)


def test_small_sweep_records_every_run(small_sweep):
    S = small_sweep
    assert len(S) == 18 and S.W.shape == (18, 4, 4)
    assert set(S.kind) <= set(sweep.KINDS)
    assert (S.min_rank <= S.rank).all() and (S.min_nuclear <= S.learned_nuclear * (1 + 1e-4)).all()
    full = S.select(n=16)
    assert (S.kind[full] == "connected").all() and S.reaches_min_rank[full].all()
    frac = S.fraction(S.reaches_min_rank, by="n", rank=1)
    assert set(frac) == {3, 9, 16} and all(count == 3 for _, count in frac.values())
    cb = S.select(kind="disconnected-complete-bipartite")
    assert S.reaches_min_nuclear(1e-4)[cb].all()


def test_references_can_be_reused_only_on_the_same_problems(small_sweep):
    S = small_sweep
    again = sweep.phase_transition(problems=(S.rank, S.n, S.truth, S.mask), init_scale=1e-6, references=S)
    assert np.array_equal(again.min_rank, S.min_rank)
    other = sweep.sample_problems(ranks=(1, 2), sizes=(3, 9, 16), repeats=3, seed=5)
    with pytest.raises(ValueError):
        sweep.phase_transition(problems=other, references=S)


def test_theorem3_check_on_a_connected_run_reaching_min_rank(small_sweep):
    S = small_sweep
    run = int(np.flatnonzero(S.select(n=16))[0])
    (check,) = sweep.theorem3_check(S, [run])
    assert check["verdict"] == "minimum rank" and check["limit_rank"] == S.min_rank[run]
    assert check["ranks"][0] == 0 and len(check["best"]) == len(check["plateaus"])
    assert sweep.theorem3_check(S, []) == []


def test_first_residual_gap():
    V, M = _stack(["1 *; * 1", "2 *; * 1"])
    assert np.allclose(sweep.first_residual_gap(V, M), [1.0, 0.5])


def test_plots_draw_what_they_say(small_sweep):
    """Each plot puts its data on the axes and labels them (not only: it runs)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4)
    mfbook.plotting.plot_phase_transition(small_sweep, axes[:2], highlight=small_sweep.select(n=9))
    mfbook.plotting.plot_fraction(small_sweep, ax=axes[2], rank=1)
    mfbook.plotting.plot_observation_graph("0 1 *; 2 * *", ax=axes[3])
    for ax in axes[:3]:
        assert ax.get_xlabel() and ax.get_ylabel() and (ax.lines or ax.collections or ax.images)
    ys = np.concatenate([line.get_ydata() for line in axes[2].lines])
    assert np.all((ys >= 0) & (ys <= 1))                       # fractions
    # G_M of "0 1 *; 2 * *": the observed zero is not an edge, so two edges (r1-c2, r2-c1)
    assert len(axes[3].collections) >= 1
    ax = mfbook.plotting.plot_observed("0 1 *; 2 * *")
    cells = [t.get_text() for t in ax.texts]
    assert len(ax.patches) == 6 and cells.count("?") == 3 and "0" in cells   # 6 cells, 3 unknown
    plt.close("all")


def test_rank_one_feasibility_is_exact():
    V, M = _stack(["1 2 *; * 4 6; * * 9", "1 2 *; 3 4 *; * * 1"])
    assert sweep.rank_one_feasible(V, M).tolist() == [True, False]
    V, M = _stack(["1 2; 3 4", "1 2; 3 6", "0 1; 2 *", "1 *; * 5"])
    assert sweep.rank_one_feasible(V, M).tolist() == [False, True, None, True]
    # a tree pattern on which alternating least squares crawls for ~1000 sweeps: rank one all the same
    rank, n, truth, mask = sweep.sample_problems(seed=0, repeats=10)
    assert sweep.min_rank_batch(truth[226:227], mask[226:227])[0] == 1


def test_limit_sweep_keeps_its_paths_for_the_theorem_check():
    S = sweep.phase_transition(ranks=(2,), sizes=(12,), repeats=2, seed=0, trainer="limit")
    assert len(S.info["limit_results"]) == 2 and S.fits.all()
    checks = sweep.theorem3_check(S, [0, 1])
    assert [c["ranks"] for c in checks] == [r.ranks for r in S.info["limit_results"]]
    assert all(c["verdict"] != "unexplained" for c in checks)


def test_theorem3_check_tests_the_assumption_on_every_omega_k_up_to_the_minimum_rank():
    # a connected rank-3 problem (10 of 16 entries) whose computed path rests at ranks 0, 1 and then 3,
    # while a rank-2 completion exists: no optimum is attained within Omega_2 on that path, so the
    # assumption of Theorem 3 as stated fails there -- although every manifold the path visits is left
    # at its optimum. Its rank-2 stage crawls, so the path after it is not settled: the verdict says so
    rank, n, truth, mask = sweep.sample_problems(ranks=(1, 2, 3), sizes=range(1, 17), repeats=3, seed=0)
    sub = (rank[125:126], n[125:126], truth[125:126], mask[125:126])
    S = sweep.phase_transition(problems=sub, trainer="limit", seed=0)
    assert S.kind[0] == "connected" and S.min_rank[0] == 2
    (check,) = sweep.theorem3_check(S, [0])
    assert check["ranks"] == [0, 1, 3]
    for k, loss in zip(check["ranks"][:2], check["plateaus"][:2]):   # the visited ranks are optimal
        assert abs(loss - check["best_by_rank"][k]) <= 1e-6 * max(1.0, loss)
    assert check["hypothesis"] is False and check["unattained"] == [2]
    assert check["verdict"] == "not settled, skips rank 2" and check["limit_rank"] == 3
    assert check["status"] == "not settled"


def test_gradient_flow_from_a_given_start_matches_the_seeded_flow_and_keeps_the_width():
    p = mfbook.Completion.parse("1 2 *; 3 * 6; * 4 5")
    A0, B0 = mfbook.factorization.init_factors(p.shape, 1e-3, seed=2, width=1)
    run = mfbook.gradient_flow(p, start=(A0, B0), t_max=200.0, tol=0.0, atol=1e-3 * 1e-10 * 1e-3)
    ref = mfbook.gradient_flow(p, init_scale=1e-3, seed=2, width=1, t_max=200.0, tol=0.0)
    assert run.A_path.shape[1:] == (3, 1) and run.B_path.shape[1:] == (1, 3) and not run.converged
    np.testing.assert_array_equal(run.W, ref.W)   # the same start and tolerances: the same steps
    with pytest.raises(ValueError, match="start"):
        mfbook.gradient_flow(p, start=(A0, B0.T), t_max=1.0)
