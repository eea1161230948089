"""Generate chapters/01_background.ipynb (stored without outputs).

Run from the repository root:  .venv/bin/python tools/make_01_background.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _nbgen import INSTALL, NB  # noqa: E402

nb = NB()
md, code = nb.md, nb.code


md(r"""
# Background: over-parameterization and implicit regularization

A model with more parameters than data points can fit its training set in infinitely many ways.
Gradient descent nevertheless returns *one* of those fits, and which one it returns decides how
the model behaves on data it has not seen. This chapter sets up the question on the smallest
possible test bed, matrix completion and matrix sensing, and collects what was known before the
connectivity results of the rest of the book: a convex model fills the gaps with zeros, a
factorized model fills them with something low-rank, and for special measurements that something
is provably the minimum nuclear norm solution {cite}`gunasekar2017implicit`.
""")

md(r"""
**Learning goals.** After this chapter you can
- explain why an over-parameterized model needs an *implicit* bias to generalize;
- prove that gradient flow on the plain matrix $W$ returns the interpolant closest to its start;
- predict the small-initialization limit of $W = AB$ on the small examples of the chapter, and say
  how small the initialization must be before the limit shows;
- state the conjecture and the commuting-measurement theorem of Gunasekar et al. and check them
  against convex solutions;
- explain why the symmetric factorization $UU^\top$ covers the asymmetric one.

**Prerequisites.** Linear algebra (SVD, rank, positive semidefinite matrices) and gradient descent.
**Estimated time:** 45 minutes.
""")

code(INSTALL)

code(r"""
import numpy as np
import matplotlib.pyplot as plt
import mfbook
from mfbook import sensing
""")

md(r"""
## Many global minima

{cite:t}`zhang2017understanding` trained standard image classifiers on CIFAR-10 with the labels
replaced by random ones. The networks still reached zero training error: they have enough
parameters to memorize anything. Yet the same networks, trained on the true labels without any
explicit regularizer, generalize well. The set of parameters with zero training loss therefore
contains both excellent and useless models, and the training algorithm, not the loss, chooses
among them. That choice is called *implicit regularization*.

Matrix completion shows the same phenomenon in a setting small enough to compute everything. We
observe some entries of a matrix $M$ (positions $S_x$, $n = |S_x|$) and fit a model by the mean
squared error over the observed entries,

$$
R_S(W) = \frac1n \sum_{(i,j)\in S_x} (W_{ij} - M_{ij})^2 .
$$ (bg-loss)

Every matrix that agrees with $M$ on $S_x$ is a global minimum; the unobserved entries are free.
""")

md(r"""
## The convex model fills the gaps with its initial values

Take the matrix $W$ itself as the parameter. Then $R_S$ is a convex quadratic in $W$.

```{prf:proposition} Gradient flow on $W$ keeps the unobserved entries
:label: prop-bg-frobenius

Let $W(t)$ solve $\dot W = -\nabla R_S(W)$ from $W(0) = W_0$. Then $W_{ij}(t) = (W_0)_{ij}$ for every
unobserved $(i,j)$ and all $t$, and $W(t)$ converges to the interpolant closest to $W_0$ in Frobenius
norm, $\arg\min\{\|W - W_0\|_F : W_{ij} = M_{ij},\ (i,j) \in S_x\}$. From $W_0 = 0$ the unknowns are
filled with zeros ({cite}`gunasekar2017implicit`, {cite}`bai2024connectivity`).
```

```{prf:proof}
(Our derivation.) The gradient is $\nabla R_S(W) = \frac2n P_{S_x}(W - M)$, where $P_{S_x}$ zeroes the
unobserved entries. So an unobserved entry has zero velocity and never moves, and each observed
entry obeys $\dot W_{ij} = -\frac2n (W_{ij} - M_{ij})$, hence $W_{ij}(t) = M_{ij} + e^{-2t/n}((W_0)_{ij} - M_{ij}) \to M_{ij}$.
The limit agrees with $M$ on $S_x$ and with $W_0$ off it; any other interpolant differs from $W_0$ on
$S_x$ by the same amounts and possibly more off it, so the limit is the Frobenius-closest one.
```

