import sys; sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from _nbgen import NB, INSTALL
nb = NB(); md, code = nb.md, nb.code

md(r"""
# Implicit regularization: minimum rank or minimum nuclear norm

Gradient descent from a tiny initialization completes a matrix without being told how. Which
completion does it choose: the one of lowest rank, or the one of smallest nuclear norm? For a long
time the nuclear norm was the favourite answer {cite}`gunasekar2017implicit`; later work found
counterexamples and argued for rank {cite}`arora2019implicit,razin2020implicit,li2021towards`. This
chapter shows that both answers are right, each on its own class of observation patterns
{cite}`bai2024connectivity`: a *connected* pattern leads to the lowest rank (Theorem 3 below), a
pattern that falls apart into *complete bipartite* pieces leads to the smallest nuclear norm
(Theorem 4).
""")
md(r"""
**Learning goals.** After this chapter you can
- state the minimum-rank theorem for connected patterns and check its hypothesis (optimality within
  each $\Omega_k$) on random examples;
- state the minimum-nuclear-norm theorem for disconnected patterns with complete bipartite
  components, and derive *why* it holds from the balance of the factors;
- explain why a disconnected pattern can miss the lowest-rank completion, on the $3\times3$ example;
- measure how slowly the learned value of $[[0, 1],[2, \star]]$ approaches its limit;
- place Gunasekar's conjecture and its counterexamples in this picture.

**Prerequisites.** Chapter 2 (observation graph, connectivity), Chapter 3 (invariant manifolds
$\Omega_k$ and their sub-manifolds), Chapter 4 (saddle-to-saddle dynamics).

**Estimated time.** 45 minutes.
""")
code(INSTALL)
code(r'''
import numpy as np
import matplotlib.pyplot as plt
import mfbook

THREE = "1 * 3; * 5 *; 3 * 9"     # disconnected, two complete bipartite components
TINY = "0 1; 2 *"                 # the observed zero is not an edge: disconnected
M2 = "1 2 *; 3 4 *; * * 5"        # disconnected, complete bipartite components
''')

md(r"""
## Intuition: one model, two regularizers

Think of the training from a small start as in Chapter 4: the flow leaves the origin along one
rank-1 direction, fits what it can, rests on a plateau, and then adds the next direction. When the
observation graph is connected, every new direction can talk to all the data, and each plateau is the
best fit that a matrix of that rank can achieve. The first plateau with zero loss is then reached at
the smallest possible rank.

When the graph splits into components, the parameters of different components never interact
(Chapter 3): each component is fitted by its own directions. Two components that could have shared a
single rank-1 direction end up with two independent ones, and the rank adds up. What survives is a
different kind of economy: each component is fitted by *balanced* factors, which is exactly what
the nuclear norm measures.
""")

