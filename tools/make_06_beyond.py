"""Generate chapters/06_beyond.ipynb (stored without outputs).

Run from the repository root:  .venv/bin/python tools/make_06_beyond.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _nbgen import INSTALL, NB  # noqa: E402

nb = NB()
md, code = nb.md, nb.code

md(r"""
# Beyond matrices: deeper factorizations and a single neuron

Chapters 1 to 5 studied one model, $W = AB$, and found that a small initialization steers gradient
descent to low rank when the observations are connected and to low nuclear norm when they split into
complete blocks {cite}`bai2024connectivity`. Does any of this survive when the model changes? This
chapter looks at two changes. First we add factors, $W = F_1F_2\cdots F_N$: depth makes the pull
towards low rank stronger {cite}`arora2019implicit`, strong enough that no norm can describe it
{cite}`razin2020implicit`. Then we leave linear models and train a two-neuron $\tanh$ network on
samples of a single neuron, where the initialization scale, one ratio computed at the start, and the
number of samples decide whether the target is recovered exactly {cite}`zhao2024disentangle`.
""")

md(r"""
**Learning goals.** After this chapter you can
- state how the singular values of a depth-$N$ product move, and check the formula on a training run;
- show that depth 3 finds the rank-1 completion of the disconnected $3\times3$ example of Chapter 5,
  which depth 2 misses;
- explain the Razin-Cohen example, where the rank falls while every norm grows;
- compute the initial imbalance ratio of a two-layer $\tanh$ network and predict from it which function
  a small initialization learns;
- read the sample-size thresholds of the single-neuron problem (3, then 4 to 5, then 6) from experiments;
- describe what "low model rank" means for a nonlinear model.

**Prerequisites.** Chapter 1 (small initialization, the factorized model), Chapter 2 (connectivity),
Chapter 4 (saddle-to-saddle dynamics), Chapter 5 (the $3\times3$ example and the two biases).

**Estimated time.** 60 minutes.
""")

code(INSTALL)

code(r"""
import numpy as np
import matplotlib as mpl
import matplotlib.pyplot as plt
import mfbook
from mfbook import deep, neurons as nn

THREE = "1 * 3; * 5 *; 3 * 9"      # disconnected (Chapter 5): depth 2 learns rank 2
RAZIN = "* 1; 1 0"                 # Razin & Cohen: the observed zero is part of the loss


def target(x):
    return np.tanh(x + 1)          # the single neuron a = 1, w = 1, b = 1


GRID = np.linspace(-2, 2, 201)     # test points
""")

# ---------------------------------------------------------------- depth
md(r"""
## Depth: a stronger pull towards low rank

Give the factorized model more factors, $W = F_1F_2\cdots F_N$, every entry started at
$\alpha\,\mathcal N(0,1)$ (`depth=N` in `mfbook.gradient_descent`). The set of matrices the model can
represent does not change, but the training dynamics do. Each singular value of $W$ is a product of
$N$ factor singular values; when all of them grow together, a large one grows much faster than a
small one. Depth therefore rewards directions that are already large and starves the others.

```{prf:theorem} Singular values of a deep product
:label: thm6-arora

Let the factors be balanced, $F_k^\top F_k = F_{k+1}F_{k+1}^\top$ for $k = 1, \dots, N-1$ (gradient flow
keeps these differences constant, so a start near zero is balanced up to $O(\alpha^2)$). Write
$W = \sum_r \sigma_r u_r v_r^\top$. Under gradient flow on $R_S$,
$$
\dot\sigma_r \;=\; -N\,\sigma_r^{\,2 - 2/N}\;u_r^\top\,\nabla_W R_S(W)\,v_r .
$$

({cite:t}`arora2019implicit`, Theorem 3.)
```

For $N = 1$ the factor $\sigma_r^{0}$ is 1: every direction moves at the speed of its gradient. For
$N = 2$ the speed is proportional to $\sigma_r$, which is the exponential escape of Chapter 4. For
$N \ge 3$ the exponent $2 - 2/N$ exceeds 1: a singular value that is ten times larger moves more than
ten times faster, and a tiny one hardly moves at all.

We check the formula on the $3\times3$ example at depth 3. `mfbook.deep.singular_value_velocity` computes
$\dot\sigma_r = u_r^\top\dot W v_r$ exactly from the factors and compares it with the right-hand side
above, at several moments of one run from $\alpha = 0.05$ (each moment is a rerun with the same seed
stopped after a given number of steps).
""")
code(r"""
checks = []
for steps in (40, 68, 70, 75, 80):
    run = mfbook.gradient_descent(THREE, init_scale=0.05, depth=3, lr=0.05, max_steps=steps, tol=0, seed=0)
    sigma, exact, predicted = deep.singular_value_velocity(run.factors, THREE)
    checks.append((steps, sigma[0], exact[0], predicted[0]))
    print(f"step {steps:4d}: sigma_1 = {sigma[0]:8.4f}   exact d(sigma_1)/dt = {exact[0]:10.5f}   formula = {predicted[0]:10.5f}")
""")
code(r"""
# claim C30
grown = [c for c in checks if c[1] > 0.1]                # sigma_1 has left the initial scale ...
for steps, s1, exact, predicted in grown:
    assert abs(exact - predicted) < 1e-3 * abs(exact)  # ... and moves as Arora et al. predict
