"""The small-initialization limit of gradient flow, computed directly.

As :math:`\\alpha \\to 0`, gradient flow on :math:`W = AB` from :math:`\\alpha\\theta_0` spends ever longer
near a sequence of critical points :math:`\\theta_c^{(0)} = 0, \\theta_c^{(1)}, \\dots` and moves between
them along the unstable direction of largest growth rate (Bai, Zhao & Zhang 2024, Theorem 2; for
the connected case this is the Greedy Low-Rank Learning of Li, Luo & Lyu 2021). This module follows
that limit path instead of a finite-:math:`\\alpha` run:

1. at a critical point :math:`\\theta_c` compute the Hessian :math:`H = \\nabla^2 R_S(\\theta_c)`; its top
   escape rate is :math:`\\lambda_1 = \\lambda_{\\max}(-H)`, which for depth 2 equals the top singular
   value of the residual gradient :math:`\\frac2n P_{S_x}(M - W_c)`. If :math:`\\lambda_1 \\le 0` the point
   is a minimum (by Theorem 1, a global one) and the path ends;
2. project the carried initial direction :math:`\\delta` onto the top eigenspace of :math:`-H`
   (where that eigenspace is degenerate this projection is what makes the limit depend on the seed);
3. leave along it: integrate the flow from a point of the unstable manifold, together with the
   variational equation :math:`\\dot\\delta = -H(\\theta(t))\\delta` that transports the rest of the
   initial direction (all but its top-eigenspace part); its fastest-growing part leads the next
   escape, as at small :math:`\\alpha`. The compiled path starts far out on the manifold, from its
   series :math:`\\theta_c + \\sum_m K_m s^m` (10 terms, :math:`(m\\lambda_1 I + H) K_m = N_m`, the
   parametrization method: the integrator skips the slow, nearly linear part of the escape);
4. stop near the next critical point (the gradient has fallen below :math:`10^{-6}` of its scale, or
   it passed through a sharp minimum: a plateau that rounding errors already start to leave),
   polish the critical point with Newton steps, and repeat. Each run gets a ``status``:
   ``"converged"`` (ended at a minimum), ``"unbounded"`` (the factors grow without bound while the
   loss decreases: the flow has no finite limit) or ``"stalled"`` (no progress between two
   plateaus, or ``max_saddles`` reached).

The readable statement of this algorithm, for one problem at full width with SciPy, is
:func:`mfbook.saddle_to_saddle.saddle_to_saddle` (the reference); it computes ``record=True``
(the transits, for plotting), the problems the compiled kernel does not serve (without numba, or
a full-width pass above 512 parameters; each run with its own seed, independent of its
batch-mates), and it is the oracle of the compiled path in ``tests/test_saddle_to_saddle.py``.
That test says where the two agree (to rounding level where each critical point is isolated up
to the symmetries) and why they may differ: the compiled path stops at a gradient of
:math:`10^{-6}` and lands on the critical point by Newton, which on a continuum of minima is off the
flow's end point by a small amount (the reference integrates to :math:`10^{-8}`), and at stages that
crawl, the two give up in different places.

The integrator is the adaptive Dormand-Prince 8(5,3) method (the tableau of scipy's DOP853) with
error control on :math:`\\theta`; a slow final approach is finished by Newton steps, accepted when
two attempts agree (on a continuum of critical points they agree only once the remaining distance
is negligible), or in the narrow pass (below) at once when, from a point where the loss is locally
convex up to the symmetry, Newton lands on a strict local minimum of the factors at that width (the
Hessian plus :math:`c\\,TT^\\top`, :math:`T` the tangents of the symmetry orbit, positive definite):
the flow, already close, converges to it. Newton steps solve with that gauge-fixed Hessian where
the factors have full rank (Cholesky, or LU where it is not positive definite), else with the
pseudo-inverse.

The whole path runs compiled (:mod:`mfbook._transit_kernel`, numba), each run on its own (the runs
of a batch are shared out over the CPU cores). Two facts make it cheap:

- carrying :math:`\\delta` doubles the work of a transit, and it only matters where an escape is
  degenerate: when the top eigenspace of :math:`-H` at a rank-:math:`k` saddle is just the orbit of
  the rotation symmetry :math:`(A, B) \\mapsto (AQ, Q^\\top B)` (multiplicity :math:`d - k`: a simple
  top singular value of the residual gradient), all its directions lead to the same path of
  :math:`W`;
- along such a path the factors use no more inner directions than the rank learned so far: after
  :math:`k` escapes the columns of :math:`A` and the rows of :math:`B` span :math:`k` directions and
  the other :math:`d - k` stay exactly 0. There the Hessian splits into the Hessian at width
  :math:`k` and :math:`d - k` copies of the block :math:`(x, y) \\mapsto (Ey, E^\\top x)` of a new
  inner direction, whose eigenvalues are :math:`\\pm\\sigma_i(E)` (:math:`E` the residual gradient).

So the first pass runs without :math:`\\delta` and with factors of width :math:`k + 1` between the
:math:`k`-th plateau and the next (Hessians of 8, 16, 24 parameters instead of 32 for a 4 x 4
problem), escaping into a new inner direction along the top singular pair of :math:`E` (the step
sizes do not depend on :math:`\\delta`: the error is measured on :math:`\\theta` alone). A run that
meets a larger top eigenspace is computed again on the narrow path carrying :math:`\\delta`
(``method`` ``"narrow carrying"``), or at full width carrying it where an escape needs two new inner
directions at once. A run whose narrow transit does not settle within its budget (a stage that
crawls) is computed again at full width (``"full width"``), where, as in floating-point training,
rounding errors seed the unused inner directions and may end such a stage. A problem whose observed
entries fall into several components is computed one component at a time (``"components"``): the
flow decouples on them (chapter 3), and their critical points are merged in the order of their
escape rates, the factors in one common inner space. Newton steps fix :math:`W` but not the balance
:math:`A^\\top A = B B^\\top` that the flow conserves (it holds on the whole limit path, which starts
at 0), so the narrow pass rebalances the factors at each critical point (:math:`A = U S^{1/2}`,
:math:`B = S^{1/2} V^\\top` from the SVD of :math:`W`); the later path, which on an underdetermined
problem depends on the balance, then starts where the flow would. ``small_init_limit`` is
:func:`small_init_limit_batch` of one problem.

Explained in: chapter 4 (Training dynamics) and chapter 5 (Implicit regularization).
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .completion import Completion, as_completion

try:  # the compiled integrator (numba); without it the reference (mfbook.saddle_to_saddle), slower
    import numba

    from . import _transit_kernel as _kernel

    _jit = numba.njit(cache=True)
except ImportError:  # pragma: no cover - numba is in requirements.txt
    _kernel = None

    def _jit(f):
        return f

__all__ = ["LimitResult", "Saddle", "small_init_limit", "small_init_limit_batch", "numerical_rank"]

_EPS = 1e-5          # departure distance from a saddle (relative to the size of a fit); O(eps^2) start
_GTOL = 1e-6         # plateau detection, relative to the gradient scale (Newton polishes after)
_MAX_STEPS = 5000     # attempted steps per transit before it counts as stalled
_BIG = 1e3           # |theta| beyond this many times the size of a fit: the factors grow without bound
_EIG_GROUP = 1e-6    # eigenvalues closer than this (relative to lambda_1) form one eigenspace
_MIN_RATE = 1e-9     # lambda_1 below this (relative) counts as a minimum
_SNAP = 1e-2         # below this fraction of its peak gradient, a slow approach is finished by Newton
_SNAP_MINIMUM = 0.1  # ... and below this one already, if Newton lands on a strict local minimum (narrow path) and
                     # the loss is locally convex where the flow is (the compiled path only)
_SNAP_AFTER = 10     # ... once it has taken this many steps; after a failed attempt the next one
                     # waits 10 steps plus half the steps taken so far (few attempts in long batches)
_POLISH_TOL = 1e-14  # the Newton polish stops once the gradient is below this (relative): rounding level
_SNAP_MAX_P = 256    # not for more parameters than this: a dense pseudo-inverse of the Hessian
                     # (p^3) then costs more than the integrator steps it saves
_COMPILED_MAX_P = 512  # the compiled kernel's plain loops serve up to this many parameters (d ~ 16); the
                       # full-width passes of larger problems go to the reference (mfbook.saddle_to_saddle)


def numerical_rank(W, tol: float = 1e-6) -> int | np.ndarray:
    """Number of singular values above ``tol`` times the largest (batched).

    Explained in: chapter 1 (Background).
    """
    s = np.linalg.svd(np.asarray(W, float), compute_uv=False)
    top = s[..., :1]
    return np.sum(s > tol * np.maximum(top, 1e-300), axis=-1)


@dataclass
class Saddle:
    """A critical point visited on the limit path.

    Attributes
    ----------
    W : ndarray
        :math:`W_c = A_c B_c` at the critical point.
    loss : float
        :math:`R_S(\\theta_c)`, the height of the plateau.
    rank : int
        Numerical rank of :math:`W_c`.
    rate : float
        :math:`\\lambda_1`, the top eigenvalue of :math:`-\\nabla^2 R_S(\\theta_c)` (0 or less at a minimum).
    multiplicity : int
        Dimension of the top eigenspace (the escape directions).
    """

    W: np.ndarray
    loss: float
    rank: int
    rate: float
    multiplicity: int


@dataclass
class LimitResult:
    """The :math:`\\alpha \\to 0` limit of gradient flow for one problem.

    Attributes
    ----------
    W : ndarray, shape (d1, d2)
        The limit :math:`\\widehat W = \\lim_{\\alpha\\to0} W_\\infty(\\alpha\\theta_0)`.
    A, B : ndarray
        Factors of ``W`` at the end of the path.
    saddles : list of Saddle
        The critical points visited, from :math:`\\theta = 0` to the final minimum (last entry).
    phases : list of dict
        For each departure, the transit: ``t`` (time since leaving at distance
        :math:`\\varepsilon`), ``loss``, ``W``, ``A`` and ``B`` at each integrator step (only when
        ``record=True``).
    status : str
        ``"converged"``: the path ended at a minimum (the last saddle has :math:`\\lambda_1 \\le 0`).
        ``"unbounded"``: the loss keeps decreasing while :math:`\\|A\\|, \\|B\\|` grow without bound
        (the infimum of the loss is not attained); ``W`` is the last state, not a limit.
        ``"stalled"``: a transit did not reach a plateau in the allotted time, or the path
        visited ``max_saddles`` critical points without reaching a minimum.
    method : str
        How the path was computed (see the module docstring): ``"narrow"`` (factors only as wide
        as the rank so far), ``"narrow carrying"`` (the same, carrying the initial direction through
        a degenerate escape), ``"components"`` (observed entries in several components, each
        followed on its own), ``"full width"`` (again at full width because a narrow stage crawled),
        ``"full width carrying"`` (at full width carrying the initial direction, for a degenerate
        escape) or ``"reference"`` (:mod:`mfbook.saddle_to_saddle`: full width, always carrying it).
    """

    problem: Completion
    W: np.ndarray
    A: np.ndarray
    B: np.ndarray
    saddles: list
    phases: list = field(default_factory=list)
    status: str = "converged"
    method: str = "reference"

    @property
    def rank(self) -> int:
        """Numerical rank of the limit."""
        return int(numerical_rank(self.W))

    @property
    def ranks(self) -> list[int]:
        """Rank of :math:`W` at each plateau, ending with the limit's rank."""
        return [s.rank for s in self.saddles]

    @property
    def plateaus(self) -> np.ndarray:
        """Loss at each plateau (the last is the final loss, about 0)."""
        return np.array([s.loss for s in self.saddles])

    @property
    def loss(self) -> float:
        return self.saddles[-1].loss


