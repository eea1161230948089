"""Generate chapters/03_hiim.ipynb (stored without outputs).

Run from the repository root:  .venv/bin/python tools/make_03_hiim.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _nbgen import INSTALL, NB  # noqa: E402

nb = NB()
md, code = nb.md, nb.code


md(r"""
# Hierarchical intrinsic invariant manifolds

Train $W = AB$ from a tiny initialization and look at the factors instead of the product: the row
space of $A$ and the column space of $B$ turn out to be *the same* subspace of the hidden space, of
dimension equal to the rank of $W$, and that subspace grows one dimension at a time. This chapter
explains why. The reason is a family of sets of parameters, $\Omega_0 \subset \Omega_1 \subset
\Omega_2 \subset \cdots$, that gradient flow can never leave, whatever the data
{cite}`bai2024connectivity`. When the observation graph is disconnected there are even smaller
sets that cannot be left, and they are where training gets stuck on the way.
""")

md(r"""
**Learning goals.** After this chapter you can
- check numerically that $\mathrm{rank}(A) = \mathrm{rank}(B^\top) = \mathrm{rank}(W_{aug})$ during
  small-initialization training, and explain why this means $\mathrm{row}(A) = \mathrm{col}(B)$;
- state Proposition 1 (the manifolds $\Omega_k$: invariant, data independent, nested) and prove the
  invariance in three lines;
- show that for a disconnected pattern the dynamics split into one system per connected component;
- state Proposition 2 (sub-$\Omega_k$ manifolds) and explain why they cost expressiveness.

**Prerequisites.** Chapter 1 (the model $W = AB$, gradient flow, rank) and chapter 2 (the
observation graph $G_M$ and its components). **Estimated time:** 45 minutes.
""")

code(INSTALL)

code(r"""
import numpy as np
import matplotlib.pyplot as plt
import mfbook
from mfbook import manifolds as mf

FOUR = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"   # connected, 4 x 4
THREE = "1 * 3; * 5 *; 3 * 9"                                         # disconnected, 3 x 3
""")

md(r"""
## Intuition: the hidden space and who lives in it

Write $a_i^\top$ for the $i$-th row of $A$ and $b_j$ for the $j$-th column of $B$; both are vectors of
the hidden space $\mathbb R^d$, and $W_{ij} = a_i^\top b_j$. With the residual matrix
$E = \frac{2}{n} P_{S_x}(AB - M)$ (zero off the observed entries), gradient flow reads

$$
\dot A = -E B^\top, \qquad \dot B = -A^\top E,
\qquad\text{that is}\qquad
\dot a_i = -\sum_{j} E_{ij}\, b_j, \qquad \dot b_j = -\sum_i E_{ij}\, a_i .
$$ (hiim-flow)

Every velocity of a row $a_i$ is a combination of columns $b_j$, and every velocity of a column $b_j$
is a combination of rows $a_i$. Nothing in {eq}`hiim-flow` can create a hidden direction that no
$a_i$ and no $b_j$ already has. So if all the $a_i$ and $b_j$ start inside a subspace
$V \subseteq \mathbb R^d$, they stay inside it. At small initialization everything starts near $0$,
and training inflates the factors one direction at a time: the subspace they occupy is what we will
track.

The augmented matrix $W_{aug} = \begin{bmatrix} A \\ B^\top \end{bmatrix}$ stacks all the $a_i$ and
$b_j$: its row space is $\mathrm{row}(A) + \mathrm{col}(B)$. Hence
$\mathrm{rank}(A) = \mathrm{rank}(B^\top) = \mathrm{rank}(W_{aug})$ holds exactly when
$\mathrm{row}(A) = \mathrm{col}(B)$ (two subspaces of equal dimension whose sum is no larger are equal).
""")

md(r"""
## Observation: the ranks agree during training

