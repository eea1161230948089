"""Falsification tests of chapter 1's claim checks: each check fed wrong science must fail."""
import numpy as np
import pytest
from conftest import refutes

import mfbook
from mfbook import sensing
from mfbook.claims import background as check

THREE = "1 2 3; * 4 *; * * 9"
SEEDS = range(10)


def test_flat_descent_refuted_by_the_factorized_model():
    flats = [mfbook.gradient_descent(THREE, init_scale=0.5, depth=1, lr=0.1, seed=k) for k in SEEDS]
    zero = mfbook.gradient_descent(THREE, init_scale=1e-12, depth=1, lr=0.1, seed=0).W
    starts = [r.W_path[0] for r in flats]
    check.flat_descent_keeps_unobserved_entries(problem=THREE, starts=starts, learned=[r.W for r in flats],
                                                zero_start_learned=zero, quiet=True)
    factorized = [mfbook.gradient_descent(THREE, init_scale=0.5, lr=0.1, seed=k).W for k in SEEDS]
    with refutes(check.flat_descent_keeps_unobserved_entries):
        check.flat_descent_keeps_unobserved_entries(problem=THREE, starts=starts, learned=factorized,
                                                    zero_start_learned=zero, quiet=True)


def test_rank_one_fill_refuted_by_the_zero_fill_and_by_large_init():
    fill, limit = np.outer([1, 2, 3], [1, 2, 3]), mfbook.small_init_limit(THREE).W
    with refutes(check.factorized_descent_fills_rank_one):
        check.factorized_descent_fills_rank_one(problem=THREE, fill=fill, learned=[mfbook.min_frobenius(THREE)] * 10,
                                                limit=limit, quiet=True)
    big = [mfbook.gradient_descent(THREE, init_scale=1.0, lr=0.02, seed=k).W for k in SEEDS]
    with refutes(check.factorized_descent_fills_rank_one):
        check.factorized_descent_fills_rank_one(problem=THREE, fill=fill, learned=big, limit=limit, quiet=True)


@pytest.fixture(scope="module")
def zero_fill():
    scales = 10.0 ** -np.arange(3, 16, 3)
    gd = np.array([[mfbook.gradient_descent("0 1; 2 *", init_scale=s, lr=0.1, seed=k).W[1, 1] for k in SEEDS]
                   for s in scales])
    flow = np.array([[mfbook.gradient_flow("0 1; 2 *", init_scale=s, tol=1e-20, seed=k).W[1, 1] for k in SEEDS]
                     for s in scales[-2:]])
    return scales, gd, flow


def test_zero_fill_refuted_by_a_wrong_exponent(zero_fill):
    scales, gd, flow = zero_fill
    zero = np.zeros((2, 2))
    check.zero_fill_approached_as_a_power_of_alpha(problem="0 1; 2 *", scales=scales, learned=gd, flow_learned=flow,
                                                   limit=zero, nuclear=zero, quiet=True)
    with refutes(check.zero_fill_approached_as_a_power_of_alpha):     # e.g. a guessed sqrt(alpha) rate
        check.zero_fill_approached_as_a_power_of_alpha(problem="0 1; 2 *", scales=scales, learned=gd,
                                                       flow_learned=flow, limit=zero, nuclear=zero, exponent=0.5,
                                                       quiet=True)
    with refutes(check.zero_fill_approached_as_a_power_of_alpha):     # the descent and the flow swapped
        check.zero_fill_approached_as_a_power_of_alpha(problem="0 1; 2 *", scales=scales[-2:], learned=flow,
                                                       flow_learned=gd[-2:], limit=zero, nuclear=zero, quiet=True)


def _two_by_two(q):
    runs = [mfbook.gradient_descent(q, init_scale=1e-12, lr=0.1, tol=1e-16, seed=k).W for k in SEEDS]
    return runs, mfbook.small_init_limit(q).W, mfbook.min_nuclear_norm(q), mfbook.min_rank(q)[1]


