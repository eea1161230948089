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
   initial direction (all but its top-eigenspace part), and its projection leads the next escape.
   Of that rest only its part in one eigenspace of :math:`-H` is kept: the eigenspace of the
   largest eigenvalue it has a part in. (At small :math:`\\alpha` the flow stays near the critical
   point for a time :math:`\\log(1/\\alpha)/\\lambda_1`, and a part of eigenvalue :math:`\\mu` grows by
   :math:`\\alpha^{-\\mu/\\lambda_1}`: every other part is smaller by a power of :math:`\\alpha`. Carrying
   the whole rest, the solvers were off the limit by 2.5e-3, 4.5e-3 and 3.1e-2 on runs 112, 115
   and 122 of the appendix's sweep, against training with 120 digits from :math:`\\alpha` = 1e-100;
   ``tests/test_appendix_limit.py``.) The compiled path starts far out on the manifold, from its
   series :math:`\\theta_c + \\sum_m K_m s^m` (10 terms, :math:`(m\\lambda_1 I + H) K_m = N_m`, the
   parametrization method: the integrator skips the slow, nearly linear part of the escape);
4. stop near the next critical point (the gradient has fallen below :math:`10^{-8}` of its scale, or
   it passed through a sharp minimum: a plateau that rounding errors already start to leave, or it
   sits at the integrator's floor: below :math:`10^{-6}` with the loss rising on a quarter of the
   steps, which exact gradient flow never does),
   polish the critical point with Newton steps, and repeat. Each run gets a ``status``:
   ``"converged"`` (ended at a minimum), ``"unbounded"`` (the factors grow without bound while the
   loss decreases: the flow has no finite limit), ``"stalled"`` (no progress between two
   plateaus, or ``max_saddles`` reached) or ``"not settled"`` (a stage crawled: see below).

