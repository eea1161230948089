"""The phase-transition sweep of Bai, Zhao & Zhang (2024, Fig. 1), batched.

For each ground-truth rank :math:`r` and sample size :math:`n` we draw ``repeats`` random problems:
a ground truth :math:`M^\\star = U V^\\top` with :math:`U, V \\in \\mathbb R^{d \\times r}` standard
Gaussian, and :math:`n` observed positions drawn uniformly without replacement. For every run we
record

* the connectivity class of the observed pattern (Definitions 1-3: connected, disconnected with
  complete bipartite components, other disconnected);
* the matrix :math:`\\widehat W` learned from small initialization, its numerical rank and its
  nuclear norm :math:`\\|\\widehat W\\|_*`;
* two references: the minimum rank of an exact completion and the minimum nuclear norm
  :math:`\\min \\|W\\|_*` subject to :math:`W_{ij} = M_{ij}` on :math:`S_x`.

Everything that is repeated over runs is batched: the trainers advance all runs together with
stacked :math:`d\\times d` products, and the minimum-rank search runs alternating least squares for
all runs and all restarts at once. Only the nuclear-norm program is solved one problem at a time:
cvxpy compiles one parametrized program for the shape, and each run re-solves it (about 5 ms).

The trainer is a parameter, so the same sweep can be read at a finite initialization
(``trainer="gd"``, plain gradient descent with the authors' recipe: mean squared loss, lr 0.1,
stop at loss :math:`< 10^{-10}`) or in the :math:`\\alpha \\to 0` limit (``trainer="limit"``,
:func:`mfbook.small_init_limit_batch`).

For the runs that miss the minimum rank, :func:`theorem3_check` tests the hypotheses of Theorem 3 on
the computed limit path, and :func:`first_residual_gap` measures the near-degeneracy that makes a
finite initialization miss. The minimum rank is exact for rank one (:func:`rank_one_feasible`, a
cycle-consistency test on :math:`G_M`) and found by batched alternating least squares above.

Size: :func:`default_repeats` is 10 (the paper's value) when the environment variable
``MFBOOK_FULL=1`` or ``MFBOOK_STATIC=1`` (the book build) is set, and 3 otherwise (tests, nbval).

Explained in: chapter 2 (Connectivity, the phase transition).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from .completion import Completion, as_completion
from .connectivity import KINDS, connectivity
from .references import min_nuclear_norm_batch, min_rank_batch, rank_k_fit_batch, rank_one_feasible
from .seeding import generator

__all__ = ["Sweep", "default_repeats", "sample_problems", "connected_problem", "connected_problems",
           "SCALE_OUTCOMES", "scale_outcome", "classify_batch", "train_batch",
           "gradient_descent_compact", "phase_transition", "transition_curves", "save_record",
           "load_record", "rerun_record", "first_residual_gap", "theorem3_check", "omega_k_stage",
           "seeded_exit_times", "KINDS"]


def default_repeats() -> int:
    """Repeats per (rank, sample size): 10 when ``MFBOOK_FULL=1`` or ``MFBOOK_STATIC=1``, else 3.

    Explained in: chapter 2 (Connectivity, the phase transition).
    """
    full = os.environ.get("MFBOOK_FULL", "") == "1" or os.environ.get("MFBOOK_STATIC", "") == "1"
    return 10 if full else 3


def sample_problems(ranks=(1, 2, 3), sizes=range(1, 17), repeats: int | None = None, d: int = 4, seed=0):
    """Random ground truths and random observed positions, one per run.

    Run order: rank (outer), sample size, repeat (inner).

    Parameters
    ----------
    ranks : sequence of int
        Ground-truth ranks :math:`r \\le d`.
    sizes : sequence of int
        Sample sizes :math:`1 \\le n \\le d^2`.
    repeats : int, optional
        Runs per (rank, size); default :func:`default_repeats`.
    d : int
        Matrix size (:math:`d \\times d`).
    seed : int or numpy.random.Generator

    Returns
    -------
    rank, n : ndarray of int, shape (R,)
    truth : ndarray, shape (R, d, d)
        :math:`M^\\star = UV^\\top`, :math:`U, V` standard Gaussian :math:`d \\times r`.
    mask : ndarray of bool, shape (R, d, d)
        Exactly :math:`n` observed positions per run, uniform without replacement.

    Explained in: chapter 2 (Connectivity, the phase transition).
    """
    repeats = default_repeats() if repeats is None else int(repeats)
    ranks, sizes = [int(r) for r in ranks], [int(s) for s in sizes]
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if any(not 1 <= r <= d for r in ranks):
        raise ValueError(f"ranks must lie in 1..{d}, got {ranks}")
    if any(not 1 <= s <= d * d for s in sizes):
        raise ValueError(f"sample sizes must lie in 1..{d * d}, got {sizes}")
    rng = generator(seed)
    rank = np.repeat(ranks, len(sizes) * repeats)
    n = np.tile(np.repeat(sizes, repeats), len(ranks))
    R = rank.size
    truth = np.empty((R, d, d))
    for r in set(ranks):
        idx = np.flatnonzero(rank == r)
        U = rng.standard_normal((idx.size, d, r))
        V = rng.standard_normal((idx.size, d, r))
        truth[idx] = U @ np.swapaxes(V, 1, 2)
    # n positions without replacement: the n smallest of d*d uniform keys
    keys = rng.random((R, d * d))
    order = np.argsort(keys, axis=1)
    mask = (np.argsort(order, axis=1) < n[:, None]).reshape(R, d, d)
    return rank, n, truth, mask


def connected_problem(d: int, n: int, rank: int = 3, seed=0):
    """A random :math:`d \\times d` completion problem of rank ``rank`` whose observed entries are
    connected: the research-scale problems of the appendix on the transition at scale.

    The ground truth is :math:`M^\\star = UV^\\top/\\sqrt r`, :math:`U, V` standard Gaussian
    :math:`d \\times r` (entries of variance 1); ``n`` positions are drawn uniformly without
    replacement, again until the bipartite graph of the observed entries is connected (every row and
    column observed, one component: chapter 2). The threshold where ``n`` equals the dimension of the
    rank-:math:`r` matrices is :math:`n = 2rd - r^2`.

    Parameters
    ----------
    d, n, rank : int
        Size, number of observed entries (from :math:`2d - 1`, the fewest that connect, to
        :math:`d^2`) and rank (from 1 to d).
    seed : int or numpy.random.Generator

    Returns
    -------
    problem : Completion
    truth : ndarray, shape (d, d)

    Explained in: the appendix "The transition at research scale".
    """
    d, n, rank = int(d), int(n), int(rank)
    if d < 1 or not 1 <= rank <= d:
        raise ValueError(f"rank must lie in 1..d, got d = {d}, rank = {rank}")
    if not 2 * d - 1 <= n <= d * d:
        raise ValueError(f"n must lie in {2 * d - 1}..{d * d} (connected observations), got {n}")
    rng = generator(seed)
    truth = rng.standard_normal((d, rank)) @ rng.standard_normal((rank, d)) / np.sqrt(rank)
    while True:
        mask = np.zeros(d * d, bool)
        mask[rng.choice(d * d, n, replace=False)] = True
        q = Completion.from_arrays(truth, mask.reshape(d, d))
        if connectivity(q).kind == "connected":
            return q, truth


def connected_problems(d: int, n: int, count: int, rank: int = 3):
    """The first ``count`` problems of :func:`connected_problem` drawn from the generator seeded by
    ``(d, n)``: the one convention by which the research-scale benchmarks, the stored transition and
    its live rerun, and the tests name a problem (problem ``k`` of the stream for ``(d, n)``).

    Returns
    -------
    list of (Completion, ndarray)
        Each problem with its ground truth.

    Explained in: the appendix "The transition at research scale".
    """
    rng = np.random.default_rng([int(d), int(n)])
    return [connected_problem(d, n, rank, rng) for _ in range(int(count))]


#: the outcomes of a research-scale run (:func:`scale_outcome`), by code
SCALE_OUTCOMES = ("ground truth", "converged elsewhere", "not settled", "other status")


def scale_outcome(result, truth) -> int:
    """The outcome of a small-initialization limit ``result`` on a problem with ground truth ``truth``,
    as an index into :data:`SCALE_OUTCOMES`: 0 converged at the truth (W equal to it to 1e-6 of its
    largest entry: Newton polishes to about 1e-14, and above the sampling threshold the truth is the
    only rank-r completion of a generic problem), 1 converged elsewhere, 2 not settled, 3 any other
    status.

    Explained in: the appendix "The transition at research scale".
    """
    if result.status == "converged":
        return 0 if np.abs(result.W - truth).max() <= 1e-6 * np.abs(truth).max() else 1
    return 2 if result.status == "not settled" else 3


def classify_batch(values, masks) -> np.ndarray:
    """Connectivity class of each run (:func:`mfbook.connectivity`), as an array of strings.

    Explained in: chapter 2 (Connectivity).
    """
    values, masks = np.asarray(values, float), np.asarray(masks, bool)
    return np.array([connectivity(Completion.from_arrays(v, m)).kind for v, m in zip(values, masks)], dtype=object)


def gradient_descent_compact(values, masks, init_scale: float = 1e-8, lr: float = 0.1, max_steps: int = 100_000,
                             tol: float = 1e-10, seed=0, check_every: int = 10):
    """Plain gradient descent on :math:`W = AB` for many problems at once, dropping finished runs.

    The loss is the mean squared error over the observed entries,
    :math:`R_S = \\frac1n \\sum_{S_x} ((AB)_{ij} - M_{ij})^2`, the factors are full width
    (:math:`A \\in \\mathbb R^{d_1\\times d}, B \\in \\mathbb R^{d\\times d_2}`, :math:`d = \\max(d_1, d_2)`) and start at
    ``init_scale`` times a standard Gaussian. This is :func:`mfbook.gradient_descent_batch` (which
    drops finished runs) with a *relative* tolerance: a run stops when
    :math:`R_S < \\text{tol} \\cdot \\frac1n\\sum_{S_x} M_{ij}^2`, checked every ``check_every`` steps.

    Returns
    -------
    W : ndarray, shape (R, d1, d2)
    loss : ndarray, shape (R,)
    steps : ndarray of int, shape (R,)
        Steps taken (``max_steps`` when ``tol`` was never reached).

    Raises
    ------
    mfbook.DivergenceError
        If a run's loss becomes non-finite or exceeds 1e8 (lower ``lr``).

    Explained in: chapter 2 (Connectivity, the phase-transition sweep).
    """
    from .training import gradient_descent_batch

    values, masks = np.asarray(values, float), np.asarray(masks, bool)
    if values.shape != masks.shape or values.ndim != 3:
        raise ValueError(f"values and masks must be stacks of equal shape (R, d1, d2); got {values.shape}, {masks.shape}")
    n = np.maximum(masks.sum(axis=(1, 2)), 1)
    mean_square = np.sum(np.where(masks, values, 0.0) ** 2, axis=(1, 2)) / n
    return gradient_descent_batch(values, masks, init_scale, lr, max_steps, tol * mean_square, seed,
                                  check_every=check_every)


def _train_chunk(values, masks, seed, trainer, init_scale, lr, max_steps, tol, keep_results):
    """One chunk of :func:`train_batch` (at module level, so that a process or cluster executor can
    pickle it): ``W``, ``loss`` and the limit results (None unless ``keep_results``)."""
    res = None
    if trainer == "gd":
        W, loss, _ = gradient_descent_compact(values, masks, init_scale, lr, max_steps, tol, seed)
    else:
        from .limit import small_init_limit_batch

        res = small_init_limit_batch([Completion.from_arrays(v, m) for v, m in zip(values, masks)], seed=seed)
        W = np.stack([r.W for r in res])
        loss = np.array([r.loss for r in res])
        res = res if keep_results else None
    return W, loss, res


def train_batch(values, masks, trainer: str = "gd", init_scale: float = 1e-8, lr: float = 0.1,
                max_steps: int = 100_000, tol: float = 1e-10, seed=0, return_results: bool = False,
                executor=None, chunk_size=None):
    """Small-initialization training of many problems of one shape; the trainer is a parameter.

    Parameters
    ----------
    values, masks : array_like, shape (R, d1, d2)
    trainer : {"gd", "limit"}
        ``"gd"``: :func:`gradient_descent_compact` at ``init_scale`` (finite initialization);
        ``"limit"``: the :math:`\\alpha \\to 0` limit, :func:`mfbook.small_init_limit_batch`
        (``init_scale``, ``lr``, ``max_steps``, ``tol`` are then unused; run ``r`` uses seed ``seed + r``).
    init_scale, lr, max_steps, tol
        As in :func:`gradient_descent_compact`.
    seed : int or sequence of int
        Run ``r`` has seed ``seed + r`` for either trainer (:mod:`mfbook.seeding`).
    executor : concurrent.futures.Executor, optional
        Where the runs are computed, in chunks of ``chunk_size`` runs
        (:func:`mfbook.distributed.run_in_chunks`): a
        :class:`~concurrent.futures.ProcessPoolExecutor`, a Dask cluster's ``client.get_executor()``,
        ... None (the default): this process, all runs in one batch (the limit trainer then runs on
        one thread per core, without the GIL). The results are the same, bit for bit, whatever
        computes them and however they are chunked: each run keeps its seed, and no run depends on
        its batch-mates.
    chunk_size : int, optional
        Runs per task (default 64 with an executor).

    Returns
    -------
    W : ndarray, shape (R, d1, d2)
        Learned matrices.
    loss : ndarray, shape (R,)
        Final training loss.
    results : list of LimitResult
        Only with ``return_results=True`` and ``trainer="limit"`` (None for the other trainers).

    Explained in: chapter 2 (Connectivity, the phase-transition sweep).
    """
    from .distributed import run_in_chunks

    values, masks = np.asarray(values, float), np.asarray(masks, bool)
    if trainer not in ("gd", "limit"):
        raise ValueError(f"unknown trainer {trainer!r}: use 'gd' or 'limit'")
    W, loss, res = run_in_chunks(_train_chunk, (values, masks), seed, executor, chunk_size, trainer=trainer,
                                 init_scale=init_scale, lr=lr, max_steps=max_steps, tol=tol,
                                 keep_results=bool(return_results))
    return (W, loss, res) if return_results else (W, loss)


@dataclass
class Sweep:
    """Result of :func:`phase_transition`: one entry per run (arrays of length R).

    Attributes
    ----------
    rank, n : ndarray of int
        Ground-truth rank and sample size.
    truth, mask : ndarray, shape (R, d, d)
    kind : ndarray of str
        Connectivity class (``"connected"``, ``"disconnected-complete-bipartite"``, ``"disconnected"``).
    W : ndarray, shape (R, d, d)
        Learned matrices.
    loss : ndarray
        Final training loss.
    learned_rank : ndarray of int
        Numerical rank of ``W`` (singular values above ``1e-6`` times the largest).
    learned_nuclear : ndarray
        :math:`\\|W\\|_*`.
    min_rank, min_nuclear : ndarray
        The references.
    info : dict
        Trainer, its settings, and timings in seconds.

    Explained in: chapter 2 (Connectivity, the phase transition).
    """

    rank: np.ndarray
    n: np.ndarray
    truth: np.ndarray
    mask: np.ndarray
    kind: np.ndarray
    W: np.ndarray
    loss: np.ndarray
    learned_rank: np.ndarray
    learned_nuclear: np.ndarray
    min_rank: np.ndarray
    min_nuclear: np.ndarray
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.rank.size)

    @property
    def fits(self) -> np.ndarray:
        """Runs whose learned matrix fits the data (loss below 1e-8 times the mean squared observation)."""
        level = np.sum(np.where(self.mask, self.truth, 0.0) ** 2, axis=(1, 2)) / self.mask.sum(axis=(1, 2))
        return self.loss <= 1e-8 * level

    @property
    def reaches_min_rank(self) -> np.ndarray:
        """Runs that fit the data with the minimum rank."""
        return self.fits & (self.learned_rank == self.min_rank)

    def reaches_min_nuclear(self, rtol: float = 1e-4) -> np.ndarray:
        """Runs that fit the data with the minimum nuclear norm, to relative tolerance ``rtol``."""
        return self.fits & (np.abs(self.learned_nuclear - self.min_nuclear) <= rtol * np.maximum(self.min_nuclear, 1e-12))

    def select(self, **where) -> np.ndarray:
        """Boolean mask of the runs matching ``attribute=value`` conditions, e.g. ``select(rank=2, kind="connected")``."""
        keep = np.ones(len(self), bool)
        for name, value in where.items():
            keep &= getattr(self, name) == value
        return keep

    def fraction(self, hits: np.ndarray, by: str = "n", **where) -> dict:
        """Fraction of ``hits`` among the selected runs, grouped by attribute ``by``: ``{value: (fraction, count)}``."""
        keep = self.select(**where)
        out = {}
        for value in np.unique(getattr(self, by)[keep]):
            grp = keep & (getattr(self, by) == value)
            out[value.item() if hasattr(value, "item") else value] = (float(hits[grp].mean()), int(grp.sum()))
        return out


def phase_transition(ranks=(1, 2, 3), sizes=range(1, 17), repeats: int | None = None, d: int = 4, seed=0,
                     trainer: str = "gd", init_scale: float = 1e-8, lr: float = 0.1, max_steps: int = 100_000,
                     tol: float = 1e-10, references: bool = True, problems=None, executor=None,
                     chunk_size=None) -> Sweep:
    """Run the phase-transition sweep (Bai, Zhao & Zhang 2024, Fig. 1), all runs batched.

    Parameters
    ----------
    ranks, sizes, repeats, d, seed
        As in :func:`sample_problems` (``seed`` fixes ground truths, positions and initializations).
    trainer, init_scale, lr, max_steps, tol
        As in :func:`train_batch`.
    references : bool or Sweep
        Compute the minimum-rank and minimum-nuclear-norm references (True), skip them (False), or
        copy them from an earlier sweep of the same problems.
    problems : tuple (rank, n, truth, mask), optional
        Reuse the problems of an earlier sweep (e.g. to compare trainers on the same runs).
    executor, chunk_size
        Where the training runs are computed, as in :func:`train_batch` (None: this process). The
        sweep is the same, bit for bit, whatever computes it. The references are computed here.

    Returns
    -------
    Sweep

    Explained in: chapter 2 (Connectivity, the phase transition).
    """
    from .rank import numerical_rank
    from .references import nuclear_norm

    rng = generator(seed)
    if problems is None:
        problems = sample_problems(ranks, sizes, repeats, d, rng)
    rank, n, truth, mask = problems
    info = {"trainer": trainer, "init_scale": init_scale, "lr": lr, "max_steps": max_steps, "tol": tol,
            "runs": int(rank.size)}
    t0 = time.perf_counter()
    kind = classify_batch(truth, mask)
    t1 = time.perf_counter()
    train_seed = int(rng.integers(2**31))
    W, loss, results = train_batch(truth, mask, trainer, init_scale, lr, max_steps, tol, seed=train_seed,
                                   return_results=True, executor=executor, chunk_size=chunk_size)
    info["seed"] = train_seed
    if results is not None:
        info["limit_results"] = results
    t2 = time.perf_counter()
    bad = ~np.all(np.isfinite(W), axis=(1, 2))
    W[bad], loss[bad] = np.nan, np.inf          # a trainer that blew up: counted as not fitting
    learned_rank = np.full(rank.size, -1)
    learned_nuclear = np.full(rank.size, np.inf)
    learned_rank[~bad] = numerical_rank(W[~bad])
    learned_nuclear[~bad] = nuclear_norm(W[~bad])
    if isinstance(references, Sweep):
        if references.rank.shape != rank.shape or not np.array_equal(references.mask, mask):
            raise ValueError("the sweep passed as references was run on other problems")
        mr, mn = references.min_rank, references.min_nuclear
        t3 = t4 = t2
    elif references:
        level = np.sum(np.where(mask, truth, 0.0) ** 2, axis=(1, 2)) / mask.sum(axis=(1, 2))
        upper = np.where(loss <= 1e-8 * level, np.minimum(learned_rank, rank), rank)
        mr = min_rank_batch(truth, mask, upper=upper, seed=rng)
        t3 = time.perf_counter()
        mn = min_nuclear_norm_batch(truth, mask)
        t4 = time.perf_counter()
    else:
        mr = np.full(rank.size, -1)
        mn = np.full(rank.size, np.nan)
        t3 = t4 = t2
    info.update(seconds_classify=t1 - t0, seconds_train=t2 - t1, seconds_min_rank=t3 - t2,
                seconds_min_nuclear=t4 - t3)
    return Sweep(rank, n, truth, mask, kind, W, loss, learned_rank, learned_nuclear, mr, mn, info)



def transition_curves(sweep: Sweep, rtol: float = 1e-4) -> dict:
    """The three curves of the paper's Fig. 1 for each ground-truth rank, against the sample size.

    For every rank :math:`r` and sample size :math:`n` of the sweep: the fraction of runs whose learned
    matrix has the minimum nuclear norm (:meth:`Sweep.reaches_min_nuclear`, relative ``rtol``), the
    fraction with the minimum rank (:attr:`Sweep.reaches_min_rank`), and the fraction whose pattern is
    connected.

    Returns
    -------
    dict
        ``ranks`` (R,), ``sizes`` (N,), ``d``; ``min_nuclear``, ``min_rank``, ``connected`` (R, N)
        fractions; ``hits_min_nuclear``, ``hits_min_rank``, ``hits_connected``, ``count`` (R, N) counts.

    Explained in: chapter 2 (Connectivity, the phase transition).
    """
    ranks, sizes = np.unique(sweep.rank), np.unique(sweep.n)
    flags = {"min_nuclear": sweep.reaches_min_nuclear(rtol), "min_rank": sweep.reaches_min_rank,
             "connected": sweep.kind == KINDS[0]}
    out = {"ranks": ranks, "sizes": sizes, "d": int(sweep.truth.shape[1]),
           "count": np.zeros((ranks.size, sizes.size), int)}
    for name in flags:
        out["hits_" + name] = np.zeros((ranks.size, sizes.size), int)
    for a, r in enumerate(ranks):
        for b, n in enumerate(sizes):
            sel = (sweep.rank == r) & (sweep.n == n)
            out["count"][a, b] = sel.sum()
            for name, hit in flags.items():
                out["hits_" + name][a, b] = hit[sel].sum()
    for name in flags:
        out[name] = out["hits_" + name] / np.maximum(out["count"], 1)
    return out


def save_record(path, sweep: Sweep, seed: int, repeats: int, rtol: float = 1e-4) -> None:
    """Store a ``trainer="limit"`` sweep's per-run outcomes in a small ``.npz`` (no matrices).

    The problems themselves are not stored: :func:`rerun_record` draws them again from ``seed``
    (:func:`phase_transition` with that seed) and checks them against the stored observed positions
    (exactly) and the Frobenius norms of the ground truths.

    Explained in: chapter 2 (Connectivity, the phase transition; ``benchmarks/fig1_sweep.py``).
    """
    if sweep.info.get("trainer") != "limit":
        raise ValueError("save_record stores a sweep of the alpha -> 0 limit (trainer='limit')")
    code = {k: i for i, k in enumerate(KINDS)}
    np.savez_compressed(
        path, seed=int(seed), repeats=int(repeats), d=int(sweep.truth.shape[1]), rtol=float(rtol),
        ranks=np.unique(sweep.rank), sizes=np.unique(sweep.n), train_seed=int(sweep.info["seed"]),
        rank=sweep.rank.astype(np.int8), n=sweep.n.astype(np.int8),
        kind=np.array([code[k] for k in sweep.kind], np.int8),
        mask_bits=np.packbits(sweep.mask.reshape(len(sweep), -1), axis=1),
        truth_norm=np.linalg.norm(sweep.truth, axis=(1, 2)),
        learned_rank=sweep.learned_rank.astype(np.int8), min_rank=sweep.min_rank.astype(np.int8),
        learned_nuclear=sweep.learned_nuclear, min_nuclear=sweep.min_nuclear, fits=sweep.fits,
        reaches_min_rank=sweep.reaches_min_rank, reaches_min_nuclear=sweep.reaches_min_nuclear(rtol))


def load_record(path) -> dict:
    """Read a record written by :func:`save_record`: a dict of arrays (``kind`` as strings) plus
    ``mask`` (R, d, d) unpacked and ``curves`` (:func:`transition_curves`'s fractions and counts,
    recomputed from the stored per-run outcomes).

    Explained in: chapter 2 (Connectivity, the phase transition).
    """
    with np.load(path) as f:
        rec = {k: f[k] for k in f.files}
    for k in ("seed", "repeats", "d", "train_seed"):
        rec[k] = int(rec[k])
    rec["rtol"] = float(rec["rtol"])
    d, R = rec["d"], rec["rank"].size
    rec["rank"], rec["n"] = rec["rank"].astype(int), rec["n"].astype(int)
    rec["learned_rank"], rec["min_rank"] = rec["learned_rank"].astype(int), rec["min_rank"].astype(int)
    rec["kind"] = np.array([KINDS[i] for i in rec["kind"]], dtype=object)
    rec["mask"] = np.unpackbits(rec["mask_bits"], axis=1, count=d * d).astype(bool).reshape(R, d, d)
    ranks, sizes = rec["ranks"], rec["sizes"]
    curves = {"ranks": ranks, "sizes": sizes, "d": d, "count": np.zeros((ranks.size, sizes.size), int)}
    flags = {"min_nuclear": rec["reaches_min_nuclear"], "min_rank": rec["reaches_min_rank"],
             "connected": rec["kind"] == KINDS[0]}
    for name, hit in flags.items():
        curves["hits_" + name] = np.zeros((ranks.size, sizes.size), int)
        for a, r in enumerate(ranks):
            for b, n in enumerate(sizes):
                sel = (rec["rank"] == r) & (rec["n"] == n)
                curves["count"][a, b] = sel.sum()
                curves["hits_" + name][a, b] = hit[sel].sum()
        curves[name] = curves["hits_" + name] / np.maximum(curves["count"], 1)
    rec["curves"] = curves
    return rec


def rerun_record(record: dict, runs) -> Sweep:
    """Recompute some runs of a stored record with the current code: the same problems and seeds.

    The problems are drawn again exactly as :func:`phase_transition` drew them (``record["seed"]``) and
    compared with the stored positions and ground-truth norms (a ``ValueError`` if they differ: the
    sampling changed). The chosen runs are then classified, their :math:`\\alpha\\to0` limits computed
    with the stored seeds (run ``r`` has seed ``train_seed + r``, as in the full sweep) and both
    references solved again.

    Returns
    -------
    Sweep
        The chosen runs only, in the order of ``runs`` (``info["runs_index"]`` holds ``runs``).

    Explained in: chapter 2 (Connectivity, the phase transition).
    """
    from .rank import numerical_rank
    from .references import nuclear_norm

    runs = np.asarray(runs, int)
    rng = generator(record["seed"])
    rank, n, truth, mask = sample_problems(record["ranks"], record["sizes"], record["repeats"],
                                           record["d"], rng)
    if not (np.array_equal(mask, record["mask"]) and np.array_equal(rank, record["rank"])
            and np.allclose(np.linalg.norm(truth, axis=(1, 2)), record["truth_norm"], rtol=1e-12)
            and int(rng.integers(2**31)) == record["train_seed"]):
        raise ValueError("the record's problems or seeds differ from the ones its seed draws now")
    truth, mask, rank, n = truth[runs], mask[runs], rank[runs], n[runs]
    kind = classify_batch(truth, mask)
    seeds = [record["train_seed"] + int(r) for r in runs]
    from .limit import small_init_limit_batch

    res = small_init_limit_batch([Completion.from_arrays(v, m) for v, m in zip(truth, mask)],
                                 seed=seeds)
    W = np.stack([x.W for x in res])
    loss = np.array([x.loss for x in res])
    bad = ~np.all(np.isfinite(W), axis=(1, 2))
    W[bad], loss[bad] = np.nan, np.inf
    learned_rank = np.full(runs.size, -1)
    learned_nuclear = np.full(runs.size, np.inf)
    learned_rank[~bad] = numerical_rank(W[~bad])
    learned_nuclear[~bad] = nuclear_norm(W[~bad])
    level = np.sum(np.where(mask, truth, 0.0) ** 2, axis=(1, 2)) / mask.sum(axis=(1, 2))
    upper = np.where(loss <= 1e-8 * level, np.minimum(learned_rank, rank), rank)
    mr = min_rank_batch(truth, mask, upper=upper, seed=rng)
    mn = min_nuclear_norm_batch(truth, mask)
    info = {"trainer": "limit", "seed": record["train_seed"], "runs_index": runs}
    return Sweep(rank, n, truth, mask, kind, W, loss, learned_rank, learned_nuclear, mr, mn, info)


def first_residual_gap(values, masks) -> np.ndarray:
    """:math:`\\sigma_2/\\sigma_1` of the first residual :math:`P_{S_x}(M)` (observed entries, zeros elsewhere).

    At :math:`W = 0` the escape rates of gradient flow are :math:`\\frac2n\\sigma_i(P_{S_x}(M))`. While the top
    direction grows from :math:`\\alpha` to :math:`O(1)`, the second grows by the factor
    :math:`\\alpha^{-\\sigma_2/\\sigma_1}`, so it is left at about :math:`\\alpha^{1 - \\sigma_2/\\sigma_1}`: a ratio close to 1
    means a finite initialization carries a visible second direction past the first saddle.

    Returns
    -------
    ndarray, shape (R,)

    Explained in: chapter 2 (Connectivity, finite initialization in the sweep).
    """
    s = np.linalg.svd(np.where(np.asarray(masks, bool), np.asarray(values, float), 0.0), compute_uv=False)
    return s[:, 1] / np.maximum(s[:, 0], 1e-300)


def theorem3_check(sweep: Sweep, runs, seed=0, rtol: float = 1e-3) -> list[dict]:
    """Follow the :math:`\\alpha \\to 0` limit on some runs and test the hypotheses of Theorem 3 on each.

    Theorem 3 (Bai, Zhao & Zhang 2024) assumes that :math:`W_t` attains an optimum within **each**
    invariant manifold :math:`\\Omega_k`, and concludes, if the limit exists and fits the data, that the
    limit has minimum rank. The slides state the assumption for every :math:`\\Omega_k`, not only for the
    manifolds that the path happens to visit, and this function tests it *as stated*: for every
    :math:`k = 0, 1, \\dots, r_{\\min}` (:math:`r_{\\min}` the minimum rank of a completion; above it the
    theorem needs nothing) the limit path must rest at a rank-:math:`k` critical point whose loss is the
    best rank-:math:`k` fit (relative ``rtol``, absolute :math:`10^{-9}` times the mean squared observation;
    the best fit is 0 at :math:`r_{\\min}`). A path that never rests at rank :math:`k` (it jumps from a lower
    rank straight to a higher one) attains no optimum within :math:`\\Omega_k`, so the assumption fails
    there, whatever happens later. The best rank-:math:`k` fits come from alternating least squares
    (:func:`rank_k_fit_batch`), independently of the path.

    For each run we compute :func:`mfbook.small_init_limit_batch` (saddle to saddle; or reuse the paths
    a ``trainer="limit"`` sweep kept) and give a verdict, the first that applies:

    * ``"minimum rank"``: the limit fits the data with the minimum rank (the conclusion holds, whether
      or not the assumption does);
    * ``"no finite limit"``: the factors grow without bound on the path (status ``"unbounded"``): the
      hypothesis that the limit exists fails;
    * ``"not settled, skips rank k"`` (or ``"not settled, stalls above best rank-k fit"``, or ``"not
      settled"``): a stage of the path crawls (status ``"not settled"``), so the computed path after it
      is not the exact limit path; what the computed path shows about the assumption follows the comma;
    * ``"limit does not fit"``: the computed path ends without fitting the data or stalls: the
      hypothesis that the limit is a global optimum fails, or the path is longer than the solver follows;
    * ``"skips rank k"``: the path never rests at rank :math:`k \\le r_{\\min}` (smallest such :math:`k`);
    * ``"stalls above best rank-k fit"``: it rests at rank :math:`k \\le r_{\\min}` above the best
      rank-:math:`k` fit;
    * ``"unexplained"``: every hypothesis holds and yet the rank is not minimal -- this would contradict
      the theorem.

    Returns
    -------
    list of dict
        One per run: ``run``, ``verdict``, ``hypothesis`` (True when an optimum is attained within
        every :math:`\\Omega_k`, :math:`k \\le r_{\\min}`), ``unattained`` (the ranks :math:`k \\le r_{\\min}` where
        it is not), ``status`` and ``method`` of the limit solver, ``limit_rank``, ``ranks`` (rank at
        each plateau), ``plateaus`` (loss at each plateau), ``best`` (best fit of the rank of each
        plateau), ``best_by_rank`` (best fit for ranks 0..d), ``W`` (the limit).

    Explained in: chapter 2 (Connectivity, the runs that miss the minimum rank).
    """
    from .limit import small_init_limit_batch

    runs = np.asarray(runs, int)
    if runs.size == 0:
        return []
    stored = sweep.info.get("limit_results")
    if stored is not None:
        results = [stored[r] for r in runs]
    else:
        problems = [Completion.from_arrays(sweep.truth[r], sweep.mask[r]) for r in runs]
        results = small_init_limit_batch(problems, seed=[int(seed) + int(r) for r in runs])
    d = min(sweep.truth.shape[1:])
    best = np.stack([rank_k_fit_batch(sweep.truth[runs], sweep.mask[runs], k, restarts=16, seed=seed)
                     for k in range(d + 1)], axis=1)
    best[np.arange(d + 1)[None, :] >= sweep.min_rank[runs][:, None]] = 0.0   # an exact fit exists there
    out = []
    for j, (r, res) in enumerate(zip(runs, results)):
        level = float(np.mean(sweep.truth[r][sweep.mask[r]] ** 2))
        ranks, plateaus = list(res.ranks), np.asarray(res.plateaus, float)
        W = res.W
        fits = np.all(np.isfinite(W)) and res.loss <= 1e-8 * level
        status = getattr(res, "status", "converged")
        r_min = int(sweep.min_rank[r])
        unattained, why = [], {}
        for k in range(r_min + 1):
            rested = [loss for rank, loss in zip(ranks, plateaus) if rank == k]
            if not rested:
                unattained.append(k)
                why[k] = f"skips rank {k}"
            elif min(rested) > best[j, k] * (1 + rtol) + 1e-9 * level:
                unattained.append(k)
                why[k] = f"stalls above best rank-{k} fit"
        if fits and res.rank == r_min:
            verdict = "minimum rank"
        elif status == "unbounded":
            verdict = "no finite limit"
        elif status == "not settled":
            verdict = "not settled" + (", " + why[unattained[0]] if unattained else "")
        elif not fits or status != "converged":
            verdict = "limit does not fit"
        elif unattained:
            verdict = why[unattained[0]]
        else:
            verdict = "unexplained"
        out.append({"run": int(r), "verdict": verdict, "hypothesis": not unattained, "unattained": unattained,
                    "status": status, "method": getattr(res, "method", None),
                    "limit_rank": int(res.rank), "ranks": ranks,
                    "plateaus": plateaus, "best": np.array([best[j, min(k, d)] for k in ranks]),
                    "best_by_rank": best[j], "W": W})
    return out


def omega_k_stage(problem, k: int, init_scale: float = 1e-6, seed=0, t_max: float = 1e6, tol: float = 1e-16,
                  max_steps: int = 200_000) -> dict:
    """Gradient flow inside :math:`\\Omega_{\\le k}`: factors of width ``k`` from :math:`\\alpha\\,\\mathcal N(0, I)`.

    With width :math:`k` there is no unused inner direction that rounding errors or a finite
    initialization could seed, so the rank-:math:`k` stage runs for as long as it takes: to a fit, to
    another critical point, or outwards with growing factors.

    Parameters
    ----------
    problem : Completion or str
    k : int
        Width of the factors.
    init_scale, seed
        :math:`\\alpha` and the seed of the initial draw (as :func:`mfbook.gradient_flow`).
    t_max, tol, max_steps
        Longest flow time; stop once the loss is below ``tol`` times the mean squared observation;
        largest number of integrator steps.

    Returns
    -------
    dict
        ``t``, ``loss``, ``norm`` (:math:`\\|A\\|_F^2 + \\|B\\|_F^2`)^(1/2), ``sigma`` (top singular value of
        the residual gradient :math:`E = \\frac2n\\mathcal P_{S_x}(W - M)`, the growth rate of a new inner
        direction), ``sv`` (singular values of :math:`W`) along the flow; ``A``, ``B`` (the factors
        along the flow), ``level`` (mean squared observation), ``done`` (loss below ``tol``).

    Explained in: chapter 2 (Connectivity, the runs that miss the minimum rank).
    """
    from .factorization import init_factors
    from .training import gradient_flow

    problem = as_completion(problem)
    A0, B0 = init_factors(problem.shape, init_scale, seed, width=int(k))
    level = float(np.mean(problem.values[problem.mask] ** 2))
    run = gradient_flow(problem, start=(A0, B0), t_max=t_max, atol=1e-3 * 1e-10 * init_scale, tol=tol * level,
                        max_steps=max_steps)
    t, A, B, done = run.t, run.A_path, run.B_path, run.converged
    W = A @ B
    D = np.where(problem.mask, W - problem.values, 0.0)
    n = float(problem.mask.sum())
    return {"t": t, "loss": np.sum(D * D, axis=(1, 2)) / n,
            "norm": np.sqrt(np.sum(A * A, axis=(1, 2)) + np.sum(B * B, axis=(1, 2))),
            "sigma": np.linalg.svd(2.0 / n * D, compute_uv=False)[:, 0],
            "sv": np.linalg.svd(W, compute_uv=False), "A": A, "B": B, "level": level, "done": done}


def seeded_exit_times(problem, stage: dict, eps, start: int, t_max: float = 1e4, threshold: float = 1e-3,
                      seed=0) -> np.ndarray:
    """Leave the rank-:math:`k` stage through unused inner directions seeded on purpose.

    From the point ``start`` (an index into ``stage``, the result of :func:`omega_k_stage`) the factors
    of width :math:`k` are completed to width :math:`\\max(d_1, d_2)` with new inner directions of size
    ``eps`` (a fixed Gaussian direction scaled to Frobenius norm ``eps`` in :math:`A` and in :math:`B`),
    and the full-width flow runs until :math:`\\sigma_{k+1}(W)` exceeds ``threshold`` times
    :math:`\\sigma_1(W)`. Sizes far above rounding errors (:math:`10^{-16}` of the factors) make an exit
    that is caused by the seed, not by rounding.

    Returns
    -------
    ndarray, shape (len(eps),)
        Flow time from ``start`` to the exit (``inf`` if none before ``t_max``).

    Explained in: chapter 2 (Connectivity, the runs that miss the minimum rank).
    """
    from .training import gradient_flow

    problem = as_completion(problem)
    A_k, B_k = stage["A"][start], stage["B"][start]
    (d1, k), d2 = A_k.shape, B_k.shape[1]
    d = max(d1, d2)
    rng = generator(seed)
    GA, GB = rng.standard_normal((d1, d - k)), rng.standard_normal((d - k, d2))
    GA, GB = GA / np.linalg.norm(GA), GB / np.linalg.norm(GB)
    out = np.full(len(eps), np.inf)
    for i, e in enumerate(eps):
        A0 = np.concatenate([A_k, e * GA], axis=1)
        B0 = np.concatenate([B_k, e * GB], axis=0)
        run = gradient_flow(problem, start=(A0, B0), t_max=t_max, atol=1e-3 * 1e-10 * e, tol=0.0)
        t, s = run.t, run.sv_W
        hit = np.flatnonzero(s[:, k] > threshold * s[:, 0])
        if hit.size:
            out[i] = t[hit[0]]
    return out