def test_corner_fill_refuted_by_the_min_frobenius_fill():
    runs, limit, nuc, rank = _two_by_two("1 2; * 3")
    check.fill_agrees_with_min_rank_and_min_nuclear(problem="1 2; * 3", learned=runs, limit=limit, nuclear=nuc,
                                                    min_rank_W=rank, quiet=True)
    with refutes(check.fill_agrees_with_min_rank_and_min_nuclear):
        check.fill_agrees_with_min_rank_and_min_nuclear(problem="1 2; * 3", learned=[mfbook.min_frobenius("1 2; * 3")] * 10,
                                                        limit=limit, nuclear=nuc, min_rank_W=rank, quiet=True)


def test_min_rank_fill_refuted_by_the_nuclear_fill():
    runs, limit, nuc, rank = _two_by_two("1 2; 3 *")
    check.fill_is_min_rank_not_min_nuclear(problem="1 2; 3 *", learned=runs, limit=limit, nuclear=nuc,
                                           min_rank_W=rank, quiet=True)
    with refutes(check.fill_is_min_rank_not_min_nuclear):
        check.fill_is_min_rank_not_min_nuclear(problem="1 2; 3 *", learned=[nuc] * 10, limit=nuc, nuclear=nuc,
                                               min_rank_W=rank, quiet=True)


@pytest.fixture(scope="module")
def twenty():
    scales = np.array([1e-1, 1e-3, 1e-6, 1e-12])
    gd = np.array([[mfbook.gradient_descent("1 2; 10 *", init_scale=s, lr=0.1, seed=k).W[1, 1] for k in SEEDS]
                   for s in scales])
    return scales, gd


def test_tiny_init_claim_refuted_by_a_large_start(twenty):
    scales, gd = twenty
    limit = mfbook.small_init_limit("1 2; 10 *").W
    check.min_rank_fill_needs_tiny_init(scales=scales, learned=gd, limit=limit, quiet=True)
    with refutes(check.min_rank_fill_needs_tiny_init):      # claims the limit is reached already at 1e-3
        check.min_rank_fill_needs_tiny_init(scales=scales, learned=np.full_like(gd, 20.0), limit=limit, quiet=True)


def test_step_size_claim_refuted_by_swapping_flow_and_descent(twenty):
    scales, gd = twenty
    both = [1e-3, 1e-6]
    flow = np.array([[mfbook.gradient_flow("1 2; 10 *", init_scale=a, seed=k).W[1, 1] for k in SEEDS] for a in both])
    small = np.array([[mfbook.gradient_descent("1 2; 10 *", init_scale=a, lr=0.01, seed=k).W[1, 1] for k in SEEDS]
                      for a in both])
    descent = {0.1: gd[1:3], 0.01: small}
    check.step_size_lowers_finite_alpha_fill(flow=flow, descent=descent, quiet=True)
    with refutes(check.step_size_lowers_finite_alpha_fill):
        check.step_size_lowers_finite_alpha_fill(flow=gd[1:3], descent={0.1: flow, 0.01: small}, quiet=True)


def test_sensing_claim_refuted_by_the_plain_model_in_place_of_the_factorized_one():
    p = sensing.gaussian_sensing(d=20, m=120, rank=2, seed=1)
    plain = sensing.sensing_descent(p, "matrix", lr=0.02, steps=400, record_every=10)
    scales = np.array([1e-2] + [1e-8] * 10)
    fact = sensing.sensing_descent(p, "factorized", init_scale=scales, lr=0.05, steps=3000, record_every=10, tol=1e-5)
    kw = dict(Z=p.Z, b=p.b, plain_X=plain["X"][0], plain_test=plain["test"][0, -1], scales=scales)
    check.factorized_sensing_generalizes(fact_train=fact["train"], fact_test=fact["test"], **kw, quiet=True)
    wrong_test = np.repeat(plain["test"][:1, -1:], len(scales), 0) * np.ones_like(fact["test"])
    with refutes(check.factorized_sensing_generalizes):
        check.factorized_sensing_generalizes(fact_train=fact["train"], fact_test=wrong_test, **kw, quiet=True)


