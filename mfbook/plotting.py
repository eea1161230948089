"""Figures used in more than one chapter, and the book's plot style.

Style (set by :func:`set_style`, which each chapter calls in its first cell; ``import mfbook`` leaves
matplotlib's settings alone): no titles baked into figures
(captions carry them), lowercase axis labels, line width 2, a colour-blind-safe cycle.

Explained in: the pipeline chapter; used everywhere.
"""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from .completion import as_completion
from .connectivity import COMPLETE_BIPARTITE, CONNECTED, DISCONNECTED, KINDS, connectivity

__all__ = ["set_style", "plot_matrix", "plot_observed", "plot_observation_graph", "plot_singular_values",
           "plot_loss", "keep_frame", "plot_phase_transition", "plot_fraction", "plot_phase_background",
           "plot_phase_highlight", "KIND_COLORS", "KIND_LABELS"]

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

    Explained in: the pipeline chapter; used everywhere.
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


def plot_singular_values(t, sv, ax=None, logy=True, label="W", decorate=True):
    """Singular values over (flow) time, one line each. With ``decorate=False`` only the lines are
    added (a demo's ``draw``; its ``setup`` sets the scale and the axis labels).

    Explained in: chapter 3 (Hierarchical invariant manifolds).
    """
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
    """Training loss :math:`R_S` over (flow) time on a log scale.

    Explained in: chapter 4 (Training dynamics).
    """
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
    """Where :func:`plot_phase_transition` puts each run: (x, y) in both panels."""
    top = 1.5 * float(np.nanmax(sweep.min_nuclear))
    shown_nuclear = np.minimum(np.where(np.isfinite(sweep.learned_nuclear), sweep.learned_nuclear, top), top)
    jitter = np.random.default_rng(0).uniform(-0.18, 0.18, (2, len(sweep)))
    return (sweep.min_nuclear, shown_nuclear), (sweep.min_rank + jitter[0], sweep.learned_rank + jitter[1])


def plot_phase_background(sweep, axes):
    """:func:`plot_phase_transition` with every run faded and a legend in full colours:
    the fixed part of a demo that picks runs out with :func:`plot_phase_highlight`.

    Explained in: chapter 2 (Connectivity, the runs behind each point).
    """
    from matplotlib.lines import Line2D

    plot_phase_transition(sweep, axes)
    for ax in axes[:2]:
        for points in ax.collections:
            points.set(alpha=0.25, sizes=[14], edgecolors="face")   # the faded style of plot_phase_transition
    n_max = max(int(sweep.n.max()), 1)
    handles = [Line2D([], [], ls="", marker="o", markersize=6, color=_shade(KIND_COLORS[kind], [n_max], n_max)[0],
                      label=KIND_LABELS[kind]) for kind in KINDS if (sweep.kind == kind).any()]
    axes[0].legend(handles=handles, fontsize=8, loc="upper left")
    return axes


def plot_phase_highlight(sweep, axes, highlight):
    """The runs ``highlight`` (boolean mask) of a sweep drawn large with a black edge, at the places
    and in the colours of :func:`plot_phase_transition`, on top of
    :func:`plot_phase_background` (or of that plot itself).

    Explained in: chapter 2 (Connectivity, the runs behind each point).
    """
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


#: the connectivity classes in the words of the legends
KIND_LABELS = {CONNECTED: "connected", COMPLETE_BIPARTITE: "disconnected, complete bipartite components",
                DISCONNECTED: "other disconnected"}

def _shade(kind_color, n, n_max):
    """``kind_color`` darkened with the sample size: light for few samples, dark for many."""
    base = np.array(mpl.colors.to_rgb(kind_color))
    t = 0.25 + 0.75 * (np.asarray(n, float) / n_max)          # 0.25 .. 1
    light = 1 - t[:, None] * (1 - base)                         # blend with white
    return np.clip(light * (1.15 - 0.3 * t[:, None]), 0, 1)     # and darken the largest n a little

