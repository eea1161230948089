"""mfbook.attention (one softmax head with factorized query-key matrix) and mfbook.deep's stable descent."""
import numpy as np

import mfbook
from mfbook import attention, deep


def test_gradient_matches_finite_differences():
    task = attention.make_task(rank=1, dim=3, tokens=4, samples=7, seed=2)
    rng = np.random.default_rng(0)
    M = rng.normal(size=(1, 3, 3))
    Phi, v = attention._features(task["X"]), task["X"] @ task["c"]
    _, G = attention._loss_grad_M(M, Phi, v, task["y"])
    h = 1e-6
    num = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            E = np.zeros((1, 3, 3)); E[0, i, j] = h
            num[i, j] = (attention._loss_grad_M(M + E, Phi, v, task["y"])[0][0]
                         - attention._loss_grad_M(M - E, Phi, v, task["y"])[0][0]) / (2 * h)
    np.testing.assert_allclose(G[0], num, rtol=1e-6, atol=1e-9)


def test_target_fits_itself_and_output_is_batched():
    task = attention.make_task(rank=2, dim=4, tokens=3, samples=5, seed=1)
    np.testing.assert_allclose(attention.head_output(task["M"][None], task["X"], task["c"])[0], task["y"])


def test_tangent_dimension_is_2rd_minus_r2():
    rng = np.random.default_rng(3)
    for r in (1, 2, 3):
        A = rng.normal(size=(5, r)) @ rng.normal(size=(r, 5))
        B = rng.normal(size=(5, r)) @ rng.normal(size=(r, 5))
        assert attention.factor_tangent_dimension(A, B, rtol=1e-8) == 2 * r * 5 - r * r


def test_stable_descent_equals_gradient_descent_while_the_step_is_capped():
    run = deep.descent_with_stable_step("* 1; 1 0", [4], 0.05, 3, t_max=2.0, max_lr=0.01, record_every=2.0)
    ref = mfbook.gradient_descent("* 1; 1 0", init_scale=0.05, depth=3, lr=0.01, max_steps=200, tol=0, seed=4)
    np.testing.assert_allclose(run["W"][0, -1], ref.W, rtol=1e-9, atol=1e-15)


def test_balanced_factors_are_balanced_and_multiply_back():
    W = np.random.default_rng(0).normal(size=(3, 2, 2))
    F = deep.balanced_factors(W, 3)
    np.testing.assert_allclose(F[0] @ F[1] @ F[2], W, atol=1e-12)
    for k in range(2):
        np.testing.assert_allclose(np.swapaxes(F[k], 1, 2) @ F[k], F[k + 1] @ np.swapaxes(F[k + 1], 1, 2),
                                   atol=1e-12)
