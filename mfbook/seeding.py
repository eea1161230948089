"""Seeds: the one convention of the book for random draws.

Every function that draws at random takes ``seed``: a whole number from 0 to :math:`2^{63} - 1` or a
``numpy.random.Generator``, turned into a generator by :func:`generator`. A run with seed ``s`` draws
its initial direction from ``numpy.random.default_rng(s)`` (:func:`mfbook.init_factors`), so
``gradient_descent``, ``gradient_flow`` and ``small_init_limit`` with the same seed start from the same
direction.

Batches follow the same rule run by run (:func:`run_seeds`): ``seed=s`` gives the runs the seeds
``s, s + 1, ..., s + R - 1`` (or ``seed`` is a sequence of R seeds), so run ``r`` of a batch is the single
run with seed ``s + r``, whatever else is in the batch and whichever batched solver computes it
(``gradient_descent_batch``, ``small_init_limit_batch``).

Explained in: the pipeline chapter (reproducible runs).
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["generator", "run_seeds"]

_MAX = 2**63


def _check_int(seed, name: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be a whole number or a numpy.random.Generator, got {type(seed).__name__}")
    if not 0 <= int(seed) < _MAX:
        raise ValueError(f"{name} must be a whole number from 0 to 2**63 - 1, got {seed}")
    return int(seed)


def generator(seed, name: str = "seed") -> np.random.Generator:
    """The generator for ``seed`` (a whole number, or a Generator used as it is).

    Raises
    ------
    TypeError, ValueError
        If ``seed`` is neither a whole number from 0 to 2**63 - 1 nor a Generator (the message names
        the parameter ``name``).

    Explained in: the pipeline chapter (reproducible runs).
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(_check_int(seed, name))


def run_seeds(seed, count: int, name: str = "seed") -> list[int]:
    """The seeds of the ``count`` runs of a batch: ``s, s + 1, ...`` for a whole number ``s``, or the
    given sequence of ``count`` whole numbers.

    Raises
    ------
    TypeError, ValueError
        On a seed that is not a whole number in range (a Generator cannot seed a batch run by run),
        or a sequence of the wrong length.

    Explained in: the pipeline chapter (reproducible runs).
    """
    if isinstance(seed, np.random.Generator):
        raise TypeError(f"{name}: a batch needs whole-number seeds (run r gets seed + r), not a Generator")
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        first = _check_int(seed, name)
        if first + count > _MAX:
            raise ValueError(f"{name} + number of runs must stay below 2**63, got {seed}")
        return [first + r for r in range(count)]
    try:
        seeds = [_check_int(s, name) for s in seed]
    except TypeError:
        raise TypeError(f"{name} must be a whole number or a sequence of whole numbers, "
                        f"got {type(seed).__name__}") from None
    if len(seeds) != count:
        raise ValueError(f"{name}: {len(seeds)} seeds for {count} runs")
    return seeds