md(r"""
## The $3\times3$ example: rank 2, not rank 1

$$
M = \begin{bmatrix} 1 & \star & 3\\ \star & 5 & \star \\ 3 & \star & 9\end{bmatrix}
$$

has a rank-1 completion: $W = v v^\top$ with $v = (1, \sqrt5, 3)$, i.e. $W_{12} = W_{21} = \sqrt5$,
$W_{23} = W_{32} = 3\sqrt5$. Its graph has two components, $\{r_1, r_3, c_1, c_3\}$ (a fully observed
$2\times2$ block of rank 1) and $\{r_2, c_2\}$ (the single entry $5$). We compute the small-initialization
limit (`mfbook.small_init_limit`, which follows the saddle-to-saddle path of Chapter 4) for ten random
initialization directions.
""")
code(r'''
seeds = range(10)
limits3 = {s: mfbook.small_init_limit(THREE, seed=s) for s in seeds}
rank1, W_rank1 = mfbook.min_rank(THREE)
W_nuc3 = mfbook.min_nuclear_norm(THREE)
for s in seeds:
    W = limits3[s].W
    print(f"seed {s}: rank {limits3[s].rank}, ||W||_* = {mfbook.nuclear_norm(W):.6f}, "
          f"W12 = {W[0, 1]: .4f}, W21 = {W[1, 0]: .4f}")
print("min rank:", rank1, " min nuclear norm:", round(mfbook.nuclear_norm(W_nuc3), 6))
''')
code(r'''
# claim C19
three = mfbook.Completion.parse(THREE)
assert rank1 == 1                                                      # a rank-1 completion exists ...
for s in seeds:
    W = limits3[s].W
    assert three.fits(W)                                               # every limit interpolates
    assert limits3[s].rank == 2 and mfbook.numerical_rank(W) == 2      # ... but gradient descent learns rank 2
    assert abs(mfbook.nuclear_norm(W) - 15) < 1e-6                     # with nuclear norm 15 = 10 + 5
    assert abs(W[0, 1] - W[1, 0]) < 1e-8                               # symmetric unknowns coincide
assert abs(mfbook.nuclear_norm(W_nuc3) - 15) < 1e-5 * 15               # 15 is the minimum nuclear norm
v = np.array([1, np.sqrt(5), 3])
assert three.fits(np.outer(v, v)) and abs(mfbook.nuclear_norm(np.outer(v, v)) - 15) < 1e-9   # so does v v^T
w12 = np.array([limits3[s].W[0, 1] for s in seeds])
assert w12.max() - w12.min() > 0.3                                     # the unknown W12 depends on the seed
assert abs(limits3[0].W[0, 1] - 0.7069) < 1e-3 and abs(limits3[1].W[0, 1] + 0.0127) < 1e-3
''')
md(r"""
Every limit is a rank-2 matrix whose nuclear norm is $15$, the smallest possible, while the rank-1
completion is never found. Note that the minimum of the nuclear norm is not unique here. The rank-1
completions form a family $uw^\top$ with $u = (1, s, 3)$, $w = (1, 5/s, 3)$, $s \ne 0$, whose nuclear norm
$\|u\|\|w\| = \sqrt{(10 + s^2)(10 + 25/s^2)}$ is smallest at $s^2 = 5$: the symmetric completion $vv^\top$
also has $\|vv^\top\|_* = \|v\|^2 = 1 + 5 + 9 = 15$. The value of the unknown
$W_{12}$ changes from seed to seed ($0.707$, $-0.013$, $0.851$ for seeds 0, 1, 2), but in every run
$W_{12} = W_{21}$. Both facts are explained in the derivation below.

**Try it.** Before moving the slider, guess: will any seed reach the rank-1 value $W_{12} = \sqrt5 \approx 2.236$?
""")
code(r'''
sv3 = {s: np.linalg.svd(limits3[s].W, compute_uv=False) for s in seeds}

def setup_seed():                   # axes, ticks and limits: the same for every seed
    fig, axes = plt.subplots(1, 2, figsize=(7, 3), layout="constrained")
    mfbook.plotting.plot_matrix(np.zeros((3, 3)), three, ax=axes[0], fmt="")
    axes[1].set_xticks([1, 2, 3]); axes[1].set_xlim(0.4, 3.6)
    axes[1].set_ylim(0, 1.05 * max(sv.max() for sv in sv3.values()))
    axes[1].set_xlabel("index"); axes[1].set_ylabel("singular value")
    return fig

def draw_seed(fig, seed):           # the limit of one seed and its singular values
    mfbook.plotting.plot_matrix(limits3[seed].W, three, ax=fig.axes[0], decorate=False)  # setup drew the rest
    fig.axes[1].bar(range(1, 4), sv3[seed], color="C0")

mfbook.widgets.interact(draw_seed, setup=setup_seed, seed=list(seeds))
''')

md(r"""
## Why the disconnected example misses the lowest rank

Write the rows of $A$ as $a_i^\top$ and the columns of $B$ as $b_j$, so $W_{ij} = a_i^\top b_j$. The loss
only involves $a_1, a_3, b_1, b_3$ (first component) and $a_2, b_2$ (second component), and the two
groups never appear in the same term. Gradient flow therefore splits into two independent systems
(Chapter 3). Starting from scale $\alpha$, the first component escapes the origin with rate
$\lambda = \frac2n\sigma_1\!\left(\begin{bmatrix}1&3\\3&9\end{bmatrix}\right) = \frac25\cdot 10 = 4$, the
second with rate $\frac25\cdot5 = 2$. The faster one is fitted first, and the flow reaches a point
where the block $\begin{bmatrix}1&3\\3&9\end{bmatrix}$ is exact while $a_2, b_2$ are still of size
$\alpha$: the loss is $5^2/5 = 5$ and $W$ has rank 1.

That point is a rank-1 critical point, but not the best rank-1 fit (which has loss 0). It is the
optimum *within the sub-manifold* of the first component (Proposition 2): the direction that would
extend $a_1, a_3$ into the entry $W_{22}$ does not exist, because $W_{22}$ depends only on $a_2$ and
$b_2$. The next escape adds the second component in a new, independent direction of $\mathbb R^d$:
rank 2. The hypothesis of Theorem 3 below ("optimal within each $\Omega_k$") fails at this
*sub-optimal saddle*.
""")