@pytest.fixture(scope="module")
def commuting():
    probs = [sensing.commuting_measurements(d=8, m=4, seed=k) for k in SEEDS]
    scales = np.array([1e-2, 1e-4, 1e-6])
    rep = lambda i: np.repeat(np.stack([q[i] for q in probs]), scales.size, axis=0)  # noqa: E731
    X = sensing.symmetric_descent(rep(0), rep(1), init_scale=np.tile(scales, 10), lr=0.05, steps=20000)["X"]
    x, _ = sensing.hadamard_descent(rep(3), rep(1), init_scale=np.tile(scales, 10), lr=0.05, steps=20000)
    return probs, scales, X.reshape(10, 3, 8, 8), x.reshape(10, 3, 8)


def test_min_trace_claim_refuted_by_the_min_frobenius_solution(commuting):
    probs, scales, X, _ = commuting
    Z, b, D = [q[0] for q in probs], [q[1] for q in probs], [q[3] for q in probs]
    tr = np.trace(sensing.min_nuclear_norm_psd(Z[0], b[0]))
    check.commuting_descent_reaches_min_trace(Z=Z, b=b, D=D, scales=scales, X=X, cvx_trace=tr, quiet=True)
    frob = np.array([np.linalg.lstsq(z.reshape(4, -1), bb, rcond=None)[0].reshape(8, 8) for z, bb in zip(Z, b)])
    with refutes(check.commuting_descent_reaches_min_trace):     # feasible but not PSD nor minimal
        check.commuting_descent_reaches_min_trace(Z=Z, b=b, D=D, scales=scales,
                                                  X=np.repeat(frob[:, None], 3, axis=1), cvx_trace=tr, quiet=True)
    with refutes(check.commuting_descent_reaches_min_trace):     # a large start: alpha order reversed
        check.commuting_descent_reaches_min_trace(Z=Z, b=b, D=D, scales=scales[::-1], X=X, cvx_trace=tr, quiet=True)


def test_min_l1_claim_refuted_by_the_min_l2_solution(commuting):
    probs, scales, X, x = commuting
    D, b, Q = np.stack([q[3] for q in probs]), np.stack([q[1] for q in probs]), np.stack([q[2] for q in probs])
    diag = np.einsum("pki,pskl,pli->psi", Q, X, Q)
    check.hadamard_descent_reaches_min_l1(D=D, b=b, scales=scales, x=x, matrix_diagonal=diag, quiet=True)
    l2 = np.array([np.abs(np.linalg.pinv(d) @ bb) for d, bb in zip(D, b)])     # dense, made non-negative
    with refutes(check.hadamard_descent_reaches_min_l1):
        check.hadamard_descent_reaches_min_l1(D=D, b=b, scales=scales, x=np.repeat(l2[:, None], 3, axis=1),
                                              matrix_diagonal=diag, quiet=True)


def test_lift_claim_refuted_by_the_lift_without_the_half():
    p = sensing.gaussian_sensing(d=4, m=6, rank=1, seed=4)
    rng = np.random.default_rng(0)
    U0, V0 = 0.1 * rng.standard_normal((4, 4)), 0.1 * rng.standard_normal((4, 4))
    path, _, _ = sensing.asymmetric_descent(p.Z, p.b, U0, V0, lr=0.05, steps=400)
    W0 = np.vstack([U0, V0])
    right = sensing.symmetric_descent(sensing.lift_measurements(p.Z), p.b, U0=W0, lr=0.05, steps=400, record=True)
    check.lift_reproduces_asymmetric_descent(asym_path=path, sym_block_path=right["path"][:, :4, 4:],
                                             losses=p.loss(path), quiet=True)
    wrong = sensing.symmetric_descent(sensing.lift_measurements(p.Z, half=False), p.b, U0=W0, lr=0.05, steps=400,
                                      record=True)
    with refutes(check.lift_reproduces_asymmetric_descent):
        check.lift_reproduces_asymmetric_descent(asym_path=path, sym_block_path=wrong["path"][:, :4, 4:],
                                                 losses=p.loss(path), quiet=True)
