"""Falsification tests of chapter 6's claim checks (C30-C32): wrong science must fail."""
import numpy as np

from conftest import refutes
import mfbook
from mfbook import attention, deep
from mfbook import neurons as nn
from mfbook.claims import beyond as check

RAZIN = "* 1; 1 0"


def test_depth_formula_refuted_by_a_wrong_exponent():
    sigma = np.array([0.2, 0.4, 4.0])
    exact = 3 * sigma ** (4 / 3)
    with refutes(check.singular_value_speed_matches_depth_formula):
        check.singular_value_speed_matches_depth_formula(sigma=sigma, exact=exact, predicted=3 * sigma ** 1.5,
                                                         quiet=True)
    check.singular_value_speed_matches_depth_formula(sigma=sigma, exact=exact, predicted=exact, quiet=True)


def test_rank_one_fill_refuted_by_depth_two_runs():
    W2 = [mfbook.gradient_descent("1 * 3; * 5 *; 3 * 9", init_scale=0.1, depth=2, lr=0.03, max_steps=6000,
                                  tol=1e-7, seed=s).W for s in range(10)]
    with refutes(check.depth_three_finds_rank_one_fill):
        check.depth_three_finds_rank_one_fill(W_by_depth={2: W2, 3: W2}, problem="1 * 3; * 5 *; 3 * 9",
                                              quiet=True)


def test_norm_growth_refuted_by_unbalanced_starts():
    run = deep.descent_with_stable_step(RAZIN, range(24), 0.05, 3, t_max=150, balanced=False)
    pos = np.linalg.det(run["W"][:, 0]) > 0
    with refutes(check.rank_falls_while_norms_grow):      # the hypothesis of balance dropped: det flips sign
        check.rank_falls_while_norms_grow(t=run["t"], W=run["W"][pos], loss=run["loss"][pos], quiet=True)


def test_optimistic_size_refuted_by_a_neuron_that_is_not_silent():
    net = nn.TwoLayer(np.array([[1.0, 0.6]]), np.array([[[1.0], [0.0]]]), np.array([[1.0, 0.0]]))
    dense = np.linspace(-3, 3, 61)
    r = int(nn.model_rank(net, dense)[0])          # w2 = b2 = 0 but a2 != 0: rank 5, not 3
    ranks = {"a2 = w2 = b2 = 0": r, "split a1 + a2 = 1": 3, "a2 = 0": 4, "w2 = b2 = 0, a2 != 0": 5}
    with refutes(check.optimistic_size_is_model_rank_three):
        check.optimistic_size_is_model_rank_three(ranks=ranks, errors={"x": 0.0}, generic_ranks=[6], quiet=True)


def test_small_init_refuted_by_reversed_scales():
    rng = np.random.default_rng(0)
    err = np.stack([np.stack([rng.uniform(1e-6, 1e-5, 20), rng.uniform(1e-6, 1e-5, 20),
                              rng.uniform(1e-3, 1e-2, 20)])] * 2)      # the large error at the small scale
    with refutes(check.small_init_removes_wild_interpolants):
        check.small_init_removes_wild_interpolants(scales=[1.0, 0.1, 0.01], test_err=err,
                                                   loss=np.zeros(120), quiet=True)


def test_same_ratio_refuted_by_different_functions():
    with refutes(check.same_imbalance_ratio_same_function):
        check.same_imbalance_ratio_same_function(ratio_gap=0.0, coord_gap=1e-6, same_gap=np.full(5, 1e-2),
                                                 mode_gap=np.zeros(5), rotated_gap=np.ones(5), quiet=True)


