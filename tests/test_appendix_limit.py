"""The facts the appendix "How the limit is computed" (chapters/07_appendix_limit.ipynb) states
about the solvers, checked cheaply (the chapter itself asserts them on more examples)."""
import numpy as np

import mfbook
from mfbook.saddle_to_saddle import saddle_to_saddle

FOUR = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"


def test_every_escape_rate_is_the_top_singular_value_of_the_residual_gradient():
    """lambda_1 = sigma_1(E_c), E_c = (2/n) P(M - W_c), at every saddle of the limit path."""
    q = mfbook.Completion.parse(FOUR)
    res = mfbook.small_init_limit(FOUR)
    for s in res.saddles[:-1]:
        E = 2 / q.n_observed * np.where(q.mask, q.values - s.W, 0.0)
        assert abs(np.linalg.svd(E, compute_uv=False)[0] - s.rate) <= 1e-9 * s.rate


def test_a_double_top_singular_value_skips_the_rank_one_plateau():
    """The appendix's tie exercise: a tie at the origin goes straight to rank 2, a gap does not."""
    assert saddle_to_saddle("1 0; 0 1", seed=0, record=False).ranks == [0, 2]
    assert saddle_to_saddle("1 0; 0 0.9", seed=0, record=False).ranks == [0, 1, 2]


def test_training_from_a_tiny_start_reaches_the_limit_of_an_isolated_minimum():
    """Gradient flow from alpha = 1e-12 ends within 1e-4 (relative) of the limit on FOUR, whose
    rank-3 completion is unique; from alpha = 1 it does not (a wrong scale is refuted)."""
    lim = mfbook.small_init_limit(FOUR, seed=0)
    close = mfbook.gradient_flow(FOUR, init_scale=1e-12, seed=0, t_max=1e7).W
    far = mfbook.gradient_flow(FOUR, init_scale=1.0, seed=0, t_max=1e7).W
    rel = lambda W: np.linalg.norm(W - lim.W) / np.linalg.norm(lim.W)
    assert rel(close) <= 1e-4 < rel(far)


def test_a_width_too_small_is_not_reported_as_a_limit_by_the_reference():
    assert saddle_to_saddle("0 1; 2 *", width=1, record=False).status != "converged"
