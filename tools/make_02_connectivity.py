"""Generate chapters/02_connectivity.ipynb (stored without outputs).

Run from the repository root:  .venv/bin/python tools/make_02_connectivity.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _nbgen import INSTALL, NB  # noqa: E402

nb = NB()
md, code = nb.md, nb.code


md(r"""
# Connectivity of the observed entries decides the bias

Small-initialization training of $W = AB$ sometimes returns the completion of lowest rank, and
sometimes the completion of smallest nuclear norm. Which one, for a given incomplete matrix? This
chapter shows that the answer is written in the *positions* of the observed entries: draw rows and
columns as vertices and observed entries as edges, and ask whether the graph is connected
{cite}`bai2024connectivity`. We define that graph, classify the three small examples of the paper,
see what training learns on each, and then reproduce the paper's phase transition on hundreds of
random $4\times 4$ problems -- including the runs that do *not* follow the rule, and why.
""")

md(r"""
**Learning goals.** After this chapter you can
- build the observation matrix $P$ and the observation graph $G_M$ of an incomplete matrix, and say
  why an observed zero is not an edge;
- classify a pattern as connected, disconnected with complete bipartite components, or otherwise
  disconnected;
- predict whether small-initialization training will find the minimum-rank or the
  minimum-nuclear-norm completion, and test the prediction on a sweep of random problems;
- recognise the hypotheses under which the prediction is a theorem, and check them on a failing run.

**Prerequisites.** The pipeline chapter (the `mfbook` tools) and chapter 1 (implicit
regularization, nuclear norm and rank). **Estimated time:** 60 minutes.
""")

code(INSTALL)

code(r"""
import numpy as np
import matplotlib.pyplot as plt
import mfbook
from mfbook import sweep
""")

md(r"""
## Intuition: which entries can talk to each other?

In $W = AB$ the entry $W_{ij} = a_i^\top b_j$ couples the $i$-th row $a_i$ of $A$ with the $j$-th
column $b_j$ of $B$. An observation $M_{ij}$ therefore puts a force on $a_i$ and on $b_j$ and on
nothing else. A second observation $M_{ik}$ in the same row also acts on $a_i$, so through $a_i$ the
values $M_{ij}$ and $M_{ik}$ influence each other, and so on along chains of observations. An
unknown entry $W_{pq}$ is tied to the data only through such chains from row $p$ to column $q$. If no
chain exists, the data say nothing that links $a_p$ and $b_q$, and what training puts there is
decided by the dynamics alone. The natural object is therefore a graph whose edges are the observed
entries.

At small initialization there is a second subtlety. Near $W = 0$ the gradient of the loss is
$\frac{2}{n}P_{S_x}(W - M) \approx -\frac{2}{n}P_{S_x}(M)$: an observed entry pushes only in
proportion to its value. An observed $0$ exerts no force at the start, exactly as if it were not
observed. That is why the graph below only counts observed entries that are **non-zero**.
""")

md(r"""
## Definitions

```{prf:definition} Observation matrix
:label: def-observation-matrix

For an incomplete matrix $M\in\mathbb R^{d_1\times d_2}$ with observed positions $S_x$, the
observation matrix $P\in\{0,1\}^{d_1\times d_2}$ has $P_{ij} = 1$ if $(i,j)\in S_x$ **and**
$M_{ij}\neq 0$, and $P_{ij} = 0$ otherwise {cite}`bai2024connectivity`.
```

```{prf:definition} Observation graph
:label: def-observation-graph

The observation graph $G_M$ is the bipartite graph on the row vertices $r_1,\dots,r_{d_1}$ and the
column vertices $c_1,\dots,c_{d_2}$ with adjacency matrix
$\begin{bmatrix} 0 & P^\top \\ P & 0\end{bmatrix}$ -- an edge $r_i - c_j$ for every observed non-zero
entry -- from which isolated vertices are removed {cite}`bai2024connectivity`.
```

```{prf:definition} Connectivity classes
:label: def-connectivity

$M$ is **connected** if $G_M$ is connected and **disconnected** otherwise; the connected components of
$M$ are those of $G_M$. $M$ is **disconnected with complete bipartite components** if it is
disconnected and every component, with row set $I$ and column set $J$, is a complete bipartite graph:
$P_{ij} = 1$ for all $i\in I$, $j\in J$ {cite}`bai2024connectivity`.
```

The three classes are exclusive. In `mfbook` they are the values `"connected"`,
`"disconnected-complete-bipartite"` and `"disconnected"` of `mfbook.connectivity(M).kind`.
""")

md(r"""
## Three examples from the paper

The paper's three $3\times 3$ examples differ by one or two observations:

$$
M_1 = \begin{bmatrix} 1 & 2 & \star \\ 3 & \star & \star \\ \star & \star & 5 \end{bmatrix},\quad
M_2 = \begin{bmatrix} 1 & 2 & \star \\ 3 & 4 & \star \\ \star & \star & 5 \end{bmatrix},\quad
M_3 = \begin{bmatrix} 1 & 2 & \star \\ 3 & 4 & \star \\ 6 & \star & 5 \end{bmatrix}.
$$