We train on the connected $4\times 4$ example of the paper from $\alpha = 10^{-8}$ by gradient flow and
count, at every recorded time, the singular values above $10^{-4}$ of the largest one, for $W$, $A$,
$B$ and $W_{aug}$.
""")

code(r"""
run4 = mfbook.gradient_flow(FOUR, init_scale=1e-8, t_max=1e4, seed=0)
count = lambda sv: np.sum(sv > 1e-4 * sv[:, :1], axis=1)
rank_A, rank_B, rank_aug, rank_W = (count(s) for s in (run4.sv_A, run4.sv_B, run4.sv_aug, run4.sv_W))
fig, axes = plt.subplots(1, 4, figsize=(13, 3), sharey=True)
for ax, sv, name in zip(axes, (run4.sv_W, run4.sv_A, run4.sv_B, run4.sv_aug), ("W", "A", "B", "W_{aug}")):
    mfbook.plotting.plot_singular_values(run4.t, sv, ax=ax, label=name)
    ax.set_xscale("symlog", linthresh=1.0)
axes[0].legend(fontsize=7);
""")

md(r"""
The four panels step up together: one singular value of $W$, $A$, $B$ and $W_{aug}$ leaves the
$10^{-8}$ floor at the same moment, and $W_{aug}$ never has more large singular values than $A$.
The counts can disagree only for an instant, while a singular value crosses the threshold. A sharper
test uses the recorded limit path of `mfbook.small_init_limit` (chapter 4), which stores $A$ and $B$
on each transit between plateaus: there we compute the principal angles between $\mathrm{row}(A)$
and $\mathrm{col}(B)$ directly.
""")

code(r"""
limit4 = mfbook.small_init_limit(FOUR, record=True)
angles = []
for phase in limit4.phases:
    for A, B in zip(phase["A"], phase["B"]):
        rA, cB = mf.subspace_basis(A, 1e-6, "row"), mf.subspace_basis(B, 1e-6, "col")
        assert rA.shape == cB.shape
        angles.append(mf.principal_angles(rA, cB).max())
agree = (rank_A == rank_B) & (rank_B == rank_aug)
print(f"records where the three ranks agree: {agree.mean():.1%};  largest angle on the limit path: {max(angles):.1e} rad")
""")

code(r"""
# claim C18
assert agree.mean() > 0.95                       # the counts agree except while a value crosses 1e-4
on_plateau = np.abs(run4.loss[:, None] / limit4.plateaus[None, 1:3] - 1).min(1) < 1e-3
assert on_plateau.sum() > 20 and np.all(agree[on_plateau])   # and always on the plateaus
assert max(angles) < 1e-6                       # row(A) = col(B) on every recorded point of the path
assert set(rank_aug[agree]) == {1, 2, 3, 4}     # and that common dimension climbs step by step
""")

md(r"""
The angles are at the level of rounding ($10^{-8}$ rad is the resolution of `arccos` near 1):
along the whole limit path the row space of $A$ *is* the column space of $B$. Rank $4$ shows up in
the last count because at finite $\alpha$ the fourth direction keeps its initial size $10^{-8}$,
which is above $10^{-4}$ times the largest singular value only at the very start.
""")

md(r"""
## Proposition 1: the manifolds $\Omega_k$

```{prf:definition} The manifolds $\Omega_k$
:label: def-omega-k

Let $\alpha_1, \dots, \alpha_k \in \mathbb R^d$ be linearly independent and
$V = \mathrm{span}\{\alpha_1, \dots, \alpha_k\}$. The set $\Omega_k(V)$ consists of the parameters
$\theta = (A, B)$ with $\mathrm{row}(A) = \mathrm{col}(B) = V$. We also write
$\overline{\Omega}_k(V)$ for the larger set where $\mathrm{row}(A) \subseteq V$ and $\mathrm{col}(B) \subseteq V$;
it is a linear subspace of parameter space, and $\Omega_k(V)$ is its part of full rank $k$.
```

