"""Independent runs handed to an executor, in chunks: one code path for this process, a local
process pool, or a cluster.

A sweep is many runs that do not talk to each other. :func:`run_in_chunks` cuts them into chunks of
consecutive runs, submits each chunk as one task to a :class:`concurrent.futures.Executor` -- a
:class:`~concurrent.futures.ProcessPoolExecutor` on this machine, or the executor of a Dask cluster
(``distributed.Client(...).get_executor()``), or any other object with the same ``submit`` -- and
puts the chunks' results back together in run order.

The results do not depend on the chunking, nor on what executes it, bit for bit, because of two
rules the solvers keep: run ``r`` has its own seed, ``seed + r`` (:func:`mfbook.seeding.run_seeds`),
and each chunk receives the explicit list of its runs' seeds, so a run starts from the same
initialization wherever it lands; and a run's result does not depend on the other runs of its batch
(:func:`mfbook.small_init_limit_batch`, :func:`mfbook.gradient_descent_batch`).

Explained in: the appendix "The transition at research scale" (running the sweep on a cluster).
"""
from __future__ import annotations

import numbers

import numpy as np

from .seeding import run_seeds

__all__ = ["run_in_chunks", "DEFAULT_CHUNK_SIZE"]

DEFAULT_CHUNK_SIZE = 64
"""Runs per task when an executor is given and ``chunk_size`` is not: large enough that a task's
overhead (milliseconds on a cluster) is small beside its work, small enough that a sweep of a few
hundred runs keeps several workers busy."""


def _check_executor(executor):
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError("executor must be None (this process) or a concurrent.futures.Executor "
                        f"(an object with a submit method), got {type(executor).__name__}")


def _check_chunk_size(chunk_size):
    if chunk_size is None:
        return None
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1 (runs per task), got {chunk_size!r}")
    return int(chunk_size)


def _call_chunk(function, arrays, seeds, options):
    """One task: ``function`` on one chunk (module level, so that it pickles by reference)."""
    return function(*arrays, seed=seeds, **options)


def _concatenate(parts):
    """The chunks' outputs joined along the run axis: arrays concatenated, lists chained, None kept."""
    first = parts[0]
    if first is None:
        return None
    if isinstance(first, tuple):
        return tuple(_concatenate([p[i] for p in parts]) for i in range(len(first)))
    if isinstance(first, list):
        return [x for p in parts for x in p]
    return np.concatenate([np.asarray(p) for p in parts], axis=0)


def run_in_chunks(function, arrays, seed=0, executor=None, chunk_size=None, **options):
    """Run ``function`` on all runs, chunk by chunk, on ``executor``; the results in run order.

    Parameters
    ----------
    function : callable
        ``function(*arrays_of_a_chunk, seed=seeds_of_the_chunk, **options)`` computes a chunk of
        runs and returns its outputs, each with the runs along the first axis: an ndarray, a list, a
        tuple of these, or None. With an executor that runs elsewhere it must pickle: a function
        defined at the top level of an importable module (not a lambda, not a nested function),
        with ``mfbook`` installed where it runs.
    arrays : sequence of array_like
        The runs' data, run ``r`` at index ``r`` of the first axis of each (all of the same length R).
    seed : int or sequence of int
        Run ``r`` has seed ``seed + r`` (or ``seed[r]``); each chunk receives the list of its runs'
        seeds (:func:`mfbook.seeding.run_seeds`).
    executor : concurrent.futures.Executor, optional
        Anything with ``submit(fn, *args)`` returning a future: a
        :class:`~concurrent.futures.ProcessPoolExecutor`, or ``client.get_executor()`` of a Dask
        ``distributed.Client``. None (the default): this process.
    chunk_size : int, optional
        Runs per task (a whole number >= 1). Default: :data:`DEFAULT_CHUNK_SIZE` with an executor;
        without one, a single call on all runs (with one, the chunks run one after the other here).
    **options
        Passed to ``function`` unchanged.

    Returns
    -------
    The outputs of ``function``, each concatenated over the chunks (arrays along axis 0, lists
    chained): the same, bit for bit, as ``function`` on all runs at once, provided that a run's
    output depends only on its data and its seed.

    Raises
    ------
    TypeError
        If ``executor`` is neither None nor an object with a ``submit`` method.
    ValueError
        If ``chunk_size`` is not a whole number >= 1, or the arrays differ in length. A task's
        exception is raised here, after the tasks not yet started are cancelled.

    Explained in: the appendix "The transition at research scale" (running the sweep on a cluster).
    """
    _check_executor(executor)
    chunk_size = _check_chunk_size(chunk_size)
    arrays = [np.asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("arrays: no data given")
    R = len(arrays[0])
    if any(len(a) != R for a in arrays):
        raise ValueError(f"arrays: all need the same number of runs, got {[len(a) for a in arrays]}")
    seeds = run_seeds(seed, R)
    if executor is None and chunk_size is None:
        return function(*arrays, seed=seeds, **options)
    size = DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size
    chunks = [slice(i, min(i + size, R)) for i in range(0, R, size)] or [slice(0, 0)]
    tasks = [(function, tuple(a[s] for a in arrays), seeds[s], options) for s in chunks]
    if executor is None:
        return _concatenate([_call_chunk(*task) for task in tasks])
    futures = [executor.submit(_call_chunk, *task) for task in tasks]
    try:
        parts = [f.result() for f in futures]
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    return _concatenate(parts)
