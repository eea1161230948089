"""Gradients, Hessian, gradient descent and gradient flow."""
import numpy as np
import pytest

import mfbook
from mfbook import DivergenceError, gradient_descent, gradient_descent_batch, gradient_flow
from mfbook.factorization import hessian, init_factors, loss, loss_gradient

PROBLEM = mfbook.Completion.parse("4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6")


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_gradient_matches_finite_differences(depth):
    factors = init_factors(PROBLEM.shape, 0.7, seed=3, depth=depth)
    _, grads = loss_gradient(factors, PROBLEM.values, PROBLEM.mask)
    h = 1e-6
    for k, F in enumerate(factors):
        num = np.zeros_like(F)
        for idx in np.ndindex(F.shape):
            plus = [f.copy() for f in factors]
            minus = [f.copy() for f in factors]
            plus[k][idx] += h
            minus[k][idx] -= h
            num[idx] = (loss(plus, PROBLEM.values, PROBLEM.mask) - loss(minus, PROBLEM.values, PROBLEM.mask)) / (2 * h)
        np.testing.assert_allclose(grads[k], num, rtol=1e-6, atol=1e-8)


def test_hessian_matches_finite_differences_of_the_gradient():
    A, B = init_factors((3, 3), 0.8, seed=1)
    q = mfbook.Completion.parse("1 * 3; * 5 *; 3 * 9")
    H = hessian(A, B, q.values, q.mask)
    theta = np.concatenate([A.ravel(), B.ravel()])
    h = 1e-6

    def grad(th):
        g = loss_gradient([th[:9].reshape(3, 3), th[9:].reshape(3, 3)], q.values, q.mask)[1]
        return np.concatenate([g[0].ravel(), g[1].ravel()])

    num = np.array([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in np.eye(18)]).T
    np.testing.assert_allclose(H, num, atol=1e-7)
    np.testing.assert_allclose(H, H.T)


def test_flow_agrees_with_descent_at_small_step():
    gf = gradient_flow("1 2; 3 *", init_scale=0.1, seed=2, tol=1e-14)
    gd = gradient_descent("1 2; 3 *", init_scale=0.1, lr=1e-3, seed=2, tol=1e-14, max_steps=200_000)
    assert gd.converged and gf.converged
    # gradient descent is a first-order scheme: its end point differs from the flow's by O(lr)
    assert abs(gd.W[1, 1] - gf.W[1, 1]) < 5e-3
    gd_big = gradient_descent("1 2; 3 *", init_scale=0.1, lr=1e-2, seed=2, tol=1e-14, max_steps=200_000)
    assert abs(gd_big.W[1, 1] - gf.W[1, 1]) > abs(gd.W[1, 1] - gf.W[1, 1])


def test_flow_accuracy_statement():
    loose = gradient_flow(PROBLEM, init_scale=1e-3, seed=0)
    tight = gradient_flow(PROBLEM, init_scale=1e-3, seed=0, rtol=1e-12)
    assert loose.converged
    assert np.abs(loose.W - tight.W).max() < 1e-7
    # a plateau costs few steps: far fewer records than the equivalent descent steps
    assert len(loose.t) < 3000 and loose.t[-1] > 50


def test_trajectory_records_are_consistent():
    tr = gradient_descent("1 2; 10 *", init_scale=1e-3, lr=0.05, seed=0)
    assert tr.converged and tr.loss[-1] < 1e-10
    np.testing.assert_allclose(tr.W_path[-1], tr.W)
    assert tr.sv_W.shape == (len(tr.t), 2) and tr.sv_aug.shape == (len(tr.t), 2)
    np.testing.assert_allclose(tr.loss, [PROBLEM_LOSS(W) for W in tr.W_path], rtol=1e-9, atol=1e-300)


def PROBLEM_LOSS(W):
    return mfbook.Completion.parse("1 2; 10 *").loss(W)


def test_same_seed_same_start_and_reproducible():
    a = gradient_descent("1 2; 3 *", init_scale=1e-2, seed=5)
    b = gradient_descent("1 2; 3 *", init_scale=1e-2, seed=5)
    np.testing.assert_array_equal(a.W, b.W)
    f = gradient_flow("1 2; 3 *", init_scale=1e-2, seed=5)
    np.testing.assert_allclose(a.W_path[0], f.W_path[0])


def test_divergence_is_reported_with_advice():
    with pytest.raises(DivergenceError, match="lr=5.0 is too large"):
        gradient_descent("1 2; 10 *", init_scale=0.1, lr=5.0)
    with pytest.raises(ValueError, match="lr must be"):
        gradient_descent("1 2; 3 *", lr=-1)
    with pytest.raises(ValueError, match="init_scale"):
        gradient_flow("1 2; 3 *", init_scale=float("nan"))
    with pytest.raises(DivergenceError):
        gradient_descent_batch(np.ones((2, 2, 2)) * 10, np.ones((2, 2, 2), bool), init_scale=0.1, lr=5.0)