```{prf:proposition} Hierarchical intrinsic invariant manifolds
:label: prop-hiim

For the model $W = AB$ and the manifolds of {prf:ref}`def-omega-k`:
1. *(invariance)* for data $S$ and gradient flow $\dot\theta = -\nabla R_S(\theta)$, if $\theta(0) \in \Omega_k$,
   then $\theta(t) \in \Omega_k$ for all $t \ge 0$;
2. *(intrinsic)* this holds for every data set $S$: the manifolds do not depend on the data;
3. *(hierarchy)* $\Omega_0 \subsetneq \Omega_1 \subsetneq \cdots \subsetneq \Omega_k$, where
   $\Omega_j = \Omega_j(\alpha_1, \dots, \alpha_j)$ and the inclusions are read for the closed sets
   $\overline{\Omega}_j$ (a point of $\Omega_{j}$ is a degenerate point of $\Omega_{j+1}$).

(Proposition 1 of {cite}`bai2024connectivity`.)
```

The proof of invariance below is our own derivation from {eq}`hiim-flow`; it proves the statement
for $\overline{\Omega}_k$, and the experiments check that the dimension also stays $k$.

```{prf:proof}
Let $Q$ be an orthonormal basis of $V$ and $P_\perp = I - QQ^\top$ the projector onto $V^\perp$.
The point $\theta$ lies in $\overline{\Omega}_k(V)$ iff $X = A P_\perp$ and $Y = P_\perp B$ both vanish.
Multiply {eq}`hiim-flow` by $P_\perp$ (a constant, symmetric matrix):

$$
\dot X = -E B^\top P_\perp = -E\,(P_\perp B)^\top = -E\, Y^\top, \qquad
\dot Y = -P_\perp A^\top E = -(A P_\perp)^\top E = -X^\top E .
$$

Along the solution $E(t)$ is a continuous matrix, so $(X, Y)$ solves a *linear* system with
$(X, Y) = (0, 0)$ as a solution. By uniqueness, $X(0) = Y(0) = 0$ gives $X \equiv Y \equiv 0$: rows of $A$
and columns of $B$ stay in $V$. Nothing about $M$ or $S_x$ was used, which is the intrinsic property;
the hierarchy holds because $\mathrm{span}\{\alpha_1..\alpha_j\} \subset \mathrm{span}\{\alpha_1..\alpha_{j+1}\}$,
strictly since $\alpha_{j+1}$ is independent of the others.
```

In words: the part of the factors that points outside $V$ is only ever pushed by itself, so if it
is zero it stays zero. Inside $V$ the model is a factorization with inner width $k$: writing
$A = \tilde A Q^\top$, $B = Q \tilde B$ gives $W = \tilde A \tilde B$, and the rank of $W$ can never
exceed $k$. The whole $d$-dimensional hidden space is only useful once the flow has left every
smaller $\Omega_j$.
""")

md(r"""
## Experiment: start in $\Omega_k$ with random data

We draw four random incomplete $4\times 4$ matrices (random pattern, Gaussian values), a random
point of $\Omega_k$ for $k = 1, 2, 3$ (`mf.omega_k_point`, which returns the basis $Q$ of $V$), and
integrate the flow to $t = 20$ with a fixed-step Runge-Kutta method (`mf.flow_from`). We record how much of
$A$'s rows and of $B$'s columns lies outside $V$ (`mf.off_subspace`, relative Frobenius size) and the
ranks of $A$ and $B$.
""")

code(r"""
rng = np.random.default_rng(3)
random_problems = []
for _ in range(4):
    mask = rng.random((4, 4)) < 0.6
    random_problems.append(mfbook.Completion.from_arrays(np.where(mask, rng.standard_normal((4, 4)), np.nan), mask))

omega_runs = {}
for i, problem in enumerate(random_problems):
    for k in (1, 2, 3):
        A0, B0, Q = mf.omega_k_point((4, 4), k, scale=0.5, seed=10 * i + k)
        t, As, Bs, loss = mf.flow_from(A0, B0, problem, t_max=20.0, steps=800, record_every=20)
        omega_runs[i, k] = dict(t=t, loss=loss, Q=Q, off_A=mf.off_subspace(As, Q, "row"),
                                off_B=mf.off_subspace(Bs, Q, "col"),
                                rank_A=mfbook.numerical_rank(As, 1e-8), rank_B=mfbook.numerical_rank(Bs, 1e-8),
                                sv_aug=np.linalg.svd(np.concatenate([As, Bs.transpose(0, 2, 1)], 1), compute_uv=False))