md(r"""
## Connected patterns: minimum rank

```{prf:theorem} Minimum rank
:label: thm5-min-rank

Let $W_t = A(t)B(t)$ follow gradient flow from $\alpha\,\theta_0$ with $W_0$ of full rank, and suppose
that along the way $W_t$ reaches an optimum of the loss within each invariant manifold $\Omega_k$ that
it visits. If the limit $\widehat W = \lim_{\alpha\to0} W_\infty(\alpha\theta_0)$ exists and fits every
observation, then $\widehat W$ has the smallest rank among all completions:
$$\widehat W \in \arg\min_W \operatorname{rank}(W) \quad\text{subject to}\quad W_{ij} = M_{ij},\ (i,j)\in S_x .$$

(Theorem 3 of {cite}`bai2024connectivity`.)
```

The proof is short once the hypothesis holds. The $k$-th plateau is the best rank-$k$ fit; if a
completion of rank $r$ existed, the best rank-$r$ fit would have zero loss, so the flow would stop at
rank at most $r$. The hypothesis itself is not proved: it is observed to hold for connected patterns,
and it fails for disconnected ones, as we just saw. We test both halves on random connected $4\times4$
problems (rank-2 ground truth, 11 of 16 entries observed): every plateau must match
`mfbook.best_rank_k` at the same rank, and the final rank must equal `mfbook.min_rank`.
""")
code(r'''
def random_connected(rng, d=4, r=2, n_obs=11):
    """A random rank-r d x d problem whose observation graph is connected."""
    while True:
        M = rng.normal(size=(d, r)) @ rng.normal(size=(r, d))
        mask = np.zeros(d * d, bool)
        mask[rng.choice(d * d, n_obs, replace=False)] = True
        p = mfbook.Completion.from_arrays(np.where(mask.reshape(d, d), M, 0.0), mask.reshape(d, d))
        if mfbook.connectivity(p).kind == "connected":
            return p

rng = np.random.default_rng(2024)
connected = [random_connected(rng) for _ in range(5)] + [mfbook.Completion.parse("4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6")]
rows = []
for p in connected:
    lim = mfbook.small_init_limit(p)
    fits = [mfbook.best_rank_k(p, k).loss for k in lim.ranks]
    rows.append((lim, fits, mfbook.min_rank(p)[0]))
    print("ranks", lim.ranks, " plateaus", np.round(lim.plateaus, 6), " best rank-k", np.round(fits, 6),
          " min rank", rows[-1][2])
''')
code(r'''
# claim C28
for p, (lim, fits, r_min) in zip(connected, rows):
    scale = np.mean(p.values[p.mask] ** 2)
    assert p.fits(lim.W)
    for plateau, fit in zip(lim.plateaus, fits):                  # optimal within each Omega_k
        assert abs(plateau - fit) <= 1e-5 * scale
    assert lim.rank == r_min == mfbook.numerical_rank(lim.W)       # hence minimum rank
assert rows[-1][0].rank == 3 and abs(rows[-1][0].W[1, 3] - 1.2) < 1e-6
''')
md(r"""
On each connected example the loss at every plateau equals the best rank-$k$ fit to the printed
precision (we allow $10^{-5}$ of the mean squared observation), so the hypothesis of
{prf:ref}`thm5-min-rank` holds, and the learned rank equals the minimum rank. Some plateaus are
skipped (for example ranks `[0, 2]`): when the top singular value of the residual is nearly
double, two directions escape together and the rank-1 plateau is too short to be detected.
""")