Let us check this on the matrix $\begin{bmatrix} 1 & 2 & 3\\ \star & 4 & \star\\ \star & \star & 9\end{bmatrix}$ by
running gradient descent on $W$ itself (`depth=1` in `mfbook.gradient_descent`) from a random
$W_0$ of scale $0.5$, so that "keeps its initial values" is visible, and comparing with
`mfbook.min_frobenius`.
""")

code(r"""
THREE = "1 2 3; * 4 *; * * 9"
flat = mfbook.gradient_descent(THREE, init_scale=0.5, depth=1, lr=0.1, seed=0)
W0 = flat.W_path[0]
print("start W0:\n", np.round(W0, 3), "\nlearned W:\n", np.round(flat.W, 3))
""")

code(r"""
# claim C1
p = mfbook.Completion.parse(THREE)
assert np.allclose(flat.W[~p.mask], W0[~p.mask], atol=1e-12)          # unknowns never move
assert np.allclose(flat.W, mfbook.min_frobenius(THREE, W0=W0), atol=1e-4)  # limit = closest interpolant
assert np.allclose(mfbook.min_frobenius(THREE)[~p.mask], 0)             # from 0: unknowns are 0
""")

md(r"""
From zero, the convex model predicts $0$ for every missing entry: it has learned nothing about
them. Whatever structure the data have (here every observed entry fits the rank-one matrix
$vv^\top$ with $v = (1, 2, 3)$), the plain model ignores it.
""")

md(r"""
## The factorized model fills in structure

Now write $W = AB$ with square factors $A, B$ (full width, so the model can still express every
matrix) and train $A, B$ by gradient descent from a small random initialization of scale $\alpha$.
The loss is the same, the set of fitted matrices is the same, yet the answer is different.
""")

code(r"""
limit3 = mfbook.small_init_limit(THREE)
run3 = mfbook.gradient_descent(THREE, init_scale=1e-6, lr=0.1, seed=0)
print("small-init limit:\n", np.round(limit3.W, 4), "\nGD from 1e-6:\n", np.round(run3.W, 4))
""")

code(r"""
# claim C2
rank_one = np.outer([1, 2, 3], [1, 2, 3])
assert np.allclose(limit3.W, rank_one, atol=1e-6) and limit3.rank == 1
assert np.allclose(run3.W, rank_one, atol=1e-3)     # finite-alpha GD lands on it too
""")

md(r"""
The factorized model completes the matrix to the rank-one matrix $\begin{bmatrix}1&2&3\\2&4&6\\3&6&9\end{bmatrix}$.
Nothing in the loss asked for low rank: the preference comes from the parameterization together
with the small start. Two candidate descriptions of this preference are *minimum rank* and
*minimum nuclear norm* $\|W\|_* = \sum_k \sigma_k(W)$ (the convex surrogate of rank used in
compressed sensing of matrices {cite}`candes2009exact,recht2010guaranteed`). Here both give the same
matrix. The next examples, all from {cite}`bai2024connectivity`, pull them apart.
""")

md(r"""
## Four $2\times 2$ examples

| observed | small-init limit | min nuclear norm | min rank |
|---|---|---|---|
| $\begin{bmatrix}0&1\\2&\star\end{bmatrix}$ | $0$ | $0$ | (rank 2 always) |
| $\begin{bmatrix}1&2\\\star&3\end{bmatrix}$ | $1.5$ | $1.5$ | $1.5$ |
| $\begin{bmatrix}1&2\\3&\star\end{bmatrix}$ | $6$ | $1$ | $6$ |
| $\begin{bmatrix}1&2\\10&\star\end{bmatrix}$ | $20$ | $1$ | $20$ |

We compute the limit with `mfbook.small_init_limit` (the $\alpha \to 0$ path, chapter 4) and the
references with `min_nuclear_norm` (cvxpy) and `min_rank`.
""")

code(r"""
SMALL = {"0 1; 2 *": 0.0, "1 2; * 3": 1.5, "1 2; 3 *": 6.0, "1 2; 10 *": 20.0}
limits = {q: mfbook.small_init_limit(q) for q in SMALL}
nucs = {q: mfbook.min_nuclear_norm(q) for q in SMALL}
for q, lim in limits.items():
    miss = tuple(np.argwhere(~mfbook.Completion.parse(q).mask)[0])
    print(f"{q:10s} limit * = {lim.W[miss]:8.4f}   min-nuclear * = {nucs[q][miss]:7.4f}   rank {lim.rank}")
""")

md(r"""
The first example reaches its limit only slowly. Plain gradient descent (step $0.1$, seed $0$) from
$\alpha = 10^{-3}, 10^{-6}, \dots, 10^{-15}$:
""")

code(r"""
zero_fill = np.array([mfbook.gradient_descent("0 1; 2 *", init_scale=s, lr=0.1, seed=0).W[1, 1]
                      for s in 10.0 ** -np.arange(3, 16, 3)])
