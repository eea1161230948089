"""mfbook.deep at a real size: the first-order nuclear-norm completion, batched deep training, patterns."""
import numpy as np
import pytest

import mfbook
from mfbook import deep


def _completion(M, mask):
    return mfbook.Completion(np.where(mask, M, 0.0), mask)


def test_nuclear_norm_completion_agrees_with_the_semidefinite_program():
    for seed in range(3):
        M = deep.random_low_rank((5, 6), 2, seed)
        masks = deep.nested_masks((5, 6), [16, 22], seed=10 + seed)
        out = deep.nuclear_norm_completion(M, masks, tol=1e-10)
        for r in range(2):
            ref = mfbook.min_nuclear_norm(_completion(M, masks[r]))
            # the optimal values agree to the DR residual (1e-10 relative) and the SDP's 1e-9
            assert abs(out["nuclear"][r] - mfbook.nuclear_norm(ref)) < 1e-6 * mfbook.nuclear_norm(ref)
            np.testing.assert_array_equal(out["W"][r][masks[r]], M[masks[r]])   # exact fit


def test_nuclear_norm_completion_recovers_a_well_sampled_low_rank_matrix():
    M = deep.random_low_rank((20, 20), 1, 0)
    masks = deep.nested_masks((20, 20), [300], seed=1)
    out = deep.nuclear_norm_completion(M, masks)
    assert deep.hidden_entry_error(out["W"], M, masks)[0] < 1e-5


def test_deep_completion_is_gradient_descent_run_by_run():
    M = deep.random_low_rank((5, 4), 2, 3)
    masks = deep.nested_masks((5, 4), [12, 14], seed=2)
    out = deep.deep_completion(M, masks, 3, 0.1, 300, seeds=[7, 8], tol=0, check_every=100)
    for r in range(2):
        ref = mfbook.gradient_descent(_completion(M, masks[r]), init_scale=0.1, depth=3, lr=out["lr"][r],
                                      max_steps=300, tol=0, seed=7 + r)
        np.testing.assert_allclose(out["W"][r], ref.W, rtol=1e-12, atol=1e-14)
    # the seeds of a run fix it: the same run in a batch of one gives the same matrix
    alone = deep.deep_completion(M, masks[1:], 3, 0.1, 300, seeds=[8], tol=0, check_every=100)
    np.testing.assert_array_equal(alone["W"][0], out["W"][1])


def test_deep_completion_stops_runs_at_the_tolerance_and_reports_divergence():
    M = deep.random_low_rank((6, 6), 1, 0)
    masks = deep.nested_masks((6, 6), [30, 36], seed=0)
    out = deep.deep_completion(M, masks, 2, 1e-2, 5000, tol=1e-8, check_every=50)
    assert np.all(out["loss"] < 1e-8) and np.all(out["steps"] < 5000) and np.all(out["steps"] % 50 == 0)
    with pytest.raises(mfbook.DivergenceError):
        deep.deep_completion(M, masks, 2, 1e-2, 500, lr_factor=50.0)


def test_nested_masks_are_nested_with_the_right_counts():
    masks = deep.nested_masks((7, 9), [5, 20, 63], seed=4)
    assert masks.sum(axis=(1, 2)).tolist() == [5, 20, 63]
    assert np.all(masks[0] <= masks[1]) and np.all(masks[1] <= masks[2])
    with pytest.raises(ValueError):
        deep.nested_masks((3, 3), [10])


def test_random_low_rank_has_the_rank_and_unit_rms():
    M = deep.random_low_rank((12, 8), 3, seed=5)
    sv = np.linalg.svd(M, compute_uv=False)
    assert sv[2] > 1e-8 * sv[0] and sv[3] < 1e-12 * sv[0]
    assert np.isclose(np.sqrt(np.mean(M ** 2)), 1.0)


def test_hidden_entry_error_and_effective_rank():
    M = deep.random_low_rank((4, 4), 1, 0)
    masks = deep.nested_masks((4, 4), [10], seed=0)
    assert deep.hidden_entry_error(M[None], M, masks)[0] == 0
    assert np.isclose(deep.hidden_entry_error(np.where(masks, M, 0.0), M, masks)[0], 1.0)
    assert np.isclose(deep.effective_rank(np.eye(3)), 3) and np.isclose(deep.effective_rank(M), 1)
