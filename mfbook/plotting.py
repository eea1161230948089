"""Figures used in more than one chapter, and the book's plot style.

Style (set by :func:`set_style`, called on ``import mfbook``): no titles baked into figures
(captions carry them), lowercase axis labels, line width 2, a colour-blind-safe cycle.

Explained in: the pipeline chapter; used everywhere.
"""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np

from .completion import as_completion
from .connectivity import connectivity

__all__ = ["set_style", "plot_matrix", "plot_graph", "plot_singular_values", "plot_loss", "keep_frame",
           "plot_phase_background", "plot_phase_highlight", "KIND_COLORS"]

KIND_COLORS = {
    "connected": "#0072B2",
    "disconnected-complete-bipartite": "#D55E00",
    "disconnected": "#009E73",
}
_CYCLE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def set_style() -> None:
    """Apply the book's matplotlib style.

    Explained in: chapter 0 (A first run).
    """
    mpl.rcParams.update({
        "lines.linewidth": 2,
        "axes.prop_cycle": mpl.cycler(color=_CYCLE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.figsize": (6.4, 3.6),
        "figure.dpi": 100,
        "font.size": 11,
        "axes.grid": True,
        "grid.alpha": 0.3,
    })


def plot_matrix(W, problem=None, ax=None, fmt="{:.3g}", cmap="RdBu_r", decorate=True):
    """Heat map of ``W`` with its entries written in; observed entries of ``problem`` in bold,
    the learned (unobserved) ones in italics, white on the dark cells, and a star for an entry that
    is not a number (a missing one, NaN). Sets the axes' limits to the matrix (also when
    autoscaling is off, as in the figure of a demo's ``setup``) and hides the spines, which the
    cells would cover anyway (and do cover in a demo's blitted frames). With ``decorate=False`` only
    the cells and their numbers are added (a demo's ``draw``, whose ``setup`` drew the decorations).
    """
    W = np.asarray(W, float)
    ax = ax or plt.gca()
    mask = as_completion(problem).mask if problem is not None else np.ones(W.shape, bool)
    finite = np.isfinite(W)
    lim = (np.abs(W[finite]).max() if finite.any() else 0.0) or 1.0
    ax.imshow(np.where(finite, W, 0.0), cmap=cmap, vmin=-lim, vmax=lim)
    for (i, j), x in np.ndenumerate(W):
        text = fmt.format(x) if np.isfinite(x) else "\u2605"         # a missing entry shows as a star
        dark = np.isfinite(x) and abs(x) > 0.6 * lim               # the colour map's ends are dark
        ax.text(j, i, text, ha="center", va="center", fontsize=10, color="white" if dark else "black",
                fontweight="bold" if mask[i, j] else "normal", fontstyle="normal" if mask[i, j] else "italic")
    if not decorate:
        return ax
    ax.set_xticks(range(W.shape[1]), [f"c{j + 1}" for j in range(W.shape[1])])
    ax.set_yticks(range(W.shape[0]), [f"r{i + 1}" for i in range(W.shape[0])])
    ax.set_xlim(-0.5, W.shape[1] - 0.5)
    ax.set_ylim(W.shape[0] - 0.5, -0.5)
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)
    return ax


def plot_graph(problem, ax=None):
    """Draw :math:`G_M`: rows on the left, columns on the right, one colour per component."""
    problem = as_completion(problem)
    ax = ax or plt.gca()
    conn = connectivity(problem)
    G = conn.graph
    d1, d2 = problem.shape
    pos = {("r", i): (0.0, -i) for i in range(d1)}
    pos.update({("c", j): (1.0, -j * (d1 - 1) / max(d2 - 1, 1)) for j in range(d2)})
    colors = {}
    for k, comp in enumerate(conn.components):
        for i in comp.rows:
            colors[("r", i)] = _CYCLE[k % len(_CYCLE)]
        for j in comp.cols:
            colors[("c", j)] = _CYCLE[k % len(_CYCLE)]
    H = nx.Graph()
    H.add_nodes_from(pos)
    H.add_edges_from(G.edges)
    node_colors = [colors.get(v, "#dddddd") for v in H.nodes]
    nx.draw_networkx(H, pos, ax=ax, node_color=node_colors, labels={v: f"{v[0]}{v[1] + 1}" for v in H.nodes},
                     font_color="white", font_size=9, node_size=500, width=2, edge_color="#555555")
    ax.set_axis_off()
    ax.text(0.5, 0.02, conn.kind, transform=ax.transAxes, ha="center", color=KIND_COLORS[conn.kind])
    return ax