print(np.round(zero_fill, 5))
""")

code(r"""
# claim C3
assert abs(limits["0 1; 2 *"].W[1, 1]) < 1e-6 and abs(nucs["0 1; 2 *"][1, 1]) < 1e-4
assert np.all(np.diff(np.abs(zero_fill)) < 0) and 0.1 < zero_fill[0] < 0.4    # 0.23 at 1e-3 ...
assert np.all(np.abs(zero_fill[1:] / zero_fill[:-1]) < 0.2) and abs(zero_fill[-1]) < 1e-3   # ... /7 per factor 1000
""")

md(r"""
Each factor $1000$ in $\alpha$ divides the learned entry by about $7$ ($0.23$, $0.033$, $0.0048$, $0.0007$,
$0.0001$): the limit $0$ is approached, but only like a small power of the scale, about $\alpha^{0.28}$.
""")

code(r"""
# claim C4
assert abs(limits["1 2; * 3"].W[1, 0] - 1.5) < 1e-6 and limits["1 2; * 3"].rank == 1
""")

code(r"""
# claim C5
assert abs(limits["1 2; 3 *"].W[1, 1] - 6) < 1e-6
assert abs(nucs["1 2; 3 *"][1, 1] - 1) < 1e-3          # min nuclear norm would say 1: the limit is min rank
""")

md(r"""
So the limit is sometimes the minimum nuclear norm completion and sometimes the minimum rank one,
and the two disagree on $\begin{bmatrix}1&2\\3&\star\end{bmatrix}$. Chapter 2 explains the split by the
connectivity of the observed entries. First, a practical warning: the limit is a limit. At a finite
initialization scale the learned entry can be far from it.
""")

md(r"""
## How small is small?

We train $\begin{bmatrix}1&2\\10&\star\end{bmatrix}$ with the recipe of the authors' group (mean loss,
plain gradient descent, step $0.1$) from initialization scales $10^{-1}$ down to $10^{-12}$, five
seeds each, and plot the learned entry against the scale.
""")

code(r"""
scales = 10.0 ** -np.arange(1, 13)
learned = np.array([[mfbook.gradient_descent("1 2; 10 *", init_scale=s, lr=0.1, seed=k).W[1, 1]
                     for k in range(5)] for s in scales])
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.semilogx(scales, learned.mean(1), "o-", lw=2, label="gradient descent (mean of 5 seeds)")
ax.fill_between(scales, learned.min(1), learned.max(1), alpha=0.3, label="range over seeds")
ax.axhline(20, color="k", ls="--", lw=2, label="small-init limit")
ax.set_xlabel(r"init scale $\alpha$"); ax.set_ylabel("learned entry"); ax.invert_xaxis(); ax.legend(loc="center right");
print(np.round(learned.mean(1), 3))
""")

code(r"""
# claim C6
mean = learned.mean(1)
assert abs(limits["1 2; 10 *"].W[1, 1] - 20) < 1e-6
assert np.all(np.diff(mean) > 0) and np.all(mean < 20 + 1e-6)      # monotone approach from below
assert 8 < learned[2].min() and learned[2].max() < 12             # 8.5-10.9 at 1e-3 over seeds (authors: 11.10)
assert 16.5 < learned[5].min() and learned[5].max() < 19.5         # 17.1-18.7 at 1e-6 (authors: 19.02)
assert abs(mean[-1] - 20) < 1e-3                                   # limit reached by 1e-12
""")

md(r"""
At $\alpha = 10^{-3}$, a scale many would call small, the model predicts between $8.5$ and $11$
depending on the seed (the authors report $11.1$ and $19.0$ at $10^{-3}$ and $10^{-6}$; our seed $0$
gives $10.9$ and $18.7$), about half of the limit. The approach is slow: every factor $1000$ in $\alpha$ buys a few units. The
small-initialization *limit* is a statement about the shape of the loss landscape near the origin;
how close a given run gets depends on how long it lingers there.
""")

md(r"""
**Interactive demo.** *Question:* for which of the small examples does the learned completion
match the minimum nuclear norm one, and for which the minimum rank one? How does the answer move
with the initialization scale and the step size? Pick an example, set $\alpha$ and the step: the left panel shows the learned matrix, the right one its
singular values beside those of the two references.
""")

code(r"""
completion_examples = list(SMALL) + [THREE]
completion_scales, completion_lrs = [1e-1, 1e-3, 1e-6, 1e-9], [0.02, 0.1]
# every frame's training run and references, computed once here: a move of a slider then only draws
completion_runs = {(q, a, lr): mfbook.gradient_descent(q, init_scale=a, lr=lr, seed=0).W
                   for q in completion_examples for a in completion_scales for lr in completion_lrs}
