"""Two-layer tanh networks (mfbook.neurons) and deep factorization helpers (mfbook.deep)."""
import numpy as np
import pytest

import mfbook
from mfbook import DivergenceError, deep
from mfbook import neurons as nn

X6 = np.linspace(-2, 2, 6)
Y6 = np.tanh(X6 + 1)


def loss_of(net, X, y):
    return np.mean((nn.two_layer_predict(net, X) - y) ** 2, axis=1)


def flat(net):
    return np.concatenate([net.a.ravel(), net.w.ravel(), net.b.ravel()])


def unflat(theta, like):
    a, rest = np.split(theta, [like.a.size])
    w, b = np.split(rest, [like.w.size])
    return nn.TwoLayer(a.reshape(like.a.shape), w.reshape(like.w.shape), b.reshape(like.b.shape))


@pytest.mark.parametrize("dim", [1, 2])
def test_one_step_is_minus_lr_times_the_finite_difference_gradient(dim):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, dim))
    y = rng.normal(size=5)
    net = nn.init_two_layer(1, 3, dim, 0.8, seed=1)
    lr = 1e-3
    step = nn.train_two_layer(net, X, y, lr=lr, max_steps=1, tol=0, check_every=1)
    theta, h = flat(net), 1e-6
    num = np.array([(loss_of(unflat(theta + h * e, net), X, y) - loss_of(unflat(theta - h * e, net), X, y))[0] / (2 * h)
                    for e in np.eye(theta.size)])
    np.testing.assert_allclose((theta - flat(step)) / lr, num, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(step.loss, loss_of(step, X, y), rtol=1e-12)


def test_jacobian_matches_finite_differences():
    net = nn.init_two_layer(1, 2, 1, 0.9, seed=4)
    J = nn.two_layer_jacobian(net, X6)[0]
    theta, h = flat(net), 1e-6
    num = np.stack([(nn.two_layer_predict(unflat(theta + h * e, net), X6) - nn.two_layer_predict(unflat(theta - h * e, net), X6))[0] / (2 * h)
                    for e in np.eye(theta.size)], axis=1)
    np.testing.assert_allclose(J, num, rtol=1e-6, atol=1e-9)


def test_frozen_bias_is_not_trained():
    net = nn.init_two_layer(2, 2, 1, 0.5, seed=2, bias=False)
    out = nn.train_two_layer(net, X6, Y6, lr=0.1, max_steps=50, bias=False)
    assert np.all(out.b == 0) and not np.allclose(out.a, net.a)


def test_batch_equals_one_by_one():
    net = nn.init_two_layer(4, 2, 1, [1.0, 0.1, 1e-3, 0.5], seed=3)
    batch = nn.train_two_layer(net, X6, Y6, lr=0.5, max_steps=3000, tol=1e-10)
    for r in range(4):
        one = nn.TwoLayer(net.a[r:r + 1], net.w[r:r + 1], net.b[r:r + 1])
        single = nn.train_two_layer(one, X6, Y6, lr=0.5, max_steps=3000, tol=1e-10)
        assert single.steps[0] == batch.steps[r]
        np.testing.assert_allclose(single.a[0], batch.a[r], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(single.w[0], batch.w[r], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(single.loss[0], batch.loss[r], rtol=1e-10, atol=1e-300)


def test_padded_per_run_data_equal_separate_runs():
    net = nn.init_two_layer(2, 2, 1, 0.3, seed=5)
    X = np.zeros((2, 6, 1))
    X[0, :4, 0], X[1, :, 0] = np.linspace(-2, 2, 4), X6
    mask = np.zeros((2, 6), bool)
    mask[0, :4], mask[1] = True, True
    y = np.where(mask, np.tanh(X[..., 0] + 1), np.nan)          # padding values must not matter
    batch = nn.train_two_layer(net, X, y, lr=0.5, max_steps=500, tol=0, sample_mask=mask)
    for r, n in ((0, 4), (1, 6)):
        x = np.linspace(-2, 2, n)
        one = nn.train_two_layer(nn.TwoLayer(net.a[r:r + 1], net.w[r:r + 1], net.b[r:r + 1]), x, np.tanh(x + 1),
                                 lr=0.5, max_steps=500, tol=0)
        np.testing.assert_allclose(one.a[0], batch.a[r], rtol=1e-10)
        np.testing.assert_allclose(one.loss[0], batch.loss[r], rtol=1e-8)


@pytest.mark.parametrize("call, message", [
    (lambda: nn.init_two_layer(0, 2, 1, 1.0), "runs must be a positive integer"),
    (lambda: nn.init_two_layer(2, 2, 1, -1.0), "init_scale must be positive"),
    (lambda: nn.init_two_layer(2, 2, 1, [1.0, 2.0, 3.0]), "one per run"),
    (lambda: nn.train_two_layer(nn.init_two_layer(1, 2, 1, 1.0), X6, Y6[:5]), "y must have shape"),
    (lambda: nn.train_two_layer(nn.init_two_layer(1, 2, 2, 1.0), X6, Y6), "dimension 1 but the network expects 2"),
    (lambda: nn.train_two_layer(nn.init_two_layer(1, 2, 1, 1.0), X6, Y6, lr=0), "lr must be a positive number"),
    (lambda: nn.train_two_layer(nn.init_two_layer(1, 2, 1, 1.0), X6, Y6, sample_mask=np.zeros(6, bool)), "at least one sample"),
    (lambda: nn.train_two_layer(nn.init_two_layer(2, 2, 1, 1.0), np.zeros((3, 6, 1)), Y6), "leading axis of length R = 2"),
    (lambda: nn.imbalance_ratio(nn.init_two_layer(1, 2, 1, 1.0), X6, np.zeros(6)), "gamma"),
    (lambda: nn.growing_mode_init(np.zeros((1, 2)), X6, Y6, 1e-3), "non-zero"),
    (lambda: deep.effective_rank(np.zeros((2, 2))), "zero matrix"),
])
def test_bad_input_raises_value_error_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_divergence_is_reported():
    net = nn.init_two_layer(1, 10, 1, 3.0, seed=0)
    with pytest.raises(DivergenceError, match="lr"):
        nn.train_two_layer(net, X6, 50 * Y6, lr=5.0, max_steps=2000)


def test_growing_mode_and_same_ratio_preserve_the_imbalance_ratio():
    net = nn.init_two_layer(5, 3, 1, 1e-3, seed=6)
    C = nn.imbalance_ratio(net, X6, Y6)
    np.testing.assert_allclose(np.linalg.norm(C, axis=1), 1.0)
    other = nn.same_imbalance_ratio(net, X6, Y6, seed=7)
    np.testing.assert_allclose(nn.imbalance_ratio(other, X6, Y6), C, atol=1e-12)
    assert np.abs(flat(other) - flat(net)).max() > 1e-4                # ... but a different point
    np.testing.assert_allclose(nn.imbalance_ratio(nn.growing_mode_init(C, X6, Y6, 1e-6), X6, Y6), C, atol=1e-12)


def test_imbalance_ratio_decides_the_small_initialization_limit():
    """Zhao, Bai & Zhang (2024): for small init the learned function depends only on C/||C||."""
    X, grid = np.linspace(-2, 2, 3), np.linspace(-2, 2, 101)
    Y = np.tanh(X + 1)

    def limit(net0):
        return nn.two_layer_predict(nn.train_two_layer(net0, X, Y, lr=0.5, max_steps=4000, tol=0), grid)

    net = nn.init_two_layer(4, 2, 1, 1e-6, seed=11)
    C = nn.imbalance_ratio(net, X, Y)
    f = limit(net)
    assert np.abs(limit(nn.same_imbalance_ratio(net, X, Y, seed=12)) - f).max() < 1e-6
    assert np.abs(limit(nn.growing_mode_init(C, X, Y, 1e-6)) - f).max() < 1e-5
    # symmetry: swapping the neurons and flipping the sign of one gives the same function
    assert np.abs(limit(nn.growing_mode_init(C[:, ::-1] * [1, -1], X, Y, 1e-6)) - f).max() < 1e-5
    # a different ratio gives a different function
    phi = np.arctan2(C[:, 1], C[:, 0]) + 0.3
    g = limit(nn.growing_mode_init(np.stack([np.cos(phi), np.sin(phi)], axis=1), X, Y, 1e-6))
    assert np.all(np.abs(g - f).max(axis=1) > 1e-4)


def test_model_rank_of_the_single_neuron_target_is_three():
    grid = np.linspace(-3, 3, 60)
    dead = nn.TwoLayer(np.array([[1.0, 0.0]]), np.array([[[1.0], [0.0]]]), np.array([[1.0, 0.0]]))
    idle = nn.TwoLayer(np.array([[1.0, 0.0]]), np.array([[[1.0], [0.5]]]), np.array([[1.0, -0.3]]))
    split = nn.TwoLayer(np.array([[0.4, 0.6]]), np.array([[[1.0], [1.0]]]), np.array([[1.0, 1.0]]))
    assert nn.model_rank(dead, grid)[0] == 3 and nn.model_rank(split, grid)[0] == 3
    assert nn.model_rank(idle, grid)[0] == 4
    assert np.all(nn.model_rank(nn.init_two_layer(4, 2, 1, 1.0, seed=0), grid) == 6)
    np.testing.assert_allclose(nn.two_layer_predict(split, grid)[0], np.tanh(grid + 1), atol=1e-15)


def test_function_error():
    target = nn.TwoLayer(np.array([[1.0]]), np.array([[[1.0]]]), np.array([[1.0]]))
    assert nn.function_error(target, lambda x: np.tanh(x + 1), X6)[0] < 1e-30
    assert nn.function_error(target, lambda x: np.tanh(x), X6)[0] > 0.01


def test_effective_rank():
    assert abs(deep.effective_rank(np.diag([3.0, 0, 0])) - 1) < 1e-12
    assert abs(deep.effective_rank(np.eye(4)) - 4) < 1e-12
    batch = deep.effective_rank(np.stack([np.eye(3), np.diag([1.0, 1, 0])]))
    np.testing.assert_allclose(batch, [3, 2])


def test_singular_value_velocity_matches_arora_for_balanced_factors():
    problem = mfbook.Completion.parse("1 * 3; * 5 *; 3 * 9")
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    V, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    s = np.array([2.0, 1.0, 0.5])
    for N in (2, 3, 4):
        root = np.diag(s ** (1 / N))                    # balanced: F_k = Q_{k-1} S^{1/N} Q_k^T
        Qs = [U] + [np.linalg.qr(rng.normal(size=(3, 3)))[0] for _ in range(N - 1)] + [V]
        factors = [Qs[k] @ root @ Qs[k + 1].T for k in range(N)]
        sigma, exact, predicted = deep.singular_value_velocity(factors, problem)
        np.testing.assert_allclose(sigma, s, rtol=1e-12)
        np.testing.assert_allclose(exact, predicted, rtol=1e-10, atol=1e-12)
