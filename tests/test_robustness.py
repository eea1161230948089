"""Whatever the input, a call returns an answer that fits the data or raises a clear error (issue:
no crash, no silent wrong answer). The completion problems are scale-invariant, and so must the
solvers be: the answer for c*M is c times the answer for M, at every scale of the data."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mfbook
from mfbook import references

SCALES = st.floats(min_value=-200, max_value=200).map(lambda e: 10.0 ** e)
BASE = {"1 2; 10 *": 20.0, "1 2; * 3": 1.5, "1 2 3; * 4 *; * * 9": 6.0}


@settings(max_examples=60, deadline=None)
@given(c=SCALES, sign=st.sampled_from([1.0, -1.0]), text=st.sampled_from(sorted(BASE)))
def test_min_rank_answers_the_same_problem_at_every_scale(c, sign, text):
    p = mfbook.Completion.parse(text)
    scaled = mfbook.Completion(sign * c * p.values, p.mask)
    rank, W = mfbook.min_rank(scaled)
    assert rank == 1                                    # rank 0 at 1e160 / 1e-300 before
    assert scaled.fits(W, atol=1e-8 * c)                # fits the data to 1e-8 relative
    assert np.allclose(W / (sign * c), mfbook.min_rank(p)[1], rtol=1e-8, atol=1e-8)


@settings(max_examples=25, deadline=None)
@given(c=SCALES)
def test_min_nuclear_norm_answers_the_same_problem_at_every_scale(c):
    p = mfbook.Completion.parse("1 2; 3 *")             # minimum nuclear norm completion: * = 1
    W = mfbook.min_nuclear_norm(mfbook.Completion(c * p.values, p.mask))
    assert np.all(np.isfinite(W)) and abs(W[1, 1] / c - 1.0) < 1e-4   # said "infeasible" from 1e10


@settings(max_examples=40, deadline=None)
@given(c=SCALES, k=st.integers(0, 2))
def test_best_rank_k_scales_with_the_data(c, k):
    p = mfbook.Completion.parse("4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6")
    unit, big = mfbook.best_rank_k(p, k), mfbook.best_rank_k(mfbook.Completion(c * p.values, p.mask), k)
    assert np.allclose(big.W / c, unit.W, rtol=1e-9, atol=1e-9)
    if 1e-290 < unit.loss * c * c < 1e290:   # a loss of data beyond 1e+-150 over/underflows itself
        assert np.isclose(big.loss / c / c, unit.loss, rtol=1e-9, atol=1e-300)


def test_all_zero_observations_have_the_zero_completion():
    p = mfbook.Completion.parse("0 0; 0 *")
    assert mfbook.min_rank(p)[0] == 0 and np.all(mfbook.min_nuclear_norm(p) == 0)


def test_min_nuclear_norm_refuses_sizes_it_cannot_solve_before_allocating():
    big = mfbook.Completion.from_arrays(np.ones((1, 2000)))       # asked for 32 TB before
    with pytest.raises(ValueError, match="problem: min_nuclear_norm supports d1 \\+ d2 <= "):
        mfbook.min_nuclear_norm(big)
    assert references.MAX_NUCLEAR_SIZE >= 60                       # 30 x 30 is still served


LIMIT_CASES = ["4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6", "1 * 3; * 5 *; 3 * 9", "1 2; 10 *",
               "0 1; 2 *", "1 * 1; * * *; 1 * -1"]


@settings(max_examples=150, deadline=None)
@given(c=SCALES, text=st.sampled_from(LIMIT_CASES))
def test_small_init_limit_answers_the_same_problem_at_every_scale(c, text):
    """W = 0 "converged" at 1e155 and 1e-200, "stalled"/"unbounded" from 1e-16 to 1e-160 before;
    now the data are divided by a power of 4 near their size, so the path is the same up to rounding
    (a power-of-4 rescaling is exact; the rest of c is an ordinary relative change of the data, which
    moves the result by rounding errors only, hence 1e-9 relative). (-M is not the same problem for
    a given seed: (A, B) -> (-A, B) maps the flow of M to that of -M but changes the initial direction,
    and the limits of "1 * 3; * 5 *; 3 * 9" depend on it.)"""
    p = mfbook.Completion.parse(text)
    unit = mfbook.small_init_limit(p)
    big = mfbook.small_init_limit(mfbook.Completion(c * p.values, p.mask))
    assert (big.status, big.ranks) == (unit.status, unit.ranks)
    assert np.allclose(big.W / c, unit.W, rtol=1e-9, atol=1e-9 * p.scale)
    assert [s.rate / c for s in big.saddles] == pytest.approx([s.rate for s in unit.saddles], rel=1e-9)


@settings(max_examples=20, deadline=None)
@given(e=st.integers(-150, 150))
def test_gradient_flow_answers_the_same_problem_at_every_scale(e):
    """cM from init alpha sqrt(c) is the flow of M from alpha with time divided by c: the same
    trajectory (tol is relative to the data's size; it was absolute: data near 1e-6 "converged" at
    step 0 and data near 1e6 took 12 million evaluations). 1e-8: the integrator's tolerance."""
    c = 10.0 ** e
    p = mfbook.Completion.parse(LIMIT_CASES[0])
    unit = mfbook.gradient_flow(p, init_scale=1e-4)
    big = mfbook.gradient_flow(mfbook.Completion(c * p.values, p.mask), init_scale=1e-4 * np.sqrt(c),
                               t_max=1e6 / c)
    assert big.converged and unit.converged
    assert np.allclose(big.W / c, unit.W, rtol=0, atol=1e-8 * p.scale)
    # the same steps up to rounding: alpha sqrt(c) is not a power of two, so the step-size controller
    # sees other last digits and may take a few more or fewer steps (3 of 373 seen at 1e-97)
    assert abs(len(big.t) - len(unit.t)) <= 0.02 * len(unit.t)