md(r"""
## Complete bipartite components: minimum nuclear norm

```{prf:theorem} Minimum nuclear norm
:label: thm5-min-nuclear

Suppose the observation graph of $M$ is disconnected and every connected component is a complete
bipartite graph. Let $W_0$ have full rank. If $\widehat W = \lim_{\alpha\to0} W_\infty(\alpha\theta_0)$
exists and fits every observation, then
$$\widehat W \in \arg\min_W \|W\|_* \quad\text{subject to}\quad W_{ij} = M_{ij},\ (i,j)\in S_x .$$

(Theorem 4 of {cite}`bai2024connectivity`.)
```

**A derivation.** The slides state the theorem without proof; here is an argument we worked out
ourselves, which makes the role of "complete bipartite" visible. A complete bipartite component
with row set $R_k$ and column set $C_k$ means that the block $M_k = M[R_k, C_k]$ is *fully observed*.
Different components use disjoint rows and disjoint columns.

*Lower bound.* For any completion $W$, the nuclear norm is at least the sum of the nuclear norms of
the disjoint diagonal blocks (after permuting rows and columns, the blocks sit on the diagonal, and
deleting the off-diagonal blocks can only decrease the nuclear norm: this "pinching" inequality
follows from $\|W\|_* = \max_{\|Q\|_2\le1}\langle Q, W\rangle$ with $Q$ block diagonal). So
$$\|W\|_* \;\ge\; \sum_k \|M_k\|_* \qquad\text{for every completion } W .$$

*The limit reaches the bound.* Let $A_k = A[R_k, :]$ and $B_k = B[:, C_k]$. The component system is a
gradient flow for $\frac1n\|A_kB_k - M_k\|_F^2$ alone, and it conserves $A_k^\top A_k - B_kB_k^\top$
(the usual balance argument, applied to one component). From an initialization of size $\alpha$ this
quantity is $O(\alpha^2)$, so in the limit $A_k^\top A_k = B_kB_k^\top$ and $A_kB_k = M_k$. Balanced
factors of $M_k = U\Sigma V^\top$ are $A_k = U\Sigma^{1/2}Q^\top$, $B_k = Q\Sigma^{1/2}V^\top$ with
$Q^\top Q = I$, hence $\|A_k\|_F^2 = \|B_k\|_F^2 = \operatorname{tr}\Sigma = \|M_k\|_*$. Rows and
columns outside all components are never trained and stay $O(\alpha)$. Finally
$\|AB\|_* \le \|A\|_F\|B\|_F \le \frac12(\|A\|_F^2 + \|B\|_F^2)$, so
$$\|\widehat W\|_* \le \tfrac12\sum_k\big(\|A_k\|_F^2 + \|B_k\|_F^2\big) = \sum_k \|M_k\|_* ,$$
which meets this lower bound.

Two things follow. First, the off-diagonal entries $W[R_k, C_l] = A_kB_l$ need not vanish (the
directions $Q_k$ and $Q_l$ are not orthogonal in general), and yet the nuclear norm is minimal: the
minimum is not unique. Second, for a component that is *not* complete, $A_kB_k$ is not fixed by the
data, the balance only gives $\|A_k\|_F^2 = \|A_kB_k\|_*$, and nothing forces $A_kB_k$ to be the
minimum-nuclear-norm fill of that component. That is where the theorem needs its hypothesis.

The same computation explains $W_{12} = W_{21}$ in the $3\times3$ example: the blocks
$\begin{bmatrix}1&3\\3&9\end{bmatrix}$ and $[5]$ are symmetric positive semi-definite, so $U = V$ and
$A_k = U\Sigma^{1/2}Q_k^\top$, $B_k = Q_k\Sigma^{1/2}U^\top$. Then
$W_{12} = \sqrt{10}\,u_1\sqrt5\;q_1^\top q_2$ and $W_{21} = \sqrt5\;q_2^\top q_1\sqrt{10}\,u_1$ are equal,
while $q_1^\top q_2$, set by the random start, is different for each seed.

We check the theorem on $[[0,1],[2,\star]]$, on $M_2$ of Chapter 2, on the $3\times3$ example, and on
random patterns built from complete bipartite blocks, against the convex solver
`mfbook.min_nuclear_norm` and against the bound $\sum_k\|M_k\|_*$.
""")
code(r'''
def random_blocks(rng, d=5):
    """Random d x d problem: rows and columns split into complete blocks; the rest unobserved."""
    while True:
        rows, cols = rng.permutation(d), rng.permutation(d)
        n_blocks = rng.integers(2, 4)
        rcut = np.sort(rng.choice(np.arange(1, d + 1), n_blocks, replace=False))
        ccut = np.sort(rng.choice(np.arange(1, d + 1), n_blocks, replace=False))
        mask = np.zeros((d, d), bool)
        r0 = c0 = 0
        for r1, c1 in zip(rcut, ccut):
            mask[np.ix_(rows[r0:r1], cols[c0:c1])] = True
            r0, c0 = r1, c1
        values = np.where(mask, rng.uniform(0.5, 3.0, (d, d)) * rng.choice([-1, 1], (d, d)), 0.0)
        p = mfbook.Completion.from_arrays(values, mask)
        if mfbook.connectivity(p).kind == "disconnected-complete-bipartite":
            return p

def block_bound(p):
    """Sum of the nuclear norms of the fully observed blocks (the lower bound)."""
    return sum(mfbook.nuclear_norm(p.values[np.ix_(c.rows, c.cols)]) for c in mfbook.connectivity(p).components)

rng = np.random.default_rng(4)
bipartite = [mfbook.Completion.parse(s) for s in (TINY, M2, THREE)] + [random_blocks(rng) for _ in range(5)]
nuc = []
for p in bipartite:
    W = mfbook.small_init_limit(p).W
    nuc.append((p.fits(W), mfbook.nuclear_norm(W), mfbook.nuclear_norm(mfbook.min_nuclear_norm(p)), block_bound(p)))
    print(f"{str(p).replace(chr(10), ' | '):60s} learned {nuc[-1][1]:9.5f}  convex {nuc[-1][2]:9.5f}  blocks {nuc[-1][3]:9.5f}")
''')
code(r'''
# claim C29
for p, (fits, learned, convex, bound) in zip(bipartite, nuc):
    assert mfbook.connectivity(p).kind == "disconnected-complete-bipartite"
    assert fits
    assert abs(learned - convex) <= 1e-5 * convex        # the limit has the minimum nuclear norm
    assert abs(convex - bound) <= 1e-5 * bound           # and the minimum is the sum over the blocks
assert abs(nuc[0][1] - 3) < 1e-6 and abs(nuc[1][1] - (mfbook.nuclear_norm([[1, 2], [3, 4]]) + 5)) < 1e-6
''')
md(r"""
The learned nuclear norms agree with the convex optimum to better than $10^{-5}$ (relative) on all
eight problems, and the convex optimum is exactly the sum over the blocks, as the derivation predicts.
For $M_2$ the learned matrix has non-zero entries outside the blocks, and the norm is minimal anyway.
""")

