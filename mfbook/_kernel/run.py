"""The entry points: ``limit_run`` takes one problem through the passes it needs (narrow, by pieces,
narrow carrying, full width, full width carrying), and ``limit_batch`` runs a slice of a batch without
the GIL (:mod:`mfbook.limit` hands slices to one thread per core).
"""
import numpy as np
from numba import njit

from .codes import (BY_COMPONENTS, CARRY, COMPONENTS, CONVERGED, CRAWLS, DEGENERATE, DONE, FULL, FULL_CARRY,
                    FULL_WIDTH, FULL_WIDTH_CARRYING, NARROW, NARROW_CARRYING, NOT_SETTLED, NUMPY, SETTLED, STALLED,
                    START)
from .loss import _grad, _residual_into
from .components import components, limit_path_components
from .path import _saddle_arrays, limit_path, limit_path_narrow


@njit(cache=True)
def _stacks(R, p, L, d1, d2):
    """Arrays for the stacked results of R runs (saddles padded to L), the pass of each and its code."""
    return (np.zeros((R, p)), np.zeros((R, L, d1, d2)), np.zeros((R, L)), np.zeros((R, L), np.int64),
            np.zeros((R, L)), np.zeros((R, L), np.int64), np.zeros(R, np.int64), np.zeros(R, np.int64),
            np.zeros(R, np.int64), np.zeros(R, np.int64))


@njit(cache=True)
def _wider(X, L):
    """The stack ``X`` (runs x saddles x ...) with room for L saddles per run (zeros appended)."""
    while X.shape[1] < L:
        X = np.concatenate((X, np.zeros_like(X)), axis=1)
    return X


#: a run whose narrow pass crawls is computed again at full width only up to this many parameters
#: (a 4 x 4 problem has 32): its status is "not settled" either way, and at full width each step costs
#: a dense Hessian eigendecomposition (p^3), which at d = 10 (200 parameters) made such a run slower
#: than the authors' training recipe; larger runs end where the crawl stopped
CRAWL_FULL_WIDTH = 64

# the passes of limit_run, as mfbook.limit.LimitResult.method names them


@njit(cache=True)
def limit_run(delta0, start, seed, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, full_ok, Atab,
              Bw, E3, E5, expo, eps, gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after,
              snap_max_p, polish_tol):
    """The limit path of one run, pass by pass (the passes of :func:`mfbook.limit.small_init_limit_batch`):

    - observed entries in several components: :func:`limit_path_components` (``BY_COMPONENTS``);
      otherwise :func:`limit_path_narrow` without the initial direction (``NARROW``);
    - a degenerate escape on the narrow path: narrow again, carrying it (``NARROW_CARRYING``);
    - what still needs the full width (a stage that crawls, an escape into two new inner directions
      at once): :func:`limit_path` without carrying (``FULL_WIDTH``), then with it where an escape is
      degenerate (``FULL_WIDTH_CARRYING``).

    ``delta0`` is the initial direction, or empty when it has not been drawn yet (drawing it costs more
    than the common first pass): then a run that needs it stops with the stage as its code, and the
    caller calls again from that stage (``start``) with it. ``full_ok``: the full-width passes may run
    compiled (else the code is ``NUMPY``).

    A narrow pass that crawls (a transit that does not reach a critical point within its budget) makes
    the status ``NOT_SETTLED``, whatever follows: up to ``CRAWL_FULL_WIDTH`` parameters the full-width
    pass gives the end point of the flow with its unused inner directions seeded by rounding errors,
    a W that fits the data but is not the alpha -> 0 limit (floating-point training leaves such a stage
    at places that depend on alpha and on rounding: the appendix "The transition at research
    scale"); larger runs end there, with the crawling stage's end point.

    Returns what :func:`limit_path` returns, with the pass that gave it before the code (``DONE``,
    a stage, or ``NUMPY``)."""
    method = (Atab, Bw, E3, E5, expo, eps, gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after,
              snap_max_p, polish_tol)
    have = delta0.size > 0
    stage = start
    crawled = start == FULL        # (the first pass reaches FULL only through a crawl)
    crawl_full = full_ok and (d1 + d2) * d <= CRAWL_FULL_WIDTH
    while True:
        if stage == START:
            if components(Ms, d1, d2)[1] > 1:
                stage = COMPONENTS
                continue
            th, SW, Sl, Sr, Sra, Smu, ns, st, _, _, end = limit_path_narrow(
                delta0, np.bool_(False), seed, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, *method)
            if end == DONE:
                return th, SW, Sl, Sr, Sra, Smu, ns, st, NARROW, DONE
            if end == CRAWLS and not crawl_full:
                return th, SW, Sl, Sr, Sra, Smu, ns, NOT_SETTLED, NARROW, DONE
            stage = CARRY if end == DEGENERATE else FULL
            crawled = end == CRAWLS
            continue
        if not have or (stage >= FULL and not full_ok):
            SW, Sl, Sr, Sra, Smu = _saddle_arrays(1, d1, d2)
            return np.zeros((d1 + d2) * d), SW, Sl, Sr, Sra, Smu, 0, CONVERGED, NARROW, NUMPY if have else stage
        if stage == COMPONENTS:
            th, SW, Sl, Sr, Sra, Smu, ns, st, end = limit_path_components(
                delta0, seed, Ms, Vs, n, d1, d, d2, gscale, rtol, max_saddles, *method)
            if end == DONE:
                return th, SW, Sl, Sr, Sra, Smu, ns, st, BY_COMPONENTS, DONE
            crawled = end == CRAWLS
            if crawled and not crawl_full:
                return th, SW, Sl, Sr, Sra, Smu, ns, NOT_SETTLED, BY_COMPONENTS, DONE
            stage = FULL_CARRY if end == DEGENERATE else FULL
        elif stage == CARRY:
            th, SW, Sl, Sr, Sra, Smu, ns, st, _, _, end = limit_path_narrow(
                delta0, np.bool_(True), seed, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, *method)
            if end == DONE:
                return th, SW, Sl, Sr, Sra, Smu, ns, st, NARROW_CARRYING, DONE
            crawled = end == CRAWLS
            if crawled and not crawl_full:
                return th, SW, Sl, Sr, Sra, Smu, ns, NOT_SETTLED, NARROW_CARRYING, DONE
            stage = FULL_CARRY    # a carried run that still needs the full width does all of it carrying
        else:
            carry = stage == FULL_CARRY
            th, SW, Sl, Sr, Sra, Smu, ns, st, end = limit_path(
                delta0, Ms, Vs, n, d1, d, d2, gscale, tscale, wscale, rtol, max_saddles, carry, seed, *method)
            if end == DONE or carry:
                return (th, SW, Sl, Sr, Sra, Smu, ns, NOT_SETTLED if crawled else st,
                        FULL_WIDTH_CARRYING if carry else FULL_WIDTH, DONE)
            stage = FULL_CARRY