Observed entries are shaded, unknown ones marked `?`. In the graphs below each vertex is coloured by
its component and the class is written underneath.
""")

code(r"""
examples = {"M1": "1 2 *; 3 * *; * * 5", "M2": "1 2 *; 3 4 *; * * 5", "M3": "1 2 *; 3 4 *; 6 * 5"}
fig, axes = plt.subplots(2, 3, figsize=(9, 5.6))
for col, (name, text) in enumerate(examples.items()):
    M = mfbook.Completion.parse(text)
    sweep.plot_observed(M, ax=axes[0, col])
    axes[0, col].set_xlabel(name)
    sweep.plot_observation_graph(M, ax=axes[1, col])
fig.tight_layout()
kinds = {name: mfbook.connectivity(text) for name, text in examples.items()}
{name: (c.kind, [(c_.rows, c_.cols) for c_ in c.components]) for name, c in kinds.items()}
""")

code(r"""
# claim C12: M1 is disconnected, M2 disconnected with complete bipartite components, M3 connected
assert kinds["M1"].kind == "disconnected" and len(kinds["M1"].components) == 2
assert kinds["M2"].kind == "disconnected-complete-bipartite"
assert [(c.rows, c.cols) for c in kinds["M2"].components] == [((0, 1), (0, 1)), ((2,), (2,))]
assert kinds["M3"].kind == "connected" and len(kinds["M3"].components) == 1
""")

md(r"""
$M_1$ and $M_2$ both split into the block of rows 1-2 / columns 1-2 and the lone entry $5$; in $M_2$
the block is fully observed (a complete bipartite $K_{2,2}$), in $M_1$ it misses $M_{22}$. Observing
$M_{31} = 6$ in $M_3$ adds the edge $r_3 - c_1$ and joins everything into one component.
""")

md(r"""
## An observed zero is not an edge

Take $M = \begin{bmatrix} 0 & 1 \\ 2 & \star\end{bmatrix}$. Three of four entries are known, and if we
counted all three as edges the graph would be the path $c_2 - r_1 - c_1 - r_2$, connected. With
{prf:ref}`def-observation-matrix` the zero is dropped: $P = \begin{bmatrix} 0 & 1\\ 1 & 0\end{bmatrix}$, the
graph is two separate edges, and each is a complete bipartite component. Every completion
$\begin{bmatrix} 0 & 1 \\ 2 & x\end{bmatrix}$ has determinant $-2$, so every completion has rank 2 and
rank cannot decide; the nuclear norm is smallest at $x = 0$ (value 3). We also check the second half
of {prf:ref}`def-observation-graph`: a column with no observed non-zero entry leaves no vertex behind.
In the drawings the observed zero is hatched, and in the graph it appears only as a dotted line,
which is not an edge; the removed vertex $c_3$ is drawn as an empty circle.
""")

code(r"""
zero = mfbook.Completion.parse("0 1; 2 *")
fig, axes = plt.subplots(1, 4, figsize=(10, 2.6), gridspec_kw={"width_ratios": [1, 1, 1.4, 1.2]})
for k, example in enumerate([zero, "0 1 *; 2 * *"]):
    sweep.plot_observed(example, ax=axes[2 * k])
    sweep.plot_observation_graph(example, ax=axes[2 * k + 1])
fig.tight_layout()
print("P =", mfbook.observation_matrix(zero).tolist(), "| class:", mfbook.connectivity(zero).kind)
G3 = mfbook.observation_graph("0 1 *; 2 * *")          # column 3 is never observed
print("vertices of G_M for [[0,1,*],[2,*,*]]:", sorted(G3.nodes))
limit = mfbook.small_init_limit(zero)
flows = {a: mfbook.gradient_flow(zero, init_scale=a, seed=0).W[1, 1] for a in (1e-3, 1e-6, 1e-9)}
W_nuc = mfbook.min_nuclear_norm(zero)
print(f"alpha -> 0 limit: * = {limit.W[1, 1]:.2e} | min nuclear norm: * = {W_nuc[1, 1]:.2e}")
print("finite alpha:", {a: round(x, 5) for a, x in flows.items()})
""")

code(r"""
# claim C11: P keeps only observed NON-ZERO entries; isolated vertices are removed from G_M
assert mfbook.observation_matrix(zero).tolist() == [[0, 1], [1, 0]]
assert mfbook.connectivity(zero).kind == "disconnected-complete-bipartite"
assert set(G3.nodes) == {("r", 0), ("r", 1), ("c", 0), ("c", 1)} and G3.number_of_edges() == 2
# ... and training behaves as the graph says: the limit is the min-nuclear-norm fill 0, approached slowly
assert abs(limit.W[1, 1]) < 1e-6 and abs(W_nuc[1, 1]) < 1e-4
assert abs(mfbook.nuclear_norm(limit.W) - 3) < 1e-6
values = list(flows.values())
assert values[0] > 0.1 and values[0] > values[1] > values[2] > 0       # slow approach from above
""")

md(r"""
Even at $\alpha = 10^{-6}$ the learned entry is still about $0.03$: the observed zero is *not*
ignored forever -- once $W_{11}$ becomes non-zero it is pulled back -- but the pull is of second
order, so the limit is approached only like a power of $\alpha$. The graph describes the limit.
""")

md(r"""
## What training learns on $M_1$, $M_2$, $M_3$

