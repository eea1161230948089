"""The connected pieces of the observed entries (union-find on the observed positions): where the
flow decouples (components.py computes each piece on its own; the full-width path in path.py
treats the carried direction piece by piece).
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _root(parent, v):
    """Root of v in a union-find forest (with path halving)."""
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v


@njit(cache=True)
def components(Ms, d1, d2):
    """The connected components of the observed entries: a graph with the rows and the columns as
    vertices and an edge per observed entry (``Ms != 0``), zero or not -- every observed entry couples
    its row of A and its column of B in the loss. (The observation graph G_M of the book leaves out the
    observed zeros; on its components the limit is decided, but the flow decouples on these.)

    Returns (a label per vertex, rows first, then columns: -1 for a row or column without
    observations; the number of components)."""
    parent = np.arange(d1 + d2)
    seen = np.zeros(d1 + d2, np.bool_)
    for i in range(d1):
        for j in range(d2):
            if Ms[i, j] != 0.0:
                seen[i] = True
                seen[d1 + j] = True
                a = _root(parent, i)
                b = _root(parent, d1 + j)
                if a != b:
                    parent[a] = b
    label = np.full(d1 + d2, -1, np.int64)
    index = np.full(d1 + d2, -1, np.int64)
    count = 0
    for v in range(d1 + d2):
        if seen[v]:
            r = _root(parent, v)
            if index[r] < 0:
                index[r] = count
                count += 1
            label[v] = index[r]
    return label, count
