"""Tests of mfbook.noise: noisy problems, the test error, and early stopping as rank selection."""
import numpy as np
import pytest

import mfbook
from mfbook import noise, sweep


def test_noisy_completion_touches_observed_entries_only_and_is_seeded():
    truth = np.arange(9.0).reshape(3, 3) + 1
    mask = np.eye(3, dtype=bool)
    p = noise.noisy_completion(truth, mask, 0.5, seed=3)
    q = noise.noisy_completion(truth, mask, 0.5, seed=3)
    assert np.array_equal(p.values, q.values) and np.array_equal(p.mask, mask)
    assert np.all(p.values[~mask] == 0) and not np.allclose(p.values[mask], truth[mask])
    assert np.allclose(noise.noisy_completion(truth, mask, 0.0).values[mask], truth[mask])
    with pytest.raises(ValueError):
        noise.noisy_completion(truth, mask, -1.0)


def test_test_error_is_relative_and_ignores_observed_entries():
    truth = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[True, False], [True, False]])
    W = truth.copy()
    W[mask] += 100.0                                     # errors on observed entries do not count
    assert noise.test_error(W, truth, mask) == 0.0
    assert np.isclose(noise.test_error(np.zeros((2, 2)), truth, mask), 1.0)
    assert noise.test_error(np.stack([truth, 0 * truth]), truth, mask).shape == (2,)
    with pytest.raises(ValueError):
        noise.test_error(truth, truth, np.ones((2, 2), bool))


def _runs(sigma, init_scale=1e-8, t_max=1e6, count=10):
    _, _, truth, mask = sweep.sample_problems(ranks=(2,), sizes=(70,), repeats=count, d=10, seed=7)
    return [noise.early_stopping_path(noise.noisy_completion(truth[i], mask[i], sigma, seed=i), truth[i],
                                      init_scale=init_scale, t_max=t_max) for i in range(count)]


@pytest.fixture(scope="module")
def noisy():
    return _runs(0.1)


def test_early_stopping_path_records(noisy):
    run = noisy[0]
    assert run.converged and run.loss[-1] < 1e-9
    assert run.rank[0] == 0 and run.rank[-1] > 2 and np.all(np.diff(run.t) > 0)
    k = run.best(2)
    assert run.rank[k] == 2 and run.error[k] == run.error[run.rank == 2].min()
    assert list(run.at([run.t[3], run.t[3] + 1e-12, 1e99])) == [3, 3, run.t.size - 1]


def test_early_stopping_selects_the_rank_on_noisy_data(noisy):
    s = noise.early_stopping_summary(noisy, true_rank=2)
    assert s["reach_rank"] == 1.0 and s["above_rank"] >= 0.9
    assert s["near_best"] >= 0.8 and s["overfit"] >= 0.9


def test_early_stopping_refuted_without_noise():
    s = noise.early_stopping_summary(_runs(0.0, t_max=2e3), true_rank=2)   # nothing to overfit
    assert s["above_rank"] < 0.9 or s["overfit"] < 0.9


def test_early_stopping_refuted_by_a_large_initialization():
    s = noise.early_stopping_summary(_runs(0.1, init_scale=1.0), true_rank=2)
    assert s["reach_rank"] < 1.0 or s["near_best"] < 0.8 or s["overfit"] < 0.9
