"""Whatever the input, every public entry point either answers (a result that fits the data within its
stated tolerance, finite, with a status that tells the truth) or raises a ValueError/TypeError whose
message names what is wrong: never another exception type, a numba typing error, a process abort, a
hang or NaN. Generated inputs, about 1,300 in all (hypothesis; the examples are derandomized, so a
run is reproducible).

The generators mix ordinary data with what breaks solvers: text that is not a matrix, shapes from
1 x 1 up, repeated values (ties), observed zeros, all-zero observations, scales from 1e-150 to 1e150,
NaN and infinity where they are not allowed."""
import io
import math
from contextlib import redirect_stderr, redirect_stdout

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mfbook
from mfbook.__main__ import main
from mfbook.connectivity import KINDS

FAST = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
FIT = 1e-6     # relative misfit a converged limit may leave: the solver polishes to rounding level,
               # 1e-6 leaves room for the conditioning of a 4 x 4 completion (observed: <= 1e-12)

TOKENS = st.sampled_from(["1", "-2", "0", "3.5", "1e300", "*", "?", "nan", "inf", "x", "[", "]", ";", " ",
                          ",", "1e-300", "--1", ""])


@st.composite
def problems(draw, max_side=4, scales=True):
    """A completion problem: shape, values (with ties and zeros), a mask with at least one entry."""
    d1, d2 = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    pool = draw(st.lists(st.sampled_from([0.0, 1.0, -1.0, 2.0, 3.0, -0.5, 10.0]), min_size=1, max_size=4))
    values = np.array(draw(st.lists(st.one_of(st.sampled_from(pool), st.floats(-5, 5)),
                                    min_size=d1 * d2, max_size=d1 * d2))).reshape(d1, d2)
    mask = np.array(draw(st.lists(st.booleans(), min_size=d1 * d2, max_size=d1 * d2))).reshape(d1, d2)
    mask.flat[draw(st.integers(0, d1 * d2 - 1))] = True
    scale = 10.0 ** draw(st.integers(-150, 150)) if scales else 1.0
    return mfbook.Completion(values * scale, mask)


def _fits(problem, W, rel=FIT):
    size = problem.scale or 1.0
    return np.all(np.isfinite(W)) and np.abs(problem.residual(W)).max() <= rel * size


@settings(FAST, max_examples=300)
@given(st.lists(TOKENS, max_size=12).map(" ".join))
def test_parse_returns_a_problem_or_a_clear_error(text):
    try:
        p = mfbook.Completion.parse(text)
    except ValueError as err:
        assert str(err)
        return
    assert p.n_observed >= 1 and np.all(np.isfinite(p.values))


@settings(FAST, max_examples=200)
@given(st.integers(0, 3).flatmap(lambda nd: st.lists(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(0.0)),
    min_size=max(1, 2 ** nd), max_size=max(1, 2 ** nd)).map(lambda v: (nd, v))), st.booleans())
def test_from_arrays_accepts_a_matrix_or_says_why_not(nd_values, with_mask):
    nd, values = nd_values
    arr = np.array(values).reshape((2,) * nd) if nd else np.array(values[0])
    mask = np.ones(arr.shape, bool) if with_mask else None
    try:
        p = mfbook.Completion.from_arrays(arr, mask)
    except ValueError as err:
        assert str(err)
        return
    assert arr.ndim == 2 and np.all(np.isfinite(p.values[p.mask]))


@settings(FAST, max_examples=300)
@given(problems(), st.integers(0, 2**63 - 1), st.one_of(st.none(), st.integers(1, 3)))
def test_small_init_limit_answers_truthfully(problem, seed, width):
    """"converged" means a critical point, and at full width (no narrower than min(d1, d2), Theorem 1)
    one that fits every observation; "unbounded", "stalled" and "not settled" are the only other
    words."""
    res = mfbook.small_init_limit(problem, seed=seed, width=width)
    assert res.status in ("converged", "unbounded", "stalled", "not settled")
    assert np.all(np.isfinite(res.W))
    if res.status == "converged":
        unit, c = problem.normalized()
        _, grads = mfbook.loss_gradient([res.A / np.sqrt(c), res.B / np.sqrt(c)], unit.values, unit.mask)
        assert res.saddles and max(np.abs(g).max() for g in grads) < 1e-7, (problem, width, res.status)
        if width is None or width >= min(problem.shape):
            assert _fits(problem, res.W), (problem, res.status, res.W)
        assert res.rank == res.ranks[-1]


@settings(FAST, max_examples=150)
@given(problems())
def test_min_rank_and_connectivity_answer_every_problem(problem):
    rank, W = mfbook.min_rank(problem)
    assert 0 <= rank <= min(problem.shape) and _fits(problem, W, 1e-8)
    assert (rank == 0) == (problem.scale == 0.0)
    conn = mfbook.connectivity(problem)
    assert conn.kind in KINDS
    assert sum(len(c.rows) for c in conn.components) <= problem.shape[0]


@settings(FAST, max_examples=60)
@given(problems(max_side=3, scales=False))
def test_min_nuclear_norm_fits_every_problem(problem):
    W = mfbook.min_nuclear_norm(problem)
    assert _fits(problem, W, 1e-5)      # an interior-point solver: about 1e-7 relative, 1e-5 leaves room


@settings(FAST, max_examples=60)
@given(problems(max_side=3), st.floats(1e-4, 1e-1), st.integers(0, 1000))
def test_gradient_flow_fits_or_says_it_did_not(problem, alpha, seed):
    tr = mfbook.gradient_flow(problem, init_scale=alpha * math.sqrt(problem.scale or 1.0), seed=seed,
                              t_max=1e4 / (problem.scale or 1.0))
    assert np.all(np.isfinite(tr.W))
    if tr.converged:
        assert _fits(problem, tr.W, 1e-6)


@settings(FAST, max_examples=60)
@given(problems(max_side=3, scales=False), st.sampled_from([1e-3, 0.05, 0.5, 5.0]), st.integers(0, 100))
def test_gradient_descent_converges_or_raises_divergence(problem, lr, seed):
    try:
        tr = mfbook.gradient_descent(problem, init_scale=1e-2, lr=lr, max_steps=3000, seed=seed)
    except mfbook.DivergenceError as err:
        assert "lr" in str(err)
        return
    assert np.all(np.isfinite(tr.W)) and np.all(np.isfinite(tr.loss))
    if tr.converged:
        assert _fits(problem, tr.W, 1e-5)


CLI_ARGS = st.lists(st.sampled_from(["complete", "1 2; 3 *", "1 2; * *", "x", "--init", "1e300", "1e-3", "-1",
                                     "--depth", "3", "0", "--seed", "-5", "2**70", "--no-convex", "--bogus"]),
                    max_size=6)


@settings(FAST, max_examples=120)
@given(CLI_ARGS)
def test_the_command_line_answers_or_prints_one_line(argv):
    """Exit 0 with results, or a non-zero code with an error on stderr; never a traceback."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["complete", "--no-convex"] + argv if argv[:1] != ["complete"] else argv + ["--no-convex"])
        except SystemExit as stop:     # argparse: usage errors and --help
            code = stop.code
    assert "Traceback" not in err.getvalue() + out.getvalue()
    assert "nan" not in out.getvalue().lower().replace("nuclear", "")
    if code:
        assert err.getvalue().strip()


@pytest.mark.parametrize("bad", [None, 3, [[1, 2]], b"1 2"])
def test_parse_refuses_what_is_not_text(bad):
    with pytest.raises(TypeError, match="string"):
        mfbook.Completion.parse(bad)