worst_off = max(max(r["off_A"].max(), r["off_B"].max()) for r in omega_runs.values())
print(f"largest part outside V over 12 runs: {worst_off:.1e}")
""")

code(r"""
# claim C22
assert worst_off < 1e-10                                         # rows of A and columns of B never leave V
for (i, k), r in omega_runs.items():
    assert np.all(r["rank_A"] == k) and np.all(r["rank_B"] == k)   # and keep dimension k: row(A) = col(B) = V
    assert r["loss"][-1] < r["loss"][0]                          # while the flow does real work on the data
""")

md(r"""
**Interactive demo.** *Question:* if the data change, does the flow still stay in $\Omega_k$? And
what is the best loss it can reach there? Pick a random data set and a $k$: the left panel shows
the part outside $V$ (it sits at rounding level), the right panel the singular values of $W_{aug}$
(exactly $k$ of them are non-zero) and the loss (dashed). For $k < 3$ the loss usually stalls above
zero: a rank-$k$ model cannot fit these data, and the flow cannot leave $\Omega_k$ to fix that.
""")

code(r"""
t_end = max(r["t"][-1] for r in omega_runs.values())

def setup_omega():                       # axes and legends; draw adds the curves of one run
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.8, 3.2), layout="constrained")
    for ax, top in ((ax1, 1), (ax2, 10)):
        ax.set_yscale("log"); ax.set_xlim(-0.05 * t_end, 1.05 * t_end); ax.set_ylim(1e-18, top); ax.set_xlabel("time $t$")
    ax1.set_ylabel("part outside $V$"); ax2.set_ylabel("singular value")
    ax1.plot([], [], label="rows of $A$"); ax1.plot([], [], ls="--", label="columns of $B$")    # no data: legend entries
    mfbook.plotting.plot_singular_values([], np.empty((0, 4)), ax=ax2, label="W_{aug}", decorate=False)
    ax2.plot([], [], "k--", label="loss")
    ax1.legend(loc="upper right"); ax2.legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    ax1.set_prop_cycle(None); ax2.set_prop_cycle(None)         # draw's curves take the colours from the start
    return fig

def draw_omega(fig, k=2, data=0):
    r = omega_runs[data, k]
    ax1, ax2 = fig.axes
    ax1.plot(r["t"], np.maximum(r["off_A"], 1e-18))
    ax1.plot(r["t"], np.maximum(r["off_B"], 1e-18), ls="--")
    mfbook.plotting.plot_singular_values(r["t"], np.maximum(r["sv_aug"], 1e-18), ax=ax2, label="W_{aug}", decorate=False)
    ax2.plot(r["t"], r["loss"], "k--")

mfbook.widgets.interact(draw_omega, setup=setup_omega, k=[1, 2, 3], data=[0, 1, 2, 3], defaults={"k": 2})
""")

md(r"""
## The hierarchy, on paper and along training

The inclusions of {prf:ref}`prop-hiim` are easy to check for points: a point of
$\Omega_1(\alpha_1)$ lies in $\overline{\Omega}_2(\alpha_1, \alpha_2)$ and $\overline{\Omega}_3$, while a point of
$\Omega_2$ sticks out of $\mathrm{span}\{\alpha_1\}$. The more interesting fact is dynamic: small
initialization training climbs the ladder. On the limit path of the $4\times4$ example, the hidden
subspace $\mathrm{row}(A)$ reached at each plateau is contained in the one reached at the next
plateau: once the flow leaves a saddle along a new direction $\alpha_{k+1}$, it lives in
$\Omega_{k+1}(\alpha_1, \dots, \alpha_{k+1})$ for good.
""")

code(r"""
alphas = np.linalg.qr(np.random.default_rng(7).standard_normal((4, 3)))[0]
A1, B1, _ = mf.omega_k_point((4, 4), 1, basis=alphas[:, :1], seed=1)
A2, B2, _ = mf.omega_k_point((4, 4), 2, basis=alphas[:, :2], seed=2)
inside = [mf.off_subspace(A1, alphas[:, :j], "row") for j in (1, 2, 3)]
outside = mf.off_subspace(A2, alphas[:, :1], "row")
plateau_spaces = [mf.subspace_basis(ph["A"][-1], 1e-6, "row") for ph in limit4.phases]
nested = [mf.off_subspace(plateau_spaces[j].T, plateau_spaces[j + 1], "row") for j in range(len(plateau_spaces) - 1)]
print("Omega_1 point outside span a1, a1..a2, a1..a3:", np.round(inside, 16), " Omega_2 point outside span a1:", round(float(outside), 3))
print("dimensions at the plateaus:", [b.shape[1] for b in plateau_spaces], " part of each outside the next:", np.array(nested))
""")

code(r"""
# claim C23
assert max(inside) < 1e-12 and outside > 0.05                  # Omega_1 inside Omega_2 inside Omega_3, strictly
assert [b.shape[1] for b in plateau_spaces] == [1, 2, 3]         # training visits Omega_1, Omega_2, Omega_3 ...
assert max(nested) < 1e-4                                        # ... each inside the next (a miss would be O(1))
""")

md(r"""
## Disconnected patterns: one system per component