# ---------------------------------------------------------------------------------------------
# batched helpers


@_jit
def _scales(values, masks):
    """Per problem: n, Ms = 2/n on the observed entries (0 elsewhere) and Vs = Ms * M, so that the
    residual gradient is E = Ms * W - Vs, and three scales: of the gradient, (2/n) |P(M)|_F; of theta at a
    balanced fit, sqrt(2 sqrt(min(d1, d2)) |P(M)|_F) (|A|^2 + |B|^2 = 2 |W|_* <= 2 sqrt(d) |M|_F); of W,
    the largest observed |M_ij|."""
    R, d1, d2 = values.shape
    n = np.zeros(R)
    Ms = np.zeros(values.shape)
    Vs = np.zeros(values.shape)
    gscale = np.empty(R)
    tscale = np.empty(R)
    wscale = np.empty(R)
    for r in range(R):
        size2 = 0.0
        big = 0.0
        for i in range(d1):
            for j in range(d2):
                if masks[r, i, j]:
                    n[r] += 1.0
                    size2 += values[r, i, j] ** 2
                    big = max(big, abs(values[r, i, j]))
        for i in range(d1):
            for j in range(d2):
                if masks[r, i, j]:
                    Ms[r, i, j] = 2.0 / n[r]
                    Vs[r, i, j] = 2.0 / n[r] * values[r, i, j]
        size = np.sqrt(size2)
        gscale[r] = max(2.0 / n[r] * size, 1e-300)
        tscale[r] = np.sqrt(2.0 * np.sqrt(min(d1, d2)) * max(size, 1e-300))
        wscale[r] = big + 1e-300
    return n, Ms, Vs, gscale, tscale, wscale


