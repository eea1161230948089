"""Noisy observations: small initialization fits the noise, early stopping selects the rank.

When the observed entries carry noise, :math:`M_{ij} = M^\\star_{ij} + \\varepsilon_{ij}` on
:math:`S_x`, the small-initialization flow still ends at a matrix that fits *every* observation:
after the directions of the low-rank truth :math:`M^\\star` have escaped, further directions escape
to fit the noise and the learned rank grows. Stopping the flow early, on the stretch where the
learned rank equals the rank of :math:`M^\\star`, acts as an implicit choice of the rank.

This module records one gradient-flow run per problem with what early stopping needs: the
training loss, the learned rank (the number of escaped directions) and the *test error*, measured
on the unobserved entries against the noiseless truth, at every recorded time.

Explained in: chapter 5 (Implicit regularization, noisy observations).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .completion import Completion
from .seeding import generator
from .training import gradient_flow

__all__ = ["noisy_completion", "test_error", "EarlyStopping", "early_stopping_path",
           "early_stopping_summary"]


def noisy_completion(truth, mask, noise: float, seed=0) -> Completion:
    """The completion problem of ``truth`` observed on ``mask`` with Gaussian noise.

    .. math:: M_{ij} = M^\\star_{ij} + \\sigma\\,\\xi_{ij},\\quad \\xi_{ij} \\sim \\mathcal N(0, 1),
              \\qquad (i, j) \\in S_x .

    Parameters
    ----------
    truth : array_like, shape (d1, d2)
        The noiseless matrix :math:`M^\\star`.
    mask : array_like of bool, shape (d1, d2)
        Observed positions :math:`S_x`.
    noise : float
        :math:`\\sigma \\ge 0`, the standard deviation of the noise.
    seed : int or numpy.random.Generator
        Seed of the noise (the noise of every entry is drawn, observed or not, so the noise on an
        entry does not depend on the mask).

    Returns
    -------
    Completion

    Explained in: chapter 5 (Implicit regularization, noisy observations).
    """
    truth, mask = np.asarray(truth, float), np.asarray(mask, bool)
    if truth.shape != mask.shape or truth.ndim != 2:
        raise ValueError(f"truth and mask must be matrices of one shape; got {truth.shape}, {mask.shape}")
    if not noise >= 0:
        raise ValueError(f"noise must be a standard deviation >= 0, got {noise}")
    xi = generator(seed).standard_normal(truth.shape)
    return Completion.from_arrays(np.where(mask, truth + noise * xi, 0.0), mask)


def test_error(W, truth, mask) -> float | np.ndarray:
    """Relative error on the unobserved entries, against the noiseless truth (batched over W).

    .. math:: \\frac{\\|\\mathcal P_{S_x^c}(W - M^\\star)\\|_F}{\\|\\mathcal P_{S_x^c}(M^\\star)\\|_F}

    Explained in: chapter 5 (Implicit regularization, noisy observations).
    """
    W, truth, mask = np.asarray(W, float), np.asarray(truth, float), np.asarray(mask, bool)
    hidden = ~mask
    if not hidden.any():
        raise ValueError("every entry is observed: there is no test entry")
    num = np.sum(np.where(hidden, W - truth, 0.0) ** 2, axis=(-2, -1))
    return np.sqrt(num / np.sum(truth[hidden] ** 2))


@dataclass
class EarlyStopping:
    """One training run read as a family of early-stopped estimates.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Recorded flow times (stopping times).
    loss : ndarray, shape (T,)
        Training loss :math:`R_S` (on the noisy observations).
    error : ndarray, shape (T,)
        :func:`test_error` of :math:`W(t)`.
    rank : ndarray of int, shape (T,)
        Learned rank: the number of singular values of :math:`W(t)` above ``rank_tol`` times the
        top singular value of the observed data (the number of escaped directions).
    W_path : ndarray, shape (T, d1, d2)
    converged : bool
        Whether the run reached the loss tolerance (it fitted every observation).

    Explained in: chapter 5 (Implicit regularization, noisy observations).
    """

    t: np.ndarray
    loss: np.ndarray
    error: np.ndarray
    rank: np.ndarray
    W_path: np.ndarray
    converged: bool

    def best(self, rank: int | None = None) -> int:
        """Index of the smallest test error, over all times or over the stretch of one rank."""
        allowed = np.ones(self.t.size, bool) if rank is None else self.rank == rank
        if not allowed.any():
            raise ValueError(f"the run never has learned rank {rank}")
        return int(np.flatnonzero(allowed)[np.argmin(self.error[allowed])])

    def at(self, t) -> np.ndarray:
        """Index of the last record at or before each stopping time ``t`` (after the end: the end)."""
        return np.clip(np.searchsorted(self.t, np.asarray(t, float), side="right") - 1, 0, self.t.size - 1)


def early_stopping_path(problem, truth, init_scale: float = 1e-8, seed=0, tol: float = 1e-11,
                        t_max: float = 1e6, rank_tol: float = 1e-3) -> EarlyStopping:
    """Gradient flow from small initialization on a noisy problem, with the test error on the way.

    Runs :func:`mfbook.gradient_flow` (``init_scale``, ``seed``, ``tol``, ``t_max``) and evaluates,
    at every recorded time, the training loss, the learned rank and the test error against
    ``truth`` on the unobserved entries of ``problem``.

    Parameters
    ----------
    problem : Completion
        The noisy observations (e.g. from :func:`noisy_completion`).
    truth : array_like, shape (d1, d2)
        The noiseless matrix.
    rank_tol : float
        A direction counts as escaped once its singular value exceeds ``rank_tol`` times the top
        singular value of the observed data :math:`\\mathcal P_{S_x}(M)` (an unescaped direction is
        of the size of the initialization).

    Returns
    -------
    EarlyStopping

    Explained in: chapter 5 (Implicit regularization, noisy observations).
    """
    run = gradient_flow(problem, init_scale=init_scale, t_max=t_max, tol=tol, seed=seed)
    W = run.W_path
    level = rank_tol * np.linalg.norm(np.where(problem.mask, problem.values, 0.0), 2)
    rank = np.sum(np.linalg.svd(W, compute_uv=False) > level, axis=-1)
    return EarlyStopping(np.asarray(run.t, float), np.asarray(run.loss), test_error(W, truth, problem.mask),
                         rank, W, bool(run.converged))


def early_stopping_summary(paths, true_rank: int) -> dict:
    """What early stopping gains on a set of runs, as measured numbers and fractions of runs.

    For each run: ``final`` (test error at the end), ``best`` (smallest test error over all stopping
    times), ``best_at_rank`` (smallest over the stretch where the learned rank is ``true_rank``; NaN
    if the run never has that rank) and ``final_rank``.

    Returns
    -------
    dict
        The per-run arrays, and the fractions of runs that ``reach_rank`` (have a stretch of the
        true rank), end ``above_rank`` (final rank larger than the true rank) with every
        observation fitted (``converged``), stop ``near_best`` (best at the true rank within 10% of
        the best overall) and ``overfit`` (final error at least 1.1 times the best at the true
        rank).

    Explained in: chapter 5 (Implicit regularization, noisy observations).
    """
    paths = list(paths)
    if not paths:
        raise ValueError("need at least one run")
    final = np.array([p.error[-1] for p in paths])
    best = np.array([p.error.min() for p in paths])
    reach = np.array([bool(np.any(p.rank == true_rank)) for p in paths])
    at_rank = np.array([p.error[p.best(true_rank)] if r else np.nan for p, r in zip(paths, reach)])
    final_rank = np.array([int(p.rank[-1]) for p in paths])
    converged = np.array([p.converged for p in paths])
    with np.errstate(invalid="ignore"):
        near = reach & (at_rank <= 1.1 * best)
        overfit = reach & (final >= 1.1 * at_rank)
    return {"final": final, "best": best, "best_at_rank": at_rank, "final_rank": final_rank,
            "reach_rank": float(reach.mean()), "above_rank": float(np.mean(converged & (final_rank > true_rank))),
            "near_best": float(near.mean()), "overfit": float(overfit.mean())}