The paper's two guarantees, stated for gradient flow $\dot\theta = -\nabla R_S(\theta)$ on
$\theta = (A, B)$ started at $\alpha\theta_0$ with $W_0 = A_0B_0$ of full rank, and its limit
$\widehat W = \lim_{\alpha\to 0} W_\infty(\alpha\theta_0)$. The sets $\Omega_k$ are the invariant manifolds
of rank-$k$ factorizations on which the dynamics move between saddles (chapter 4).

```{prf:theorem} Minimum rank
:label: thm-min-rank

Assume $W_t$ attains an optimum within each invariant manifold $\Omega_k$. If the limit $\widehat W$
exists and fits every observation, then $\widehat W \in \arg\min \{\operatorname{rank} W : W_{ij} = M_{ij},
(i,j)\in S_x\}$ {cite}`bai2024connectivity`.
```

```{prf:theorem} Minimum nuclear norm
:label: thm-min-nuclear

If $M$ is disconnected with complete bipartite components, and the limit $\widehat W$ exists and
fits every observation, then $\widehat W \in \arg\min\{\|W\|_* : W_{ij} = M_{ij}, (i,j)\in S_x\}$
{cite}`bai2024connectivity`.
```

The paper reports that the assumption of {prf:ref}`thm-min-rank` holds in its connected experiments,
and fails in disconnected ones, where training gets stuck at sub-optimal points of some $\Omega_k$.
So: connected $\Rightarrow$ lowest rank; disconnected $\Rightarrow$ not necessarily. We compute the
$\alpha\to0$ limit with `mfbook.small_init_limit` and compare it with both references.
""")

code(r"""
rows = {}
for name, text in examples.items():
    learned = mfbook.small_init_limit(text).W
    k, W_rank = mfbook.min_rank(text)
    rows[name] = dict(kind=kinds[name].kind, learned_rank=int(mfbook.numerical_rank(learned)),
                      learned_nuc=mfbook.nuclear_norm(learned), min_rank=k,
                      min_nuc=mfbook.nuclear_norm(mfbook.min_nuclear_norm(text)), W=learned)
for name, r in rows.items():
    print(f"{name} {r['kind']:33s} learned: rank {r['learned_rank']}, |W|_* = {r['learned_nuc']:7.4f}"
          f"   min rank {r['min_rank']}   min |W|_* = {r['min_nuc']:7.4f}")
""")

code(r"""
# claim C13: connected -> lowest rank; disconnected -> not necessarily lowest rank
m1, m2, m3 = rows["M1"], rows["M2"], rows["M3"]
assert m3["learned_rank"] == m3["min_rank"] == 2                    # connected: minimum rank ...
assert m3["learned_nuc"] > m3["min_nuc"] + 0.5                      # ... which is NOT min nuclear norm
assert abs(m2["learned_nuc"] - m2["min_nuc"]) < 1e-4 * m2["min_nuc"] # complete bipartite: min nuclear norm ...
assert m2["learned_rank"] == 3 > m2["min_rank"] == 2                # ... which is NOT min rank
assert m1["learned_rank"] == 2 > m1["min_rank"] == 1                # other disconnected: neither
assert m1["learned_nuc"] > m1["min_nuc"] + 1
""")

md(r"""
The three examples land in three different places. $M_3$ (connected) gets a rank-2 completion although
a completion with nuclear norm about one unit smaller exists. $M_2$ gets a rank-3 completion with nuclear norm
$\|\begin{bmatrix}1&2\\3&4\end{bmatrix}\|_* + 5$, the smallest possible (the zero fill attains it
too; the minimizer is not unique and training picks another one), while a rank-2 completion exists. $M_1$ gets neither: its two components are learned one after the other, the block becomes
the rank-1 matrix $\begin{bmatrix}1&2\\3&6\end{bmatrix}$ and the $5$ adds a second rank -- although one
rank-1 matrix fits all four numbers.

```{admonition} Interactive demo: toggle the observed entries
:class: tip
*Question first:* starting from $M_3$, which single observation can you remove so that training no
longer finds the lowest rank? Which one can you remove without changing anything? Choose a pattern
(`x` = observed, `.` = unknown) and the values it reads from; with a running kernel you can also
type any matrix in the text box (it overrides the menus when not empty).
```
""")

code(r"""
values = {"M3 values": "1 2 4; 3 4 2; 6 8 5", "with a zero": "0 2 4; 3 4 2; 6 8 5"}
patterns = {"M3": "xx. xx. x.x", "M2": "xx. xx. ..x", "M1": "xx. x.. ..x", "M3 without (2,2)": "xx. x.. x.x",
            "M3 without (1,1)": ".x. xx. x.x", "spanning path": "xx. .xx ..x", "diagonal": "x.. .x. ..x",
            "corners + centre": "x.x .x. x.x"}

