"""Tests of mfbook.manifolds (points of Omega_k, subspace tools, fixed-step flow)."""
import numpy as np
import pytest

import mfbook
from mfbook import manifolds as mf

THREE = "1 * 3; * 5 *; 3 * 9"
FOUR = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_omega_k_point_has_equal_row_and_column_spaces(k):
    A, B, Q = mf.omega_k_point((4, 3), k, d=4, seed=1)
    assert A.shape == (4, 4) and B.shape == (4, 3) and Q.shape == (4, k)
    assert mfbook.numerical_rank(A, 1e-10) == k or k == 0
    if k:
        assert mf.principal_angles(mf.subspace_basis(A, side="row"), mf.subspace_basis(B, side="col")).max() < 1e-7
        assert mf.principal_angles(mf.subspace_basis(A, side="row"), Q).max() < 1e-7


def test_principal_angles_known_values():
    e = np.eye(3)
    assert np.allclose(mf.principal_angles(e[:, :1], e[:, :1]), 0)
    assert np.allclose(mf.principal_angles(e[:, :1], e[:, 1:2]), np.pi / 2)
    v = np.array([[1.0], [1.0], [0.0]])
    assert np.allclose(mf.principal_angles(e[:, :1], v), np.pi / 4)


def test_off_subspace_rows_and_columns():
    Q = np.eye(3)[:, :2]
    X = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 0.0]])
    assert mf.off_subspace(X, Q, "row") == pytest.approx(0)
    Y = np.array([[0.0, 0.0, 3.0], [4.0, 0.0, 0.0]])
    assert mf.off_subspace(Y, Q, "row") == pytest.approx(3 / 5)
    assert mf.off_subspace(np.zeros((2, 3)), Q) == 0
    with pytest.raises(ValueError):
        mf.off_subspace(X, Q, "diag")


def test_rk4_flow_stays_in_omega_k_for_random_data():
    rng = np.random.default_rng(0)
    mask = rng.random((4, 4)) < 0.7
    p = mfbook.Completion.from_arrays(np.where(mask, rng.standard_normal((4, 4)), np.nan), mask)
    A, B, Q = mf.omega_k_point((4, 4), 2, scale=0.5, seed=2)
    t, As, Bs, loss = mf.rk4_flow(A, B, p, t_max=10.0, steps=400)
    assert mf.off_subspace(As, Q, "row").max() < 1e-11
    assert mf.off_subspace(Bs, Q, "col").max() < 1e-11
    assert np.all(np.diff(loss) <= 1e-12)   # gradient flow decreases the loss


def test_rk4_flow_matches_adaptive_gradient_flow():
    A, B = mfbook.init_factors((4, 4), 0.1, seed=0)
    t, As, Bs, loss = mf.rk4_flow(A, B, FOUR, t_max=5.0, steps=500, record_every=500)
    ref = mfbook.gradient_flow(FOUR, init_scale=0.1, t_max=5.0, tol=0.0, seed=0)
    assert ref.t[-1] == pytest.approx(5.0)
    assert np.allclose(As[-1] @ Bs[-1], ref.W, atol=1e-6)


def test_component_point_and_decoupling():
    A, B, bases = mf.component_point(THREE, [1, 1], d=3, seed=0)
    assert [b.shape for b in bases] == [(3, 1), (3, 1)]
    assert mf.off_subspace(A[[0, 2]], bases[0]) < 1e-12 and mf.off_subspace(A[[1]], bases[1]) < 1e-12
    t, As, Bs, _ = mf.rk4_flow(A, B, THREE, t_max=10.0, steps=400)
    assert mf.off_subspace(As[:, [1]], bases[1]).max() < 1e-11
    A0, B0, _ = mf.component_point(THREE, [1, 0], d=3, seed=0, orthogonal=True)
    assert np.all(A0[1] == 0) and np.all(B0[:, 1] == 0)
    with pytest.raises(ValueError):
        mf.component_point(THREE, [1], d=3)
    with pytest.raises(ValueError):
        mf.component_point(THREE, [2, 2], d=3)


def test_bad_arguments():
    with pytest.raises(ValueError):
        mf.omega_k_point((3, 3), 5, d=3)
    with pytest.raises(ValueError):
        mf.omega_k_point((3, 3), 2, d=3, basis=np.ones((3, 2)))
    with pytest.raises(ValueError):
        mf.subspace_basis(np.eye(2), side="diag")


def test_balanced_factors_are_critical_at_the_plateaus():
    p = mfbook.Completion.parse(FOUR)
    for s in mfbook.small_init_limit(FOUR).saddles:
        A, B = mf.balanced_factors(s.W)
        assert np.allclose(A @ B, s.W, atol=1e-12)
        assert np.allclose(A.T @ A, B @ B.T, atol=1e-10)
        _, grads = mfbook.loss_gradient([A, B], p.values, p.mask)
        assert max(np.abs(g).max() for g in grads) < 1e-10


def test_descent_from_takes_the_steps_of_gradient_descent():
    A, B = mfbook.init_factors((4, 4), 1e-3, seed=0)
    t, As, Bs, loss = mf.descent_from(A, B, FOUR, lr=0.1, steps=300, record_every=100)
    ref = mfbook.gradient_descent(FOUR, 1e-3, 0.1, max_steps=300, tol=0.0, seed=0)
    assert np.allclose(As[-1] @ Bs[-1], ref.W, atol=1e-12) and t[-1] == pytest.approx(30.0)


def test_imbalance_and_top_subspace_angle():
    W = np.random.default_rng(0).standard_normal((4, 4))
    A, B = mf.balanced_factors(W)
    assert mf.imbalance(A, B) < 1e-10 and mf.top_subspace_angle(A, B, 4) < 1e-7
    A2 = np.diag([1.0, 0, 0, 0])
    B2 = np.diag([0, 1.0, 0, 0])
    assert mf.top_subspace_angle(A2, B2, 1) == pytest.approx(np.pi / 2)


def test_newton_finds_a_saddle():
    A, B, g = mf.newton_critical_point(*mfbook.init_factors((4, 4), 0.3, seed=3), FOUR)
    assert g < 1e-10
    _, grads = mfbook.loss_gradient([A, B], mfbook.Completion.parse(FOUR).values, mfbook.Completion.parse(FOUR).mask)
    assert max(np.abs(x).max() for x in grads) < 1e-10


def test_degenerate_escapes_finds_tied_and_repeated_escape_rates():
    # the 4x4 example: every escape simple; tied residual singular values at the origin of
    # [[*, 1], [1, *]]: degenerate; the rank-1 saddle of the disconnected 3x3 example: degenerate
    assert mf.degenerate_escapes(mfbook.small_init_limit(FOUR)) == [False, False, False]
    assert mf.degenerate_escapes(mfbook.small_init_limit("* 1; 1 *")) == [True]
    assert mf.degenerate_escapes(mfbook.small_init_limit(THREE)) == [False, True]
