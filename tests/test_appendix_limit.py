"""The facts the appendix "How the limit is computed" (chapters/07_appendix_limit.ipynb) states
about the solvers, checked cheaply (the chapter itself asserts them on more examples)."""
import importlib

import numpy as np
import pytest

import mfbook
from mfbook.saddle_to_saddle import saddle_to_saddle
from mfbook.sweep import sample_problems

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


def _sweep_run(r):
    """Run ``r`` of the appendix's 144-run sweep: its problem and its seed."""
    _, _, truth, mask = sample_problems(ranks=(1, 2, 3), sizes=range(1, 17), repeats=3, seed=2024)
    return mfbook.Completion.from_arrays(truth[r], mask[r]), 2024 + r


def test_where_double_precision_cannot_follow_the_limit_many_digits_do():
    """Run 81 of the sweep: its limit is the rank-2 ground truth, but gradient flow in double
    precision ends at rank 3, far from it (here from alpha = 1e-30). The limit path crosses a transit
    so long that an inner direction it leaves unused grows by more than 1e30 on it; in double
    precision rounding errors keep that direction at 1e-16 of the factors or more, so it always
    leaves. With 80 digits from alpha = 1e-100 the flow ends on the limit (measured: 60 digits
    suffice, 50 do not). The check is shown able to fail twice: with 30 digits from the same alpha
    (the digits matter), and with the same 80 digits from alpha = 1e-50 (alpha matters too).
    Tolerance 1e-5: the stop at loss 1e-14 of the data's scale squared leaves ~1e-7 on observed
    entries and tens of times more on hidden ones."""
    q, seed = _sweep_run(81)
    lim = mfbook.small_init_limit(q, seed=seed)
    assert lim.status == "converged" and lim.rank == 2
    rel = lambda W: np.linalg.norm(W - lim.W) / np.linalg.norm(lim.W)   # noqa: E731
    double = mfbook.gradient_flow(q, init_scale=1e-30, seed=seed, t_max=1e7)
    enough = mfbook.precise_gradient_flow(q, init_scale=1e-100, digits=80, seed=seed)
    few_digits = mfbook.precise_gradient_flow(q, init_scale=1e-100, digits=30, seed=seed)
    alpha_too_big = mfbook.precise_gradient_flow(q, init_scale=1e-50, digits=80, seed=seed)
    assert all(run.converged for run in (double, enough, few_digits, alpha_too_big))
    assert rel(enough.W) <= 1e-5
    for run in (double, few_digits, alpha_too_big):
        assert rel(run.W) > 0.2 and mfbook.numerical_rank(run.W) == 3


@pytest.mark.parametrize("r", [112, 115, 122])
def test_a_later_escape_starts_from_the_leading_part_of_the_initial_direction(r, monkeypatch):
    """Runs 112, 115 and 122 of the sweep (observed entries in two pieces): the entries of W between
    the pieces depend on the inner direction of the big piece's second escape, and so on what of the
    initial direction survives its first plateau. As alpha -> 0 that is only its part in the leading
    eigenspace of -H (it outgrows the rest by a power of alpha). Both solvers agree with training
    from alpha = 1e-100 with 120 digits (measured: within 2e-7, the training's stop at loss 1e-14).
    The check is shown able to fail: the reference carrying the whole rest, as both solvers did
    before, misses by 2e-3 to 3e-2 (2.5e-3, 4.5e-3 and 3.1e-2 from training with 120 to 240 digits
    and alpha from 1e-30 to 1e-200). Tolerance 1e-5: 50 times the training's own error, 200 times
    below the wrong science's."""
    q, seed = _sweep_run(r)
    trained = mfbook.precise_gradient_flow(q, init_scale=1e-100, digits=120, seed=seed)
    assert trained.converged
    rel = lambda W: np.linalg.norm(W - trained.W) / np.linalg.norm(trained.W)   # noqa: E731
    compiled = mfbook.small_init_limit(q, seed=seed)
    ref = saddle_to_saddle(q, seed=seed, record=False)
    assert compiled.method == "components" and compiled.status == ref.status == "converged"
    assert rel(compiled.W) <= 1e-5 and rel(ref.W) <= 1e-5
    reference = importlib.import_module("mfbook.saddle_to_saddle")    # (the package exports the function)
    monkeypatch.setattr(reference, "_leading_part", lambda P, H, rest, inside, lam: rest)
    assert rel(saddle_to_saddle(q, seed=seed, record=False).W) > 1e-3