def pattern_problem(pattern, value_set, custom=""):
    if custom.strip():
        return mfbook.Completion.parse(custom)
    V = mfbook.Completion.parse(values[value_set]).values
    mask = np.array([[ch == "x" for ch in row] for row in patterns[pattern].split()])
    return mfbook.Completion.from_arrays(V, mask)

def pattern_facts(problems):        # alpha -> 0 limit (seed 0), minimum rank, minimum nuclear norm; one shape
    learned = [r.W for r in mfbook.small_init_limit_batch(problems, seed=[0] * len(problems))]
    V, P = np.stack([q.values for q in problems]), np.stack([q.mask for q in problems])
    ranks = sweep.min_rank_batch(V, P, upper=[mfbook.numerical_rank(W) for W in learned])
    return list(zip(learned, ranks, sweep.min_nuclear_norm_batch(V, P)))

menu = [(pattern, value_set) for pattern in patterns for value_set in values]
menu_facts = dict(zip(menu, pattern_facts([pattern_problem(*key) for key in menu])))   # every menu choice, once

def setup_pattern():                     # the axes of a 3 x 3 example; draw adds its content
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), layout="constrained")
    M = pattern_problem("M3", "M3 values")
    sweep.plot_observed(M, ax=axes[0]); sweep.plot_observation_graph(M, ax=axes[1])
    mfbook.plotting.plot_matrix(np.zeros((3, 3)), ax=axes[2])
    axes[0].set_xlabel("observed"); axes[2].set_xlabel("\n")   # room for the two lines draw writes there
    return mfbook.plotting.keep_frame(fig)

def draw_pattern(fig, pattern, value_set, custom=""):
    M = pattern_problem(pattern, value_set, custom)
    learned, k, nuc = pattern_facts([M])[0] if custom.strip() else menu_facts[pattern, value_set]
    ax_obs, ax_graph, ax_W = fig.axes
    reframe = ax_obs.get_xlim() != (-0.5, M.shape[1] - 0.5) or ax_obs.get_ylim() != (M.shape[0] - 0.5, -0.5)
    sweep.plot_observed(M, ax=ax_obs, frame=reframe)             # (the frame of setup, unless a typed
    sweep.plot_observation_graph(M, ax=ax_graph, frame=reframe)  # matrix has another shape)
    mfbook.plotting.plot_matrix(np.round(learned, 4) + 0.0, M, ax=ax_W, decorate=reframe)
    ax_W.annotate(f"learned (α→0): rank {mfbook.numerical_rank(learned)}, "   # plain text, not mathtext:
                  f"‖W‖* = {mfbook.nuclear_norm(learned):.3f}\nmin rank {k}, "     # a new formula per frame
                  f"min ‖W‖* = {nuc:.3f}",                                         # costs ~15 ms here
                  (0.5, 1), xycoords=ax_W.xaxis.label, ha="center", va="top")     # under the axes, as an x label

mfbook.widgets.interact(draw_pattern, setup=setup_pattern, pattern=list(patterns), value_set=list(values),
                        custom=mfbook.widgets.Text("", description="matrix"))
""")

md(r"""
## The phase transition on random $4\times 4$ problems

Three examples are anecdotes. The paper's Fig. 1 {cite}`bai2024connectivity` asks the question
statistically. Take a random $4\times 4$ ground truth of rank $r$ ($UV^\top$ with Gaussian
$U, V\in\mathbb R^{4\times r}$), observe $n$ random entries, train, and compare with the references.
A rank-$r$ matrix of size $d\times d$ has $2rd - r^2$ degrees of freedom, so about $n \approx 2rd-r^2$
observations -- 7, 12 and 15 for $r = 1, 2, 3$ -- are the fewest that can pin it down. Independently of
$r$, a random pattern of $n$ positions is more and more likely to be connected as $n$ grows: for a
$4\times4$ matrix this chance rises steeply between about 5 and 9 observations (see the first exercise),
right around the threshold for $r = 1$.

`mfbook.sweep.phase_transition` runs every rank $r\in\{1,2,3\}$, every $n$ from 1 to 16 and several
random position sets per $n$ (10 as in the paper when the book is built, 3 when the notebook runs as a
test), all runs advancing together as one batch of $4\times 4$ problems. The theorems speak of the
limit $\alpha\to0$, so the main sweep computes that limit directly (`trainer="limit"`, i.e.
`mfbook.small_init_limit_batch`). On the same problems we also train with the authors' recipe --
plain gradient descent, mean squared loss, step 0.1 -- at two small scales, $\alpha = 10^{-8}$ and
$10^{-15}$, to see how much of the picture survives at a finite initialization.
""")

code(r"""
problems = sweep.sample_problems(ranks=(1, 2, 3), sizes=range(1, 17), seed=0)
S = sweep.phase_transition(problems=problems, trainer="limit", seed=0)           # alpha -> 0
runs = {a: sweep.phase_transition(problems=problems, init_scale=a, seed=0, references=S) for a in (1e-8, 1e-15)}
print(f"{len(S)} runs;", {k: int(S.select(kind=k).sum()) for k in sweep.KINDS})
print("seconds:", {k: round(v, 2) for k, v in S.info.items() if k.startswith("seconds")},
      "| gradient descent:", {a: round(R.info["seconds_train"], 2) for a, R in runs.items()})
