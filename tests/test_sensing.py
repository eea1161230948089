"""Unit tests for mfbook.sensing (matrix sensing, commuting measurements, u (.) u, the lift)."""
import numpy as np
import pytest

from mfbook import sensing


def test_gaussian_sensing_shapes_and_values():
    p = sensing.gaussian_sensing(d=7, m=11, rank=2, seed=0)
    assert p.Z.shape == (11, 7, 7) and p.b.shape == (11,)
    assert np.linalg.matrix_rank(p.X_star) == 2 and np.isclose(np.linalg.norm(p.X_star), np.sqrt(2))
    assert np.allclose(p.measure(p.X_star), p.b) and p.loss(p.X_star) < 1e-25 and p.test_error(p.X_star) == 0
    with pytest.raises(ValueError):
        sensing.gaussian_sensing(d=3, m=5, rank=4)


def test_matrix_model_reaches_min_frobenius():
    p = sensing.gaussian_sensing(d=8, m=20, rank=1, seed=1)
    run = sensing.sensing_descent(p, "matrix", lr=0.02, steps=2000)
    x = np.linalg.lstsq(p.Z.reshape(20, -1), p.b, rcond=None)[0].reshape(8, 8)
    assert np.allclose(run["X"][0], x, atol=1e-8)


def test_factorized_batch_recovers_low_rank_where_the_matrix_model_does_not():
    p = sensing.gaussian_sensing(d=8, m=40, rank=1, seed=2)
    both = sensing.sensing_descent(p, "factorized", init_scale=[1e-3, 1e-6], lr=0.05, steps=1500, seed=3)
    assert both["train"].shape[0] == 2 and both["train"][1, -1] < 1e-8
    assert both["test"][1, -1] < 1e-3 < both["test"][0, -1]      # 40 measurements >> 15 degrees of freedom
    plain = sensing.sensing_descent(p, "matrix", lr=0.02, steps=1500)
    assert plain["test"][0, -1] > 0.3
    with pytest.raises(ValueError):
        sensing.sensing_descent(p, "bad")
    with pytest.raises(ValueError):
        sensing.sensing_descent(p, "factorized", lr=50.0, steps=50)


def test_commuting_theorem_and_vector_corollary():
    Z, b, Q, D = sensing.commuting_measurements(d=6, m=3, seed=0)
    assert np.allclose(Z[0] @ Z[1], Z[1] @ Z[0])
    X_nn = sensing.min_nuclear_norm_psd(Z, b)
    X = sensing.symmetric_descent(Z, b, init_scale=1e-5, lr=0.05, steps=20000)["X"]
    assert np.abs(X - X_nn).max() < 1e-4
    x_l1 = sensing.min_l1_nonnegative(D, b)
    x, loss = sensing.hadamard_descent(D, b, init_scale=1e-5, lr=0.05, steps=20000)
    assert loss[0] < 1e-10 and np.abs(x[0] - x_l1).max() < 1e-4


def test_lift_gives_the_same_iterates():
    p = sensing.gaussian_sensing(d=4, m=6, rank=1, seed=4)
    rng = np.random.default_rng(0)
    U0, V0 = 0.1 * rng.standard_normal((4, 3)), 0.1 * rng.standard_normal((4, 3))
    path, _, _ = sensing.asymmetric_descent(p.Z, p.b, U0, V0, lr=0.05, steps=100)
    sym = sensing.symmetric_descent(sensing.lift_measurements(p.Z), p.b, U0=np.vstack([U0, V0]), lr=0.05,
                                    steps=100, record=True)
    assert np.abs(sym["path"][:, :4, 4:] - path).max() < 1e-13
    full = sensing.lift_measurements(p.Z, half=False)
    assert np.allclose(full, 2 * sensing.lift_measurements(p.Z)) and np.allclose(full, full.transpose(0, 2, 1))


def test_docstrings_name_the_chapter():
    for name in sensing.__all__:
        assert "Explained in" in (getattr(sensing, name).__doc__ or ""), name


def test_batches_of_problems_match_single_runs():
    probs = [sensing.commuting_measurements(d=5, m=2, seed=s) for s in range(3)]
    Z, b = np.stack([p[0] for p in probs]), np.stack([p[1] for p in probs])
    batch = sensing.symmetric_descent(Z, b, init_scale=1e-3, lr=0.05, steps=500)
    one = sensing.symmetric_descent(Z[1], b[1], init_scale=1e-3, lr=0.05, steps=500)
    assert batch["X"].shape == (3, 5, 5) and np.allclose(batch["X"][1], one["X"], atol=1e-14)
    D = np.stack([p[3] for p in probs])
    xb, lb = sensing.hadamard_descent(D, b, init_scale=1e-3, lr=0.05, steps=500)
    x1, l1 = sensing.hadamard_descent(D[2], b[2], init_scale=1e-3, lr=0.05, steps=500)
    assert np.allclose(xb[2], x1[0], atol=1e-14) and np.isclose(lb[2], l1[0])
    # in the shared eigenbasis the matrix descent from alpha I is the vector descent on u (.) u
    Q = probs[1][2]
    assert np.allclose(np.diag(Q.T @ one["X"] @ Q), xb[1], atol=1e-12)
    with pytest.raises(ValueError):
        sensing.hadamard_descent(D, b, init_scale=[1e-3, 1e-4])      # 2 scales, 3 problems


def test_sensing_descent_stops_at_tol():
    p = sensing.gaussian_sensing(d=6, m=30, rank=1, seed=0)
    run = sensing.sensing_descent(p, "factorized", init_scale=[1e-3, 1e-3], lr=0.05, steps=5000,
                                  record_every=10, tol=1e-5)
    assert run["step"][-1] < 5000 and np.all(run["train"][:, -1] < 1e-5)
    assert np.any(run["train"][:, -2] >= 1e-5)


def test_entry_measurements_pick_the_observed_entries_in_row_major_order():
    mask = np.array([[True, False, True], [False, True, False]])
    E = sensing.entry_measurements(mask)
    X = np.arange(6.0).reshape(2, 3)
    assert E.shape == (3, 2, 3) and np.array_equal(np.einsum("nij,ij->n", E, X), X[mask])
    with pytest.raises(ValueError):
        sensing.entry_measurements(np.ones(3, bool))


def test_lifted_entries_commute_exactly_when_they_share_no_row_and_no_column():
    d1, d2 = 3, 4
    E = sensing.entry_measurements(np.ones((d1, d2), bool))
    C = sensing.commutator_norms(sensing.lift_measurements(E))
    pos = np.argwhere(np.ones((d1, d2), bool))
    apart = (pos[:, None, 0] != pos[None, :, 0]) & (pos[:, None, 1] != pos[None, :, 1])
    same = np.eye(len(pos), dtype=bool)
    assert np.all(C[apart | same] == 0) and np.all(C[~(apart | same)] > 0)
    Z, *_ = sensing.commuting_measurements(d=5, m=3, seed=0)
    assert sensing.commutator_norms(Z).max() < 1e-12
    with pytest.raises(ValueError):
        sensing.commutator_norms(np.zeros((2, 3, 4)))