The readable statement of this algorithm, for one problem at full width with SciPy, is
:func:`mfbook.saddle_to_saddle.saddle_to_saddle` (the reference); it computes ``record=True``
(the transits, for plotting), the problems the compiled kernel does not serve (without numba, or
a full-width pass of 513 to 4096 parameters -- beyond, such a run is ``"not settled"`` --; each run
with its own seed, independent of its batch-mates), and it is the oracle of the compiled path in
``tests/test_saddle_to_saddle.py``.
That test says where the two agree (to rounding level where each critical point is isolated up
to the symmetries) and why they may differ: both stop at a gradient of :math:`10^{-8}` and land on
the critical point by Newton, which on a continuum of minima is off the flow's end point by a small
amount (measured up to 5e-10 of the data's scale), and at stages that crawl, the two give up in
different places. Where the entries of :math:`W` between pieces of the
observed entries depend on a piece's inner orientation, its path takes no Newton shortcut (below):
a jump lands at another orientation than the flow's (measured on run 122: 2e-4 off the limit).

A limit is where the exact flow goes as :math:`\alpha \to 0`; training in double precision need not
get there. On a long transit an inner direction that the path leaves unused can grow by more than
:math:`10^{16}`, and in double precision such a direction never starts below the rounding errors
of the factors (about :math:`10^{-16}` of their size), whatever :math:`\alpha`: the run then ends one rank
higher. :func:`mfbook.precise_gradient_flow` (gradient flow with many digits) reaches the limit
there; the appendix shows such a run.

The integrator is the adaptive Dormand-Prince 8(5,3) method (the tableau of scipy's DOP853) with
error control on :math:`\\theta`; a slow final approach is finished by Newton steps, accepted when
two attempts agree (on a continuum of critical points they agree only once the remaining distance
is negligible), or in the narrow pass (below) at once when, from a point where the loss is locally
convex up to the symmetry, Newton lands on a strict local minimum of the factors at that width (the
Hessian plus :math:`c\\,TT^\\top`, :math:`T` the tangents of the symmetry orbit, positive definite):
the flow, already close, converges to it. Newton steps solve with that gauge-fixed Hessian where
the factors have full rank (Cholesky, or LU where it is not positive definite), else with the
pseudo-inverse.

The whole path runs compiled (:mod:`mfbook._kernel`, numba), pass by pass (:func:`_passes`), each
run on its own (the runs of a batch are shared out over the CPU cores). Two facts make it cheap:

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
crawls) has status ``"not settled"``: whether the stage ends at a critical point or runs off is not
decided within the budget, and floating-point training from :math:`\alpha = 10^{-15}` and
:math:`10^{-30}` ends such runs at points O(1) apart (``tests/test_crawl.py``), so the solver does not
claim a limit there. A small run (up to 64 parameters, a 4 x 4 problem has 32) is computed again at
full width (``"full width"``), where, as in floating-point training, rounding errors seed the unused
inner directions and end such a stage with a fit; larger runs end at the crawl, at once (a
full-width pass costs a dense Hessian eigendecomposition per step). A problem whose observed
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

import contextlib
import math
import numbers
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import ThreadpoolController

from .completion import Completion, as_completion
from .saddle_to_saddle import LimitResult, Saddle, saddle_to_saddle
from .seeding import run_seeds

from .dop853 import TABLEAU

import numba

from . import _kernel   # the compiled solver (numba is a dependency: a missing kernel is an install error)

__all__ = ["small_init_limit", "small_init_limit_batch"]

_EPS = 1e-5          # departure distance from a saddle (relative to the size of a fit); O(eps^2) start
_GTOL = 1e-8         # plateau detection, relative to the gradient scale (Newton polishes after)
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
_REFERENCE_MAX_P = 4096  # an escape that needs two new inner directions at once (an exact tie of the
                         # residual gradient's top singular values) is followed at full width by the
                         # reference, with a dense eigendecomposition of the p x p Hessian at each
                         # critical point: 4096 parameters (the 45 x 45 identity) take 20 s and 134 MB, d = 100
                         # would take half an hour and 3.2 GB; above this such a run is "not settled"


# ---------------------------------------------------------------------------------------------
# batched helpers


class _Batch:
    """Stacked problems of one shape at inner width ``width``: masks and scales, as the compiled
    kernel takes them."""

    def __init__(self, values, masks, width):
        # (fresh writable arrays: a problem's own arrays are read-only, a stacked batch's are not, and
        # numba would compile a second variant of the kernel's entry points for the other kind)
        values, masks = np.array(values, float), np.array(masks, bool)
        self.R, self.d1, self.d2 = values.shape
        self.d = width
        self.pa = self.d1 * self.d
        self.p = self.pa + self.d * self.d2
        n, self.Ms, self.Vs, self.gscale, self.tscale, self.wscale = _kernel.problem_scales(values, masks)
        self.n = n


def _directions(shape, seeds, d):
    """The initial directions theta_0 / |theta_0| of the runs: the draws of ``init_factors`` (A, then B,
    from ``default_rng(seed)``), written straight into the rows."""
    delta = np.empty((len(seeds), (shape[0] + shape[1]) * d))
    for r, s in enumerate(seeds):
        np.random.default_rng(s).standard_normal(out=delta[r])
    return delta / np.linalg.norm(delta, axis=1, keepdims=True)


def _shared_out(per_run, fixed, part="limit"):
    """:func:`_runs` on every run (``per_run``: arrays with a row per run; ``fixed``: what the runs
    share; ``part``: the compiled part of the kernel they may call, :func:`mfbook._kernel.ready`), in
    slices of 4 runs on one thread per core (``numba.get_num_threads()``; the compiled
    passes release the GIL, and the 4 x 4 sweep runs 1.9 times as fast on two threads as on one);
    the outputs of the runs in order. Small slices, because a few runs cost 100 times the median."""
    R = len(per_run[0])
    workers = min(numba.get_num_threads(), R) if R > 1 else 1
    d1, d, d2 = fixed[:3]
    with _kernel.first_use(_kernel.PART_ENTRIES[part], "the small-initialization limit solver", "about a minute"), \
            _one_blas_thread((d1 + d2) * d):
        if workers == 1:
            return _runs(per_run, fixed)
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda s: _runs([x[s] for x in per_run], fixed),
                                  [slice(i, i + 4) for i in range(0, R, 4)]))
    return [out for part in parts for out in part]