""")

md(r"""
Each point below is one run in the $\alpha\to0$ limit. On the left, the nuclear norm of the learned
matrix against the smallest nuclear norm of any completion; on the right, the learned rank against
the smallest rank (points jittered). Colour is the class of the pattern, darker means more
observations. Points on the grey diagonal reach the reference; the few with a very large nuclear
norm are drawn at the top edge.
""")

code(r"""
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
sweep.plot_phase_transition(S, axes)
fig.tight_layout()
""")

md(r"""
Orange points (complete bipartite components) lie on the diagonal of the left panel and above the
diagonal of the right one: minimum nuclear norm, not minimum rank. Blue points (connected) do the
opposite: most sit on the diagonal of the right panel, many above the diagonal of the left one. The
summary below counts, for each $n$, the fraction of runs that reach the minimum rank (solid: the
limit; dashed: gradient descent at $\alpha = 10^{-8}$); the dotted line marks $2rd - r^2$.
""")

code(r"""
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
for ax, r in zip(axes, (1, 2, 3)):
    sweep.plot_fraction(S, ax=ax, rank=r)
    sweep.plot_fraction(runs[1e-8], ax=ax, rank=r, ls="--", lw=1.2)
    ax.text(0.98, 0.05, f"rank {r}", transform=ax.transAxes, ha="right")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles[:3], labels[:3], loc="lower center", ncol=3, fontsize=9, frameon=False)
fig.tight_layout(rect=(0, 0.08, 1, 1))
""")

code(r"""
every = {"limit": S, **runs}
frac = {(a, k): float(R.reaches_min_rank[R.select(kind=k)].mean()) for a, R in every.items() for k in sweep.KINDS}
nuc = {(a, k): float(R.reaches_min_nuclear()[R.select(kind=k)].mean()) for a, R in every.items() for k in sweep.KINDS}
for a in every:
    print(f"{str(a):6s} at min rank        ", {k: round(frac[a, k], 3) for k in sweep.KINDS})
    print(f"{'':6s} at min nuclear norm", {k: round(nuc[a, k], 3) for k in sweep.KINDS})
""")

code(r"""
# claim C14: the phase transition -- connected runs reach the lowest rank, complete-bipartite runs the
# minimum nuclear norm, other disconnected runs (almost) never the lowest rank
conn, cb, dis = sweep.KINDS
assert S.fits.all() or S.fits[S.select(kind=conn)].mean() > 0.97          # the limit fits the data
assert S.reaches_min_nuclear(rtol=1e-6)[S.select(kind=cb)].all()           # Theorem 4: every single one
assert frac["limit", conn] >= 0.8 and frac["limit", dis] <= 0.2 and frac["limit", cb] <= 0.2
assert nuc["limit", conn] <= 0.6                                            # the two biases differ
for a, R in runs.items():                                                   # finite init: same picture, blurred
    assert R.reaches_min_nuclear(rtol=1e-4)[R.select(kind=cb)].all()
    assert frac[a, conn] >= 0.75 and frac[a, conn] > frac[a, dis] + 0.5
assert frac[1e-15, conn] >= frac[1e-8, conn]                                # smaller init, closer to the limit
""")

md(r"""
The transition is sharp in the class, not in $n$: whatever the sample size, a connected pattern
almost always gives the lowest rank, a pattern with complete bipartite components always gives the
minimum nuclear norm, and the sample size matters because it decides how likely a random pattern is
to be connected. "Low nuclear norm turns into low rank" as $n$ grows and the patterns connect.

## The connected runs that miss

Not every connected run reaches the lowest rank, not even in the limit. Since
{prf:ref}`thm-min-rank` has hypotheses, this is no contradiction by itself -- but we should check.
For every connected run whose limit misses the minimum rank, `sweep.theorem3_check` tests the
hypotheses on the computed limit path: does the limit fit the data, does the path visit every rank on
its way, and is each plateau the best fit of its rank (computed independently by alternating least
squares)?
""")

code(r"""
missed = np.flatnonzero(S.select(kind=conn) & ~S.reaches_min_rank)
checks = sweep.theorem3_check(S, missed)
verdicts = {}
for c in checks:
    verdicts.setdefault(c["verdict"].replace("1", "k").replace("2", "k").replace("3", "k"), []).append(c["run"])
print(f"{len(missed)} of {int(S.select(kind=conn).sum())} connected runs miss the minimum rank in the limit")
for v, who in verdicts.items():
    print(f"  {v:34s} {len(who):3d}   e.g. run {who[0]}")
