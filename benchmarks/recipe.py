"""The published training recipe of the paper's authors, implemented faithfully in NumPy.

Two bias-free full-width linear layers (W = A B), mean squared error over the observed entries,
full-batch gradient descent with lr 0.1 from N(0, std 1e-7), at most 1e5 steps, stop as soon
as the loss is below 1e-8. This is the peer baseline of the benchmarks; it is not used by the book.
"""
import numpy as np


def recipe(values, mask, lr=0.1, std=1e-7, max_steps=100_000, stop=1e-8, seed=0):
    """Run the recipe on one problem; return (W, steps)."""
    rng = np.random.default_rng(seed)
    d1, d2 = values.shape
    d = max(d1, d2)
    A = std * rng.standard_normal((d1, d))
    B = std * rng.standard_normal((d, d2))
    n = mask.sum()
    M = np.where(mask, values, 0.0)
    for step in range(max_steps):
        R = np.where(mask, A @ B - M, 0.0)
        if (R * R).sum() / n < stop:
            break
        E = (2.0 / n) * R
        A, B = A - lr * E @ B.T, B - lr * A.T @ E
    return A @ B, step