def _passes(delta0, start, seed, Ms, Vs, n, gscale, tscale, wscale, d1, d, d2, rtol, max_saddles, full_ok,
            method):
    """The limit path of one run from the stage ``start``, pass by pass, each pass compiled
    (:mod:`mfbook._kernel`):

    - observed entries in several components (``COMPONENTS``): :func:`_components_pass`
      (``BY_COMPONENTS``); otherwise (``START``) ``limit_path_narrow`` without the initial direction
      (``NARROW``);
    - a degenerate escape on the narrow path: narrow again, carrying it (``NARROW_CARRYING``);
    - what still needs the full width (a stage that crawls, an escape into two new inner directions
      at once): ``limit_path`` without carrying (``FULL_WIDTH``), then with it where an escape is
      degenerate (``FULL_WIDTH_CARRYING``).

    ``delta0`` is the initial direction, or empty when it has not been drawn yet (drawing it costs more
    than the common first pass): then a run that needs it stops with the stage as its code, and the
    caller calls again from that stage (``start``) with it. ``full_ok``: the full-width passes may run
    compiled (else the code is ``NUMPY``: the reference follows the run).

    A narrow pass that crawls (a transit that does not reach a critical point within its budget) makes
    the status ``NOT_SETTLED``, whatever follows: up to ``codes.CRAWL_FULL_WIDTH`` parameters the
    full-width pass gives the end point of the flow with its unused inner directions seeded by rounding
    errors, a W that fits the data but is not the alpha -> 0 limit (floating-point training leaves such
    a stage at places that depend on alpha and on rounding: the appendix "The transition at research
    scale"); larger runs end there, with the crawling stage's end point.

    Returns theta, the saddles' W, losses, ranks, rates and multiplicities, their number, the status,
    the pass that gave the result and the code (``DONE``, a stage, or ``NUMPY``)."""
    C, K = _kernel.codes, _kernel
    have = delta0.size > 0
    stage = start
    crawled = start == C.FULL        # (the first pass reaches FULL only through a crawl)
    crawl_full = full_ok and (d1 + d2) * d <= C.CRAWL_FULL_WIDTH
    common = (Ms, Vs, n, d1, d, d2, gscale)
    while True:
        if stage == C.START or (stage == C.CARRY and have):
            carry = stage == C.CARRY
            *out, st, _, _, end = K.limit_path_narrow(delta0, np.bool_(carry), seed, *common, tscale, wscale, rtol,
                                                      max_saddles, *method)
            route = C.NARROW_CARRYING if carry else C.NARROW
            if end == C.DONE:
                return (*out, st, route, C.DONE)
            crawled = end == C.CRAWLS
            if crawled and not crawl_full:
                return (*out, C.NOT_SETTLED, route, C.DONE)
            # a carried run that still needs the full width does all of it carrying
            stage = C.CARRY if end == C.DEGENERATE and not carry else (C.FULL_CARRY if carry else C.FULL)
            continue
        if not have or (stage >= C.FULL and not full_ok):
            return (*_no_path(d1, d, d2), C.CONVERGED, C.NARROW, C.NUMPY if have else stage)
        if stage == C.COMPONENTS:
            *out, st, end = _components_pass(delta0, seed, *common, rtol, max_saddles, method)
            if end == C.DONE:
                return (*out, st, C.BY_COMPONENTS, C.DONE)
            crawled = end == C.CRAWLS
            if crawled and not crawl_full:
                return (*out, C.NOT_SETTLED, C.BY_COMPONENTS, C.DONE)
            stage = C.FULL_CARRY if end == C.DEGENERATE else C.FULL
            continue
        carry = stage == C.FULL_CARRY
        *out, st, end = K.limit_path(delta0, *common, tscale, wscale, rtol, max_saddles, np.bool_(carry), seed,
                                     *method)
        if end == C.DONE or carry:
            return (*out, C.NOT_SETTLED if crawled else st, C.FULL_WIDTH_CARRYING if carry else C.FULL_WIDTH,
                    C.DONE)
        stage = C.FULL_CARRY


def _no_path(d1, d, d2):
    """theta = 0 and an empty record of critical points (what a pass returns when it hands a run on)."""
    return (np.zeros((d1 + d2) * d), np.zeros((1, d1, d2)), np.zeros(1), np.zeros(1, np.int64), np.zeros(1),
            np.zeros(1, np.int64), 0)


