"""Connectivity of the observed entries (Bai, Zhao & Zhang 2024, Definitions 1-3).

Observation matrix: :math:`P_{ij} = 1` if :math:`M_{ij}` is observed **and non-zero**, else 0.

Observation graph :math:`G_M`: the bipartite graph on row vertices :math:`r_1..r_{d_1}` and column
vertices :math:`c_1..c_{d_2}` with adjacency :math:`\\begin{bmatrix} 0 & P^\\top \\\\ P & 0 \\end{bmatrix}`,
i.e. an edge :math:`r_i - c_j` for every observed non-zero entry, with isolated vertices removed.

* connected: :math:`G_M` is connected;
* disconnected: it is not;
* disconnected with complete bipartite components: disconnected, and every component
  :math:`(I, J)` is complete bipartite, i.e. :math:`P_{ij} = 1` for all :math:`i \\in I, j \\in J`.

When every observation is zero the graph has no vertex; we class it as disconnected with
(vacuously) complete bipartite components, which matches what training does there: it learns 0,
the minimum nuclear norm completion.

Explained in: chapter 2 (Connectivity).
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from .completion import as_completion

__all__ = ["observation_matrix", "observation_graph", "connectivity", "Component", "Connectivity", "KINDS"]

CONNECTED = "connected"
COMPLETE_BIPARTITE = "disconnected-complete-bipartite"
DISCONNECTED = "disconnected"
#: the three classes of Definition 3, in the order the book lists them
KINDS = (CONNECTED, COMPLETE_BIPARTITE, DISCONNECTED)


def observation_matrix(problem) -> np.ndarray:
    """:math:`P`, 1 where the entry is observed and non-zero, 0 elsewhere (int array, (d1, d2)).

    Explained in: chapter 2 (Connectivity).
    """
    problem = as_completion(problem)
    return (problem.mask & (problem.values != 0)).astype(int)


def observation_graph(problem) -> nx.Graph:
    """The observation graph :math:`G_M` (Definition 1).

    Row vertex ``("r", i)`` and column vertex ``("c", j)`` (0-based) are joined when
    :math:`M_{ij}` is observed and non-zero; isolated vertices are removed. Vertices carry
    ``bipartite`` = 0 (rows) or 1 (columns); edges carry ``value`` = :math:`M_{ij}`.

    Explained in: chapter 2 (Connectivity).
    """
    problem = as_completion(problem)
    P = observation_matrix(problem)
    G = nx.Graph()
    for i, j in np.argwhere(P):
        G.add_node(("r", int(i)), bipartite=0)
        G.add_node(("c", int(j)), bipartite=1)
        G.add_edge(("r", int(i)), ("c", int(j)), value=float(problem.values[i, j]))
    return G


@dataclass(frozen=True)
class Component:
    """One connected component of :math:`G_M`: its row and column indices (0-based, sorted).

    Explained in: chapter 2 (Connectivity).
    """

    rows: tuple[int, ...]
    cols: tuple[int, ...]


@dataclass(frozen=True)
class Connectivity:
    """Result of :func:`connectivity`.

    Attributes
    ----------
    kind : str
        ``"connected"``, ``"disconnected-complete-bipartite"`` or ``"disconnected"``.
    components : tuple of Component
        The connected components of :math:`G_M`, largest first.
    graph : networkx.Graph
        :math:`G_M` itself.

    Explained in: chapter 2 (Connectivity).
    """

    kind: str
    components: tuple[Component, ...]
    graph: nx.Graph

    @property
    def is_connected(self) -> bool:
        return self.kind == CONNECTED


def connectivity(problem) -> Connectivity:
    """Classify the observation pattern (Definitions 2 and 3).

    Returns
    -------
    Connectivity
        ``.kind`` and ``.components`` (row and column indices of each component).

    Explained in: chapter 2 (Connectivity).
    """
    problem = as_completion(problem)
    G = observation_graph(problem)
    P = observation_matrix(problem)
    comps = []
    for nodes in nx.connected_components(G):
        rows = tuple(sorted(i for side, i in nodes if side == "r"))
        cols = tuple(sorted(j for side, j in nodes if side == "c"))
        comps.append(Component(rows, cols))
    comps.sort(key=lambda c: (-(len(c.rows) + len(c.cols)), c.rows, c.cols))
    if len(comps) == 1:
        kind = CONNECTED
    elif all(P[np.ix_(c.rows, c.cols)].all() for c in comps):
        kind = COMPLETE_BIPARTITE
    else:
        kind = DISCONNECTED
    return Connectivity(kind, tuple(comps), G)