class _Batch:
    """Stacked problems of one shape at inner width ``width``: masks and scales, as the compiled
    kernel takes them."""

    def __init__(self, values, masks, width):
        self.V = values
        self.M = masks
        self.R, self.d1, self.d2 = values.shape
        self.d = width
        self.pa = self.d1 * self.d
        self.p = self.pa + self.d * self.d2
        n, self.Ms, self.Vs, self.gscale, self.tscale, self.wscale = _scales(values, masks)
        self.n = n[:, None, None]


from scipy.integrate._ivp import dop853_coefficients as _d853

_TABLEAUS = {   # Dormand-Prince 8(5,3), the coefficients of scipy's DOP853
    "dop853": {"stages": _d853.N_STAGES, "A": np.ascontiguousarray(_d853.A[:_d853.N_STAGES, :_d853.N_STAGES]),
               "B": np.ascontiguousarray(_d853.B), "E3": np.ascontiguousarray(_d853.E3),
               "E5": np.ascontiguousarray(_d853.E5), "expo": 1 / 8},
}


_STATUS = ("converged", "stalled", "unbounded")   # the compiled path's status codes
_ROUTE = ("narrow", "full width", "full width carrying", "narrow carrying", "components")   # ... and which pass


def _directions(shape, seeds, d):
    """The initial directions theta_0 / |theta_0| of the runs: the draws of ``init_factors`` (A, then B,
    from ``default_rng(seed)``), written straight into the rows."""
    delta = np.empty((len(seeds), (shape[0] + shape[1]) * d))
    for r, s in enumerate(seeds):
        np.random.default_rng(s).standard_normal(out=delta[r])
    return delta / np.linalg.norm(delta, axis=1, keepdims=True)