assert len(grown) == 4 and grown[-1][1] > 20 * grown[0][1]   # over a stretch where it grows twentyfold
assert abs(checks[0][2] - checks[0][3]) > 0.01 * abs(checks[0][2])   # before that, the imbalance still shows
""")
md(r"""
Once $\sigma_1$ has left the scale of the initialization, the formula holds to better than $10^{-3}$
(relative), while $\sigma_1$ grows from about $0.2$ to $11$. At step 40, still near the start, the two differ
by several percent: there the $O(\alpha^2)$ imbalance of the random start is not yet negligible.
""")

md(r"""
### Depth 3 finds the rank-1 completion that depth 2 misses

In Chapter 5 the disconnected problem
$\begin{bmatrix}1&\star&3\\\star&5&\star\\3&\star&9\end{bmatrix}$ ended at rank 2 for every seed, although a
rank-1 completion ($W_{12} = \pm\sqrt5$) exists. The reason was that, with $W_{ij} = a_i^\top b_j$, the two
components of the observation graph use disjoint rows of $A$ and columns of $B$ and never interact.
With three factors, $W_{ij} = a_i^\top F_2\, b_j$: the middle factor is shared by every entry, so the
components are coupled. We train depth 2, 3 and 4 from the same scale $\alpha = 0.1$ and four seeds and
compare the learned singular values and the effective rank {cite}`roy2007effective`
$\exp(-\sum_r p_r\log p_r)$ with $p_r = \sigma_r/\sum_s\sigma_s$, which {cite:t}`arora2019implicit` use to
compare depths.
""")
code(r"""
depth_runs = {(N, s): mfbook.gradient_descent(THREE, init_scale=0.1, depth=N, lr=0.03, max_steps=6000, tol=1e-7, seed=s)
              for N in (2, 3, 4) for s in range(4)}
sv_end = {key: np.linalg.svd(run.W, compute_uv=False) for key, run in depth_runs.items()}
fig, ax = plt.subplots(figsize=(6, 3.2))
for i, N in enumerate((2, 3, 4)):
    for s in range(4):
        ax.semilogy(np.arange(1, 4) + 0.07 * (s - 1.5), np.maximum(sv_end[N, s], 1e-8), "o", color=f"C{i}",
                    label=f"depth {N}" if s == 0 else None)
ax.set_xticks([1, 2, 3]); ax.set_xlabel("index $r$"); ax.set_ylabel(r"$\sigma_r$ of the learned $W$"); ax.legend()
for N in (2, 3, 4):
    print(f"depth {N}: effective ranks", [round(float(deep.effective_rank(depth_runs[N, s].W)), 4) for s in range(4)],
          " W12:", [round(depth_runs[N, s].W[0, 1], 3) for s in range(4)])
""")
code(r"""
# claim C30
three = mfbook.Completion.parse(THREE)
for s in range(4):
    assert all(three.fits(depth_runs[N, s].W, atol=1e-2) for N in (2, 3, 4))      # all fit the data
    assert sv_end[2, s][1] > 0.1 * sv_end[2, s][0]                              # depth 2: rank 2 ...
    assert deep.effective_rank(depth_runs[2, s].W) > 1.3
    for N in (3, 4):                                                            # ... depth 3 and 4: rank 1
        assert sv_end[N, s][1] < 1e-3 * sv_end[N, s][0]
        assert deep.effective_rank(depth_runs[N, s].W) < 1.005
        assert abs(abs(depth_runs[N, s].W[0, 1]) - np.sqrt(5)) < 0.05            # W12 = +-sqrt(5)
""")
md(r"""
Depth 2 stops at rank 2 with effective rank between about 1.4 and 1.9, as in Chapter 5. Depth 3 and depth 4
learn a rank-1 matrix for every seed (effective rank within $0.005$ of 1); the hidden entries are close to
$\pm\sqrt5$ and $\pm3\sqrt5$. The second singular value is not exactly zero: it decays slowly, because at
depth $N\ge3$ a small $\sigma_r$ moves with speed $\sigma_r^{2-2/N}$, a higher power than $\sigma_r$ itself. The
connectivity picture of this book is a statement about depth 2: the coupling through a shared middle
factor is exactly what the decoupling argument of Chapter 3 rules out for $W = AB$.

**Try it.** Before you move the sliders, predict: for a smaller $\alpha$, does depth 3 or depth 4 wait
longer on the first plateau? The figure shows the singular values of $W$ during training.
""")
code(r"""
ALPHAS = [0.3, 0.1, 0.05]
paths = {(N, a): mfbook.gradient_descent(THREE, init_scale=a, depth=N, lr=0.03, max_steps=6000, tol=1e-7,
                                         seed=0, record_every=20)
         for N in (2, 3, 4) for a in ALPHAS}

def setup_depth():                  # what no slider changes
    fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    ax.set_yscale("log"); ax.set_ylim(1e-9, 50); ax.set_xlim(0, 180)
    ax.set_xlabel("time $t$ (steps x lr)"); ax.set_ylabel("singular value")
    ax.legend(handles=[mpl.lines.Line2D([], [], color=f"C{r}", lw=2, label=rf"$\sigma_{r + 1}(W)$") for r in range(3)],
              loc="upper left", bbox_to_anchor=(1, 1))
    return fig

def draw_depth(fig, depth, alpha):  # what they change: the three curves of one run
    run, ax = paths[depth, alpha], fig.axes[0]
    for r in range(3):
        ax.plot(run.t, np.maximum(run.sv_W[:, r], 1e-12), lw=2, color=f"C{r}")

