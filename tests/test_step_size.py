"""mfbook.step_size: the sharpness at a critical point and the stable step bound 2 / lambda_max."""
import numpy as np
import pytest

import mfbook
from mfbook import step_size

FOUR = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"


def test_origin_sharpness_is_the_top_singular_value_of_the_residual():
    p = mfbook.Completion.parse(FOUR)
    E0 = (2 / p.n_observed) * np.where(p.mask, p.values, 0)
    assert abs(step_size.sharpness(np.zeros((4, 4)), p) - np.linalg.svd(E0, compute_uv=False)[0]) < 1e-12


def test_sharpness_scales_with_the_data():
    lim = mfbook.small_init_limit("1 2; 10 *")
    lam = step_size.sharpness(lim.W, "1 2; 10 *")
    assert abs(step_size.sharpness(10 * lim.W, "10 20; 100 *") / lam - 10) < 1e-9


def test_path_bounds_and_descent_around_the_bound():
    lim = mfbook.small_init_limit("1 2; 10 *")
    p = step_size.path_sharpness(lim)
    assert list(p["rank"]) == [0, 1]
    assert np.allclose(p["lr_max"], 2 / p["lambda_max"])
    bound = p["lr_max"][-1]
    below = mfbook.gradient_descent("1 2; 10 *", init_scale=1e-8, lr=0.9 * bound, max_steps=20_000, tol=1e-20)
    assert below.converged and abs(below.W[1, 1] - 20) < 0.1
    with pytest.raises(mfbook.DivergenceError):
        mfbook.gradient_descent("10 20; 100 *", init_scale=1e-8, lr=0.1, max_steps=5000)


def test_parameters_are_validated():
    with pytest.raises(ValueError, match="shape"):
        step_size.sharpness(np.zeros((3, 3)), "1 2; 10 *")
    with pytest.raises(ValueError, match="finite"):
        step_size.sharpness(np.full((2, 2), np.nan), "1 2; 10 *")
    with pytest.raises(TypeError, match="width"):
        step_size.sharpness(np.zeros((2, 2)), "1 2; 10 *", width=1.5)
    with pytest.raises(ValueError, match="width"):
        step_size.sharpness(np.zeros((2, 2)), "1 2; 10 *", width=0)
    with pytest.raises(TypeError, match="limit"):
        step_size.path_sharpness("1 2; 10 *")