completion_refs = {q: {"min nuclear": mfbook.min_nuclear_norm(q), "min rank": mfbook.min_rank(q)[1]}
                   for q in completion_examples}
completion_top = {q: 1.1 * max(np.linalg.norm(X, 2) for X in [*completion_refs[q].values(),
                               *(completion_runs[q, a, lr] for a in completion_scales for lr in completion_lrs)])
                  for q in completion_examples}     # one height per example for the singular values

def setup_completion():                  # what no control changes
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2), layout="constrained")
    mfbook.plotting.plot_matrix(np.zeros((2, 2)), ax=ax1, fmt="")
    ax2.set_xlabel("index $k$"); ax2.set_ylabel(r"$\sigma_k$")
    return fig

def draw_completion(fig, example="1 2; 10 *", init_scale=1e-3, lr=0.1):
    ax1, ax2 = fig.axes
    W = completion_runs[example, init_scale, lr]
    mfbook.plotting.plot_matrix(W, mfbook.Completion.parse(example), ax=ax1)
    for k, (name, X) in enumerate({"learned": W, **completion_refs[example]}.items()):
        sv = np.linalg.svd(X, compute_uv=False)
        ax2.bar(np.arange(sv.size) + 0.25 * (k - 1), sv, width=0.25, label=f"{name} ($\\|W\\|_*$ = {sv.sum():.2f})")
    ax2.set_xlim(-0.6, sv.size - 0.4); ax2.set_ylim(0, completion_top[example])   # change with the example only
    ax2.set_xticks(np.arange(sv.size), np.arange(1, sv.size + 1))
    ax2.legend(fontsize=7)

mfbook.widgets.interact(draw_completion, setup=setup_completion, example=completion_examples,
                        init_scale=completion_scales, lr=completion_lrs,
                        defaults={"example": "1 2; 10 *", "init_scale": 1e-3, "lr": 0.1})
""")

md(r"""
## Matrix sensing: the experiment of Gunasekar et al.

Completion observes entries; *sensing* observes linear measurements
$b_i = \langle A_i, X^\star\rangle = \mathrm{tr}(A_i^\top X^\star)$, $i = 1, \dots, m$ (an entry is the case
$A_i = e_j e_k^\top$). {cite:t}`gunasekar2017implicit` took $n = 50$, $m = 300$ Gaussian matrices $A_i$
and a rank-2 truth $X^\star$, and minimized

$$
F(X) = \frac1m \sum_{i=1}^m (\langle A_i, X\rangle - b_i)^2
$$ (bg-sensing)

either over $X$ directly or over factors $X = UV^\top$ with $U, V \in \mathbb R^{50\times 50}$. With
$m = 300 \ll n^2 = 2500$ there are countless global minima. Gradient descent on $X$ from $0$ again
returns the minimum Frobenius norm solution (the argument of {prf:ref}`prop-bg-frobenius` with
$P_{S_x}$ replaced by the projection on the span of the $A_i$). We run both (`mfbook.sensing`),
for the factorized model from four initialization scales at once, and track the training loss and
the relative test error $\|X - X^\star\|_F / \|X^\star\|_F$.
""")

code(r"""
gauss = sensing.gaussian_sensing(n=50, m=300, rank=2, seed=0)
plain = sensing.sensing_descent(gauss, "matrix", lr=0.05, steps=200, record_every=10)
fact = sensing.sensing_descent(gauss, "factorized", init_scale=[1e-2, 1e-5, 1e-9], lr=0.1, steps=1200,
                               record_every=20)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
ax1.semilogy(plain["step"], plain["train"][0], "k", lw=2, label="$X$")
ax2.plot(plain["step"], plain["test"][0], "k", lw=2, label="$X$")
for k, a in enumerate([1e-2, 1e-5, 1e-9]):
    ax1.semilogy(fact["step"], fact["train"][k], lw=2, label=fr"$UV^\top$, $\alpha$ = {a:g}")
    ax2.plot(fact["step"], fact["test"][k], lw=2, label=fr"$UV^\top$, $\alpha$ = {a:g}")