mfbook.widgets.interact(draw_depth, setup=setup_depth, depth=[2, 3, 4], alpha=ALPHAS, defaults={"depth": 3})
""")
md(r"""
At depth 2 the second singular value rises to about 4 (the second component is fitted by its own
direction). At depth 3 and 4 it stays at the level of the initialization and then decays: the first
direction fits both components. Smaller $\alpha$ lengthens the first plateau, and more so for deeper
models, because the initial product is of size $\alpha^N$.
""")

# ---------------------------------------------------------------- Razin & Cohen
md(r"""
### Rank falls while every norm grows

Could the stronger bias still be a norm in disguise, perhaps a quasi-norm that interpolates between
the nuclear norm and the rank? {cite:t}`razin2020implicit` answered no with a $2\times2$ example:
$$
M = \begin{bmatrix}\star & 1\\ 1 & 0\end{bmatrix}.
$$
Every completion has $\det W = W_{11}\cdot 0 - 1\cdot1 = -1$, so no completion has rank 1, and the
completions of smallest norm (for any norm that grows with $|W_{11}|$) are near $W_{11} = 0$. Now train a
depth-3 model. The determinant of the product is $\prod_k\det F_k$, and gradient flow cannot move a
factor through a singular matrix without first shrinking it to nothing, so in practice $\det W$ keeps
its sign. If it starts positive it stays positive, and then fitting the two ones and the zero forces
$W_{11}W_{22} > 1$ with $W_{22}\to0$: $|W_{11}|$ must grow without bound. The loss still goes to zero, the
matrix approaches rank 1 (its second singular value goes to zero), and every norm diverges
({cite:t}`razin2020implicit` prove this for gradient flow from a balanced start with $\det W > 0$).

We follow their recipe at small scale: depth 3, $\alpha = 8\cdot10^{-3}$, a seed whose initial
product has positive determinant, plain gradient descent.
""")
code(r"""
razin = mfbook.gradient_descent(RAZIN, init_scale=8e-3, depth=3, lr=0.05, max_steps=24000, tol=0, seed=0,
                                record_every=200)
dets = np.linalg.det(razin.W_path)
sv = razin.sv_W
checkpoints = [np.searchsorted(razin.t, T) for T in (100, 200, 400, 800, 1200)]
for i in checkpoints:
    W = razin.W_path[i]
    print(f"t = {razin.t[i]:6.0f}: W11 = {W[0, 0]:7.3f}  W22 = {W[1, 1]:.5f}  loss = {razin.loss[i]:.2e}  "
          f"||W||_F = {np.linalg.norm(W):7.3f}  ||W||_* = {sv[i].sum():7.3f}  sigma2/sigma1 = {sv[i, 1] / sv[i, 0]:.2e}")
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
ax[0].plot(razin.t, np.abs(razin.W_path[:, 0, 0]), lw=2, label=r"$|W_{11}|$")
ax[0].plot(razin.t, sv.sum(axis=1), lw=2, ls="--", label=r"$\|W\|_*$")
ax[0].set_xlabel("time $t$"); ax[0].set_ylabel("size"); ax[0].legend()
ax[1].loglog(razin.t[1:], razin.loss[1:], lw=2, label="loss $R_S$")
ax[1].loglog(razin.t[1:], sv[1:, 1] / sv[1:, 0], lw=2, label=r"$\sigma_2/\sigma_1$")
ax[1].set_xlabel("time $t$"); ax[1].legend()
fig.tight_layout()
""")
code(r"""
# claim C30
assert dets[0] > 0 and np.all(dets > 0)                                    # the determinant keeps its sign
W_cp = razin.W_path[checkpoints]
assert np.all(np.diff(np.abs(W_cp[:, 0, 0])) > 0.2)                        # |W11| keeps growing ...
assert np.all(np.diff(np.linalg.norm(W_cp, axis=(1, 2))) > 0.2)           # ... and so do the Frobenius,
assert np.all(np.diff(sv[checkpoints].sum(axis=1)) > 0.2)                  # nuclear
assert np.all(np.diff(sv[checkpoints, 0]) > 0.2)                           # and spectral norms
ratio = sv[checkpoints, 1] / sv[checkpoints, 0]
assert np.all(np.diff(ratio) < 0) and ratio[-1] < 2e-3                     # while the rank falls towards 1
assert np.all(np.diff(razin.loss[checkpoints]) < 0) and razin.loss[checkpoints[-1]] < 1e-3   # and the loss falls
assert np.all(np.abs(W_cp[-2:, 0, 0] * W_cp[-2:, 1, 1] - 1) < 0.01)       # W22 ~ 1/W11: the zero is fitted only as W11 grows
""")
md(r"""
The loss falls, the ratio $\sigma_2/\sigma_1$ falls (after the escape it is below $10^{-8}$: the learned matrix
is rank 1 to many digits, $W \approx \begin{bmatrix}W_{11} & 1\\ 1 & 1/W_{11}\end{bmatrix}$), and $|W_{11}|$, $\|W\|_F$, $\|W\|_*$ and $\|W\|_2$ all grow
together. No norm is being minimized here: the implicit bias of depth is towards low rank itself. In
the language of this book, the flow escapes towards the rank-1 "completion at infinity" and never
comes back to the rank-2 completions with finite norm.
""")

# ---------------------------------------------------------------- single neuron
md(r"""
## A single neuron: initialization, imbalance, sample size