def plot_phase_transition(sweep, axes=None, highlight=None):
    """The paper's Fig. 1 view of a sweep: learned vs reference, one point per run.

    Left: nuclear norm of the learned matrix against the minimum nuclear norm. Right: learned rank
    against the minimum rank (jittered); nuclear norms beyond 1.5 times the largest minimum (and runs
    that did not converge) are drawn at the top edge. Colour = connectivity class, darker = more samples;
    ``highlight`` (boolean mask) draws those runs large with a black edge and fades the others.

    Explained in: chapter 2 (Connectivity, the phase transition).
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    n_max = max(int(sweep.n.max()), 1)
    top = 1.5 * float(np.nanmax(sweep.min_nuclear))
    shown_nuclear = np.minimum(np.where(np.isfinite(sweep.learned_nuclear), sweep.learned_nuclear, top), top)
    jitter = np.random.default_rng(0).uniform(-0.18, 0.18, (2, len(sweep)))
    fade = np.zeros(len(sweep), bool) if highlight is None else ~np.asarray(highlight, bool)
    for kind in KINDS:
        for faded in (True, False):
            sel = (sweep.kind == kind) & (fade == faded)
            if not sel.any():
                continue
            c = _shade(KIND_COLORS[kind], sweep.n[sel], n_max)
            style = dict(s=14, alpha=0.25) if faded else dict(s=40 if highlight is not None else 18,
                                                              edgecolors="k" if highlight is not None else "none",
                                                              linewidths=0.6, alpha=0.9)
            label = None if faded else KIND_LABELS[kind]
            axes[0].scatter(sweep.min_nuclear[sel], shown_nuclear[sel], c=c, label=label, **style)
            axes[1].scatter(sweep.min_rank[sel] + jitter[0, sel], sweep.learned_rank[sel] + jitter[1, sel], c=c,
                            **style)
    axes[0].plot([0, top], [0, top], color="0.5", lw=1, zorder=0)
    axes[0].set_xlim(-0.02 * top, top * 1.02)
    axes[0].set_ylim(-0.02 * top, top * 1.02)
    axes[0].set_xlabel("minimum nuclear norm")
    axes[0].set_ylabel("nuclear norm of learned $W$")
    d = sweep.truth.shape[1]
    axes[1].plot([-0.3, d + 0.3], [-0.3, d + 0.3], color="0.5", lw=1, zorder=0)
    axes[1].set_xticks(range(d + 1))
    axes[1].set_yticks(range(d + 1))
    axes[1].set_xlabel("minimum rank")
    axes[1].set_ylabel("rank of learned $W$")
    axes[0].legend(fontsize=8, loc="upper left")
    return axes

def plot_fraction(sweep, hits=None, ax=None, rank=None, by_kind: bool = True, **line_kw):
    """Fraction of runs with ``hits`` (default: reaching the minimum rank) against the sample size.

    One line per connectivity class (``by_kind``) or one line overall; ``rank`` restricts to one
    ground-truth rank. Marker size shows how many runs of that class had that sample size.

    Explained in: chapter 2 (Connectivity, the phase transition).
    """
    ax = ax or plt.gca()
    hits = sweep.reaches_min_rank if hits is None else np.asarray(hits, bool)
    where = {} if rank is None else {"rank": rank}
    groups = [(k, {"kind": k}) for k in KINDS] if by_kind else [(None, {})]
    for kind, extra in groups:
        frac = sweep.fraction(hits, by="n", **where, **extra)
        if not frac:
            continue
        ns = np.array(list(frac))
        f = np.array([v[0] for v in frac.values()])
        cnt = np.array([v[1] for v in frac.values()])
        kw = dict(color=KIND_COLORS[kind], label=KIND_LABELS[kind]) if kind else {}
        kw.update(line_kw)
        line, = ax.plot(ns, f, **kw)
        ax.scatter(ns, f, s=8 + 6 * cnt, color=line.get_color(), zorder=3)
    if rank is not None:
        d = sweep.truth.shape[1]
        ax.axvline(2 * rank * d - rank ** 2, color="0.5", ls=":", lw=1.5)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("number of observed entries $n$")
    ax.set_ylabel("fraction at minimum rank")
    return ax

def plot_observed(problem, ax=None, fmt="{:.3g}", frame: bool = True):
    """The incomplete matrix as a grid: observed non-zero entries shaded, observed zeros hatched
    (observed, yet not edges of :math:`G_M`), unknown entries marked ``?``. With ``frame=False`` only
    the cells are added, not the limits and axis styling (the ``draw`` of a demo whose ``setup``
    drew the frame, see :mod:`mfbook.widgets`).

    Explained in: chapter 2 (Connectivity).
    """
    from matplotlib.patches import Rectangle

    problem = as_completion(problem)
    ax = ax or plt.gca()
    d1, d2 = problem.shape
    for (i, j), x in np.ndenumerate(problem.values):
        seen = problem.mask[i, j]
        zero = seen and x == 0
        face = "#f7f7f7" if not seen else ("white" if zero else "#cfe3f3")
        ax.add_artist(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=face, edgecolor="0.6", lw=1,
                                hatch="///" if zero else None))
        ax.text(j, i, fmt.format(x) if seen else "?", ha="center", va="center", fontsize=11,
                fontweight="bold" if seen else "normal", color="k" if seen else "0.55")
    if not frame:
        return ax
    ax.set_xlim(-0.5, d2 - 0.5)
    ax.set_ylim(d1 - 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks(range(d2), [f"c{j + 1}" for j in range(d2)])
    ax.set_yticks(range(d1), [f"r{i + 1}" for i in range(d1)])
    ax.grid(False)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    return ax

def plot_observation_graph(problem, ax=None, frame: bool = True):
    """Draw :math:`G_M` (rows left, columns right, one colour per component) with its class written
    underneath. Observed zeros are drawn as dotted grey lines -- they are *not* edges -- and removed
    (isolated) vertices as faint outlines. With ``frame=False`` the limits are not set and the axes
    are not switched off (a demo's ``draw``, as in :func:`plot_observed`).

    Explained in: chapter 2 (Connectivity).
    """
    from matplotlib.collections import LineCollection

    problem = as_completion(problem)
    ax = ax or plt.gca()
    conn = connectivity(problem)
    d1, d2 = problem.shape
    h = max(d1, d2) - 1
    pos = {("r", i): (0.0, -i * h / max(d1 - 1, 1)) for i in range(d1)}
    pos.update({("c", j): (1.0, -j * h / max(d2 - 1, 1)) for j in range(d2)})
    color = {}
    for k, comp in enumerate(conn.components):
        color.update({("r", i): _CYCLE[k % len(_CYCLE)] for i in comp.rows})
        color.update({("c", j): _CYCLE[k % len(_CYCLE)] for j in comp.cols})
    zeros = np.argwhere(problem.mask & (problem.values == 0))
    if len(zeros):
        ax.add_collection(LineCollection([[pos[("r", int(i))], pos[("c", int(j))]] for i, j in zeros],
                                         linestyles=":", colors="0.6", linewidths=1.5, zorder=0), autolim=False)
    if conn.graph.number_of_edges():
        ax.add_collection(LineCollection([[pos[u], pos[v]] for u, v in conn.graph.edges], colors="#555555",
                                         linewidths=2, zorder=1), autolim=False)
    present = [v for v in pos if v in conn.graph]      # vertices of G_M; the others are removed
    absent = [v for v in pos if v not in conn.graph]
    xy = np.array([pos[v] for v in present + absent])
    ax.scatter(xy[:, 0], xy[:, 1], s=480, zorder=2, c=[color[v] for v in present] + ["white"] * len(absent),
               edgecolors=[color[v] for v in present] + ["0.75"] * len(absent))
    for v in pos:
        ax.text(*pos[v], f"{v[0]}{v[1] + 1}", ha="center", va="center", fontsize=9,
                color="white" if v in conn.graph else "0.6")
    ax.text(0.5, -h - 0.65, conn.kind, ha="center", va="center", color=KIND_COLORS[conn.kind], fontsize=10)
    if not frame:
        return ax
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylim(-h - 0.9, 0.4)
    ax.set_axis_off()
    return ax