Now take the disconnected example $M = \begin{bmatrix} 1 & \star & 3 \\ \star & 5 & \star \\ 3 & \star & 9 \end{bmatrix}$.
Its graph has two components: rows $\{1, 3\}$ with columns $\{1, 3\}$, and row $2$ with column $2$.
In {eq}`hiim-flow` the sum for $\dot a_i$ runs over the observed $j$ in row $i$ only, so $a_1, a_3, b_1, b_3$
are driven by each other and by $M_{11}, M_{13}, M_{31}, M_{33}$, while $a_2$ and $b_2$ are driven by each
other and $M_{22}$:

$$
\dot a_2 = -\tfrac{2}{n}\,(a_2^\top b_2 - M_{22})\, b_2, \qquad \dot b_2 = -\tfrac{2}{n}\,(a_2^\top b_2 - M_{22})\, a_2 ,
$$

a closed system of its own. To see it numerically we start three runs from the *same*
initial factors, change the value $M_{22}$ in one run and the values of the big component in another,
and compare the factors that belong to the component we did not touch.
""")

code(r"""
A0, B0 = mfbook.init_factors((3, 3), 1e-3, seed=0)
base = mfbook.Completion.parse(THREE)
other_small = mfbook.Completion.parse("1 * 3; * -2 *; 3 * 9")
other_big = mfbook.Completion.parse("-4 * 1; * 5 *; 2 * 7")
runs3 = {name: mf.flow_from(A0, B0, p, t_max=40.0, steps=1600, record_every=40)
         for name, p in [("base", base), ("M22 changed", other_small), ("big block changed", other_big)]}
big_rows, big_cols = [0, 2], [0, 2]
diff_big = max(np.abs(runs3["base"][1][:, big_rows] - runs3["M22 changed"][1][:, big_rows]).max(),
               np.abs(runs3["base"][2][:, :, big_cols] - runs3["M22 changed"][2][:, :, big_cols]).max())
diff_small = max(np.abs(runs3["base"][1][:, 1] - runs3["big block changed"][1][:, 1]).max(),
                 np.abs(runs3["base"][2][:, :, 1] - runs3["big block changed"][2][:, :, 1]).max())
moved = np.abs(runs3["base"][1][:, 1] - runs3["M22 changed"][1][:, 1]).max()
print(f"big component under a new M22: {diff_big:.1e};  a2, b2 under a new big block: {diff_small:.1e};  a2 under a new M22: {moved:.2f}")
""")

code(r"""
# claim C21
assert diff_big < 1e-13 and diff_small < 1e-13   # each component's factors ignore the other's data entirely
assert moved > 0.1                               # (while its own data do move them)
assert mfbook.connectivity(THREE).kind == "disconnected-complete-bipartite"
""")

md(r"""
The differences are exactly zero: with a fixed step the arithmetic of one component never touches
the numbers of the other. The two systems still share the hidden space $\mathbb R^d$, which is where
the next proposition comes from.
""")

md(r"""
## Proposition 2: sub-$\Omega_k$ manifolds