Now a nonlinear model. The network has two neurons,
$$
f_\theta(x) = a_1\tanh(w_1x + b_1) + a_2\tanh(w_2x + b_2),\qquad \theta = (a_1, w_1, b_1, a_2, w_2, b_2)\in\mathbb R^6,
$$
and the data are $n$ samples of the single neuron $f^*(x) = \tanh(x + 1)$ at evenly spaced points of
$[-2, 2]$. The loss is the mean squared error, the training full-batch gradient descent with step
$0.5$ from $\theta_0 = \alpha\,\mathcal N(0, I)$, as in {cite:t}`zhao2024disentangle`. The network
*recovers* the target when it equals $f^*$ as a function, not only on the samples. We call `mfbook.neurons`,
which trains whole batches of such networks at once (one array axis for the runs; each run may have
its own data set).

The target can be written in many ways: one neuron equal to $(1, 1, 1)$ and the other silent
($a_2 = 0$, or $w_2 = b_2 = 0$), or both neurons equal to $(\cdot, 1, 1)$ with $a_1 + a_2 = 1$ (and the
mirror images, since $\tanh$ is odd). How many samples pin it down?

```{prf:definition} Model rank and optimistic sample size
:label: def6-model-rank

The *model rank* of $f_\theta$ at $\theta$ is the rank of the map $\delta\theta \mapsto
\frac{\partial f_\theta}{\partial\theta}\delta\theta$ into functions: the number of independent ways in which the
output can move. The *optimistic sample size* of a target is the smallest model rank over all
parameters that represent it {cite}`zhang2023optimistic`: the fewest samples with which recovery can
be hoped for.
```

For $\tanh(x + 1)$ the silent second neuron with $w_2 = b_2 = 0$ and the split $a_1 + a_2 = 1$ both give model
rank 3 (the three parameters of one neuron), a silent neuron with generic $(w_2, b_2)$ gives 4, and a generic $\theta$ gives 6.
`mfbook.neurons.model_rank` computes the rank of the Jacobian on a fine grid.
""")
code(r"""
dense = np.linspace(-3, 3, 61)
rep = {"silent, w2 = b2 = 0": nn.TwoLayer(np.array([[1.0, 0.0]]), np.array([[[1.0], [0.0]]]), np.array([[1.0, 0.0]])),
       "silent, a2 = 0": nn.TwoLayer(np.array([[1.0, 0.0]]), np.array([[[1.0], [0.7]]]), np.array([[1.0, -0.4]])),
       "split, a1 + a2 = 1": nn.TwoLayer(np.array([[0.3, 0.7]]), np.array([[[1.0], [1.0]]]), np.array([[1.0, 1.0]]))}
ranks = {name: int(nn.model_rank(net, dense)[0]) for name, net in rep.items()}
generic = nn.model_rank(nn.init_two_layer(20, 2, 1, 1.0, seed=0), dense)
print(ranks, " generic parameters:", set(generic.tolist()))
""")
code(r"""
# claim C31
for net in rep.values():
    assert nn.function_error(net, target, dense)[0] < 1e-28      # all three represent the target
assert min(ranks.values()) == 3 and ranks["silent, a2 = 0"] == 4   # optimistic sample size 3
assert np.all(generic == 6)
""")

md(r"""
### Smaller initialization generalizes better

We train 50 networks for each of four initialization scales, on $n = 3$ and on $n = 4$ samples, in one
batch, and measure the test error $\frac{1}{201}\sum_k (f_\theta(x_k) - f^*(x_k))^2$ on 201 points of $[-2, 2]$.
""")
code(r"""
SCALES, SEEDS, SIZES = [1.0, 0.3, 0.1, 0.01], 50, (3, 4)
X = np.zeros((len(SIZES), 4)); mask = np.zeros((len(SIZES), 4), bool)
for i, n in enumerate(SIZES):
    X[i, :n], mask[i, :n] = np.linspace(-2, 2, n), True
per_size = len(SCALES) * SEEDS
Xr, mr = np.repeat(X, per_size, axis=0)[:, :, None], np.repeat(mask, per_size, axis=0)
alpha_r = np.tile(np.repeat(SCALES, SEEDS), len(SIZES))
start = nn.init_two_layer(len(alpha_r), 2, 1, alpha_r, seed=0)
trained = nn.train_two_layer(start, Xr, target(Xr[..., 0]), lr=0.5, max_steps=5000, tol=1e-14, sample_mask=mr)
test_err = nn.function_error(trained, target, GRID).reshape(len(SIZES), len(SCALES), SEEDS)
mean_err = test_err.mean(axis=2)
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for i, n in enumerate(SIZES):
    ax.loglog(SCALES, mean_err[i], "o-", lw=2, label=f"n = {n}")
ax.invert_xaxis(); ax.set_xlabel(r"initialization scale $\alpha$"); ax.set_ylabel("mean test error"); ax.legend()
print("mean test error:", {n: dict(zip(SCALES, mean_err[i].round(8))) for i, n in enumerate(SIZES)})
""")
code(r"""
# claim C31
assert np.all(trained.loss < 1e-6)                               # every run fits its samples
assert np.all(np.diff(mean_err[0]) < 0)                           # n = 3: better at every smaller scale
for i in range(len(SIZES)):
    assert mean_err[i, 0] > 30 * mean_err[i, 2:].max()            # alpha = 1 is far worse than alpha <= 0.1