@njit(cache=True, nogil=True)
def limit_batch(Delta0, start, seeds, Ms, Vs, n, gscale, tscale, wscale, d1, d, d2, rtol, max_saddles, full_ok,
                Atab, Bw, E3, E5, expo, eps, gtol, bigf, eig_group, min_rate, max_steps, snap, snap_min, snap_after,
                snap_max_p, polish_tol):
    """:func:`limit_run` for every run of a batch (``Delta0``: the initial directions, or an empty row
    each; the arguments up to ``wscale`` have a row per run, the others are shared). Returns the
    stacked results: theta, saddle W, losses, ranks, rates, multiplicities (padded to the longest
    path of the slice), number of saddles, status, pass and code of each run (a converged path that
    does not end at a critical point, to ``SETTLED``, is STALLED). Releases the GIL, so threads can run slices of a batch side by side."""
    R = Ms.shape[0]
    p = (d1 + d2) * d
    Theta, SW, Sloss, Srank, Srate, Smult, count, status, route, code = _stacks(R, p, 1, d1, d2)
    E, g = np.empty((d1, d2)), np.empty(p)
    for r in range(R):
        (Theta[r], W_r, loss_r, rank_r, rate_r, mult_r, count[r], status[r], route[r],
         code[r]) = limit_run(Delta0[r], start[r], seeds[r], Ms[r], Vs[r], n[r], d1, d, d2, gscale[r], tscale[r],
                              wscale[r], rtol, max_saddles, full_ok, Atab, Bw, E3, E5, expo, eps, gtol, bigf,
                              eig_group, min_rate, max_steps, snap, snap_min, snap_after, snap_max_p, polish_tol)
        m = count[r]
        if m > SW.shape[1]:           # the saddles of the longest path so far
            SW, Sloss, Srank = _wider(SW, m), _wider(Sloss, m), _wider(Srank, m)
            Srate, Smult = _wider(Srate, m), _wider(Smult, m)
        SW[r, :m] = W_r[:m]
        Sloss[r, :m] = loss_r[:m]
        Srank[r, :m] = rank_r[:m]
        Srate[r, :m] = rate_r[:m]
        Smult[r, :m] = mult_r[:m]
        if status[r] == CONVERGED and code[r] == DONE:
            _residual_into(Theta[r], Ms[r], Vs[r], d1, d, d2, E)
            _grad(Theta[r], E, d1, d, d2, g, 1.0)
            if np.sqrt(np.sum(g * g)) > SETTLED * gscale[r] * tscale[r]:
                status[r] = STALLED
    return Theta, SW, Sloss, Srank, Srate, Smult, count, status, route, code