""")

code(r"""
# claim C13 (connected -> lowest rank, as a theorem): no missed connected run satisfies all hypotheses
# of Theorem 3 -- each one violates the assumption or another hypothesis on its limit path
assert all(c["verdict"] != "unexplained" for c in checks)
# every skip comes from a path the solver repeated at full width (see below): none from the narrow one
assert all(c["method"] in ("full width", "full width carrying") for c in checks if c["verdict"].startswith("skips"))
""")

md(r"""
Let us look at one run of each kind. For a run that violates the assumption, the list of ranks visited
by the limit path jumps (for example from rank 0 straight to rank 2 or 3: the path never rests in
$\Omega_1$), or a plateau sits above the best fit of its rank (the path stalls at a rank-$k$ point that
is not the optimum within $\Omega_k$). The loss at each plateau is printed above the best fit of the
same rank.
""")

code(r"""
shown = {}
for c in checks:
    shown.setdefault(c["verdict"].split(" rank")[0], c)
for v, c in shown.items():
    r = c["run"]
    print(f"run {r} (rank-{S.rank[r]} truth, n = {S.n[r]}): {c['verdict']} (solver status: {c['status']})")
    print(f"   ranks on the limit path {c['ranks']}, min rank {S.min_rank[r]}")
    print("   plateau losses          ", " ".join(f"{x:9.2e}" for x in c["plateaus"]))
    print("   best fits of those ranks", " ".join(f"{x:9.2e}" for x in c["best"]))
""")

md(r"""
How to read the verdicts:

- *skips rank $k$* -- the path never rests at an optimum inside $\Omega_k$, so the assumption of
  {prf:ref}`thm-min-rank` fails. On these runs the rank-$k$ stage crawls: its loss valley is so flat
  that the flow has not settled after thousands of integrator steps, and meanwhile it leaves through
  further inner directions and arrives at a higher rank. Those directions are seeded by rounding
  errors, at about $10^{-16}$ of the factors, and the solver keeps them (it repeats a path whose stage
  does not settle with all $d$ inner directions: its `method` is `"full width"`, or
  `"full width carrying"` if a degenerate escape follows), as floating-point training does at any $\alpha$. In exact arithmetic
  those directions start at a size that vanishes with $\alpha$, so the $\alpha \to 0$ limit would
  finish the rank-$k$ stage first, wherever it leads; the solver does not follow a stage that slow.
- *stalls above best rank-$k$ fit*, *limit does not fit*, *no finite limit* -- the path rests at, or
  crawls along, a rank-$k$ point whose loss is above the best rank-$k$ fit, or the factors grow without
  bound. Again a hypothesis of the theorem is not met. On such runs the rank-$k$ stage is extremely
  slow (the loss valley is almost flat), so a finite computation cannot settle what happens after it.

None of the misses is *unexplained*: the sweep contains no counterexample to {prf:ref}`thm-min-rank`,
but it shows that its assumption is not automatic for connected patterns.

Is the limit solver right about these runs? An independent check is plain gradient descent from an
absurdly small start, $\alpha = 10^{-60}$ (harmless in floating point: the escape simply takes about
four times as many steps as at $10^{-15}$).
""")

code(r"""
W60, loss60 = sweep.train_batch(S.truth[missed], S.mask[missed], init_scale=1e-60, max_steps=400_000, seed=1)
rank60 = mfbook.numerical_rank(W60)
agree = rank60 == S.learned_rank[missed]
print("rank in the limit      ", S.learned_rank[missed].tolist())
print("rank by GD at 1e-60    ", rank60.tolist())
print("minimum rank           ", S.min_rank[missed].tolist())
print(f"agreement: {agree.sum()} of {agree.size}")
""")

code(r"""
# claim C13: most of these misses are real features of small-init training, not artefacts of the limit solver
assert agree.mean() >= 0.6 and (rank60 > S.min_rank[missed]).mean() >= 0.6
""")

md(r"""
On most of the missed runs gradient descent from $\alpha = 10^{-60}$ ends at the same rank as the
computed limit, above the minimum: connected patterns whose small-initialization limit is not the
lowest-rank completion exist, and they are exactly the runs on which the assumption of
{prf:ref}`thm-min-rank` fails. Where the two computations disagree, the path is numerically delicate
(two escape rates nearly equal, or a stage that crawls), and the run is listed above with its verdict.

## Finite initialization

At a finite $\alpha$ more connected runs miss than in the limit, and more at $\alpha = 10^{-8}$ than at
$10^{-15}$. One mechanism is simple. At $W = 0$ the directions escape at rates proportional to the
singular values $\sigma_1 > \sigma_2 > \dots$ of the observed data $P_{S_x}(M)$. By the time the top
direction has grown from $\alpha$ to order one, the second has grown to about
$\alpha^{1-\sigma_2/\sigma_1}$. If $\sigma_2/\sigma_1$ is close to one, that is not small at all, and the
extra direction is frozen into the final interpolant as a small extra singular value. It vanishes as
$\alpha\to0$, but slowly.
""")

md(r"""
To test this hypothesis, for every connected run whose limit does reach the minimum rank (so that any
miss is a finite-$\alpha$ effect) we plot the first extra singular
value of the learned matrix, $\sigma_{k+1}(W)/\sigma_1(W)$ with $k$ the minimum rank, against the
ratio $\sigma_2/\sigma_1$ of the observed data. The hypothesis predicts that misses (large extra
singular value) gather at ratios close to one, and that the extra singular value shrinks with
$\alpha$.
""")

code(r"""
gap = sweep.first_residual_gap(S.truth, S.mask)
is_conn = S.select(kind=conn) & S.reaches_min_rank        # connected runs whose LIMIT has the minimum rank
fig, ax = plt.subplots(figsize=(6, 3.6))
for a, R in runs.items():
    s = np.linalg.svd(np.nan_to_num(R.W), compute_uv=False)
    extra = s[np.arange(len(R)), np.minimum(R.min_rank, 3)] / s[:, 0]
    ax.scatter(gap[is_conn], np.maximum(extra[is_conn], 1e-17), s=12, label=f"$\\alpha$ = {a:.0e}")