""")
md(r"""
All runs fit their samples, but a large initialization often fits them with a function that wanders
off between the samples; the mean test error falls by two or more orders of magnitude as $\alpha$
goes from 1 to 0.1. At $n = 3$ it keeps falling down to $\alpha = 0.01$.

**Try it.** Which seeds go wrong at $\alpha = 1$, and does the same seed go wrong at $\alpha = 0.01$?
(The initial direction is the same for every scale.)
""")
code(r"""
pred = nn.two_layer_predict(trained, GRID).reshape(len(SIZES), len(SCALES), SEEDS, -1)
LEARNED_AND_SAMPLES = [mpl.lines.Line2D([], [], lw=2, color="C0", label="learned"),     # legend entries
                       mpl.lines.Line2D([], [], ls="", marker="o", color="C3", ms=8, label="samples")]

def setup_init():                   # the axes and the target, which no slider changes
    fig, ax = plt.subplots(figsize=(5.5, 3.2), layout="constrained")
    ax.plot(GRID, target(GRID), color="gray", lw=4, alpha=0.5, label=r"target $\tanh(x + 1)$")
    ax.set_xlim(GRID[0] - 0.2, GRID[-1] + 0.2); ax.set_ylim(-1.6, 1.6)
    ax.set_xlabel("$x$"); ax.set_ylabel("$f(x)$")
    ax.legend(handles=[*ax.lines, *LEARNED_AND_SAMPLES], loc="lower right")
    return fig

def draw_init(fig, n, alpha, seed):  # one learned function, its samples and its test error
    i, j = SIZES.index(n), SCALES.index(alpha)
    x = np.linspace(-2, 2, n)
    ax = fig.axes[0]
    ax.plot(GRID, pred[i, j, seed], lw=2, color="C0")
    ax.plot(x, target(x), "o", color="C3", ms=8)
    ax.text(-1.9, 1.3, f"test error {test_err[i, j, seed]:.1e}")

mfbook.widgets.interact(draw_init, setup=setup_init, n=list(SIZES), alpha=SCALES, seed=list(range(6)))
""")

md(r"""
### The initial imbalance ratio decides the limit

Why does the scale matter, and what decides the limit once it is small? Near $\theta = 0$ we have
$\tanh z\approx z$ and $f_\theta(x) \approx \sum_i a_i(w_ix + b_i)$, which is tiny, so the residual is
about $-y$. Write $\tilde x = (x, 1)$, $\tilde w_i = (w_i, b_i)$ and $\gamma = \sum_j y_j\tilde x_j$. The
linearized flow of one neuron is
$$
\dot a_i = \tfrac2n\,\tilde w_i^\top\gamma,\qquad \dot{\tilde w}_i = \tfrac2n\,a_i\gamma ,
$$
and (a short computation we did ourselves) the combination $C_i = a_i\|\gamma\| + \tilde w_i^\top\gamma$
satisfies $\dot C_i = \frac{2\|\gamma\|}{n}C_i$: it grows exponentially, while $a_i\|\gamma\| - \tilde w_i^\top\gamma$
decays and the part of $\tilde w_i$ orthogonal to $\gamma$ stays put. By the time the network is large
enough to feel the nonlinearity, every neuron points along $(1, \gamma/\|\gamma\|)$ with an amplitude
proportional to $C_i$, and everything else has become negligible.

```{prf:definition} Initial imbalance ratio
:label: def6-imbalance

$C(\theta_0) = (C_1, \dots, C_m)$ with $C_i = a_i\|\gamma\| + \tilde w_i^\top\gamma$, and the
*initial imbalance ratio* is $C(\theta_0)/\|C(\theta_0)\|$ {cite}`zhao2024disentangle`. (Their loss has no
factor $2/n$, so their growth rate is $e^{\|\gamma\|t}$.)
```

{cite:t}`zhao2024disentangle` prove that, as $\alpha\to0$, the trajectory and its limit depend on
$\theta_0$ only through this ratio. We test it on $n = 4$ samples: for five random starts at
$\alpha = 10^{-6}$ we build a second start with the *same* ratio but different remaining coordinates
(`nn.same_imbalance_ratio`), a third lying exactly on the growing modes (`nn.growing_mode_init`), and a
fourth whose ratio is rotated by $0.3$ radians.
""")
code(r"""
x4 = np.linspace(-2, 2, 4)
first = nn.init_two_layer(5, 2, 1, 1e-6, seed=7)
C = nn.imbalance_ratio(first, x4, target(x4))
phi = np.arctan2(C[:, 1], C[:, 0])
starts = [first, nn.same_imbalance_ratio(first, x4, target(x4), seed=8), nn.growing_mode_init(C, x4, target(x4), 1e-6),
          nn.growing_mode_init(np.stack([np.cos(phi + 0.3), np.sin(phi + 0.3)], axis=1), x4, target(x4), 1e-6)]