ax1.set_xlabel("step"); ax1.set_ylabel("training loss"); ax2.set_xlabel("step"); ax2.set_ylabel("relative test error")
ax2.legend(fontsize=7); fig.tight_layout()
print("final test errors: X", plain["test"][0, -1].round(3), " UV^T", fact["test"][:, -1].round(3))
""")

code(r"""
# claim C7
Amat = gauss.A.reshape(300, -1)
x_minF = np.linalg.lstsq(Amat, gauss.b, rcond=None)[0].reshape(50, 50)
assert plain["train"][0, -1] < 1e-10 and np.allclose(plain["X"][0], x_minF, atol=1e-6)   # X -> min Frobenius
assert plain["test"][0, -1] > 0.9                         # ... which has not learned X* at all
assert np.all(fact["train"][:, -1] < 1e-4)                # every factorized run also fits the data
assert fact["test"][-1, -1] < 0.3                         # smallest init: test error several times lower
assert np.all(np.diff(fact["test"][:, -1]) < 0)           # and the error falls as alpha shrinks
""")

md(r"""
Both models fit the 300 measurements. The plain model's answer is essentially unrelated to the
truth: the minimum Frobenius norm solution is the projection of $X^\star$ onto the span of the 300
measurement matrices, which for random directions keeps about a fraction $m/n^2 = 0.12$ of its squared
norm, so the relative error is near $\sqrt{1 - 0.12} \approx 0.94$. The factorized model from a small start gets far
closer, and the closer the smaller the start (from $\alpha = 10^{-2}$ it barely improves on the plain
model). We stop at 1200 steps to keep this page fast; the run from the smallest scale has not
finished fitting (its training loss is still falling), so its test error of about $0.08$ is an upper
bound for the end of training.
""")

md(r"""
**Interactive demo.** *Question:* how many measurements does the factorized model need to find a
rank-2 matrix, and does the answer depend on the initialization? A rank-2 $n\times n$ matrix has
$4n - 4$ degrees of freedom. To keep the demo instant we use $n = 20$ (76 degrees of freedom) and
precompute every run; the plain model's error is the dashed line.
""")

code(r"""
demo_scales, demo_ms = [1e-1, 1e-3, 1e-6], [40, 80, 120, 160, 240]
demo_problem = sensing.gaussian_sensing(n=20, m=max(demo_ms), rank=2, seed=1)
demo_runs = {m: (sensing.sensing_descent(demo_problem.subset(m), "factorized", init_scale=demo_scales,
                                         lr=0.05, steps=600, record_every=10),
                 sensing.sensing_descent(demo_problem.subset(m), "matrix", lr=0.02, steps=300, record_every=10))
             for m in demo_ms}

def setup_sensing():
    fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
    ax.set_yscale("log"); ax.set_xlim(-30, 630); ax.set_ylim(1e-8, 10); ax.set_xlabel("step")
    return fig

def draw_sensing(fig, m=160, init_scale=1e-6):
    fact_run, plain_run = demo_runs[m]
    k = demo_scales.index(init_scale)
    ax = fig.axes[0]
    ax.plot(fact_run["step"], fact_run["train"][k], lw=2, label="training loss")
    ax.plot(fact_run["step"], fact_run["test"][k], lw=2, label="test error")
    ax.axhline(plain_run["test"][0, -1], color="k", ls="--", lw=2, label="test error of $X$")
    ax.legend(fontsize=7)

mfbook.widgets.interact(draw_sensing, setup=setup_sensing, m=demo_ms, init_scale=demo_scales)
""")

md(r"""
## The conjecture, and the symmetric form

From experiments like this one, {cite:t}`gunasekar2017implicit` conjectured that with initialization
tending to $0$ and step size tending to $0$, gradient descent on the factorization converges to the
minimum nuclear norm solution $\arg\min\{\|X\|_* : \mathcal A(X) = b\}$.

They state it for the symmetric positive semidefinite model $X = UU^\top$, $F(UU^\top)$ with
symmetric $A_i$, and note that this covers the asymmetric model. The reason is a lift: stack the
factors as $W = \begin{bmatrix} U \\ V\end{bmatrix}$, so that

$$
WW^\top = \begin{bmatrix} UU^\top & UV^\top \\ VU^\top & VV^\top\end{bmatrix}, \qquad
\left\langle \tfrac12\begin{bmatrix} 0 & A_i \\ A_i^\top & 0\end{bmatrix}, WW^\top \right\rangle = \langle A_i, UV^\top\rangle .
$$ (bg-lift)