@pytest.mark.parametrize("kwargs, kind, word", [
    (dict(max_saddles=-1), ValueError, "max_saddles"), (dict(max_saddles=1e9), TypeError, "max_saddles"),
    (dict(width=0), ValueError, "width"), (dict(width=2.5), TypeError, "width"),
    (dict(rtol="1e-8"), ValueError, "rtol"), (dict(rtol=1.0), ValueError, "rtol"),
    (dict(rtol=-1.0), ValueError, "rtol"), (dict(rtol=float("nan")), ValueError, "rtol"),
    (dict(seed=2**70), ValueError, "seed"), (dict(seed=-1), ValueError, "seed"),
    (dict(seed=[1, 2]), TypeError, "seed"), (dict(seed=np.random.default_rng(0)), TypeError, "seed"),
    (dict(seed=1.5), TypeError, "seed"), (dict(record="yes"), TypeError, "record"),
])
def test_small_init_limit_checks_every_parameter_at_the_boundary(kwargs, kind, word):
    """Each bad parameter is refused before any computation, with the parameter's name (issue 20:
    some of these wrote out of bounds in compiled code, others gave numba typing errors or a wrong
    "unbounded" result)."""
    with pytest.raises(kind, match=word):
        mfbook.small_init_limit("1 2; 3 *", **kwargs)


def test_zero_saddles_is_served():
    """max_saddles=0 (no departure allowed) ends at the origin, within the memory it has."""
    res = mfbook.small_init_limit("1 2; 3 *", max_saddles=0)
    assert res.status in ("stalled", "converged") and np.all(np.isfinite(res.W))


def test_importing_mfbook_leaves_matplotlib_alone():
    import subprocess
    import sys

    code = ("import matplotlib as mpl; before = dict(mpl.rcParams); import mfbook; "
            "changed = [k for k, v in mpl.rcParams.items() if before[k] != v]; print(changed)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_glue_hands_myst_nb_python_numbers():
    from mfbook.pages import glue

    assert type(glue("x", np.float64(0.5))) is float and type(glue("n", np.int64(3))) is int
    assert glue("a", np.array(2.0)) == 2.0 and type(glue("a", np.array(2.0))) is float
    with pytest.raises(ValueError, match="NaN"):
        glue("bad", np.nan)