def test_batch_descent_matches_single_problems():
    """Run r of a batch is gradient_descent with seed + r: the same start, the same steps."""
    problems = [mfbook.Completion.parse(s) for s in ("1 2; * 3", "1 2; 3 *", "0 1; 2 *")]
    W, lossv, steps = gradient_descent_batch([q.values for q in problems], [q.mask for q in problems],
                                             init_scale=1e-6, lr=0.1, tol=1e-12, seed=5, check_every=1)
    assert (lossv < 1e-12).all()
    for k, q in enumerate(problems):
        single = gradient_descent(q, init_scale=1e-6, lr=0.1, tol=1e-12, seed=5 + k)
        assert steps[k] == single.info["steps"]
        # the same arithmetic in another order (stacked products): agreement to rounding, amplified
        # by the escapes from the saddles
        np.testing.assert_allclose(W[k], single.W, rtol=1e-7, atol=1e-9)


def test_a_batch_run_does_not_depend_on_its_batch_mates():
    one = mfbook.Completion.parse("1 2; 10 *")
    others = [mfbook.Completion.parse(s) for s in ("1 2; * 3", "3 * ; 1 2")]
    runs = [gradient_descent_batch([one.values, q.values], [one.mask, q.mask], init_scale=1e-4, seed=[9, 2])[0][0]
            for q in others]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_depth2_fast_path_matches_the_general_gradient():
    from mfbook.training import _depth2_loss_gradient

    rng = np.random.default_rng(3)
    A, B, V = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    mask = rng.random((3, 5)) < 0.5
    value, grads = _depth2_loss_gradient(V, mask)([A, B])
    ref_value, ref_grads = loss_gradient([A, B], V, mask)
    assert value == pytest.approx(float(ref_value), rel=1e-13)
    for g, r in zip(grads, ref_grads):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("text, scale", [("1 2; 10 *", 1e-6), ("1 * 3; * 5 *; 3 * 9", 1e-3), (PROBLEM, 1e-2)])
def test_compiled_flow_follows_scipy(monkeypatch, text, scale):
    import mfbook.training as training

    fast = gradient_flow(text, init_scale=scale, seed=1, tol=1e-12)
    monkeypatch.setattr(training, "_kernel", None)           # scipy's solve_ivp, the same method
    slow = gradient_flow(text, init_scale=scale, seed=1, tol=1e-12)
    assert fast.converged and slow.converged
    assert np.abs(fast.W - slow.W).max() < 1e-7
    assert abs(fast.t[-1] / slow.t[-1] - 1) < 1e-4             # the same end time, found inside a step
    level = 1e-12 * mfbook.as_completion(text).scale ** 2      # tol is relative to the largest |M_ij|
    assert 0.99 * level < fast.loss[-1] < level               # just below tol, like the event
    assert abs(len(fast.t) / len(slow.t) - 1) < 0.1            # about as many steps


def test_gradient_flow_keeps_its_step_budget_on_a_large_problem():
    """100 x 100 (20,000 parameters, the scipy path) from a small start: max_steps bounds the work and
    the run says it did not converge (it used to integrate on for hours toward t_max)."""
    import time

    rng = np.random.default_rng(0)
    truth = rng.standard_normal((100, 3)) @ rng.standard_normal((3, 100))
    problem = mfbook.Completion(truth, rng.random((100, 100)) < 0.4)
    start = time.perf_counter()
    run = gradient_flow(problem, init_scale=1e-3, max_steps=50)
    assert not run.converged and run.info["steps"] == 50 and len(run.t) == 51
    assert time.perf_counter() - start < 60          # (about 1 s here; a hang would take hours)


@pytest.mark.parametrize("scale", [1.0, 1e-150, 1e150])
def test_precise_flow_is_the_same_flow_as_double_precision(scale):
    """Where rounding plays no part (alpha = 1e-3, a short path) the many-digit flow ends where the
    double-precision flow does, and at every data scale. Tolerance 1e-7: two integrators (DOP853 at
    rtol 1e-10, Dormand-Prince 5(4) at 1e-9) and the stop at loss 1e-16 leave ~1e-8 each."""
    q = mfbook.Completion.parse("1 2; 3 *")
    q = mfbook.Completion(q.values * scale, q.mask)
    alpha, t_max = 1e-3 * np.sqrt(scale), 1e6 / scale          # the flow of cM is that of M, c times faster
    double = gradient_flow(q, init_scale=alpha, seed=3, t_max=t_max)
    many = mfbook.precise_gradient_flow(q, init_scale=alpha, digits=30, seed=3, rtol=1e-9, t_max=t_max,
                                        tol=1e-16)
    assert double.converged and many.converged
    assert np.abs(many.W - double.W).max() <= 1e-7 * scale
    assert abs(many.W[1, 1] / scale - 6) > 0.1             # alpha = 1e-3 is not yet the limit (W22 -> 6)
    assert abs(many.t[-1] / double.t[-1] - 1) < 0.05       # it stops at the end of the step that gets there
    assert many.info["digits"] == 30 and many.loss[-1] < 1e-16 * (3 * scale) ** 2


@pytest.mark.parametrize("kwargs, error, word", [
    ({"digits": 10}, ValueError, "digits"), ({"digits": 40.0}, TypeError, "digits"),
    ({"digits": True}, TypeError, "digits"), ({"init_scale": 0.0}, ValueError, "init_scale"),
    ({"rtol": 0.5}, ValueError, "rtol"), ({"max_steps": 0}, ValueError, "max_steps"),
    ({"tol": float("nan")}, ValueError, "tol")])
def test_precise_flow_refuses_bad_input(kwargs, error, word):
    with pytest.raises(error, match=word):
        mfbook.precise_gradient_flow("1 2; 3 *", **kwargs)
