"""Reference completions: min Frobenius, min nuclear norm, best rank-k, min rank."""
import numpy as np
import pytest

import mfbook
from mfbook import best_rank_k, min_frobenius, min_nuclear_norm, min_rank, nuclear_norm


def test_min_frobenius_fills_zeros_or_keeps_w0():
    W = min_frobenius("1 2 3; * 4 *; * * 9")
    assert W.tolist() == [[1, 2, 3], [0, 4, 0], [0, 0, 9]]
    W0 = np.full((2, 2), 7.0)
    assert min_frobenius("1 *; * 2", W0).tolist() == [[1, 7], [7, 2]]
    with pytest.raises(ValueError, match="shape"):
        min_frobenius("1 *; * 2", np.zeros((3, 3)))


@pytest.mark.parametrize("text, value, norm", [
    ("1 2; 3 *", 1.0, 5.0),       # ||W||_* = sqrt(14 + x^2 + 2|x - 6|), minimized at x = 1
    ("1 2; 10 *", 1.0, 12.0),
    ("1 2; * 3", 1.5, np.sqrt(14 + 2.25 + 2 * 0)),  # det = 0 at 1.5: rank 1 and min nuclear norm
    ("0 1; 2 *", 0.0, 3.0),
])
def test_min_nuclear_norm_on_2x2_closed_forms(text, value, norm):
    q = mfbook.Completion.parse(text)
    W = min_nuclear_norm(q)
    assert q.fits(W, 1e-8)
    assert W[~q.mask][0] == pytest.approx(value, abs=1e-4)
    assert nuclear_norm(W) == pytest.approx(norm, abs=1e-6)


def test_min_nuclear_norm_3x3_disconnected_is_15():
    assert nuclear_norm(min_nuclear_norm("1 * 3; * 5 *; 3 * 9")) == pytest.approx(15.0, abs=1e-6)


def test_best_rank_k_is_exact_when_a_fit_exists_and_agrees_across_starts():
    q = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"
    fits = [best_rank_k(q, k) for k in range(4)]
    losses = [f.loss for f in fits]
    assert all(a > b for a, b in zip(losses, losses[1:]))   # strictly better with each rank
    assert losses[3] < 1e-16
    assert fits[1].hits >= 12 and fits[2].hits >= 12          # most starts agree: evidence of the global fit
    assert np.linalg.matrix_rank(fits[2].W, tol=1e-8) == 2
    # rank-1 fit of a rank-1 completable pattern is exact
    assert best_rank_k("1 2; 10 *", 1).loss < 1e-20


@pytest.mark.parametrize("text, rank, fill", [
    ("1 2; 10 *", 1, 20.0),
    ("1 2; 3 *", 1, 6.0),
    ("1 2; * 3", 1, 1.5),
    ("0 1; 2 *", 2, None),       # a rank-1 fit would need W11 = 0 with W12, W21 != 0: impossible
    ("1 2 3; * 4 *; * * 9", 1, None),
    ("0 0; 0 *", 0, 0.0),
])
def test_min_rank(text, rank, fill):
    q = mfbook.Completion.parse(text)
    r, W = min_rank(q)
    assert r == rank and q.fits(W, 1e-6)
    assert np.linalg.matrix_rank(W, tol=1e-6) == r
    if fill is not None:
        assert W[~q.mask][0] == pytest.approx(fill, abs=1e-6)


def test_remembered_references_are_copies_and_keyed_by_the_problem():
    first = min_rank("1 2; 10 *")[1]
    first[1, 1] = -1.0                                   # the caller may scribble on its copy
    assert min_rank("1 2; 10 *")[1][1, 1] == pytest.approx(20.0, abs=1e-8)
    assert min_rank("1 2; 11 *")[1][1, 1] == pytest.approx(22.0, abs=1e-8)   # another problem, another answer
    assert min_rank("1 2; 10 *", tol=1e-10)[0] == 1


def test_min_rank_decides_rank_one_exactly_where_alternating_least_squares_crawls():
    # a connected pattern whose six entries form a spanning tree of G_M: a rank-one completion
    # exists, but alternating least squares crawls on it and min_rank used to answer 2
    tree = mfbook.Completion.parse("* -0.287 -0.675 *; * * * 0.763; * -0.024 * -0.018; * * -0.729 *")
    rank, W = mfbook.min_rank(tree)
    assert rank == 1 and tree.fits(W, atol=1e-12) and np.linalg.matrix_rank(W) == 1
    inconsistent = mfbook.Completion.parse("1 2; 3 4")                 # the only cycle disagrees
    assert mfbook.min_rank(inconsistent)[0] == 2