def _components_pass(delta0, seed, Ms, Vs, n, d1, d, d2, gscale, rtol, max_saddles, method):
    """The pass ``BY_COMPONENTS`` of a run whose observed entries fall into several components
    (:mod:`mfbook._kernel.components`): the narrow path of each component on its own, at the full inner
    width d, and the whole run's path merged from them.

    What couples the components is only the inner space R^d they share: the entries of W between two
    components are products of their factors, so the factors must be in the original inner
    coordinates. A component with one escape leaves along the projection of its part of the initial
    direction onto the top eigenspace at 0 (``escape_direction``); one with more escapes is computed
    again carrying that direction, with its orientation. A component whose narrow pass crawls is
    computed again carrying it only in runs of at most ``codes.CRAWL_FULL_WIDTH`` parameters (as a
    crawling run is computed again at full width; carrying the direction costs up to d times as
    much: 60 s for a component at d = 100); in larger runs the merged path stops where that component
    would leave its last critical point, with the component at the end point of its crawl.

    Returns theta, the critical points' W, losses, ranks, rates and multiplicities, their number, the
    status and how the pass ended: ``DONE``, ``CRAWLS`` (a component's stage crawled: the path up to
    the crawl) or ``DEGENERATE`` (a component needs the full width: the caller computes the whole run
    at full width)."""
    K, C = _kernel, _kernel.codes
    label, nc = K.components(Ms, d1, d2)
    most = min(min(d1, d2) + 2, max_saddles) + 1          # critical points of a component, at most
    Closs, Crate, Cmult = np.zeros((nc, most)), np.zeros((nc, most)), np.zeros((nc, most), np.int64)
    Ccount = np.zeros(nc, np.int64)
    blocks, sizes, crawled, status = [], [0], -1, C.CONVERGED
    for c in range(nc):
        Msc, Vsc, gs, ts, ws, dc = K.component_problem(delta0, Ms, Vs, n, label, c, d1, d, d2)
        m1, m2 = Msc.shape
        run = (seed, Msc, Vsc, n, m1, d, m2, gs, ts, ws, rtol, min(min(m1, m2) + 2, max_saddles), *method)
        end_theta, _, Sl, _, Sra, Smu, ns, st, Sth, SL, end = K.limit_path_narrow(dc, np.bool_(False), *run)
        direction = K.escape_direction(dc, Msc, Vsc, m1, d, m2) if end == C.DONE and ns <= 2 else np.zeros(d)
        if end == C.CRAWLS and (d1 + d2) * d > C.CRAWL_FULL_WIDTH:
            crawled = c          # (not oriented by the initial direction: the run is not settled either way)
        elif ns > 2 or end != C.DONE or (ns == 2 and not direction.any()):
            # its orientation now matters (the entries of W between components): no Newton snaps
            run = run[:-2] + (-1, run[-1])          # (snap_max_p = -1: no problem is small enough)
            end_theta, _, Sl, _, Sra, Smu, ns, st, Sth, SL, end = K.limit_path_narrow(dc, np.bool_(True), *run)
            if end != C.DONE:
                return (*_no_path(d1, d, d2), C.CONVERGED, end)
        factors = K.component_factors(Sth, SL, ns, direction, m1, d, m2)
        if c == crawled:            # the crawl's end point, after the critical points
            factors = np.concatenate((factors, end_theta))
        blocks.append(factors)
        sizes.append(sizes[-1] + factors.size)
        Closs[c, :ns], Crate[c, :ns], Cmult[c, :ns] = Sl[:ns], Sra[:ns], Smu[:ns]
        Ccount[c] = ns
        status = max(status, st)
    out = K.merged_path(np.concatenate(blocks), np.array(sizes, np.int64), label, nc, Closs, Crate, Cmult, Ccount,
                        crawled, status, d1, d, d2, gscale, _EIG_GROUP, max_saddles)
    return (*out, C.CRAWLS if crawled >= 0 else C.DONE)


def _runs(per_run, fixed):
    """:func:`_passes` for every row of ``per_run`` (initial directions, start stages, seeds, Ms, Vs, n,
    the three scales): the list of their outputs."""
    d1, d, d2, rtol, max_saddles, full_ok, *method = fixed
    rows = zip(*(x.tolist() if x.ndim == 1 else x for x in per_run))  # (numba types Python numbers faster)
    return [_passes(*row, d1, d, d2, rtol, max_saddles, full_ok, method) for row in rows]