def plot_singular_values(t, sv, ax=None, logy=True, label="W", decorate=True):
    """Singular values over (flow) time, one line each. With ``decorate=False`` only the lines are
    added (a demo's ``draw``; its ``setup`` sets the scale and the axis labels)."""
    ax = ax or plt.gca()
    for k in range(sv.shape[1]):
        ax.plot(t, np.maximum(sv[:, k], 1e-300) if logy else sv[:, k], label=f"$\\sigma_{k + 1}({label})$")
    if not decorate:
        return ax
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("time $t$")
    ax.set_ylabel("singular value")
    return ax


def plot_loss(t, loss, ax=None, **kw):
    """Training loss :math:`R_S` over (flow) time on a log scale."""
    ax = ax or plt.gca()
    ax.semilogy(t, np.maximum(loss, 1e-300), **kw)
    ax.set_xlabel("time $t$")
    ax.set_ylabel("loss $R_S$")
    return ax


def keep_frame(fig):
    """Remove what is plotted in every axes of ``fig`` (lines, patches, collections, images, texts,
    legends), keeping the axes with their limits, ticks, labels and aspect.

    A demo's ``setup`` can draw one example with the same functions as its ``draw`` and keep only
    the frame: the limits and decorations then are exactly those ``draw`` sets again (see
    :mod:`mfbook.widgets`). Returns ``fig``.

    Explained in: the pipeline chapter (interactive demos).
    """
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.patches, *ax.collections, *ax.images, *ax.texts, *ax.tables]:
            artist.remove()
        if ax.legend_ is not None:
            ax.legend_.remove()
        ax.containers.clear()
    return fig


def _phase_points(sweep):
    """Where :func:`mfbook.sweep.plot_phase_transition` puts each run: (x, y) in both panels."""
    top = 1.5 * float(np.nanmax(sweep.min_nuclear))
    shown_nuclear = np.minimum(np.where(np.isfinite(sweep.learned_nuclear), sweep.learned_nuclear, top), top)
    jitter = np.random.default_rng(0).uniform(-0.18, 0.18, (2, len(sweep)))
    return (sweep.min_nuclear, shown_nuclear), (sweep.min_rank + jitter[0], sweep.learned_rank + jitter[1])


def plot_phase_background(sweep, axes):
    """:func:`mfbook.sweep.plot_phase_transition` with every run faded and a legend in full colours:
    the fixed part of a demo that picks runs out with :func:`plot_phase_highlight`.

    Explained in: chapter 2 (Connectivity, the runs behind each point).
    """
    from matplotlib.lines import Line2D

    from .sweep import _KIND_LABELS, KINDS, _shade, plot_phase_transition

    plot_phase_transition(sweep, axes)
    for ax in axes[:2]:
        for points in ax.collections:
            points.set(alpha=0.25, sizes=[14], edgecolors="face")   # the faded style of plot_phase_transition
    n_max = max(int(sweep.n.max()), 1)
    handles = [Line2D([], [], ls="", marker="o", markersize=6, color=_shade(KIND_COLORS[kind], [n_max], n_max)[0],
                      label=_KIND_LABELS[kind]) for kind in KINDS if (sweep.kind == kind).any()]
    axes[0].legend(handles=handles, fontsize=8, loc="upper left")
    return axes


def plot_phase_highlight(sweep, axes, highlight):
    """The runs ``highlight`` (boolean mask) of a sweep drawn large with a black edge, at the places
    and in the colours of :func:`mfbook.sweep.plot_phase_transition`, on top of
    :func:`plot_phase_background` (or of that plot itself).

    Explained in: chapter 2 (Connectivity, the runs behind each point).
    """
    from .sweep import KINDS, _shade

    highlight = np.asarray(highlight, bool)
    n_max = max(int(sweep.n.max()), 1)
    panels = _phase_points(sweep)
    for kind in KINDS:
        sel = highlight & (sweep.kind == kind)
        if not sel.any():
            continue
        c = _shade(KIND_COLORS[kind], sweep.n[sel], n_max)
        for ax, (x, y) in zip(axes, panels):
            ax.scatter(x[sel], y[sel], c=c, s=40, edgecolors="k", linewidths=0.6, alpha=0.9)
    return axes