md(r"""
## The slow approach of $[[0,1],[2,\star]]$

The limit of $[[0,1],[2,\star]]$ is $\star = 0$, the minimum-nuclear-norm completion (the observed zero is
not an edge, so the graph has two single-edge components). A rank-1 completion would need
$0\cdot\star = 1\cdot2$, which is impossible, so both completions have rank 2 and only the nuclear
norm can tell them apart: $\|W\|_*$ is smallest at $\star = 0$. But the limit is reached slowly. We run
gradient flow from four initialization scales, same direction.
""")
code(r'''
scales = [1e-3, 1e-6, 1e-9, 1e-12]
flows = {a: mfbook.gradient_flow(TINY, init_scale=a, seed=0) for a in scales}
star = np.array([flows[a].W[1, 1] for a in scales])
tiny_limit = mfbook.small_init_limit(TINY).W
slope = np.polyfit(np.log10(scales), np.log10(np.abs(star)), 1)[0]
print("learned * :", dict(zip(scales, star.round(5))), " limit:", round(tiny_limit[1, 1], 8), " slope:", round(slope, 3))
''')
code(r'''
# claim C3
assert abs(tiny_limit[1, 1]) < 1e-8                                   # the alpha -> 0 limit is * = 0
assert np.all(np.diff(np.abs(star)) < 0)                              # smaller init -> closer to 0 ...
assert abs(star[0]) > 0.1 and abs(star[-1]) < 1e-3                     # ... but slowly: 0.2 at 1e-3
assert 0.15 < slope < 0.5                                             # |*| shrinks like a small power of alpha
''')
code(r'''
# claim C13
# connected -> lowest rank (the six connected problems above); disconnected -> not necessarily
assert all(lim.rank == r_min for lim, _, r_min in rows)
assert mfbook.connectivity(THREE).kind != "connected" and limits3[0].rank > mfbook.min_rank(THREE)[0]
''')
md(r"""
At $\alpha = 10^{-3}$ the learned entry is still about $0.2$, and each factor $1000$ in $\alpha$ only
divides it by about $7.5$: the fitted slope of $\log|\star|$ against $\log\alpha$ is close to $0.29$ (we
measured this exponent; we did not derive it). A practitioner who stops at $\alpha = 10^{-3}$ would not
see the limit at all. The same caution applies to the rank side: $[[1,2],[10,\star]]$ needs
$\alpha \approx 10^{-9}$ before its learned value is within $10^{-3}$ of $20$ (Chapter 1).

**Try it.** Which of the two components is fitted first, and does that explain why $\star$ is positive?
The widget shows the learned matrix for each scale.
""")
code(r'''
tiny = mfbook.Completion.parse(TINY)     # the runs of the four scales are the flows computed above

def setup_scale():                  # the matrix axes and the curve of all scales: fixed
    fig, axes = plt.subplots(1, 2, figsize=(7, 3), layout="constrained")
    mfbook.plotting.plot_matrix(np.zeros((2, 2)), tiny, ax=axes[0], fmt="")
    axes[1].loglog(scales, np.abs(star), "o-", lw=2, color="C0")
    axes[1].set_xlim(3 * scales[0], scales[-1] / 3); axes[1].set_ylim(np.abs(star).min() / 2, 2 * np.abs(star).max())
    axes[1].set_xlabel(r"initialization scale $\alpha$"); axes[1].set_ylabel(r"learned $|\star|$")
    return fig

def draw_scale(fig, alpha):         # the matrix learned from this scale, and its point on the curve
    mfbook.plotting.plot_matrix(flows[alpha].W, tiny, ax=fig.axes[0], decorate=False)
    fig.axes[1].plot([alpha], [abs(flows[alpha].W[1, 1])], "o", ms=12, color="C3")

mfbook.widgets.interact(draw_scale, setup=setup_scale, alpha=scales)
''')