def _one_blas_thread(p):
    """BLAS and LAPACK on one thread while the kernel works on problems of ``p`` parameters, from the
    size where it calls LAPACK on its own (``_kernel.LAPACK_CHOLESKY``): the kernel's threads
    are the runs, and BLAS threads on top of them oversubscribe the cores (measured here with the
    other core busy: an eigendecomposition of 1200 rows 2.7 s with two BLAS threads, 0.29 s with
    one). Below that size a no-op (it costs 20 microseconds)."""
    global _BLAS
    if p < _kernel.LAPACK_CHOLESKY:
        return contextlib.nullcontext()
    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


_BLAS = None


def _compiled_batch(batch, problems, seeds, limit, rtol, powers, few=False):
    """:func:`small_init_limit_batch` compiled. First, without drawing the initial directions (most
    runs never need them, and drawing costs more than their first pass), the narrow pass of the runs
    whose observations form one component (:func:`_passes`); a single problem with several
    components, which certainly needs them, gets them at once. The runs that need them (several
    components, a degenerate escape, the full width) continue from where they stopped with them
    (:func:`_passes`). ``batch`` holds the problems divided by ``4 ** powers``; each run's result is
    scaled back to its problem (:func:`_result`). On a fresh runtime the kernel's other parts may still
    be compiling when the narrow pass is ready (:func:`mfbook._kernel.ready`): the runs that need them
    wait for them, or, ``few`` small problems, go to the reference."""
    K = _kernel
    R = batch.R
    seeds = np.asarray(seeds, np.int64)
    pieces = K.component_counts(batch.Ms)
    per_run = ((seeds + 7919) % 2**32, batch.Ms, batch.Vs, batch.n, batch.gscale, batch.tscale,
               batch.wscale)          # (the first: each run's own random fallback)
    fixed = (batch.d1, batch.d, batch.d2, rtol, limit, batch.p <= _kernel.MAX_PARAMETERS) + _compiled_method()
    whole = R == 1 and pieces[0] > 1
    if whole and not K.ready("limit", wait=not few):
        return [_by_reference(problems[0], int(powers[0]), int(seeds[0]), batch.d, rtol, limit, False)]
    if whole:                       # one problem that needs them: draw them at once
        first = (_directions(problems[0].shape, seeds, batch.d), np.array([K.codes.COMPONENTS]))
    else:                           # (a run with several components stops at once: it needs them)
        first = (np.zeros((R, 0)), np.where(pieces > 1, K.codes.COMPONENTS, K.codes.START))
    outs = _shared_out(first + per_run, fixed, "limit" if whole else "narrow")
    more = [r for r, out in enumerate(outs) if out[-1] != K.codes.DONE]
    if more and not K.ready("limit", wait=not few):
        for r in more:                  # (the reference follows them: _result)
            outs[r] = outs[r][:-1] + (K.codes.NUMPY,)
        more = []
    if more:             # continued from where they stopped, with the initial directions
        rows = np.array(more)
        again = _shared_out((_directions(problems[0].shape, seeds[rows], batch.d),
                             np.array([outs[r][-1] for r in more])) + tuple(x[rows] for x in per_run), fixed)
        for r, out in zip(more, again):
            outs[r] = out
    return [_result(q, out, batch, r, int(powers[r]), int(seeds[r]), rtol, limit)
            for r, (q, out) in enumerate(zip(problems, outs))]


def _result(problem, out, batch, r, power, seed, rtol, limit):
    """The LimitResult of run ``r`` of ``batch`` from the output ``out`` of its passes (:func:`_passes`),
    scaled back from the batch's problem (divided by ``4 ** power``) to ``problem``. A path that ends
    "converged" away from a critical point (its gradient above ``SETTLED`` of its scale) is "stalled";
    a run that needs the full width of a problem with too many parameters for the compiled loops is
    computed by the reference (:mod:`mfbook.saddle_to_saddle`), with its own seed."""
    K = _kernel
    theta, SW, Sloss, Srank, Srate, Smult, count, status, route, code = out
    if code == K.codes.NUMPY:
        if batch.p > _REFERENCE_MAX_P:    # a dense p x p Hessian per critical point: not followed
            return _not_followed(problem, batch.d)
        return _by_reference(problem, power, seed, batch.d, rtol, limit, False)
    if status == K.codes.CONVERGED:
        grad = K.gradient_norms(theta[None], batch.Ms[r:r + 1], batch.Vs[r:r + 1], batch.d1, batch.d, batch.d2)
        if grad[0] > K.codes.SETTLED * batch.gscale[r] * batch.tscale[r]:
            status = K.codes.STALLED
    A = theta[:batch.pa].reshape(batch.d1, batch.d)
    B = theta[batch.pa:].reshape(batch.d, batch.d2)
    SW, Sloss, Srate = SW[:count], Sloss[:count], Srate[:count]
    if power:                                           # back to the problem's own scale
        c, f = 4.0 ** power, 2.0 ** power
        A, B = A * f, B * f
        SW, Sloss, Srate = SW * c, Sloss * (c * c), Srate * c
    saddles = [Saddle(*s) for s in zip(SW, Sloss.tolist(), Srank[:count].tolist(), Srate.tolist(),
                                       Smult[:count].tolist())]
    return LimitResult(problem, A @ B, A, B, saddles, [], K.codes.STATUS_NAMES[status], K.codes.ROUTE_NAMES[route])