batch = nn.train_two_layer(nn.TwoLayer.concatenate(starts), x4, target(x4), lr=0.5, max_steps=6000, tol=0)
f4 = nn.two_layer_predict(batch, GRID).reshape(4, 5, -1)
gap = np.abs(f4[1:] - f4[0]).max(axis=2)       # sup-distance to the first function, per run
print("ratios C/||C||:", C.round(3).tolist())
print("same ratio:", gap[0].round(9), "\non the mode:", gap[1].round(9), "\nrotated   :", gap[2].round(5))
""")
code(r"""
# claim C31
assert np.allclose(nn.imbalance_ratio(starts[1], x4, target(x4)), C, atol=1e-12)   # same ratio, other start
assert np.abs(starts[1].w - first.w).max() > 1e-7
assert gap[0].max() < 1e-6 and gap[1].max() < 1e-5       # same ratio -> same learned function
assert np.sum(gap[2] > 1e-3) >= 2                         # another ratio can give another function
""")
md(r"""
Two starts with the same ratio end at functions that agree to $10^{-6}$ or better; the start on the growing
modes differs by $O(10^{-6})$, the leftover of the finite $\alpha$. A rotated ratio usually lands
elsewhere (not always: a whole range of ratios can lead to the target itself, as we see next).
""")

md(r"""
### Sample size: 3, then 4 and 5, then 6

For two neurons the ratio is one angle, $C/\|C\| = (\cos\varphi, \sin\varphi)$. Swapping the neurons and the
symmetry $\tanh(-z) = -\tanh z$ map $\varphi$ to $\pi/2 - \varphi$ and to $\varphi + \pi$, so
$\varphi\in[-\pi/4, \pi/4]$ already covers every small-initialization limit. We train from the growing modes
at $\alpha = 10^{-6}$ for 61 angles and for $n = 2, \dots, 6$ samples, all in one batch, and plot the test error
against $\varphi$. {cite:t}`zhao2024disentangle` describe what to expect: below the optimistic size 3 no
recovery; at 3, recovery only from a set of initializations of measure zero; from the *separation
sample size* on (4 or 5, depending on how the target is represented) from a set of positive
measure; and with 6 samples, as many as parameters, every global minimum of the loss is the target.
""")
code(r"""
PHI, NS = np.linspace(-np.pi / 4, np.pi / 4, 61), (2, 3, 4, 5, 6)
Xs = np.zeros((len(NS), 6)); ms = np.zeros((len(NS), 6), bool)
for i, n in enumerate(NS):
    Xs[i, :n], ms[i, :n] = np.linspace(-2, 2, n), True
unit = np.stack([np.cos(PHI), np.sin(PHI)], axis=1)
scan_start = nn.TwoLayer.concatenate([nn.growing_mode_init(unit, Xs[i, :n], target(Xs[i, :n]), 1e-6)
                                      for i, n in enumerate(NS)])
Xsr, msr = np.repeat(Xs, len(PHI), axis=0)[:, :, None], np.repeat(ms, len(PHI), axis=0)
scan = nn.train_two_layer(scan_start, Xsr, target(Xsr[..., 0]), lr=0.5, max_steps=30000, tol=1e-14, sample_mask=msr)
scan_err = nn.function_error(scan, target, GRID).reshape(len(NS), len(PHI))
scan_loss = scan.loss.reshape(len(NS), len(PHI))
fig, ax = plt.subplots(figsize=(7, 3.4))
for i, n in enumerate(NS):
    ax.semilogy(PHI, np.maximum(scan_err[i], 1e-20), lw=2, label=f"n = {n}")
ax.set_xlabel(r"imbalance angle $\varphi$"); ax.set_ylabel("test error"); ax.legend(ncol=5, fontsize=8, loc="lower center")
recovered = scan_err < 1e-10
print("fraction of angles that recover the target:", dict(zip(NS, recovered.mean(axis=1).round(3))))
""")
code(r"""
# claim C31
special = np.isclose(PHI, 0) | np.isclose(np.abs(PHI), np.pi / 4)
assert scan_err[0].min() > 1e-3                                     # n = 2: never
assert np.all(scan_loss[1] < 1e-12)                                 # n = 3: every run interpolates ...
assert np.array_equal(recovered[1], special)                        # ... but only 3 isolated angles recover
assert np.all(scan_err[1][~special] > 1e-9)
for i in (2, 3):                                                    # n = 4, 5: an interval of angles recovers
    runs_of_ones = np.diff(np.flatnonzero(np.diff(np.r_[0, recovered[i].astype(int), 0])))[::2]
    assert recovered[i].mean() > 0.2 and runs_of_ones.max() >= 8
assert np.any((scan_loss[2] < 1e-12) & (scan_err[2] > 1e-7))        # n = 4: other global minima exist
done6 = scan_loss[4] < 1e-12
assert done6.sum() >= 15 and np.all(scan_err[4][done6] < 1e-10)     # n = 6: every global minimum found is the target
""")
md(r"""
With two samples nothing is recovered. With three, every run interpolates, yet only three angles
recover $f^*$: $\varphi = 0$ (the second neuron never starts) and $\varphi = \pm\pi/4$ (the two neurons move as
one). Those are sets of measure zero: a random start recovers with probability zero, which is the
optimistic sample size at work. With four and five samples whole intervals of angles recover the
target; with four we also find interpolating networks that are not the target. With six samples
every run that reaches zero loss has recovered $f^*$. Some runs have not reached it after 30000 steps
(near the special angles the flow slows down), and the paper's separation sizes 4 and 5 distinguish
the different representations of the target, which this one-parameter scan does not resolve.

**Try it.** Pick $n$ and an angle. Where the test error curve dips to zero, the learned function sits
on the target; elsewhere, look at where it departs from it.
""")
code(r"""
PHI_SHOWN = list(range(0, 61, 6))
scan_pred = nn.two_layer_predict(scan, GRID).reshape(len(NS), len(PHI), -1)