md(r"""
## Gunasekar's conjecture and its counterexamples

{cite:t}`gunasekar2017implicit` proved that for *commuting* measurement matrices the small-initialization
limit is the minimum-nuclear-norm solution, and conjectured the same for general measurements. For
matrix completion the measurements $E_{ij}$ commute only in special patterns, yet the conjecture seemed
plausible. The results of this chapter locate exactly where it holds and where it fails:

- For patterns with complete bipartite components it holds ({prf:ref}`thm5-min-nuclear`), even
  though the measurements do not commute: $[[0,1],[2,\star]] \to 0$ is an example.
- For connected patterns the limit is the lowest-rank completion ({prf:ref}`thm5-min-rank`). When
  the two differ, the nuclear norm loses: $[[1,2],[10,\star]] \to 20$, a rank-1 matrix with nuclear norm
  $\|(1, 10)\|\,\|(1, 2)\| \approx 22.47$, while the convex minimum is $12$ (at $\star = 1$; see
  see the second exercise).

{cite:t}`li2021towards` made the failure rigorous: they showed that for depth 2 the infinitesimal-
initialization flow is Greedy Low-Rank Learning (add the top singular direction of the residual, train,
repeat), and built completion problems where this greedy path ends at a low-rank solution whose
nuclear norm is not minimal, so the conjecture is false in general. {cite:t}`razin2020implicit` went
further with a deeper model: there every norm tends to infinity while the rank falls (Chapter 6).
The connectivity picture reconciles both sides: rank when the data are connected, nuclear norm when
they split into fully observed blocks, and neither in general when they split into incomplete pieces.
""")