With the lifted measurements $\tilde A_i = \frac12\begin{bmatrix} 0 & A_i \\ A_i^\top & 0\end{bmatrix}$ the
symmetric loss *equals* the asymmetric one, $F(WW^\top) = F(UV^\top)$, so their gradients agree
and gradient descent on $W$ is gradient descent on $(U, V)$, step for step. (The slides of
{cite}`gunasekar2017implicit` write the lift without the $\frac12$; then the values must be doubled, and
the flow runs four times faster, which changes nothing about where it goes. The factor is our
bookkeeping.) We check it on a small random problem: the top-right block of the symmetric iterates
equals the asymmetric iterates.
""")

code(r"""
small = sensing.gaussian_sensing(n=6, m=10, rank=1, seed=2)
rng = np.random.default_rng(0)
U0, V0 = 0.1 * rng.standard_normal((6, 6)), 0.1 * rng.standard_normal((6, 6))
asym_path, _, _ = sensing.asymmetric_descent(small.A, small.b, U0, V0, lr=0.05, steps=400)
sym = sensing.symmetric_descent(sensing.lift_measurements(small.A), small.b, U0=np.vstack([U0, V0]),
                                lr=0.05, steps=400, record=True)
gap = np.abs(sym["path"][:, :6, 6:] - asym_path).max()
print(f"largest difference over 400 steps: {gap:.1e};  final loss {small.loss(asym_path[-1]):.1e}")
""")

code(r"""
# claim C10
assert gap < 1e-12 * max(1, np.abs(asym_path).max())            # the same iterates, to rounding
assert small.loss(asym_path[-1]) < 1e-3 * small.loss(asym_path[0])  # and the run does real work
""")

md(r"""
## A theorem for commuting measurements

```{prf:theorem} Commuting measurements
:label: thm-bg-commuting

Let the symmetric measurements commute, $A_iA_j = A_jA_i$, and let $U_\infty(\alpha)$ be the limit of
gradient flow on $F(UU^\top)$ from $U_0 = \alpha I$. If $\bar X = \lim_{\alpha\to0} U_\infty(\alpha)U_\infty(\alpha)^\top$
exists and fits the data, $\mathcal A(\bar X) = b$, then $\bar X$ is the minimum nuclear norm PSD solution
{cite}`gunasekar2017implicit`.
```

The proof idea: with $r_t = \mathcal A(U_tU_t^\top) - b$ and $\mathcal A^*(r) = \sum_i r_iA_i$, the flow
gives $\dot X_t = -(\mathcal A^*(r_t)X_t + X_t\mathcal A^*(r_t))$ (up to the constant of the loss). When the
$A_i$ commute, so do all $\mathcal A^*(r)$, and the solution is explicit,
$X_t = \exp(-\mathcal A^*(s_t))\,U_0U_0^\top \exp(-\mathcal A^*(s_t))$ with $s_t = \int_0^t r_\tau\,d\tau$. For
$U_0 = \alpha I$ this is $\exp(-2\mathcal A^*(s_t) + 2\log\alpha\, I)$; the scaled multipliers $s_\infty / \log\alpha$
then supply, as $\alpha \to 0$, a dual certificate for the nuclear norm program.

Commuting symmetric matrices share an eigenbasis, so we build them that way:
$A_i = Q\,\mathrm{diag}(d_i)\,Q^\top$ with one random orthogonal $Q$ (`sensing.commuting_measurements`,
$n = 8$, $m = 4$, Gaussian $d_i$), run gradient descent with a small step from $U_0 = \alpha I$, and compare
with $\arg\min\{\mathrm{tr}\,X : X \succeq 0,\ \mathcal A(X) = b\}$ solved by cvxpy (for PSD matrices the
nuclear norm is the trace).
""")

code(r"""
A_c, b_c, Q, D = sensing.commuting_measurements(n=8, m=4, seed=0)
X_nn = sensing.min_nuclear_norm_psd(A_c, b_c)
sym_runs = {a: sensing.symmetric_descent(A_c, b_c, init_scale=a, lr=0.05, steps=20000) for a in (1e-2, 1e-4, 1e-6)}
commute = max(np.abs(A_c[i] @ A_c[j] - A_c[j] @ A_c[i]).max() for i in range(4) for j in range(4))
for a, r in sym_runs.items():
    print(f"alpha {a:g}: loss {r['loss']:.1e}, max |X - X_nn| = {np.abs(r['X'] - X_nn).max():.1e}")