ax.set_yscale("log")
ax.axhline(1e-6, color="0.5", ls=":", lw=1.5)
ax.set_xlabel("$\\sigma_2/\\sigma_1$ of the observed entries")
ax.set_ylabel("extra singular value of $W$")
ax.legend(fontsize=8)
med = {a: (np.median(gap[is_conn & R.reaches_min_rank & R.fits]), np.median(gap[is_conn & ~R.reaches_min_rank]))
       for a, R in runs.items()}
print("median sigma_2/sigma_1: (runs at min rank, runs above it)", {a: np.round(m, 3) for a, m in med.items()})
""")

code(r"""
# claim C14 (finite init): finite-alpha misses concentrate where the data have nearly equal top singular values
for a in runs:
    assert med[a][1] > med[a][0] + 0.05
assert (~runs[1e-15].reaches_min_rank[is_conn]).sum() <= (~runs[1e-8].reaches_min_rank[is_conn]).sum()
""")

md(r"""
The dotted line is the rank threshold ($10^{-6}$ of the top singular value): points above it count as
an extra rank. Runs well inside the cloud ($\sigma_2/\sigma_1$ small) end with extra singular values at the
level of rounding; the misses sit mostly at larger ratios, and move down when $\alpha$ shrinks from
$10^{-8}$ to $10^{-15}$. Some misses stay put between the two scales -- those are the runs whose limit
path itself skips a rank, where the assumption of {prf:ref}`thm-min-rank` fails.

```{admonition} Interactive demo: explore the sweep
:class: tip
*Question first:* for a rank-2 ground truth, from which $n$ on do you expect every pattern to be
connected? Pick the ground-truth rank and the sample size; the runs with those settings are drawn
large, with their observed positions below (coloured by class, an outline marks runs that miss the
minimum rank).
```
""")

code(r"""
def setup_runs():
    fig = plt.figure(figsize=(8.5, 4.5), layout="constrained")
    grid = fig.add_gridspec(2, 10, height_ratios=[3, 1])
    axes = [fig.add_subplot(grid[0, :5]), fig.add_subplot(grid[0, 5:])]
    mfbook.plotting.plot_phase_background(S, axes)          # every run, faded; draw marks the chosen ones
    for t in range(10):                                     # room for ten of the chosen patterns
        ax = fig.add_subplot(grid[1, t])
        ax.set_xlim(-0.5, 3.5); ax.set_ylim(3.5, -0.5); ax.set_aspect("equal")
        ax.set_xticks([]); ax.set_yticks([]); ax.grid(False); ax.spines[:].set_visible(False)
        ax.set_xlabel(" ", fontsize=8)
    return fig

def draw_runs(fig, rank, n):
    sel = S.select(rank=rank, n=n)
    mfbook.plotting.plot_phase_highlight(S, fig.axes[:2], sel)
    for ax, run in zip(fig.axes[2:], np.flatnonzero(sel)):
        color = mfbook.plotting.KIND_COLORS[S.kind[run]]
        ax.imshow(S.mask[run], cmap=plt.matplotlib.colors.ListedColormap(["#f2f2f2", color]), vmin=0, vmax=1)
        miss = not S.reaches_min_rank[run]                  # a thick frame: misses the minimum rank
        ax.add_patch(plt.Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, ec="k", lw=3 if miss else 0.5,
                                   clip_on=False))
        ax.annotate(f"rank {S.learned_rank[run]}/{S.min_rank[run]}", (0.5, 1), xycoords=ax.xaxis.label,
                    ha="center", va="top", fontsize=8)

mfbook.widgets.interact(draw_runs, setup=setup_runs, rank=[1, 2, 3], n=list(range(1, 17)), defaults={"rank": 2, "n": 12})
""")

md(r"""
Under each pattern, "rank $a/b$" is the learned rank $a$ and the minimum rank $b$.

## Exercises

```{exercise} How few observations can connect a pattern?
:label: ex-connect-min

(a) Show that a $d_1\times d_2$ pattern whose graph $G_M$ is connected and touches every row and
column has at least $d_1 + d_2 - 1$ observed non-zero entries, and that this many can suffice.
(b) Computational: draw 1000 random sets of $n$ positions in a $4\times 4$ matrix for each $n$ (use
`sweep.sample_problems` with a large `repeats`, or your own generator) and estimate the probability
that the pattern is connected. From which $n$ on is it above one half?
```