Because each component has its own closed dynamics, each component can have its own invariant
subspace. Give component $c$ a subspace $V_c$, with $V_1, \dots, V_m$ linearly independent and
$\sum_c \dim V_c = k$, and ask that the rows $a_i$ and columns $b_j$ of component $c$ lie in $V_c$.
Then $\dot a_i = -\sum_j E_{ij} b_j$ only involves columns of the same component, so $a_i$ stays in
$V_c$; the argument of {prf:ref}`prop-hiim` goes through component by component.

```{prf:proposition} Sub-$\Omega_k$ invariant manifolds
:label: prop-sub-omega

If $G_M$ is disconnected with $m$ components, there are sets $\omega_k \subsetneq \Omega_k$ (one subspace
$V_c$ per component, as above) such that
1. *(invariance)* gradient flow started in $\omega_k$ stays in $\omega_k$;
2. *(intrinsic)* this holds for the fixed pattern $S_x$ and *any* observed values;
3. *(strict subset of outputs)* $\{AB : \theta \in \omega_k\} \subsetneq \{AB : \theta \in \Omega_k\}$.

(Proposition 2 of {cite}`bai2024connectivity`.)
```

```{prf:proof}
*(Sketch, our derivation.)* Invariance: apply the projection argument of {prf:ref}`prop-hiim` to the
rows and columns of one component at a time; the residuals $E_{ij}$ that appear only link $i$ and $j$
of the same component. Strictness: take $\dim V_1 = \dim V_2 = 1$ in the $3\times3$ example. Then
$W_{22} = a_2^\top b_2$ with $a_2, b_2 \in V_2$, so $W_{22} = 0$ forces $a_2 = 0$ or $b_2 = 0$, which zeros a
whole row or column of $W$ through the second row or column. The rank-2 matrix with
$W_{12} = W_{21} = 1$, $W_{11} = 1$ and all other entries $0$ is an output of $\Omega_2$ but not of this
$\omega_2$. With one component switched off ($\dim V_2 = 0$) the outputs of $\omega_1$ vanish on row 2 and
column 2, so the rank-1 completion (which has $W_{22} = 5$) is out of reach.
```