def setup_angle():                  # axes, limits and the target: the same for every frame
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    ax[0].plot(GRID, target(GRID), color="gray", lw=4, alpha=0.5, label="target")
    ax[0].set_xlim(GRID[0] - 0.2, GRID[-1] + 0.2); ax[0].set_ylim(-1.0, 1.15)
    ax[0].set_xlabel("$x$"); ax[0].set_ylabel("$f(x)$")
    ax[0].legend(handles=[*ax[0].lines, *LEARNED_AND_SAMPLES], loc="lower right")
    ax[1].set_yscale("log"); ax[1].set_ylim(0.3 * max(scan_err.min(), 1e-20), 3 * scan_err.max())   # one scale for every n
    ax[1].set_xlim(PHI[0] - 0.05, PHI[-1] + 0.05)
    ax[1].set_xlabel(r"imbalance angle $\varphi$"); ax[1].set_ylabel("test error")
    return fig

def draw_angle(fig, n, angle_index):  # the learned function and the error curve of n, the chosen angle
    i = NS.index(n)
    x = np.linspace(-2, 2, n)
    ax = fig.axes
    ax[0].plot(GRID, scan_pred[i, angle_index], lw=2, color="C0")
    ax[0].plot(x, target(x), "o", color="C3", ms=8)
    ax[1].plot(PHI, np.maximum(scan_err[i], 1e-20), lw=2, color="C0")
    ax[1].plot([PHI[angle_index]], [max(scan_err[i, angle_index], 1e-20)], "o", ms=10, color="C3")

mfbook.widgets.interact(draw_angle, setup=setup_angle, n=list(NS), angle_index=PHI_SHOWN, defaults={"n": 4, "angle_index": 12})
""")

# ---------------------------------------------------------------- low model rank
md(r"""
## Low model rank in nonlinear models

The lesson of the matrix chapters was that training from a small start uses as few directions as it
can: rank 1 first, then rank 2. The neuron experiments show the same thing in a nonlinear model. In
the linear phase every neuron aligns with the one direction $(1, \gamma/\|\gamma\|)$, so the network
starts its nonlinear life as if it had a single neuron; this *condensation* keeps the effective number
of parameters, the model rank of {prf:ref}`def6-model-rank`, small, and that is why 4 or 5 samples can
suffice for a model with 6 parameters {cite}`zhang2023optimistic`.

We illustrate it with a wider network (10 neurons, 30 parameters) trained on $n = 6$ samples from a
small and a large start (step $0.2$, ten seeds each). The matrix of input weights, one row $\tilde w_i$ per
neuron, is $10\times2$; we compare its two singular values.
""")
code(r"""
x6 = np.linspace(-2, 2, 6)
wide = {a: nn.train_two_layer(nn.init_two_layer(10, 10, 1, a, seed=1), x6, target(x6), lr=0.2, max_steps=6000, tol=1e-10)
        for a in (0.5, 1e-3)}
sv_in = {a: np.linalg.svd(nn.input_weights(net), compute_uv=False) for a, net in wide.items()}
for a in wide:
    print(f"alpha = {a:g}: sigma2/sigma1 of the input weights", (sv_in[a][:, 1] / sv_in[a][:, 0]).round(3),
          f" median test error {np.median(nn.function_error(wide[a], target, GRID)):.1e}")
silent9 = nn.TwoLayer(np.r_[1.0, np.zeros(9)][None], np.r_[1.0, np.zeros(9)][None, :, None], np.r_[1.0, np.zeros(9)][None])
print("model rank of the target inside the 10-neuron model:", nn.model_rank(silent9, dense)[0], "of 30 parameters")
""")
code(r"""
# claim C32
small, large = (sv_in[a][:, 1] / sv_in[a][:, 0] for a in (1e-3, 0.5))
assert np.median(small) < 0.1 and np.median(large) > 0.3          # small start: input weights nearly rank 1
assert np.median(nn.function_error(wide[1e-3], target, GRID)) < np.median(nn.function_error(wide[0.5], target, GRID))
assert nn.model_rank(silent9, dense)[0] == 3                       # 3 effective directions out of 30
""")
md(r"""
From the small start the ten rows of input weights are nearly parallel (the second singular value is
a few percent of the first): the network behaves like a network with very few neurons. From
$\alpha = 0.5$ the rows spread over both directions. The same picture, low-rank learned weights and
a small number of effective parameters, has been reported for much larger networks; this book keeps to
what it can check in a few seconds.
""")

md(r"""
## Exercises

```{exercise}
:label: ex6-scalar-depth

Take the $1\times1$ problem $M = [m]$ with $m > 0$ and the depth-$N$ model $W = s_1s_2\cdots s_N$ with scalar
factors, all started at the same value $s_0 > 0$ (a balanced start). Show that they stay equal and that
gradient flow on $(W - m)^2$ gives $\dot W = -2N W^{2 - 2/N}(W - m)$, the formula of {prf:ref}`thm6-arora`.
For $N = 2$ and $N = 3$, how long does $W$ take to go from $\alpha^N$ to $m/2$, as $\alpha\to0$?
```