def _shared_out(per_run, fixed):
    """``_kernel.limit_batch(*per_run, *fixed)`` (``per_run``: arrays with a row per run), in slices of 4
    runs on one thread per core (``numba.get_num_threads()``); the outputs concatenated. Small slices,
    because a few runs cost 100 times the median."""
    R = len(per_run[0])
    workers = min(numba.get_num_threads(), R) if R > 1 else 1
    if workers == 1:
        return _kernel.limit_batch(*per_run, *fixed)
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda s: _kernel.limit_batch(*(x[s] for x in per_run), *fixed),
                              [slice(i, i + 4) for i in range(0, R, 4)]))
    return [np.concatenate(piece) for piece in zip(*parts)]


def _compiled_batch(batch, problems, seeds, limit, rtol):
    """:func:`small_init_limit_batch` compiled: the passes of each run in ``_transit_kernel.limit_run``
    (the module docstring), first without drawing the initial directions (most runs never need them,
    and drawing costs more than their first pass; only a single problem with several components,
    which certainly needs them, gets them at once); the runs that need them (several components, a
    degenerate escape, the full width) are continued from where they stopped with them; a run that
    needs the full width of a problem with too many parameters for the compiled loops is computed
    by the reference (:mod:`mfbook.saddle_to_saddle`), with its own seed."""
    K = _kernel
    R = batch.R
    seeds = np.asarray(seeds, np.int64)
    per_run = ((seeds + 7919) % 2**32, batch.Ms, batch.Vs, batch.n[:, 0, 0], batch.gscale, batch.tscale,
               batch.wscale)          # (the first: each run's own random fallback)
    fixed = (batch.d1, batch.d, batch.d2, rtol, limit, batch.p <= _COMPILED_MAX_P) + _compiled_method()
    if R == 1 and K.component_counts(batch.Ms)[0] > 1:    # one problem that needs them: draw them at once
        first = (_directions(problems[0].shape, seeds, batch.d), np.array([K.COMPONENTS]))
    else:
        first = (np.zeros((R, 0)), np.zeros(R, np.int64))
    stacked = _shared_out(first + per_run, fixed)
    code = stacked[-1]
    if code.any():             # not DONE (0): continued from where they stopped, with the initial directions
        more = np.flatnonzero(code != K.DONE)
        again = _shared_out((_directions(problems[0].shape, seeds[more], batch.d), code[more])
                            + tuple(x[more] for x in per_run), fixed)
        for x, y in zip(stacked, again):
            x[more] = y
    Theta, SW, Sloss, Srank, Srate, Smult, count, status, route, code = stacked
    A = Theta[:, :batch.pa].reshape(R, batch.d1, batch.d)
    B = Theta[:, batch.pa:].reshape(R, batch.d, batch.d2)
    W = A @ B
    results = []
    for r, q in enumerate(problems):
        c = count[r]
        saddles = [Saddle(*s) for s in zip(SW[r, :c], Sloss[r, :c].tolist(), Srank[r, :c].tolist(),
                                           Srate[r, :c].tolist(), Smult[r, :c].tolist())]
        results.append(LimitResult(q, W[r], A[r], B[r], saddles, [], _STATUS[status[r]], _ROUTE[route[r]]))
    for r in (np.flatnonzero(code == K.NUMPY) if code.any() else ()):
        results[r] = _reference(problems[r], int(seeds[r]), batch.d, rtol, limit, False)
    return results


