"""The numerical rank of a matrix: how many singular values stand above a relative threshold.

Every rank the book reports (of a limit, a plateau, a trained weight product) is this count; the
threshold is relative, so the rank does not change when the matrix is scaled.

Explained in: chapter 1 (Background).
"""
from __future__ import annotations

import numpy as np

__all__ = ["numerical_rank"]


def numerical_rank(W, rtol: float = 1e-6) -> int | np.ndarray:
    """Number of singular values above ``rtol`` times the largest (batched).

    Explained in: chapter 1 (Background).
    """
    s = np.linalg.svd(np.asarray(W, float), compute_uv=False)
    return np.sum((s > rtol * s[..., :1]) & (s > 0), axis=-1)     # (no floor: tiny data keep their rank)