""")

code(r"""
# claim C8
assert commute < 1e-12
errs = [np.abs(r["X"] - X_nn).max() for r in sym_runs.values()]
assert all(r["loss"] < 1e-6 for r in sym_runs.values())       # all fit (8e-9 at alpha = 1e-2)
assert errs[-1] < 1e-5 and errs[0] > errs[-1]                  # converges to the cvxpy solution as alpha -> 0
x_frob = np.linalg.lstsq(A_c.reshape(4, -1), b_c, rcond=None)[0].reshape(8, 8)
assert np.abs(x_frob - X_nn).max() > 0.1                       # while another solution is far away
""")

md(r"""
In the shared eigenbasis everything is diagonal: $Q^\top X_t Q$ stays diagonal along the flow, and
its diagonal $x$ solves a *vector* problem. That is the corollary.

```{prf:corollary} Non-negative least squares and $\ell_1$
:label: cor-bg-l1

For $\min_{x \ge 0}\|Dx - b\|^2$ parameterized as $x = u\odot u$, gradient flow from $u_0 = \alpha\mathbf 1$ converges,
as $\alpha \to 0$ (and if the limit fits the data), to $\arg\min\{\|x\|_1 : Dx = b,\ x\ge 0\}$
{cite}`gunasekar2017implicit`.
```

We solve the linear program with `scipy.optimize.linprog` and compare.
""")

code(r"""
x_l1 = sensing.min_l1_nonnegative(D, b_c)
alphas = [1e-2, 1e-4, 1e-6]
x_gd, loss_gd = sensing.hadamard_descent(D, b_c, init_scale=alphas, lr=0.05, steps=20000)
x_l2 = np.linalg.pinv(D) @ b_c
print("min l1 :", np.round(x_l1, 4), "\nu (.) u:", np.round(x_gd[-1], 4), "\nmin l2 :", np.round(x_l2, 4))
""")

code(r"""
# claim C9
gaps = np.abs(x_gd - x_l1).max(1)
assert np.all(loss_gd < 1e-6) and np.all(np.diff(gaps) < 0) and gaps[-1] < 1e-6
assert np.count_nonzero(x_gd[-1] > 1e-6) == np.count_nonzero(x_l1 > 1e-6) == 2   # sparse
assert np.allclose(np.diag(Q.T @ X_nn @ Q), x_l1, atol=1e-4)                     # the matrix case, diagonalized
""")

md(r"""
The product parameterization turns gradient descent into a sparse solver: $u\odot u$ picks the
two-sparse solution, while the minimum $\ell_2$ solution spreads over all coordinates.
""")

md(r"""
## Where the conjecture stops being the whole story

Entry observations $E_{jk} = e_je_k^\top$ almost never commute, and they are far from satisfying the
restricted isometry property (RIP) under which small-initialization gradient descent is known to
find low-rank solutions in sensing (see {cite}`jin2023understanding` for a fine-grained analysis). The small examples above show that neither hypothesis is what decides the
outcome:
- $\begin{bmatrix}0&1\\2&\star\end{bmatrix}$ and $\begin{bmatrix}1&2\\\star&3\end{bmatrix}$: the
  measurements do not commute, yet gradient descent finds the minimum nuclear norm completion;