A caveat we met while checking this: an observed entry equal to $0$ is not an edge of $G_M$, but it
is still in the loss. If it joins two components, the residual $a_i^\top b_j$ pushes them together
unless $V_c \perp V_{c'}$; `mf.component_point(..., orthogonal=True)` builds such points.

We test the proposition on the $3\times3$ example with random values on its pattern, starting in a
sub-manifold with $\dim V_1 = \dim V_2 = 1$, and with the second component switched off.
""")

code(r"""
rng = np.random.default_rng(5)
sub_runs = []
for trial in range(3):
    vals = np.where(base.mask, rng.uniform(0.5, 4, (3, 3)), np.nan)
    problem = mfbook.Completion.from_arrays(vals, base.mask)
    A0, B0, bases = mf.component_point(problem, [1, 1], d=3, scale=0.5, seed=trial)
    t, As, Bs, loss = mf.flow_from(A0, B0, problem, t_max=30.0, steps=1200, record_every=30)
    off = max(mf.off_subspace(As[:, [0, 2]], bases[0], "row").max(), mf.off_subspace(Bs[:, :, [0, 2]], bases[0], "col").max(),
              mf.off_subspace(As[:, [1]], bases[1], "row").max(), mf.off_subspace(Bs[:, :, [1]], bases[1], "col").max())
    sub_runs.append(off)
A0, B0, bases = mf.component_point(THREE, [1, 0], d=3, scale=0.5, seed=0)
t_off, As_off, Bs_off, loss_off = mf.flow_from(A0, B0, THREE, t_max=40.0, steps=1600, record_every=40)
best1 = mfbook.best_rank_k(THREE, 1)
print("part outside the V_c:", np.array(sub_runs), f"; omega_1 ends at loss {loss_off[-1]:.4f} with W =\n{np.round(As_off[-1] @ Bs_off[-1], 4)}")
print(f"best rank-1 fit over all of Omega_1: loss {best1.loss:.1e}")
""")

code(r"""
# claim C24
assert max(sub_runs) < 1e-10                          # sub-Omega_2 manifolds are invariant for any values
assert abs(loss_off[-1] - 5.0) < 1e-6                 # inside omega_1 the best is the block fit: loss 25/5 = 5
assert np.allclose((As_off @ Bs_off)[:, 1, :], 0) and np.allclose((As_off @ Bs_off)[:, :, 1], 0)
assert best1.loss < 1e-8                              # while Omega_1 also holds an exact rank-1 completion
""")

md(r"""
The sub-manifold with the small component switched off can do no better than loss $5$ (it fits
the $2\times2$ block $\begin{bmatrix}1&3\\3&9\end{bmatrix}$ exactly and leaves $M_{22}=5$ unexplained), although a
rank-1 completion with zero loss exists. Chapter 4 shows that small-initialization training
passes right by this point: it is the rank-1 saddle of the disconnected example.
""")

md(r"""
**Interactive demo.** *Question:* in the disconnected example, does $\mathrm{row}(A) = \mathrm{col}(B)$
still hold, and does the learned matrix depend on the random seed? Each seed is one gradient-flow run
from $\alpha = 10^{-6}$. The subspace alignment holds for every seed (the three singular-value panels
climb together), the learned matrix always has rank 2, but the value at the symmetric unknown
positions $(1,2)$ and $(2,1)$ changes with the seed: the two components' hidden directions meet at an
angle that the data do not fix.
""")

code(r"""
seed_runs = {s: mfbook.gradient_flow(THREE, init_scale=1e-6, t_max=1e4, seed=s) for s in range(8)}

def setup_seed():                        # limits that hold every seed's curves
    fig, axes = plt.subplots(1, 4, figsize=(13, 3), layout="constrained")
    t_end = max(r.t[-1] for r in seed_runs.values())
    for ax, field, name in zip(axes[:3], ("sv_A", "sv_B", "sv_aug"), ("A", "B", "W_{aug}")):
        logs = np.log10(np.concatenate([getattr(r, field).ravel() for r in seed_runs.values()]))
        ax.set_yscale("log"); ax.set_ylim(10 ** (logs.min() - 0.05 * np.ptp(logs)), 10 ** (logs.max() + 0.05 * np.ptp(logs)))
        ax.set_xlim(-0.05 * t_end, 1.05 * t_end); ax.set_xlabel("time $t$"); ax.set_ylabel("singular value")
        mfbook.plotting.plot_singular_values([], np.empty((0, 3)), ax=ax, label=name, decorate=False)   # no data:
        ax.legend(fontsize=7, loc="center right"); ax.set_prop_cycle(None)    # the legend only; colours restart
    mfbook.plotting.plot_matrix(np.zeros((3, 3)), ax=axes[3], fmt="")
    return fig

def draw_seed(fig, seed=0):
    r = seed_runs[seed]
    for ax, sv, name in zip(fig.axes[:3], (r.sv_A, r.sv_B, r.sv_aug), ("A", "B", "W_{aug}")):
        mfbook.plotting.plot_singular_values(r.t, sv, ax=ax, label=name, decorate=False)
    mfbook.plotting.plot_matrix(r.W, THREE, ax=fig.axes[3], fmt="{:.2f}", decorate=False)

mfbook.widgets.interact(draw_seed, setup=setup_seed, seed=list(range(8)))
""")

md(r"""
## Exercises

```{exercise} Balancedness
:label: ex-hiim-balanced

Show that along {eq}`hiim-flow` the matrix $A^\top A - B B^\top$ is constant in time. What does this
say about the factors learned from a tiny initialization?
```

```{solution} ex-hiim-balanced
:class: dropdown

$\frac{d}{dt}A^\top A = \dot A^\top A + A^\top \dot A = -B E^\top A - A^\top E B^\top$ and
$\frac{d}{dt}BB^\top = \dot B B^\top + B \dot B^\top = -A^\top E B^\top - B E^\top A$: the same matrix, so the
difference does not move. From $\alpha\theta_0$ the constant has size $O(\alpha^2)$, so the learned
factors satisfy $A^\top A \approx BB^\top$. Taking the row space of both sides gives once more
$\mathrm{row}(A) \approx \mathrm{col}(B)$ (up to directions of size $\alpha$).
```

```{exercise} Invariant, but not stable
:label: ex-hiim-perturb

Start the $4\times4$ example `FOUR` from a point of $\Omega_1$ (`A, B, Q = mf.omega_k_point((4, 4), 1, scale=0.1, seed=0)`),
integrate to $t = 200$ with `mf.flow_from(A, B, FOUR, 200.0, steps=8000, record_every=40)` and print the
loss and `mf.off_subspace(As, Q, "row")` at $t = 20, 60, 100, 150, 200$. Proposition 1 says the second
quantity is zero for ever. What do you see, and why? Compare with the plateau losses of
`mfbook.small_init_limit(FOUR).plateaus`, and with the same run from a start perturbed by $10^{-6}$ times
a Gaussian matrix.
```

```{solution} ex-hiim-perturb
:class: dropdown

Up to $t \approx 100$ the loss sits at $0.32653$, the best rank-1 fit (the second plateau), and the
part outside $V$ is tiny but grows: about $5\cdot10^{-15}$, $2\cdot10^{-10}$, $10^{-5}$ at $t = 20, 60, 100$.
Then the flow leaves: loss $0.0524$ at $t = 150$ (the rank-2 plateau) with an outside part of order 1.
The set $\Omega_1$ is invariant, but the rank-1 fit inside it is a saddle: rounding errors of size
$10^{-16}$ outside $V$ are amplified like $e^{\lambda_1 t}$ with $\lambda_1 \approx 0.27$ (the rate of that
saddle, chapter 4), and $10^{-16}e^{0.27\cdot 100} \approx 5\cdot 10^{-5}$. A $10^{-6}$ perturbation does
the same thing sooner (rank-2 plateau by $t = 60$, loss $3\cdot10^{-4}$ at $t = 150$). Invariance is exact
mathematics; in floating point a saddle's manifold is only followed for a time of order
$\frac{1}{\lambda_1}\log(1/10^{-16})$ -- exactly the mechanism that lets small-initialization training move on.
```

```{exercise} Which sub-manifold?
:label: ex-hiim-which

For $M = \begin{bmatrix} 1 & 2 & \star \\ 3 & \star & \star \\ \star & \star & 5 \end{bmatrix}$ (the pattern $M_1$ of
chapter 2), list the connected components and describe the sub-$\Omega_2$ manifold with one
hidden direction per component. Which entries of $W$ are then products of vectors from different
subspaces?
```

```{solution} ex-hiim-which
:class: dropdown

Components: rows $\{1, 2\}$ with columns $\{1, 2\}$ (edges $M_{11}, M_{12}, M_{21}$), and row 3 with column 3.
In $\omega_2$, $a_1, a_2, b_1, b_2 \in V_1$ and $a_3, b_3 \in V_2$. The entries $W_{13}, W_{23}, W_{31}, W_{32}$
mix the two subspaces; they are not observed, and their values depend on the angle between $V_1$ and
$V_2$, which the data never see.
```

## Summary

- During small-initialization training $\mathrm{rank}(A) = \mathrm{rank}(B^\top) = \mathrm{rank}(W_{aug})$, i.e. the
  rows of $A$ and the columns of $B$ occupy one common hidden subspace.
- That subspace cannot grow by itself: the sets $\Omega_k$ are invariant under gradient flow for any
  data, because the part of the factors outside $V$ obeys a linear equation with zero start.
- The $\Omega_k$ are nested, and training climbs them one dimension per plateau.
- A disconnected pattern splits the dynamics into one system per component; per-component subspaces
  give smaller invariant sets $\omega_k$ whose outputs are strictly fewer, which is how sub-optimal
  saddles appear (chapter 4).
""")

nb.write(Path(__file__).resolve().parents[1] / "chapters" / "03_hiim.ipynb")