```{solution} ex-connect-min
:class: dropdown

(a) $G_M$ has $d_1 + d_2$ vertices when every row and column is touched, and a connected graph on $V$
vertices has at least $V - 1$ edges (a spanning tree). A tree is enough: for example observe the first
row and the first column, $d_2 + d_1 - 1$ entries ("L shape"), or a staircase path such as the
"spanning path" pattern of the first demo. For $d = 4$ that is 7 entries -- the same number as
$2rd - r^2$ for $r = 1$, which is no coincidence: a rank-one matrix is fixed by exactly such a tree
of observations (up to the scaling $a_i \to c a_i$, $b_j\to b_j/c$).

(b) A possible solution:

    rank, n, truth, mask = sweep.sample_problems(ranks=(1,), repeats=1000, seed=1)
    connected = sweep.classify_batch(truth, mask) == "connected"
    for size in range(1, 17):
        print(size, connected[n == size].mean())

The estimate is 1 at $n = 1$ (one edge is a connected graph), drops to about one third at $n = 3$ or
4, passes one half at $n = 6$ and is essentially 1 from $n = 10$ on. For $n < 7$ a pattern can be
connected only by leaving whole rows or columns out, which is allowed because isolated vertices are
removed from $G_M$.
```

```{exercise} A disconnected pattern whose limit is not the minimum rank
:label: ex-disconnected-not-min-rank

Build a $3\times3$ incomplete matrix that is disconnected, has a rank-one completion, and whose
small-initialization limit has rank two. Check your example with `mfbook.connectivity`,
`mfbook.min_rank` and `mfbook.small_init_limit`. Then add one observation that makes it connected
and check again.
```

```{solution} ex-disconnected-not-min-rank
:class: dropdown

The book's running example works: $\begin{bmatrix}1&\star&3\\\star&5&\star\\3&\star&9\end{bmatrix}$ has two
components (rows/columns 1, 3 and the entry 5), both complete bipartite; the rank-one completion sets
$W_{12}W_{21} = 5$ with $W_{12}:W_{21}$ matching the first block, but the limit keeps the components
apart and has rank 2 and nuclear norm 15 (the minimum nuclear norm, as {prf:ref}`thm-min-nuclear`
predicts). $M_1$ above is another answer. Observing in addition $M_{12} = 1$, which agrees with the
rank-one completion $(1, 5, 3)^\top(1, 1, 3)$, links row 1 to column 2 and makes the pattern connected;
the limit then is that rank-one matrix, with $W_{21} = 5$.
```

```{exercise} Complete bipartite components and the nuclear norm
:label: ex-block-nuclear

Let $M$ be disconnected with complete bipartite components whose observed blocks are $M^{(1)},\dots,
M^{(m)}$. Show that $\min\|W\|_* = \sum_c \|M^{(c)}\|_*$ and that filling every unknown entry with 0
attains it. Verify the formula on the complete-bipartite runs of the sweep:
`S.min_nuclear` against the sum of the blocks' nuclear norms.
```

```{solution} ex-block-nuclear
:class: dropdown

Permute rows and columns so that the blocks sit on the diagonal. The "pinching" inequality says that
the nuclear norm of a matrix is at least that of its block-diagonal part, $\|W\|_* \ge \sum_c
\|W^{(c)}\|_*$ (the nuclear norm is the dual of the operator norm, and a block-diagonal matrix of
operator-norm-one blocks has operator norm one). The diagonal blocks are the observed $M^{(c)}$, so
every completion has $\|W\|_* \ge \sum_c\|M^{(c)}\|_*$, with equality for the zero fill. In code:

    for run in np.flatnonzero(S.select(kind="disconnected-complete-bipartite")):
        comps = mfbook.connectivity(mfbook.Completion.from_arrays(S.truth[run], S.mask[run])).components
        total = sum(mfbook.nuclear_norm(S.truth[run][np.ix_(c.rows, c.cols)]) for c in comps)
        print(run, round(total, 6), round(S.min_nuclear[run], 6))
```

## Summary

- Only observed **non-zero** entries are edges of the observation graph $G_M$; an observed zero exerts
  no force at small initialization ({prf:ref}`def-observation-matrix`).
- Connected patterns lead small-initialization training to the **lowest-rank** completion; patterns
  with complete bipartite components to the **minimum nuclear norm**; other disconnected patterns to
  neither in general ($M_1$, $M_2$, $M_3$).
- On random $4\times4$ problems the class, not the sample size, decides the outcome; the sample size
  matters through the chance that the pattern is connected.
- The few connected runs that miss the lowest rank are either finite-$\alpha$ effects (near-equal top
  singular values of the data) that shrink with $\alpha$, or runs whose $\alpha\to0$ path violates the
  assumption of {prf:ref}`thm-min-rank`; none contradicts the theorem.

## References

The definitions, theorems, examples and the sweep follow {cite}`bai2024connectivity`; the
nuclear-norm reference is the convex relaxation of rank studied in {cite}`candes2009exact`.
""")

nb.write(Path(__file__).resolve().parents[1] / "chapters" / "02_connectivity.ipynb")
