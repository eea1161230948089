"""Beyond matrices: two-layer tanh networks trained by full-batch gradient descent, batched over runs.

The model and the loss are

.. math:: f_\\theta(x) = \\sum_{i=1}^m a_i \\tanh(w_i^\\top x + b_i),\\qquad
          R_S(\\theta) = \\frac1n \\sum_{j=1}^n \\big(f_\\theta(x_j) - y_j\\big)^2,

with :math:`\\theta_0 = \\alpha\\,\\mathcal N(0, I)` (the single-neuron setting of Zhao, Bai & Zhang 2024).
A batch holds ``R`` independent networks: every parameter array carries a leading run axis, and the
runs may have their own data (padded to a common sample count with a mask). We write
:math:`\\tilde x = (x, 1)` and :math:`\\tilde w_i = (w_i, b_i)`, so that :math:`w_i^\\top x + b_i = \\tilde w_i^\\top\\tilde x`.

Explained in: chapter 6 (Beyond matrices).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .training import DivergenceError

__all__ = ["TwoLayer", "init_two_layer", "two_layer_predict", "train_two_layer", "imbalance_ratio",
           "same_imbalance_ratio", "growing_mode_init", "input_weights", "two_layer_jacobian", "model_rank",
           "function_error"]


@dataclass
class TwoLayer:
    """Parameters of ``R`` two-layer tanh networks of width ``m`` on inputs of dimension ``d``.

    Attributes
    ----------
    a : ndarray (R, m)
        Output weights :math:`a_i`.
    w : ndarray (R, m, d)
        Input weights :math:`w_i`.
    b : ndarray (R, m)
        Biases :math:`b_i` (zero, and left untrained, for a network without bias).
    loss : ndarray (R,) or None
        Final training loss :math:`R_S` of each run (set by :func:`train_two_layer`).
    steps : ndarray of int (R,) or None
        Gradient steps each run took (set by :func:`train_two_layer`).

    Explained in: chapter 6.
    """

    a: np.ndarray
    w: np.ndarray
    b: np.ndarray
    loss: np.ndarray | None = None
    steps: np.ndarray | None = None

    @property
    def runs(self) -> int:
        """Number of networks in the batch."""
        return self.a.shape[0]

    def copy(self) -> "TwoLayer":
        """A deep copy."""
        cp = lambda x: None if x is None else np.array(x, copy=True)  # noqa: E731
        return TwoLayer(self.a.copy(), self.w.copy(), self.b.copy(), cp(self.loss), cp(self.steps))

    @staticmethod
    def concatenate(nets) -> "TwoLayer":
        """One batch made of several batches of equal width and input dimension (run axes joined)."""
        nets = list(nets)
        return TwoLayer(np.concatenate([n.a for n in nets]), np.concatenate([n.w for n in nets]),
                        np.concatenate([n.b for n in nets]))


def init_two_layer(runs: int, width: int, dim: int, init_scale, seed=0, bias: bool = True) -> TwoLayer:
    """Gaussian initialization :math:`\\theta_0 = \\alpha\\,\\mathcal N(0, I)` of ``runs`` networks.

    The standard normal draws do not depend on ``init_scale`` (they are scaled afterwards), so the
    same seed at different scales gives the same initial *direction*.

    Parameters
    ----------
    runs, width, dim : int
        Batch size ``R``, number of neurons ``m``, input dimension ``d``.
    init_scale : float or array_like (R,)
        :math:`\\alpha`, one for all runs or one per run.
    seed : int or numpy.random.Generator
    bias : bool
        Draw biases too (otherwise they are zero).

    Returns
    -------
    TwoLayer

    Raises
    ------
    ValueError
        If a size is not a positive integer or a scale is not positive and finite.

    Explained in: chapter 6.
    """
    for name, v in (("runs", runs), ("width", width), ("dim", dim)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    try:
        scale = np.broadcast_to(np.asarray(init_scale, float), (runs,))
    except ValueError:
        raise ValueError(f"init_scale must be one number or one per run (length {runs}), "
                         f"got shape {np.shape(init_scale)}") from None
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError(f"init_scale must be positive and finite, got {init_scale!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    a = rng.standard_normal((runs, width))
    w = rng.standard_normal((runs, width, dim))
    b = rng.standard_normal((runs, width)) if bias else np.zeros((runs, width))
    return TwoLayer(scale[:, None] * a, scale[:, None, None] * w, scale[:, None] * b)


def _inputs(X, net: TwoLayer | None = None):
    """Inputs as (n, d) (shared by all runs) or (R, n, d) (one data set per run), checked against ``net``."""
    X = np.asarray(X, float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim not in (2, 3):
        raise ValueError(f"X must have shape (n,), (n, d) or (R, n, d); got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    if net is not None:
        if X.shape[-1] != net.w.shape[-1]:
            raise ValueError(f"the inputs have dimension {X.shape[-1]} but the network expects "
                             f"{net.w.shape[-1]} (w has shape {net.w.shape})")
        if X.ndim == 3 and X.shape[0] != net.runs:
            raise ValueError(f"per-run inputs need a leading axis of length R = {net.runs}, got shape {X.shape}")
    return X


def _pre_activation(w, b, X):
    """:math:`w_i^\\top x_j + b_i` of shape (R, m, n)."""
    return w @ np.swapaxes(X, -1, -2) + b[:, :, None]


def two_layer_predict(net: TwoLayer, X) -> np.ndarray:
    """:math:`f_\\theta(x_j)` for every run.

    Parameters
    ----------
    net : TwoLayer
    X : array_like (N,), (N, d) or (R, N, d)

    Returns
    -------
    ndarray (R, N)

    Explained in: chapter 6.
    """
    X = _inputs(X, net)
    return np.einsum("rm,rmn->rn", net.a, np.tanh(_pre_activation(net.w, net.b, X)))


def function_error(net: TwoLayer, target, X) -> np.ndarray:
    """Test error :math:`\\frac1N\\sum_k (f_\\theta(x_k) - f^*(x_k))^2` of every run on the points ``X``.

    Parameters
    ----------
    net : TwoLayer
    target : callable
        :math:`f^*`, applied to ``X`` as given (vectorized).
    X : array_like (N,) or (N, d)
        Test inputs, shared by all runs.

    Returns
    -------
    ndarray (R,)

    Explained in: chapter 6.
    """
    X = np.asarray(X, float)
    diff = two_layer_predict(net, X) - np.asarray(target(X), float).reshape(1, -1)
    return np.mean(diff * diff, axis=1)


def train_two_layer(net: TwoLayer, X, y, lr: float = 0.5, max_steps: int = 20_000, tol: float = 1e-14,
                    bias: bool = True, sample_mask=None, check_every: int = 100,
                    compiled: bool = True) -> TwoLayer:
    """Full-batch gradient descent on :math:`R_S` for every run of the batch at once.

    .. math:: \\theta_{s+1} = \\theta_s - \\eta\\,\\nabla R_S(\\theta_s),\\quad
              \\partial_{a_i} R_S = \\tfrac2n\\sum_j r_j h_{ij},\\quad
              \\partial_{\\tilde w_i} R_S = \\tfrac2n\\sum_j r_j\\, a_i (1 - h_{ij}^2)\\, \\tilde x_j,

    with :math:`h_{ij} = \\tanh(\\tilde w_i^\\top\\tilde x_j)` and :math:`r_j = f_\\theta(x_j) - y_j`. Every
    ``check_every`` steps the runs whose loss is below ``tol`` leave the batch (their parameters are
    frozen), so the late steps only move the slow runs.

    Parameters
    ----------
    net : TwoLayer
        Initial parameters (not modified).
    X : array_like (n,), (n, d) or (R, n, d)
        Inputs, shared by all runs or one set per run.
    y : array_like (n,) or (R, n)
        Targets.
    lr : float
        Step size :math:`\\eta`.
    max_steps : int
    tol : float
        A run stops once :math:`R_S <` ``tol``.
    bias : bool
        Train the biases (False keeps them fixed).
    sample_mask : array_like of bool (n,) or (R, n), optional
        Which samples count for each run (to pad data sets of different sizes); :math:`n` in
        :math:`R_S` is then the run's own number of samples.
    check_every : int
    compiled : bool
        Run the steps in a loop compiled with numba, one run after the other (the default; the
        same iteration as the NumPy batch, equal up to round-off, and some 30 times faster for the
        small networks of the book, whose NumPy steps are dominated by call overhead). ``False``
        uses the NumPy batch, which leaves the batch at the checks as runs converge.

    Returns
    -------
    TwoLayer
        Final parameters, with ``loss`` and ``steps`` per run (``steps`` is a multiple of
        ``check_every``, or ``max_steps`` for a run that never reached ``tol``).

    Raises
    ------
    ValueError
        If the shapes of ``X``, ``y``, ``sample_mask`` and ``net`` do not fit together, or a
        number is out of range.
    DivergenceError
        (a ValueError) If a loss becomes non-finite: lower ``lr``.

    Explained in: chapter 6.
    """
    if not (isinstance(lr, (int, float, np.floating, np.integer)) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if int(max_steps) != max_steps or max_steps < 0:
        raise ValueError(f"max_steps must be a non-negative integer, got {max_steps!r}")
    if int(check_every) != check_every or check_every < 1:
        raise ValueError(f"check_every must be a positive integer, got {check_every!r}")
    R = net.runs
    X = _inputs(X, net)
    n_max = X.shape[-2]
    y = np.asarray(y, float)
    if y.shape not in ((n_max,), (R, n_max)):
        raise ValueError(f"y must have shape (n,) = ({n_max},) or (R, n) = ({R}, {n_max}) to match X {X.shape}; "
                         f"got {y.shape}")
    y = np.broadcast_to(y, (R, n_max)).copy()
    if sample_mask is None:
        mask = np.ones(y.shape, bool)
    else:
        mask = np.asarray(sample_mask, bool)
        if mask.shape not in ((n_max,), (R, n_max)):
            raise ValueError(f"sample_mask must have shape ({n_max},) or ({R}, {n_max}); got {mask.shape}")
        mask = np.broadcast_to(mask, y.shape)
    n = mask.sum(axis=1).astype(float)
    if np.any(n == 0):
        raise ValueError("every run needs at least one sample (a row of sample_mask is all False)")
    y = np.where(mask, y, 0.0)
    weight = np.where(mask, 2.0 / n[:, None], 0.0)          # dR/df(x_j) = weight_j * r_j
    if _compiled_descent is not None and compiled:
        return _train_compiled(net, X, y, weight, lr, max_steps, tol, bias, check_every)
    a, w, b = net.a.copy(), net.w.copy(), net.b.copy()
    loss = np.full(R, np.inf)
    steps = np.full(R, int(max_steps))
    act = np.arange(R)
    shared = X.ndim == 2
    aa, ww, bb, yy, gg, XX = a, w, b, y, weight, X
    step = 0
    with np.errstate(over="ignore", invalid="ignore"):        # a diverging run is reported below
        while act.size:
            k = min(int(check_every), int(max_steps) - step)
            for i in range(k + 1):
                h = np.tanh(_pre_activation(ww, bb, XX))
                r = np.einsum("rm,rmn->rn", aa, h) - yy
                if i == k:
                    break
                g = gg * r                                          # (R, n)
                s = aa[:, :, None] * (1 - h * h) * g[:, None, :]    # (R, m, n)
                aa = aa - lr * np.einsum("rn,rmn->rm", g, h)
                ww = ww - lr * (s @ XX)
                if bias:
                    bb = bb - lr * s.sum(axis=2)
            step += k
            cur = 0.5 * np.sum(gg * r * r, axis=1)                   # = R_S
            if not np.all(np.isfinite(cur)):
                raise DivergenceError(f"gradient descent diverged near step {step}: lr={lr} is too large for "
                                      f"this initialization; try lr={lr / 2:g}")
            loss[act] = cur
            a[act], w[act], b[act] = aa, ww, bb
            done = (cur < tol) | (step >= max_steps)
            steps[act[done]] = step
            keep = ~done
            act = act[keep]
            aa, ww, bb, yy, gg = aa[keep], ww[keep], bb[keep], yy[keep], gg[keep]
            if not shared:
                XX = XX[keep]
    return TwoLayer(a, w, b, loss, steps)


def _descent_kernel(a, w, b, X, y, weight, lr, max_steps, tol, train_bias, check_every, loss, steps):
    """The loop of :func:`train_two_layer` for every run, one after the other (compiled by numba).

    Updates ``a`` (R, m), ``w`` (R, m, d), ``b`` (R, m) in place and fills ``loss`` and ``steps``;
    ``X`` is (R, n, d). A run stops at the first check (every ``check_every`` steps) where its loss
    is below ``tol`` or not finite, or after ``max_steps``.
    """
    R, m, d = w.shape
    n = X.shape[1]
    h = np.empty((m, n))
    g = np.empty(n)
    ga = np.empty(m)
    gw = np.empty((m, d))
    gb = np.empty(m)
    for r in range(R):
        step = 0
        while True:
            k = min(check_every, max_steps - step)
            for it in range(k + 1):
                cur = 0.0
                for j in range(n):
                    f = 0.0
                    for i in range(m):
                        z = b[r, i]
                        for q in range(d):
                            z += w[r, i, q] * X[r, j, q]
                        h[i, j] = np.tanh(z)
                        f += a[r, i] * h[i, j]
                    res = f - y[r, j]
                    g[j] = weight[r, j] * res
                    cur += 0.5 * g[j] * res
                if it == k:
                    break
                for i in range(m):
                    ga[i] = 0.0
                    gb[i] = 0.0
                    for q in range(d):
                        gw[i, q] = 0.0
                    for j in range(n):
                        ga[i] += g[j] * h[i, j]
                        s = a[r, i] * (1.0 - h[i, j] * h[i, j]) * g[j]
                        gb[i] += s
                        for q in range(d):
                            gw[i, q] += s * X[r, j, q]
                for i in range(m):
                    a[r, i] -= lr * ga[i]
                    for q in range(d):
                        w[r, i, q] -= lr * gw[i, q]
                    if train_bias:
                        b[r, i] -= lr * gb[i]
            step += k
            loss[r] = cur
            if not np.isfinite(cur) or cur < tol or step >= max_steps:
                steps[r] = step
                break


try:  # numba is in requirements.txt; without it the NumPy batch does the same, slower
    import numba as _numba

    _compiled_descent = _numba.njit(cache=True)(_descent_kernel)
except ImportError:  # pragma: no cover
    _compiled_descent = None


def _train_compiled(net, X, y, weight, lr, max_steps, tol, bias, check_every):
    R = net.runs
    a, w, b = (np.ascontiguousarray(v, dtype=float).copy() for v in (net.a, net.w, net.b))
    Xr = np.ascontiguousarray(np.broadcast_to(X, (R,) + X.shape[-2:]), dtype=float)
    loss = np.full(R, np.inf)
    steps = np.full(R, int(max_steps), dtype=np.int64)
    _compiled_descent(a, w, b, Xr, np.ascontiguousarray(y), np.ascontiguousarray(weight), float(lr),
                      int(max_steps), float(tol), bool(bias), int(check_every), loss, steps)
    bad = ~np.isfinite(loss)
    if bad.any():
        raise DivergenceError(f"gradient descent diverged near step {int(steps[bad].min())}: lr={lr} is too "
                              f"large for this initialization; try lr={lr / 2:g}")
    return TwoLayer(a, w, b, loss, steps)


def _gamma(X, y, bias: bool = True):
    """:math:`\\gamma = \\sum_j y_j \\tilde x_j` for data shared by all runs: shape (d + 1,) (or (d,) without bias)."""
    X = _inputs(X)
    if X.ndim != 2:
        raise ValueError("the imbalance ratio is defined here for data shared by all runs: X of shape (n,) or (n, d), "
                         f"got {X.shape}")
    y = np.asarray(y, float)
    if y.shape != (len(X),):
        raise ValueError(f"y must have shape ({len(X)},) to match X {X.shape}; got {y.shape}")
    Xa = np.hstack([X, np.ones((len(X), 1))]) if bias else X
    gamma = Xa.T @ y
    if not np.linalg.norm(gamma) > 0:
        raise ValueError("gamma = sum_j y_j x_j is zero: the linear phase has no growing direction for these data")
    return gamma


def input_weights(net: TwoLayer) -> np.ndarray:
    """The augmented input weights :math:`\\tilde w_i = (w_i, b_i)`, array (R, m, d + 1).

    Explained in: chapter 6.
    """
    return np.concatenate([net.w, net.b[:, :, None]], axis=2)


def _theta(net: TwoLayer, bias: bool) -> np.ndarray:
    """Per-neuron parameters :math:`(a_i, \\tilde w_i)` (or :math:`(a_i, w_i)`), array (R, m, d + 2)."""
    return np.concatenate([net.a[:, :, None], input_weights(net) if bias else net.w], axis=2)


def _from_theta(theta, bias: bool) -> TwoLayer:
    if bias:
        return TwoLayer(theta[..., 0].copy(), theta[..., 1:-1].copy(), theta[..., -1].copy())
    return TwoLayer(theta[..., 0].copy(), theta[..., 1:].copy(), np.zeros(theta.shape[:2]))


def imbalance_ratio(net: TwoLayer, X, y, bias: bool = True) -> np.ndarray:
    """Initial imbalance ratio :math:`C/\\|C\\|` of every run, array (R, m).

    .. math:: \\gamma = \\sum_j y_j \\tilde x_j,\\qquad C_i = a_i\\|\\gamma\\| + \\tilde w_i^\\top\\gamma .

    Near the origin :math:`\\tanh z \\approx z` and the flow is linear:
    :math:`\\dot a_i = \\frac2n\\tilde w_i^\\top\\gamma`, :math:`\\dot{\\tilde w}_i = \\frac2n a_i\\gamma`. With
    :math:`u_i = \\tilde w_i^\\top\\gamma/\\|\\gamma\\|` the pair :math:`a_i + u_i` grows like
    :math:`e^{2\\|\\gamma\\|t/n}` and :math:`a_i - u_i` decays; :math:`C_i = \\|\\gamma\\|(a_i + u_i)` is the
    initial amplitude of the growing mode (Zhao, Bai & Zhang 2024; their loss has no factor
    :math:`2/n`, hence their rate :math:`e^{\\|\\gamma\\| t}`).

    Parameters
    ----------
    net : TwoLayer
        Initial parameters.
    X, y : array_like (n,) or (n, d), and (n,)
        Training data shared by all runs.
    bias : bool
        Whether the network has (trained) biases, i.e. whether :math:`\\tilde x = (x, 1)` or :math:`x`.

    Returns
    -------
    ndarray (R, m)

    Raises
    ------
    ValueError
        If the data do not fit the network, or :math:`C = 0`.

    Explained in: chapter 6.
    """
    _inputs(X, net)
    gamma = _gamma(X, y, bias)
    weights = input_weights(net) if bias else net.w
    C = net.a * np.linalg.norm(gamma) + weights @ gamma
    norm = np.linalg.norm(C, axis=1, keepdims=True)
    if np.any(norm == 0):
        raise ValueError("C = 0 for some run: its initial point has no component along the growing modes")
    return C / norm


def _growing_direction(gamma):
    """Unit vector of the growing mode of one neuron in the coordinates :math:`(a_i, \\tilde w_i)`."""
    g = gamma / np.linalg.norm(gamma)
    return np.concatenate([[1.0], g]) / np.sqrt(2.0)


def same_imbalance_ratio(net: TwoLayer, X, y, scale: float = 1.0, seed=0, bias: bool = True) -> TwoLayer:
    """Another initialization with the same :math:`C` (so the same ratio) but a different rest.

    Each neuron's parameters :math:`(a_i, \\tilde w_i)` get a Gaussian perturbation whose component along
    the growing mode :math:`e = (1, \\gamma/\\|\\gamma\\|)/\\sqrt2` is removed, so
    :math:`C_i = \\sqrt2\\,\\|\\gamma\\|\\, e^\\top(a_i, \\tilde w_i)` does not change: only the decaying mode
    and the part of :math:`\\tilde w_i` orthogonal to :math:`\\gamma` move. The perturbation has standard
    deviation ``scale`` times the root mean square of the run's parameters.

    Explained in: chapter 6.
    """
    _inputs(X, net)
    e = _growing_direction(_gamma(X, y, bias))
    theta = _theta(net, bias)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    z = rng.standard_normal(theta.shape) * scale * np.sqrt(np.mean(theta ** 2, axis=(1, 2), keepdims=True))
    z -= (z @ e)[..., None] * e
    return _from_theta(theta + z, bias)


def growing_mode_init(C, X, y, init_scale: float, bias: bool = True) -> TwoLayer:
    """Initial parameters lying exactly on the growing modes, with imbalance ratio :math:`C/\\|C\\|`.

    .. math:: (a_i, \\tilde w_i) = \\alpha\\, \\hat C_i\\,(1, \\gamma/\\|\\gamma\\|)/\\sqrt2,\\qquad
              \\hat C = C/\\|C\\| .

    For two neurons :math:`\\hat C = (\\cos\\varphi, \\sin\\varphi)`: one angle describes every
    small-initialization limit.

    Parameters
    ----------
    C : array_like (R, m)
        Imbalance vectors (only their directions matter).
    X, y : array_like
        Training data (shared).
    init_scale : float
        :math:`\\alpha`.
    bias : bool

    Explained in: chapter 6.
    """
    C = np.asarray(C, float)
    if C.ndim != 2:
        raise ValueError(f"C must have shape (R, m), got {C.shape}")
    norm = np.linalg.norm(C, axis=1, keepdims=True)
    if np.any(norm == 0) or not np.all(np.isfinite(C)):
        raise ValueError("every row of C must be finite and non-zero")
    if not (np.isfinite(init_scale) and init_scale > 0):
        raise ValueError(f"init_scale must be positive and finite, got {init_scale!r}")
    theta = init_scale * (C / norm)[:, :, None] * _growing_direction(_gamma(X, y, bias))
    return _from_theta(theta, bias)


def two_layer_jacobian(net: TwoLayer, X) -> np.ndarray:
    """Jacobian of the outputs with respect to all parameters, array (R, N, m (d + 2)).

    Columns in the order :math:`(a_1..a_m, w_1..w_m, b_1..b_m)` (each :math:`w_i` with its
    :math:`d` entries): :math:`\\partial f/\\partial a_i = h_i`,
    :math:`\\partial f/\\partial w_i = a_i(1 - h_i^2)\\,x`, :math:`\\partial f/\\partial b_i = a_i(1 - h_i^2)`.

    Explained in: chapter 6.
    """
    X = _inputs(X, net)
    h = np.tanh(_pre_activation(net.w, net.b, X))                     # (R, m, N)
    dz = net.a[:, :, None] * (1 - h * h)                               # (R, m, N)
    Xr = np.broadcast_to(X, (net.runs,) + X.shape[-2:])                # (R, N, d)
    dw = dz[:, :, :, None] * Xr[:, None, :, :]                         # (R, m, N, d)
    R, m, N = h.shape
    cols = [np.swapaxes(h, 1, 2), np.transpose(dw, (0, 2, 1, 3)).reshape(R, N, -1), np.swapaxes(dz, 1, 2)]
    return np.concatenate(cols, axis=2)


def model_rank(net: TwoLayer, X, rtol: float = 1e-8) -> np.ndarray:
    """Model rank at :math:`\\theta`: the number of independent directions in which the output can move.

    The rank of the Jacobian :math:`\\partial f_\\theta(x_k)/\\partial\\theta` over many inputs ``X``
    (singular values above ``rtol`` times the largest). Zhang et al. (2023) call its minimum over the
    parameters that represent a target the *optimistic sample size* of that target.

    Returns
    -------
    ndarray of int (R,)

    Explained in: chapter 6.
    """
    sv = np.linalg.svd(two_layer_jacobian(net, X), compute_uv=False)
    return np.sum(sv > rtol * sv[:, :1], axis=1)