def _compiled_method():
    """The method's constants, as the compiled kernel takes them (built once)."""
    global _METHOD
    if _METHOD is None:
        tab = _TABLEAUS["dop853"]
        _METHOD = (tab["A"], tab["B"], tab["E3"], tab["E5"], tab["expo"], _EPS, _GTOL, _BIG, _EIG_GROUP, _MIN_RATE,
                   _MAX_STEPS, _SNAP, _SNAP_MINIMUM, _SNAP_AFTER, _SNAP_MAX_P, _POLISH_TOL)
    return _METHOD


_METHOD = None


def small_init_limit_batch(problems, seed=0, width: int | None = None, rtol: float = 1e-10,
                           max_saddles: int | None = None, record: bool = False) -> list[LimitResult]:
    """:func:`small_init_limit` for many problems of the same shape (each run on its own: its result
    does not depend on its batch-mates).

    Parameters
    ----------
    problems : sequence of Completion or str
        Problems of one shape (d1, d2).
    seed : int or sequence of int
        Seed of each problem's initial direction (an int ``s`` gives seeds ``s, s+1, ...``).
    width, rtol, max_saddles, record
        As in :func:`small_init_limit`.

    Returns
    -------
    list of LimitResult

    Explained in: chapter 2 (Connectivity, the phase-transition sweep).
    """
    problems = [as_completion(q) for q in problems]
    if not problems:
        raise ValueError("no problems given")
    shape = problems[0].shape
    if any(q.shape != shape for q in problems):
        raise ValueError("all problems in a batch must have the same shape")
    R = len(problems)
    seeds = [seed + r for r in range(R)] if np.isscalar(seed) else list(seed)
    if len(seeds) != R:
        raise ValueError(f"{len(seeds)} seeds for {R} problems")
    d = max(shape) if width is None else int(width)
    limit = (min(shape) + 2) if max_saddles is None else int(max_saddles)
    if _kernel is None or record:   # one problem at a time, each with its own seed
        return [_reference(q, int(s), d, rtol, limit, record) for q, s in zip(problems, seeds)]
    batch = _Batch(np.stack([q.values for q in problems]), np.stack([q.mask for q in problems]), d)
    return _compiled_batch(batch, problems, seeds, limit, rtol)


def _reference(problem, seed, width, rtol, limit, record):
    from .saddle_to_saddle import saddle_to_saddle   # (it imports LimitResult and Saddle from here)

    return saddle_to_saddle(problem, seed, width, rtol, limit, record)


def small_init_limit(problem, seed=0, width: int | None = None, rtol: float = 1e-10,
                     max_saddles: int | None = None, record: bool = False) -> LimitResult:
    """The :math:`\\alpha \\to 0` limit of gradient flow on :math:`W = AB` from :math:`\\alpha\\theta_0`.

    Follows the saddle-to-saddle path described in the module docstring: rank-by-rank escape
    along the top eigendirection of :math:`-\\nabla^2 R_S` at each critical point, then flow to the
    next one. ``seed`` fixes :math:`\\theta_0` exactly as in :func:`mfbook.gradient_flow`; the limit
    depends on it only where the escape eigenspace is degenerate beyond the rotation symmetry
    :math:`(A, B) \\mapsto (AQ, Q^\\top B)` (disconnected observations, repeated singular values).

    Parameters
    ----------
    problem : Completion or str
    seed : int
        Seed of the initial direction :math:`\\theta_0`.
    width : int, optional
        Hidden width :math:`d` (default :math:`\\max(d_1, d_2)`).
    rtol : float
        Relative tolerance of the integrator between saddles.
    max_saddles : int, optional
        Stop after this many departures (default :math:`\\min(d_1, d_2) + 2`).
    record : bool
        Keep the transits between saddles (``.phases``) for plotting: computed by the reference
        :func:`mfbook.saddle_to_saddle.saddle_to_saddle` (SciPy, slower).

    Returns
    -------
    LimitResult
        ``.W`` (the limit), ``.rank``, ``.ranks`` and ``.plateaus`` (the visited critical points).

    Explained in: chapter 4 (Training dynamics) and chapter 5 (Implicit regularization).
    """
    return small_init_limit_batch([problem], [seed], width, rtol, max_saddles, record)[0]