def _scan(ns, budget):
    phis = np.linspace(0, np.pi / 4, 9)
    target = lambda x: np.tanh(x + 1)  # noqa: E731
    X = np.zeros((len(ns), 6)); m = np.zeros((len(ns), 6), bool)
    for i, n in enumerate(ns):
        X[i, :n], m[i, :n] = np.linspace(-2, 2, n), True
    unit = np.stack([np.cos(phis), np.sin(phis)], axis=1)
    start = nn.TwoLayer.concatenate([nn.growing_mode_init(unit, X[i, :n], target(X[i, :n]), 1e-6)
                                     for i, n in enumerate(ns)])
    Xr, mr = np.repeat(X, len(phis), axis=0)[:, :, None], np.repeat(m, len(phis), axis=0)
    out = nn.train_two_layer(start, Xr, target(Xr[..., 0]), lr=0.5, max_steps=budget, tol=1e-14,
                             sample_mask=mr, check_every=500)
    err = nn.function_error(out, target, np.linspace(-2, 2, 201)).reshape(len(ns), len(phis))
    return phis, err, out.loss.reshape(err.shape)


def test_thresholds_refuted_when_four_samples_are_called_five():
    phis, err, loss = _scan((2, 3, 4, 4, 6), 20_000)
    with refutes(check.sample_size_thresholds_three_four_five):
        check.sample_size_thresholds_three_four_five(ns=[2, 3, 4, 5, 6], phis=phis, err=err, loss=loss,
                                                     err_more=err * 0.5, quiet=True)


def test_tanh_model_rank_refuted_when_the_starts_are_swapped():
    with refutes(check.trained_tanh_network_has_low_model_rank):
        check.trained_tanh_network_has_low_model_rank(rank_small=[9] * 10, rank_large=[7] * 10,
                                                      cond_small=[0.6] * 10, cond_large=[0.04] * 10, quiet=True)


def test_attention_rank_refuted_by_a_large_initialization():
    task = attention.make_task(rank=1, dim=6, tokens=5, samples=30, seed=0)
    scales = [1e-1, 1e-1]                       # the "small" start replaced by a large one
    out = attention.train_head(task, np.repeat(scales, 10), runs=20, seed=1, lr=2.0, max_steps=1500)
    r = mfbook.numerical_rank(out["M"], rtol=attention.RANK_RTOL).reshape(2, 10)
    tang = np.array([attention.factor_tangent_dimension(Q, K.T, rtol=0.1)
                     for Q, K in zip(out["WQ"], out["WK"])]).reshape(2, 10)
    with refutes(check.attention_learns_low_rank_query_key):
        check.attention_learns_low_rank_query_key(scales=[1e-3, 1e-1], num_rank=r, tangent_dim=tang,
                                                  rel_err=np.zeros((2, 10)), loss=np.zeros((2, 10)),
                                                  dim=6, rank=1, quiet=True)


def _deep_curves():
    d = np.load(mfbook.__path__[0] + "/../chapters/data/deep_completion.npz")
    true_eff = [float(deep.effective_rank(deep.random_low_rank((50, 50), 3, seed=s))) for s in d["seeds"]]
    return d, true_eff


def test_deep_completion_refuted_when_depths_2_and_3_are_swapped():
    d, true_eff = _deep_curves()
    swap = [0, 2, 1]                                  # depth 2's curves presented as depth 3's
    with refutes(check.deep_completion_recovers_with_fewer_observations):
        check.deep_completion_recovers_with_fewer_observations(
            counts=d["counts"], err=d["err"][swap], eff=d["eff"][swap], loss=d["loss"][swap],
            true_eff=true_eff, live_err=[1.0], stored_err=[1.0], quiet=True)
    check.deep_completion_recovers_with_fewer_observations(
        counts=d["counts"], err=d["err"], eff=d["eff"], loss=d["loss"], true_eff=true_eff,
        live_err=[1.0], stored_err=[1.0], quiet=True)


def test_deep_completion_refuted_by_a_stale_stored_file():
    d, true_eff = _deep_curves()
    with refutes(check.deep_completion_recovers_with_fewer_observations):
        check.deep_completion_recovers_with_fewer_observations(
            counts=d["counts"], err=d["err"], eff=d["eff"], loss=d["loss"], true_eff=true_eff,
            live_err=[1e-5, 2e-5], stored_err=[1.1e-5, 2e-5], quiet=True)