md(r"""
## Exercises

```{exercise}
:label: ex-pinching

Prove the pinching inequality used above: if $R_1, \dots, R_m$ are disjoint row sets and
$C_1, \dots, C_m$ disjoint column sets, then $\|W\|_* \ge \sum_k \|W[R_k, C_k]\|_*$ for every $W$.
Hint: $\|W\|_* = \max\{\langle Q, W\rangle : \|Q\|_2 \le 1\}$.
```

```{solution} ex-pinching
:class: dropdown

For each $k$ let $W[R_k, C_k] = U_k\Sigma_kV_k^\top$ and put $Q_k = U_kV_k^\top$, so
$\langle Q_k, W[R_k, C_k]\rangle = \|W[R_k, C_k]\|_*$. Let $Q$ be the matrix with $Q[R_k, C_k] = Q_k$ and
zeros elsewhere. Its blocks sit on disjoint rows and columns, so after permutation $Q$ is block
diagonal and $\|Q\|_2 = \max_k\|Q_k\|_2 = 1$. Hence
$\|W\|_* \ge \langle Q, W\rangle = \sum_k \langle Q_k, W[R_k, C_k]\rangle = \sum_k\|W[R_k,C_k]\|_*$.
```

```{exercise}
:label: ex-nuclear-vs-rank

Compute, with `mfbook`, the small-initialization limit of $[[1,2],[10,\star]]$ and the minimum-nuclear-norm
completion. Which has the smaller nuclear norm? Which does Gunasekar's conjecture predict, and which
does gradient descent learn? Explain the answer with the connectivity of the pattern.
```

```{solution} ex-nuclear-vs-rank
:class: dropdown

    lim = mfbook.small_init_limit("1 2; 10 *")
    W_nuc = mfbook.min_nuclear_norm("1 2; 10 *")
    print(lim.W[1, 1], mfbook.nuclear_norm(lim.W), W_nuc[1, 1], mfbook.nuclear_norm(W_nuc))

The limit fills $\star = 20$ (rank 1, nuclear norm $\|(1,10)\|\|(1,2)\| = \sqrt{101}\sqrt5 \approx 22.47$);
the convex solver returns $\star = 1$ with nuclear norm $12$. The conjecture
predicts the convex answer; gradient descent learns the rank-1 matrix. The graph (three edges
$r_1c_1, r_1c_2, r_2c_1$) is connected, so {prf:ref}`thm5-min-rank` applies, not {prf:ref}`thm5-min-nuclear`.
```

```{exercise}
:label: ex-break-blocks

Take the $3\times3$ example and change the entry $5$ into a second observation in the same row,
`"1 * 3; * 5 7; 3 * 9"`. Is the graph still made of complete bipartite components? Compare the
learned nuclear norm with `mfbook.min_nuclear_norm` and the learned rank with `mfbook.min_rank`.
```

```{solution} ex-break-blocks
:class: dropdown

    p = "1 * 3; * 5 7; 3 * 9"
    print(mfbook.connectivity(p).kind)
    lim = mfbook.small_init_limit(p)
    print(lim.rank, mfbook.min_rank(p)[0], mfbook.nuclear_norm(lim.W), mfbook.nuclear_norm(mfbook.min_nuclear_norm(p)))

The new entry links row 2 to column 3, which belongs to the first component: the graph becomes
connected. The theorem for the nuclear norm no longer applies; instead {prf:ref}`thm5-min-rank` does, and
the limit has rank 1, the minimum. Here the nuclear norm of the limit ($15.0121$) also equals the convex
minimum, so this pattern does not separate the two biases; $[[1,2],[10,\star]]$ does.
```
""")

md(r"""
## Summary

- Connected observation graph: the small-initialization limit passes through the best rank-$k$ fit at
  every plateau and ends at the lowest rank (checked on six connected $4\times4$ problems).
- Disconnected graph: components are fitted by independent directions, so a rank-1 completion can be
  missed; the $3\times3$ example ends at rank 2 after a sub-optimal rank-1 saddle.
- Complete bipartite components: each block is fully observed and fitted by balanced factors, so the
  nuclear norm of the limit equals $\sum_k\|M_k\|_*$, the minimum (checked to $10^{-5}$ on eight problems).
- The approach to the limit can be very slow: $[[0,1],[2,\star]]$ still has $\star\approx0.2$ at $\alpha=10^{-3}$.
- Gunasekar's nuclear-norm conjecture holds for fully observed blocks and fails for connected patterns,
  where rank wins {cite}`li2021towards`.
""")
nb.write(__import__("pathlib").Path(__file__).resolve().parents[1] / "chapters" / "05_implicit_regularization.ipynb")