- $\begin{bmatrix}1&2\\3&\star\end{bmatrix}$ and $\begin{bmatrix}1&2\\10&\star\end{bmatrix}$: there is no RIP
  (a single entry measurement cannot control a rank-one matrix's norm), yet gradient descent finds
  the minimum *rank* completion, which is *not* the minimum nuclear norm one.

{cite:t}`li2021towards` gave counterexamples to the nuclear norm conjecture itself, and
{cite:t}`arora2019implicit` and {cite:t}`razin2020implicit` argued that norms may not be the right
language at all. What separates the first pair from the second pair is the pattern of observed
entries: the zero in $\begin{bmatrix}0&1\\2&\star\end{bmatrix}$ is not informative, and its graph of
observations falls apart, while the other examples are connected. Chapter 2 makes this precise
{cite}`bai2024connectivity`.
""")

md(r"""
## Exercises

```{exercise} The minimum Frobenius fill
:label: ex-bg-frobenius

Show that for matrix completion, $\arg\min\{\|W - W_0\|_F : W_{ij} = M_{ij}\ \forall (i,j)\in S_x\}$ takes
$W_{ij} = M_{ij}$ on $S_x$ and $(W_0)_{ij}$ elsewhere, and that for sensing with $W_0 = 0$ the answer is
$X = \mathcal A^*(\nu)$ for the $\nu$ solving $\mathcal A\mathcal A^*(\nu) = b$.
```

```{solution} ex-bg-frobenius
:class: dropdown

The objective is a sum of squares over entries and the constraints fix the entries on $S_x$, so the
problem separates entry by entry: on $S_x$ there is no choice, off $S_x$ the best choice is
$(W_0)_{ij}$. For sensing, the minimum norm solution of the linear system $\mathcal A(X) = b$ lies in the
row space of $\mathcal A$, i.e. $X = \mathcal A^*(\nu) = \sum_i \nu_iA_i$; substituting gives
$\mathcal A\mathcal A^*(\nu) = b$. (Gradient descent from $0$ never leaves that span, since every gradient
is $\frac2m\mathcal A^*(r)$.)
```

```{exercise} Minimum nuclear norm by hand
:label: ex-bg-nuclear

Find the minimum nuclear norm completion of $\begin{bmatrix}0&1\\2&\star\end{bmatrix}$. Hint: for a
$2\times2$ matrix, $\|W\|_*^2 = \|W\|_F^2 + 2|\det W|$.
```

```{solution} ex-bg-nuclear
:class: dropdown

The hint holds because $\|W\|_*^2 = (\sigma_1+\sigma_2)^2 = \sigma_1^2 + \sigma_2^2 + 2\sigma_1\sigma_2$. With the
missing entry $x$: $\|W\|_F^2 = 5 + x^2$ and $\det W = -2$, so $\|W\|_*^2 = 9 + x^2$, smallest at $x = 0$
with $\|W\|_* = 3$. This is what gradient descent finds from small initialization. The same formula
for $\begin{bmatrix}1&2\\3&x\end{bmatrix}$ gives $\|W\|_*^2 = 14 + x^2 + 2|x - 6|$, minimized at $x = 1$
(value $5$), while gradient descent returns the rank-one $x = 6$ ($\|W\|_* = \sqrt{50} \approx 7.07$).
```

```{exercise} Sparse recovery needs small initialization
:label: ex-bg-sparse

Computational. With `sensing.commuting_measurements(n=8, m=4, seed=0)` and
`sensing.hadamard_descent`, plot $\|u\odot u - x_{\ell_1}\|_\infty$ against $\alpha$ for
$\alpha = 10^{-1}, \dots, 10^{-6}$. How does the error scale with $\alpha$? What happens at $\alpha = 1$?
```

```{solution} ex-bg-sparse
:class: dropdown

One way to do it:

    A, b, Q, D = sensing.commuting_measurements(n=8, m=4, seed=0)
    x_l1 = sensing.min_l1_nonnegative(D, b)
    alphas = 10.0 ** -np.arange(1, 7)
    x, loss = sensing.hadamard_descent(D, b, init_scale=alphas, lr=0.05, steps=20000)
    plt.loglog(alphas, np.abs(x - x_l1).max(1), "o-")

In our runs the error is about $3\times 10^{-4}$ at $\alpha = 10^{-2}$, $3\times10^{-7}$ at $10^{-4}$ and
$10^{-10}$ at $10^{-6}$: three decades of error for every two decades of $\alpha$, a power law close to
$\alpha^{1.5}$. With $\alpha = 1$ the solution is dense and the $\ell_1$ bias is gone: large
initialization behaves more like the minimum $\ell_2$ solution.
```
""")

md(r"""
## Summary

- Over-parameterized models have many global minima; the training algorithm chooses one, and that
  implicit choice decides generalization {cite}`zhang2017understanding`.
- Gradient flow on the plain matrix $W$ only moves observed entries: it returns the interpolant
  closest to the start, zeros from $0$.
- The factorized model $W = AB$ from small initialization fills in structure: rank one on the
  $3\times3$ example, and on $2\times2$ examples sometimes the minimum nuclear norm and sometimes the
  minimum rank completion. The limit may need a very small start ($\approx 11$ instead of $20$ at $\alpha = 10^{-3}$).
- In Gaussian sensing the factorized model generalizes where the plain one does not; for commuting
  measurements the limit is provably the minimum nuclear norm PSD solution, and for $u\odot u$ the
  minimum $\ell_1$ solution {cite}`gunasekar2017implicit`.
- Neither commutation nor RIP explains the completion examples; connectivity does (chapter 2).
""")

nb.write(Path(__file__).resolve().parents[1] / "chapters" / "01_background.ipynb")