```{solution} ex6-scalar-depth
:class: dropdown

$\dot s_k = -2(W - m)\prod_{j\ne k}s_j$ is the same for every $k$ when the $s_j$ are equal, so they stay
equal, $s_k = s$ and $W = s^N$. Then
$\dot W = \sum_k \dot s_k\prod_{j\ne k}s_j = -2N s^{2N-2}(W - m) = -2N W^{2-2/N}(W - m)$, because
$s^{2N-2} = W^{(2N-2)/N}$. While $W \ll m$, $\dot W \approx 2Nm\,W^{2-2/N}$.

- $N = 2$: $\dot W \approx 4mW$, exponential growth, time $\approx \frac{1}{4m}\log\frac{1}{\alpha^2}$: it grows like $\log(1/\alpha)$.
- $N = 3$: $\dot W \approx 6mW^{4/3}$, so $\frac{d}{dt}W^{-1/3} = -2m$ and $W$ blows up after
  $t \approx \frac{W_0^{-1/3}}{2m} = \frac{1}{2m\alpha}$: the plateau grows like $1/\alpha$, much longer. This
  is what the depth slider shows.
```

```{exercise}
:label: ex6-imbalance

With `mfbook.neurons`, draw 200 random starts at $\alpha = 10^{-6}$ for $n = 3$ samples, compute their
angles $\varphi$ from `nn.imbalance_ratio`, train them, and plot the test error against $\varphi$ (fold
$\varphi$ into $[-\pi/4, \pi/4]$ with the symmetries). Do the points fall on the $n = 3$ curve of the
scan? How many of the 200 runs recover the target?
```

```{solution} ex6-imbalance
:class: dropdown

    x3 = np.linspace(-2, 2, 3)
    start = nn.init_two_layer(200, 2, 1, 1e-6, seed=1)
    C = nn.imbalance_ratio(start, x3, target(x3))
    phi = np.arctan2(C[:, 1], C[:, 0])
    phi = (phi + np.pi / 2) % np.pi - np.pi / 2              # phi + pi gives the same function
    phi = np.where(np.abs(phi) > np.pi / 4, np.sign(phi) * np.pi / 2 - phi, phi)   # swap the neurons
    out = nn.train_two_layer(start, x3, target(x3), lr=0.5, max_steps=5000, tol=1e-14)
    err = nn.function_error(out, target, GRID)
    plt.semilogy(PHI, scan_err[1], lw=2); plt.semilogy(phi, err, ".")

The random starts lie on the curve of the scan: the ratio alone decides the limit. The test error is
about $10^{-5}$ almost everywhere and dips to zero only at $\varphi = 0, \pm\pi/4$; essentially none of the
200 runs recovers the target, since hitting an isolated angle has probability zero.
```

```{exercise}
:label: ex6-depth-connected

Chapter 1 needed $\alpha \approx 10^{-9}$ for $[[1,2],[10,\star]]$ to reach $\star = 20$ at depth 2. Train it at
depth 3 with `mfbook.gradient_descent(..., depth=3, lr=0.01)` from $\alpha = 0.1$ and $0.01$. Which value
of $\star$ do you get, and how does it compare with depth 2 at the same $\alpha$?
```

```{solution} ex6-depth-connected
:class: dropdown

    for N in (2, 3):
        for a in (0.1, 0.01):
            run = mfbook.gradient_descent("1 2; 10 *", init_scale=a, depth=N, lr=0.01, max_steps=100_000, tol=1e-10)
            print(N, a, run.W[1, 1], np.linalg.svd(run.W, compute_uv=False))

At depth 2 these scales give $\star \approx 5.3$ and $7.9$ and a clearly rank-2 matrix (second singular value
about 1). At depth 3 both scales give $\star \approx 20.00$, with a second singular value of about $4\cdot10^{-5}$
and $4\cdot10^{-10}$: the low-rank answer of Chapter 1 at an initialization $10^{7}$ times larger, as {prf:ref}`thm6-arora` suggests.
```
""")

md(r"""
## Summary

- Depth sharpens the low-rank bias: singular values of $W = F_1\cdots F_N$ move at speed proportional to
  $\sigma^{2-2/N}$ ({prf:ref}`thm6-arora`, checked to $10^{-3}$), and the disconnected $3\times3$ example of
  {doc}`05_implicit_regularization` becomes rank 1 at depth 3 and 4, because the middle factor couples
  the components that {doc}`03_hiim` showed to be independent at depth 2.
- On $[[\star, 1], [1, 0]]$ at depth 3, the rank falls while $|W_{11}|$ and every norm grow: the bias of
  depth is towards rank, not towards a norm {cite}`razin2020implicit`, the conclusion that
  {doc}`01_background` and {doc}`05_implicit_regularization` reached for connected patterns.
- A two-neuron $\tanh$ network fitting $\tanh(x + 1)$ generalizes better from a smaller start; the limit
  depends on the start only through the imbalance ratio $C/\|C\|$, one angle for two neurons
  {cite}`zhao2024disentangle`, just as the escape direction of {doc}`04_dynamics` depended only on the
  top eigenvector.
- Sample size: 2 samples never suffice; 3 (the optimistic size, the model rank of the target) recover
  only from isolated angles; 4 and 5 from intervals; with 6 every zero-loss run found is the target.
- Small initialization keeps the model rank low in nonlinear models too: the neurons condense onto one
  direction, as the rank-1 first step did in {doc}`02_connectivity` and {doc}`04_dynamics`.
""")

nb.write(Path(__file__).resolve().parents[1] / "chapters" / "06_beyond.ipynb")
