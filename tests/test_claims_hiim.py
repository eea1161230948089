"""Falsification tests of chapter 3's claim checks (mfbook.claims.hiim): each feeds wrong science."""
import numpy as np
import pytest
from conftest import refutes

import mfbook
from mfbook import manifolds as mf
from mfbook.claims import hiim as check

FOUR = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"
THREE = "1 * 3; * 5 *; 3 * 9"


@pytest.fixture(scope="module")
def best_fit():
    return {k: mfbook.best_rank_k(FOUR, k).loss for k in (1, 2)}


def _gd_runs(alpha, steps):
    return [mf.descent_from(*mfbook.init_factors((4, 4), alpha, seed=s), FOUR, lr=0.1, steps=steps,
                            record_every=10) for s in range(10)]


@pytest.fixture(scope="module")
def large_init_runs():
    return _gd_runs(1.0, 1500)


def test_rank_agreement_holds_on_small_init_training(best_fit):
    check.ranks_of_factors_agree_in_training(runs=_gd_runs(1e-12, 5000), best_losses=best_fit, quiet=True)


def test_rank_agreement_refuted_by_a_large_initialization(best_fit, large_init_runs):
    with refutes(check.ranks_of_factors_agree_in_training):
        check.ranks_of_factors_agree_in_training(runs=large_init_runs, best_losses=best_fit, quiet=True)


def test_hierarchy_refuted_by_a_large_initialization(best_fit, large_init_runs):
    with refutes(check.hierarchy_climbed_by_training):
        check.hierarchy_climbed_by_training(runs=large_init_runs, best_losses=best_fit, quiet=True)


def _noisy_descent(A, B, problem, steps=400, lr=0.02, noise=1e-6, seed=0):
    """Langevin-like descent: isotropic noise in parameter space has no invariant manifolds."""
    rng = np.random.default_rng(seed)
    As, Bs = [A], [B]
    for _ in range(steps):
        _, (gA, gB) = mfbook.loss_gradient([A, B], problem.values, problem.mask)
        A = A - lr * gA + noise * rng.standard_normal(A.shape)
        B = B - lr * gB + noise * rng.standard_normal(B.shape)
        As.append(A), Bs.append(B)
    As, Bs = np.stack(As), np.stack(Bs)
    return As, Bs, mfbook.loss_gradient([As, Bs], problem.values, problem.mask)[0]


def test_omega_k_invariance_refuted_by_noisy_descent():
    rng = np.random.default_rng(0)
    runs = []
    for i in range(3):
        mask = rng.random((4, 4)) < 0.6
        p = mfbook.Completion.from_arrays(np.where(mask, rng.standard_normal((4, 4)), np.nan), mask)
        A0, B0, Q = mf.omega_k_point((4, 4), 2, scale=0.5, seed=i)
        As, Bs, loss = _noisy_descent(A0, B0, p, seed=i)
        runs.append(dict(data=i, k=2, A=As, B=Bs, Q=Q, loss=loss))
    with refutes(check.flow_stays_in_omega_k):
        check.flow_stays_in_omega_k(runs=runs, quiet=True)


def test_decoupling_refuted_by_an_observed_zero_between_components():
    A0, B0 = mfbook.init_factors((3, 3), 1e-3, seed=0)
    texts = {"base": "1 0 3; * 5 *; 3 * 9", "first changed": "-4 0 1; * 5 *; 2 * 7",
             "second changed": "1 0 3; * -2 *; 3 * 9"}
    runs = {k: mf.rk4_flow(A0, B0, v, t_max=40.0, steps=800, record_every=40) for k, v in texts.items()}
    with refutes(check.components_evolve_independently):
        check.components_evolve_independently(mfbook.Completion.parse(texts["base"]), runs, quiet=True)


def test_sub_omega_invariance_refuted_by_a_linking_mask():
    linked = mfbook.Completion.parse("1 2 3; * 5 *; 3 * 9")       # (1, 2) links the two components
    A0, B0, bases = mf.component_point(THREE, [1, 1], d=3, scale=0.5, seed=0)
    t, As, Bs, loss = mf.rk4_flow(A0, B0, linked, t_max=20.0, steps=800, record_every=20)
    A1, B1, _ = mf.component_point(THREE, [1, 0], d=3, scale=0.5, seed=0)
    off = mf.rk4_flow(A1, B1, THREE, t_max=20.0, steps=800, record_every=20)
    with refutes(check.sub_omega_invariant):
        check.sub_omega_invariant(mfbook.Completion.parse(THREE), [(As, Bs, bases)], off, 0.0, quiet=True)