def _compiled_method():
    """The method's constants, as the compiled kernel takes them (built once)."""
    global _METHOD
    if _METHOD is None:
        tab = TABLEAU
        _METHOD = (tab["A"], tab["B"], tab["E3"], tab["E5"], tab["expo"], _EPS, _GTOL, _BIG, _EIG_GROUP, _MIN_RATE,
                   _MAX_STEPS, _SNAP, _SNAP_MINIMUM, _SNAP_AFTER, _SNAP_MAX_P, _POLISH_TOL)
    return _METHOD


_METHOD = None


#: while the kernel compiles in the background (:func:`mfbook._kernel.ready`), batches of at most this
#: many problems of at most this many parameters go to the reference (measured here: the 4 x 4 example
#: 0.5 s, random rank-2 problems from 5 x 5 to 10 x 10 0.2 to 3.8 s each); larger ones wait for the
#: compiled narrow pass, and their runs that need more for the rest (:func:`_compiled_batch`)
_REFERENCE_WHILE_COMPILING = (2, 200)

_MAX_WIDTH = 4096       # far beyond what the solvers can serve: a width is a dimension, not a count of runs
_MAX_SADDLES = 10_000   # a path visits at most min(d1, d2) + 1 critical points; this only bounds memory


def _whole(x, name, low, high):
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be a whole number, got {type(x).__name__}")
    if not low <= int(x) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {x}")
    return int(x)


