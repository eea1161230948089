"""Training the factorization model: gradient descent, gradient flow, batched descent.

Gradient descent with step :math:`\\eta` (``lr``):
:math:`F_k \\leftarrow F_k - \\eta \\nabla_{F_k} R_S`; gradient flow is its :math:`\\eta \\to 0` limit,
:math:`\\dot\\theta = -\\nabla R_S(\\theta)`, and step :math:`s` of descent sits at flow time
:math:`t = s\\eta`. Both start from :math:`\\theta_0 = \\alpha\\,\\mathcal N(0, I)` (see
:func:`mfbook.factorization.init_factors`).

``gradient_flow`` integrates the ODE with an adaptive 8th-order Runge-Kutta method
(Dormand-Prince 8(5,3), :mod:`mfbook.dop853`) at relative tolerance ``rtol`` (default 1e-10): for
depth 2 and up to 512 parameters compiled with numba (:mod:`mfbook._kernel`, with the
error norm and step-size rule of ``scipy.integrate.solve_ivp(method="DOP853")``),
otherwise with scipy. On the long plateaus of small initialization the right-hand side is
tiny and smooth, so the step size grows and a plateau costs a handful of steps. With the
defaults, the final :math:`W` of the book's examples agrees with a run at ``rtol=1e-12`` to
about 1e-8 (checked in ``tests/test_training.py``).

Explained in: chapter 1 (Background) and chapter 4 (Training dynamics).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import DOP853
from scipy.optimize import brentq

from .completion import Completion, as_completion
from .factorization import init_factors, loss_gradient, product
from .seeding import run_seeds
from .dop853 import TABLEAU

from . import _kernel    # the compiled integrator (numba, a dependency) for depth 2 (tests set it to None
                         # to compare with scipy's DOP853, which serves larger and deeper problems)

_MAX_TRIES = 1_000_000   # integrator steps before the flow gives up (not converged)
_EPS = np.finfo(float).eps

__all__ = ["Trajectory", "DivergenceError", "gradient_descent", "gradient_flow", "gradient_descent_batch",
           "precise_gradient_flow"]


class DivergenceError(ValueError):
    """Gradient descent blew up: the step size is too large for the problem.

    Explained in: chapter 4 (Training dynamics, the step size).
    """


@dataclass
class Trajectory:
    """A training run: the final factors and what happened on the way.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Flow time of each record (for gradient descent: step x lr).
    loss, grad_norm : ndarray, shape (T,)
        :math:`R_S` and :math:`\\|\\nabla R_S\\|` (all factors together) at each record.
    W_path : ndarray, shape (T, d1, d2)
        :math:`W = AB` at each record.
    sv_W, sv_A, sv_B, sv_aug : ndarray, shape (T, .)
        Singular values (descending) of :math:`W`, of the first factor :math:`A`, of the last
        factor :math:`B` and of :math:`W_{aug} = [A; B^\\top]`.
    factor_path : list of ndarray, shapes (T, ., .)
        Each factor :math:`F_1, \\dots, F_L` at each record (``A_path`` and ``B_path`` are the first
        and the last; ``factors``, ``A`` and ``B`` the final ones).
    converged : bool
        True if the loss went below ``tol``.

    Explained in: chapter 4 (Training dynamics).
    """

    problem: Completion
    t: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    W_path: np.ndarray
    sv_W: np.ndarray
    sv_A: np.ndarray
    sv_B: np.ndarray
    sv_aug: np.ndarray
    factor_path: list
    converged: bool
    info: dict = field(default_factory=dict)

    @property
    def factors(self) -> list:
        """The final factors :math:`F_1, \\dots, F_L`."""
        return [F[-1] for F in self.factor_path]

    @property
    def W(self) -> np.ndarray:
        """Final learned matrix :math:`W = AB`."""
        return self.W_path[-1]

    @property
    def A_path(self) -> np.ndarray:
        return self.factor_path[0]

    @property
    def B_path(self) -> np.ndarray:
        return self.factor_path[-1]

    @property
    def A(self) -> np.ndarray:
        return self.factors[0]

    @property
    def B(self) -> np.ndarray:
        return self.factors[-1]


def _snapshot_arrays(problem, factor_path):
    """Loss, gradient norm, W and singular values for a list of factor snapshots (vectorized)."""
    stacked = [np.stack([f[k] for f in factor_path]) for k in range(len(factor_path[0]))]
    values, mask = problem.values, problem.mask
    lossv, grads = loss_gradient(stacked, values, mask)
    gnorm = np.sqrt(sum(np.sum(g * g, axis=(-2, -1)) for g in grads))
    W = product(stacked)
    A, B = stacked[0], stacked[-1]
    aug = np.concatenate([A, np.swapaxes(B, -1, -2)], axis=-2)
    sv = lambda X: np.linalg.svd(X, compute_uv=False)  # noqa: E731
    return stacked, lossv, gnorm, W, sv(W), sv(A), sv(B), sv(aug)


def _trajectory(problem, t, factor_path, converged, info, scaled=None):
    """The Trajectory of ``problem``; with ``scaled = (unit, c, f)`` the path was computed on ``unit``
    (``problem`` divided by c, factors divided by f, c = f^depth) and its records are scaled back (a
    loss beyond the largest float is reported as inf, with no overflow warning)."""
    if scaled is None:
        stacked, lossv, gnorm, W, sW, sA, sB, sAug = _snapshot_arrays(problem, factor_path)
    else:
        unit, c, f = scaled
        stacked, lossv, gnorm, W, sW, sA, sB, sAug = _snapshot_arrays(unit, factor_path)
        depth = len(stacked)
        with np.errstate(over="ignore"):
            stacked = [x * f for x in stacked]
            lossv, gnorm = lossv * c * c, gnorm * c * c / f      # |grad| of each factor: c^2 / f
            W, sW, sA, sB, sAug = W * c, sW * c, sA * f, sB * f, sAug * f
    return Trajectory(problem, np.asarray(t, float), lossv, gnorm, W, sW, sA, sB, sAug, stacked, converged,
                      info)


def _power_of_two_scale(problem, depth):
    """``(size, c, f, t)``: the data's size and the powers of two near it, c = 2^(depth k), f = 2^k,
    t = c^(2 - 2/depth). The flow on the data / c, from the factors / f, is the same flow with time
    multiplied by t (all these scalings are exact in floating point)."""
    size = problem.scale or 1.0
    k = int(np.round(np.log2(size) / depth))
    return size, 2.0 ** (depth * k), 2.0 ** k, 2.0 ** (k * (2 * depth - 2))


def _check_positive(name, x):
    if not (isinstance(x, (int, float, np.floating, np.integer)) and np.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a positive finite number, got {x!r}")


def _depth2_loss_gradient(values, mask):
    """:func:`loss_gradient` for one depth-2 problem, with the masks prepared once (a widget's
    gradient descent takes thousands of these small steps)."""
    P = mask.astype(float)
    PM = P * values
    n = float(mask.sum())

    def loss_grad(factors):
        A, B = factors
        D = P * (A @ B) - PM
        E = (2.0 / n) * D
        return float(np.vdot(D, D)) / n, [E @ B.T, A.T @ E]
    return loss_grad


def gradient_descent(problem, init_scale: float = 1e-3, lr: float = 0.1, max_steps: int = 100_000,
                     tol: float = 1e-10, seed=0, depth: int = 2, width: int | None = None,
                     record_every: int | None = None) -> Trajectory:
    """Full-batch gradient descent on :math:`R_S` from small random initialization.

    .. math:: \\theta_{s+1} = \\theta_s - \\eta\\, \\nabla R_S(\\theta_s),\\qquad
              \\theta_0 = \\alpha\\,\\mathcal N(0, I).

    Parameters
    ----------
    problem : Completion or str
    init_scale : float
        :math:`\\alpha`, the standard deviation of every initial entry.
    lr : float
        Step size :math:`\\eta`.
    max_steps : int
        Upper bound on the number of steps.
    tol : float
        Stop when :math:`R_S <` ``tol``.
    seed : int or numpy.random.Generator
        Seed of the initial direction.
    depth, width : int
        Number of factors (2: :math:`W = AB`) and hidden width (default :math:`\\max(d_1, d_2)`).
    record_every : int, optional
        Record every this many steps (default: about 2000 records over ``max_steps``).

    Returns
    -------
    Trajectory

    Raises
    ------
    DivergenceError
        If the loss becomes non-finite or grows far above its starting value: lower ``lr``.

    Explained in: chapter 1 (Background).
    """
    problem = as_completion(problem)
    _check_positive("lr", lr)
    _check_positive("init_scale", init_scale)
    if int(max_steps) != max_steps or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps}")
    factors = init_factors(problem.shape, init_scale, seed, depth, width)
    every = max(1, int(max_steps) // 2000) if record_every is None else int(record_every)
    values, mask = problem.values, problem.mask
    ceiling = 1e6 * (float(np.mean(values[mask] ** 2)) + 1.0)
    path, times = [], []
    converged = False
    grad_fn = _depth2_loss_gradient(values, mask) if depth == 2 else (lambda fs: loss_gradient(fs, values, mask))
    for step in range(int(max_steps) + 1):
        value, grads = grad_fn(factors)
        if not np.isfinite(value) or value > ceiling:
            raise DivergenceError(
                f"gradient descent diverged at step {step} (loss {value:.3g}): lr={lr} is too large "
                f"for this problem; try lr={lr / 10:g} or smaller"
            )
        done = value < tol
        if step % every == 0 or done or step == max_steps:
            path.append([f.copy() for f in factors])
            times.append(step * lr)
        if done:
            converged = True
            break
        if step < max_steps:
            factors = [f - lr * g for f, g in zip(factors, grads)]
    return _trajectory(problem, times, path, converged,
                       {"method": "gradient descent", "lr": lr, "init_scale": init_scale, "steps": step, "depth": depth})


def gradient_flow(problem, init_scale: float = 1e-3, t_max: float = 1e6, tol: float = 1e-16, seed=0,
                  depth: int = 2, width: int | None = None, rtol: float = 1e-10, start=None,
                  atol: float | None = None, max_steps: int = _MAX_TRIES) -> Trajectory:
    """Gradient flow :math:`\\dot\\theta = -\\nabla R_S(\\theta)` from :math:`\\theta_0 = \\alpha\\,\\mathcal N(0, I)`.

    Integrated by the Dormand-Prince 8(5,3) method (compiled for depth 2 up to 512 parameters, else
    scipy's ``DOP853``) with relative tolerance ``rtol`` and an absolute
    tolerance :math:`10^{-3}\\,\\mathrm{rtol}\\,\\alpha` per parameter, so that the tiny initial
    parameters are followed accurately (and the loss keeps falling at a minimum instead of
    stalling at the stability limit of the explicit method); it stops when :math:`R_S <`
    ``tol`` :math:`\\max|M_{ij}|^2` or at ``t_max``. The records are the integrator's own steps (a plateau
    costs few of them).

    The flow is computed on the data divided by a power of two near their size, :math:`c = 2^{Lk}`
    (:math:`L` factors), with the factors divided by :math:`2^k` and time multiplied by
    :math:`c^{2 - 2/L}`: the same flow (all these scalings are exact in floating point), so data from
    :math:`10^{-200}` to :math:`10^{200}` give the same trajectory up to the scale, without overflow.

    Parameters
    ----------
    problem : Completion or str
    init_scale : float
        :math:`\\alpha`.
    t_max : float
        Longest flow time.
    tol : float
        Stop when the loss is below ``tol`` times the square of the largest observed
        :math:`|M_{ij}|` (relative: data at any scale stop at the same point of the same flow).
    seed, depth, width
        As in :func:`gradient_descent` (same seed, same initial point).
    rtol : float
        Relative tolerance of the integrator.
    start : sequence of ndarray, optional
        Start from these factors (any width; ``depth`` is then their number) instead of
        :math:`\\alpha` times a draw: e.g. factors of width :math:`k` (the flow inside
        :math:`\\Omega_{\\le k}`), or such factors with unused inner directions seeded on purpose.
    atol : float, optional
        Absolute tolerance per parameter (default :math:`10^{-3}\\,\\mathrm{rtol}\\,\\alpha`, or with
        ``start`` the same with the smallest non-zero entry of the start in place of :math:`\\alpha`).
    max_steps : int
        The work budget: the most integrator steps (attempted steps when compiled, accepted ones with
        scipy) before the run stops, not converged (``info["steps"]`` says how many it took). Large
        problems take long steps of costly right-hand sides: e.g. 100 x 100 needs about 1 s per
        100 steps.

    Returns
    -------
    Trajectory

    Explained in: chapter 4 (Training dynamics).
    """
    problem = as_completion(problem)
    _check_positive("t_max", t_max)
    _check_positive("rtol", rtol)
    if start is None:
        _check_positive("init_scale", init_scale)
        factors = init_factors(problem.shape, init_scale, seed, depth, width)
        smallest = init_scale
    else:
        factors = [np.array(f, float) for f in start]
        depth = len(factors)
        if depth < 1 or any(f.ndim != 2 for f in factors) or factors[0].shape[0] != problem.shape[0] or \
                factors[-1].shape[1] != problem.shape[1] or \
                any(a.shape[1] != b.shape[0] for a, b in zip(factors, factors[1:])):
            raise ValueError(f"start: factors of shapes {[f.shape for f in factors]} do not multiply to a "
                             f"{problem.shape} matrix")
        nonzero = np.abs(np.concatenate([f.ravel() for f in factors]))
        nonzero = nonzero[nonzero > 0]
        smallest = float(nonzero.min()) if nonzero.size else 1.0
    shapes = [f.shape for f in factors]
    splits = np.cumsum([np.prod(s) for s in shapes])[:-1]
    size, c, f_scale, t_scale = _power_of_two_scale(problem, depth)
    original, problem = problem, Completion(problem.values / c, problem.mask)
    factors = [f / f_scale for f in factors]
    smallest, t_max, tol = smallest / f_scale, t_max * t_scale, tol * (size / c) ** 2
    atol = None if atol is None else atol / f_scale
    values, mask = problem.values, problem.mask

    def unpack(y):
        return [part.reshape(s) for part, s in zip(np.split(y, splits), shapes)]

    y0 = np.concatenate([f.ravel() for f in factors])
    atol = 1e-3 * rtol * smallest if atol is None else float(atol)
    _check_positive("atol", atol)
    if depth == 2 and _kernel is not None and y0.size <= _kernel.MAX_PARAMETERS and \
            _kernel.ready("flow", wait=True):
        (d1, d), (_, d2) = shapes
        n = float(mask.sum())
        Ms = np.where(mask, 2.0 / n, 0.0)
        tab = TABLEAU
        with _kernel.first_use(_kernel.flow, "gradient flow", "about ten seconds"):
            t, Y, converged, nfev = _kernel.flow(y0, Ms, Ms * np.where(mask, values, 0.0), d1, d, d2, n, rtol, atol,
                                                 float(t_max), float(tol), tab["A"], tab["B"], tab["E3"], tab["E5"],
                                                 tab["expo"], int(max_steps))
        return _trajectory(original, np.asarray(t) / t_scale, [unpack(y) for y in Y], bool(converged),
                           {"method": "gradient flow", "init_scale": init_scale, "rtol": rtol, "nfev": int(nfev),
                            "depth": depth, "steps": len(t) - 1}, (problem, c, f_scale))

    def rhs(_t, y):
        _, grads = loss_gradient(unpack(y), values, mask)
        return -np.concatenate([g.ravel() for g in grads])

    def excess(y):                       # loss - tol: the run stops where it changes sign
        return float(loss_gradient(unpack(y), values, mask)[0]) - tol

    # scipy's DOP853 stepped here (as solve_ivp would, with its event located the same way) so that
    # ``max_steps`` bounds the work on large problems too
    solver = DOP853(rhs, 0.0, y0, float(t_max), rtol=rtol, atol=atol)
    ts, ys, converged = [0.0], [y0], excess(y0) <= 0
    while not converged and solver.status == "running" and len(ts) <= max_steps:
        message = solver.step()
        if solver.status == "failed":
            raise RuntimeError(f"gradient flow integration failed: {message}")
        if excess(solver.y) <= 0:
            dense = solver.dense_output()
            t_end = brentq(lambda t: excess(dense(t)), solver.t_old, solver.t, xtol=4 * _EPS, rtol=4 * _EPS)
            ts.append(t_end)
            ys.append(dense(t_end))
            converged = True
        else:
            ts.append(solver.t)
            ys.append(solver.y.copy())
    return _trajectory(original, np.array(ts) / t_scale, [unpack(y) for y in ys], converged,
                       {"method": "gradient flow", "init_scale": init_scale, "rtol": rtol, "nfev": solver.nfev,
                        "depth": depth, "steps": len(ts) - 1}, (problem, c, f_scale))


def gradient_descent_batch(values, masks, init_scale: float = 1e-3, lr: float = 0.1, max_steps: int = 100_000,
                           tol=1e-10, seed=0, width: int | None = None, check_every: int = 10):
    """Gradient descent on many problems of one shape at once (depth 2).

    All runs advance together with batched matrix products. Every ``check_every`` steps the
    losses are checked and the runs whose loss is below ``tol`` leave the batch, so late steps
    only touch the slow runs. Run ``r`` starts where :func:`gradient_descent` with seed ``seed + r``
    starts (:mod:`mfbook.seeding`), so it does not depend on the other runs of the batch.

    Parameters
    ----------
    values, masks : array_like, shape (R, d1, d2)
        Stacked problems (values where unobserved are ignored).
    init_scale, lr, max_steps, width
        As in :func:`gradient_descent`.
    seed : int or sequence of int
        Run ``r`` has seed ``seed + r`` (or ``seed[r]``).
    tol : float or array_like, shape (R,)
        A run stops once :math:`R_S <` its ``tol``.
    check_every : int
        How often (in steps) losses are checked.

    Returns
    -------
    W : ndarray, shape (R, d1, d2)
    loss : ndarray, shape (R,)
    steps : ndarray of int, shape (R,)
        Steps each run took, a multiple of ``check_every`` (``max_steps`` if it never reached ``tol``).

    Raises
    ------
    DivergenceError
        If any run diverges.

    Explained in: chapter 2 (Connectivity, the phase-transition sweep).
    """
    values = np.asarray(values, float)
    masks = np.asarray(masks, bool)
    if values.ndim != 3 or values.shape != masks.shape:
        raise ValueError(f"values and masks must be stacks of equal shape (R, d1, d2); got {values.shape}, {masks.shape}")
    if not masks.any(axis=(1, 2)).all():
        raise ValueError("every problem in the batch needs at least one observed entry")
    _check_positive("lr", lr)
    _check_positive("init_scale", init_scale)
    R, d1, d2 = values.shape
    d = max(d1, d2) if width is None else int(width)
    starts = [init_factors((d1, d2), init_scale, s, width=d) for s in run_seeds(seed, R)]
    A = np.stack([a for a, _ in starts])
    B = np.stack([b for _, b in starts])
    V = np.where(masks, values, 0.0)
    n = masks.sum(axis=(1, 2))
    target = np.broadcast_to(np.asarray(tol, float), (R,))
    scale = (2.0 / n)[:, None, None] * masks      # dR/dW = (2/n) P o (W - M)
    steps = np.full(R, int(max_steps))
    lossv = np.sum(V * V, axis=(1, 2)) / n
    act = np.arange(R)
    a, b, v, sc = A, B, V, scale
    step = 0
    while act.size and step < max_steps:
        k = min(int(check_every), int(max_steps) - step)
        with np.errstate(over="ignore", invalid="ignore"):   # a diverging run is caught just below
            for _ in range(k):
                E = sc * (a @ b - v)
                a, b = a - lr * (E @ np.swapaxes(b, 1, 2)), b - lr * (np.swapaxes(a, 1, 2) @ E)
            D = np.where(masks[act], a @ b - v, 0.0)
            cur = np.sum(D * D, axis=(1, 2)) / n[act]
        step += k
        if not np.all(np.isfinite(cur)) or np.any(cur > 1e8):
            raise DivergenceError(f"batched gradient descent diverged near step {step}: lr={lr} is too large; "
                                  f"try lr={lr / 10:g}")
        lossv[act] = cur
        A[act], B[act] = a, b
        done = cur < target[act]
        if done.any():
            steps[act[done]] = step
            keep = ~done
            act, a, b, v, sc = act[keep], a[keep], b[keep], v[keep], sc[keep]
    return A @ B, lossv, steps


# Dormand-Prince 5(4) as exact fractions (Hairer, Norsett & Wanner, sec. II.5): the many-digit flow's
# stages (a[i] for stage i + 1), fifth-order weights and the error weights (fifth minus fourth order)
_DP5_A = [[(1, 5)], [(3, 40), (9, 40)], [(44, 45), (-56, 15), (32, 9)],
          [(19372, 6561), (-25360, 2187), (64448, 6561), (-212, 729)],
          [(9017, 3168), (-355, 33), (46732, 5247), (49, 176), (-5103, 18656)]]
_DP5_B = [(35, 384), (0, 1), (500, 1113), (125, 192), (-2187, 6784), (11, 84)]
_DP5_E = [(71, 57600), (0, 1), (-71, 16695), (71, 1920), (-17253, 339200), (22, 525), (-1, 40)]


def precise_gradient_flow(problem, init_scale: float = 1e-100, digits: int = 80, seed=0, width: int | None = None,
                          t_max: float = 1e7, tol: float = 1e-14, rtol: float = 1e-8,
                          max_steps: int = 200_000) -> Trajectory:
    """Gradient flow of :math:`W = AB` computed with ``digits`` significant decimal digits.

    The same flow as :func:`gradient_flow` from the same :math:`\\theta_0 = \\alpha\\,\\mathcal N(0, I)`
    (same ``seed``), but every number carries ``digits`` decimal digits (Python's :mod:`decimal`)
    instead of 16, and there is no floor on :math:`\\alpha`. It answers what double precision cannot:
    whether a disagreement between training and :func:`mfbook.small_init_limit` comes from
    :math:`\\alpha` not being small enough or from rounding errors. In double precision an inner
    direction that the limit path leaves unused is never smaller than about :math:`10^{-16}`
    relative to the factors (rounding), and a long transit near a residual can multiply it by more
    than :math:`10^{16}`; then no floating-point :math:`\\alpha`, however small, follows the limit.

    Integrated by the Dormand-Prince 5(4) pair with the error measured relative to the largest
    parameter (the flow acts on every inner column :math:`(a_j, b_j)` by the same linear map, and so
    does every Runge-Kutta step: truncation errors do not create new inner directions, only rounding
    errors do, at the level of :math:`10^{-\\text{digits}}`). About 1-2 ms a step for a
    :math:`4 \\times 4` problem. The data are divided by a power of two near their size first, as in
    :func:`gradient_flow`.

    Parameters
    ----------
    problem : Completion or str
    init_scale : float
        :math:`\\alpha` (any positive float: :math:`10^{-300}` is fine).
    digits : int
        Significant decimal digits of every number, 17 to 1000.
    seed, width
        As in :func:`gradient_descent` (depth 2).
    t_max, tol, max_steps
        As in :func:`gradient_flow`: the longest flow time, the stop at loss
        ``tol`` :math:`\\max|M_{ij}|^2`, the most accepted steps.
    rtol : float
        Local error per step, relative to the largest parameter. Keep ``rtol**2`` well below ``tol``:
        near a minimum the steps sit at the explicit method's stability limit, and a looser control
        lets them ring there with the loss stalled above ``tol`` until ``max_steps``.

    Returns
    -------
    Trajectory
        Its records (every accepted step) are rounded to double precision.

    Explained in: the appendix "How the limit is computed" (where double precision cannot follow the limit).
    """
    from decimal import Decimal, localcontext

    problem = as_completion(problem)
    for name, x in (("init_scale", init_scale), ("t_max", t_max), ("tol", tol), ("rtol", rtol)):
        _check_positive(name, x)
    if not isinstance(digits, (int, np.integer)) or isinstance(digits, bool):
        raise TypeError(f"digits must be an integer, got {digits!r}")
    if not 17 <= digits <= 1000:
        raise ValueError(f"digits must be between 17 and 1000, got {digits}")
    if not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
        raise ValueError(f"max_steps must be a positive integer, got {max_steps!r}")
    if rtol >= 0.1:
        raise ValueError(f"rtol must be below 0.1, got {rtol}")
    unit = init_factors(problem.shape, 1.0, seed, 2, width)
    (d1, k), (_, d2) = unit[0].shape, unit[1].shape
    size, c, f_scale, _ = _power_of_two_scale(problem, 2)       # time * c
    observed = problem.mask.ravel()
    n = int(observed.sum())
    with localcontext() as ctx:
        ctx.prec = int(digits)
        D = Decimal
        frac = lambda pq: D(pq[0]) / D(pq[1])          # noqa: E731
        a_rows = [np.array([frac(pq) for pq in row], dtype=object) for row in _DP5_A]
        b_w = np.array([frac(pq) for pq in _DP5_B], dtype=object)
        e_w = np.array([frac(pq) for pq in _DP5_E], dtype=object)
        mask = np.array([D(int(m)) for m in observed], dtype=object).reshape(d1, d2)
        values = np.array([D(float(v) / c) if m else D(0) for v, m in zip(problem.values.ravel(), observed)],
                          dtype=object).reshape(d1, d2)
        two_over_n = D(2) / D(n)
        alpha = D(float(init_scale)) / D(f_scale)
        y = np.array([D(float(x)) * alpha for x in np.concatenate([f.ravel() for f in unit])], dtype=object)
        split = d1 * k
        target = D(float(tol)) * D(float(size / c)) ** 2 * n     # on the sum of squared residuals

        def velocity(y):
            """-grad R_S (R_S = |P_S(AB - M)|^2 / n) and n R_S."""
            A, B = y[:split].reshape(d1, k), y[split:].reshape(k, d2)
            R = (A.dot(B) - values) * mask
            E = R * two_over_n
            return -np.concatenate([E.dot(B.T).ravel(), A.T.dot(E).ravel()]), R.ravel().dot(R.ravel())

        t, h, steps = 0.0, 1e-3, 0
        ts, ys = [0.0], [y]
        K = np.empty((7, y.size), dtype=object)            # the stages' slopes
        K[0], sum_sq = velocity(y)
        converged = sum_sq < target
        while not converged and t < t_max * c and steps < max_steps:
            hd = D(h)
            for i, row in enumerate(a_rows, start=1):
                K[i], _ = velocity(y + (row * hd).dot(K[:i]))
            y_new = y + (b_w * hd).dot(K[:6])
            K[6], sum_sq = velocity(y_new)
            err = (e_w * hd).dot(K)
            largest = max(np.abs(y).max(), np.abs(y_new).max())
            ratio = float(np.abs(err).max() / (D(rtol) * largest))
            if ratio <= 1.0:
                y, t, steps = y_new, t + h, steps + 1
                K[0] = K[6]
                ts.append(t)
                ys.append(y)
                converged = sum_sq < target
            h *= min(5.0, max(0.2, 0.9 * max(ratio, 1e-10) ** -0.2))
        path = [[np.array([float(v) for v in Y[:split]]).reshape(d1, k),
                 np.array([float(v) for v in Y[split:]]).reshape(k, d2)] for Y in ys]
    unit_problem = Completion(problem.values / c, problem.mask)
    return _trajectory(problem, np.array(ts) / c, path, bool(converged),
                       {"method": "precise gradient flow", "init_scale": init_scale, "digits": int(digits),
                        "rtol": rtol, "steps": steps}, (unit_problem, c, f_scale))