def small_init_limit_batch(problems, seed=0, width: int | None = None, rtol: float = 1e-10,
                           max_saddles: int | None = None, record: bool = False) -> list[LimitResult]:
    """:func:`small_init_limit` for many problems of the same shape (each run on its own: its result
    does not depend on its batch-mates).

    Parameters
    ----------
    problems : sequence of Completion or str
        Problems of one shape (d1, d2).
    seed : int or sequence of int
        Seed of each problem's initial direction (an int ``s`` gives seeds ``s, s+1, ...``;
        :mod:`mfbook.seeding`).
    width, rtol, max_saddles, record
        As in :func:`small_init_limit`.

    Raises
    ------
    TypeError, ValueError
        On a parameter out of its range (the message names it), checked before any computation.

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
    seeds = run_seeds(seed, R)
    d = max(shape) if width is None else _whole(width, "width", 1, _MAX_WIDTH)
    limit = (min(shape) + 2) if max_saddles is None else _whole(max_saddles, "max_saddles", 0, _MAX_SADDLES)
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real) or not 1e-14 <= float(rtol) <= 1e-3:
        raise ValueError(f"rtol must be a number from 1e-14 to 1e-3 (the integrator's relative tolerance), "
                         f"got {rtol!r}")
    rtol = float(rtol)                 # (an int would compile the kernel a second time)
    if not isinstance(record, (bool, np.bool_)):
        raise TypeError(f"record must be True or False, got {type(record).__name__}")
    # the data's scale, a power of 4 near it: the path of M / 4^k is that of M with W / 4^k, the factors
    # / 2^k, the losses / 16^k, the rates / 4^k and time * 4^k, all exact in floating point
    values = np.stack([q.values for q in problems]) if R > 1 else problems[0].values[None]  # (0: not observed)
    powers = np.array([round(math.log2(s) / 2) if s > 0 else 0 for s in np.abs(values).max(axis=(1, 2)).tolist()])
    # one problem at a time by the reference, each with its own seed: when asked to record, and while the
    # compiled kernel is being compiled in the background for a few small problems (larger batches wait
    # for the narrow pass, which most runs need alone, and their other runs for the rest: _compiled_batch)
    few = R <= _REFERENCE_WHILE_COMPILING[0] and (shape[0] + shape[1]) * d <= _REFERENCE_WHILE_COMPILING[1]
    if record or _kernel is None or not _kernel.ready("narrow", wait=not few):
        return [_by_reference(q, k, int(s), d, rtol, limit, record) for q, s, k in zip(problems, seeds, powers)]
    if powers.any():
        values = values / (4.0 ** powers)[:, None, None]
    batch = _Batch(values, np.stack([q.mask for q in problems]) if R > 1 else problems[0].mask[None], d)
    return _compiled_batch(batch, problems, seeds, limit, rtol, powers, few)


def warm_passes(passes=("narrow", "components", "full")):
    """Compile the named passes of the compiled solver in this process, or load them from numba's
    cache, by running a 2 x 2 problem through each: ``"narrow"``, ``"components"``, ``"full"`` (the full
    width) -- the parts of :func:`mfbook._kernel.ready` --; ``"flow"``: gradient flow. ``python -m mfbook
    compile`` runs them all.

    Explained in: the appendix "How the limit is computed" (its section on the first call).
    """
    from .training import gradient_flow

    for name in passes:
        if name == "narrow":
            small_init_limit("1 2; 3 *")
        elif name == "components":
            small_init_limit("1 *; * 2")
        elif name == "flow":
            gradient_flow("1 2; 3 *", init_scale=1e-3)
        elif name == "full":           # the full-width pass at once (no narrow pass first)
            q = Completion.parse("1 2; 3 *")
            batch = _Batch(q.values[None], q.mask[None], 2)
            _kernel.component_counts(batch.Ms)
            _kernel.gradient_norms(np.zeros((1, 8)), batch.Ms, batch.Vs, 2, 2, 2)
            _shared_out((_directions(q.shape, [0], 2), np.array([_kernel.codes.FULL]), np.array([7919]), batch.Ms,
                         batch.Vs, batch.n, batch.gscale, batch.tscale, batch.wscale),
                        (2, 2, 2, 1e-10, 4, True) + _compiled_method())
        else:
            raise ValueError(f"passes: unknown pass {name!r} (narrow, components, full, flow)")


def _not_followed(problem, width):
    """The result of a run that the solver does not follow (``_REFERENCE_MAX_P``): status "not settled",
    W = 0, and the origin as its only critical point (loss, escape rate and multiplicity there)."""
    q = problem
    E0 = (2.0 / q.n_observed) * q.values
    s = np.linalg.svd(E0, compute_uv=False)
    origin = Saddle(np.zeros(q.shape), float(np.sum(q.values ** 2) / q.n_observed), 0, float(s[0]),
                    int(width * np.sum(s >= s[0] * (1 - _EIG_GROUP))))
    A, B = np.zeros((q.shape[0], width)), np.zeros((width, q.shape[1]))
    return LimitResult(q, A @ B, A, B, [origin], [], "not settled", "reference")


def _by_reference(problem, k, seed, width, rtol, limit, record):
    """The reference's path (:mod:`mfbook.saddle_to_saddle`) of ``problem`` divided by 4^k, scaled back."""
    res = saddle_to_saddle(Completion(problem.values / 4.0 ** k, problem.mask), seed, width, rtol, limit, record)
    c, f = 4.0 ** k, 2.0 ** k
    saddles = [Saddle(s.W * c, s.loss * c * c, s.rank, s.rate * c, s.multiplicity) for s in res.saddles]
    phases = [dict(ph, t=np.asarray(ph["t"]) / c, loss=np.asarray(ph["loss"]) * c * c, W=np.asarray(ph["W"]) * c,
                   A=np.asarray(ph["A"]) * f, B=np.asarray(ph["B"]) * f) for ph in res.phases]
    return LimitResult(problem, res.W * c, res.A * f, res.B * f, saddles, phases, res.status, res.method)


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
        Seed of the initial direction :math:`\\theta_0`: a whole number from 0 to 2**63 - 1.
    width : int, optional
        Hidden width :math:`d`, from 1 (default :math:`\\max(d_1, d_2)`).
    rtol : float
        Relative tolerance of the integrator between saddles, from 1e-14 to 1e-3.
    max_saddles : int, optional
        Stop after this many departures, from 0 (default :math:`\\min(d_1, d_2) + 2`).
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
