"""Generate chapters/04_dynamics.ipynb (stored without outputs).

Run from the repository root:  .venv/bin/python tools/make_04_dynamics.py
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _nbgen import INSTALL, NB  # noqa: E402

nb = NB()
md, code = nb.md, nb.code


md(r"""
# Training dynamics: from saddle to saddle

Why does a tiny initialization produce a low-rank completion, and a large one does not? This
chapter watches the training of $W = AB$ closely. From a small start the loss does not decrease
smoothly: it falls in steps, resting on plateaus where the parameters sit near saddle points, and
each plateau is the best fit of the data that a matrix of rank $k$ can achieve. We state the two
theorems that explain this picture {cite}`bai2024connectivity` -- every critical point is a strict
saddle or a global minimum, and the escape from a saddle follows its most unstable direction after
a delay of $\frac{1}{\lambda_1}\log\frac{1}{\alpha}$ -- and check each statement on the examples. The
same picture for the connected case is the Greedy Low-Rank Learning of {cite}`li2021towards`.
""")

md(r"""
**Learning goals.** After this chapter you can
- show that the initialization scale decides the rank of the learned matrix, on the paper's
  $4\times4$ example;
- read a stepwise loss curve: plateaus, gradient-norm spikes, and which rank-$k$ fit each plateau is;
- state Theorem 1 (no spurious local minima) and check it with the Hessian at the visited saddles;
- state Theorem 2 (escape along the top eigendirection with a $\frac{1}{\lambda_1}\log\frac{1}{\alpha}$ delay),
  compute $\lambda_1$ from a residual matrix, and see trajectories for different $\alpha$ collapse;
- explain why a disconnected pattern stops at a *sub-optimal* rank-1 saddle on the way.

**Prerequisites.** Chapter 3 (the invariant manifolds $\Omega_k$, row$(A)$ = col$(B)$).
**Estimated time:** 60 minutes.
""")

code(INSTALL)

code(r"""
import numpy as np
import matplotlib as mpl
import matplotlib.pyplot as plt
import mfbook
from mfbook import manifolds as mf

FOUR = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"   # connected; true completion * = 1.2
THREE = "1 * 3; * 5 *; 3 * 9"                                         # disconnected
four, three = mfbook.Completion.parse(FOUR), mfbook.Completion.parse(THREE)
""")

md(r"""
## Initialization decides the rank

The $4\times 4$ example of the paper is a rank-3 matrix with one entry hidden,
$M_{24}$ (true value $1.2$). Its observation graph is connected. A rank-3 completion exists and is
unique here; any other value of $\star$ gives rank 4. We run gradient flow (`mfbook.gradient_flow`,
an adaptive Dormand-Prince integrator {cite}`dormand1980family`) from $\alpha\,\theta_0$ with the same
direction $\theta_0$ and scales $\alpha$ from $1$ down to $10^{-16}$, and record the singular values of
the learned $W$.
""")

code(r"""
scales = [1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12, 1e-14, 1e-16]
runs = {a: mfbook.gradient_flow(FOUR, init_scale=a, t_max=1e4, seed=0) for a in scales}
learned_sv = np.array([np.linalg.svd(runs[a].W, compute_uv=False) for a in scales])
fig, ax = plt.subplots(figsize=(5.5, 3.2))
for i in range(4):
    ax.loglog(scales, np.maximum(learned_sv[:, i], 1e-18), "o-", lw=2, label=f"$\\sigma_{i + 1}(W)$")
ax.invert_xaxis(); ax.set_xlabel(r"initialization scale $\alpha$"); ax.set_ylabel("singular value of learned $W$"); ax.legend(fontsize=8)
print("learned * :", {f"{a:.0e}": round(runs[a].W[1, 3], 5) for a in scales})
""")

code(r"""
# claim C15
assert all(runs[a].converged for a in scales)                       # every run fits the observed entries
assert learned_sv[0, 3] > 0.1 and abs(runs[1e0].W[1, 3] - 1.2) > 0.5   # alpha = 1: a rank-4 completion
for a in scales[4:]:                                                 # alpha <= 1e-4: the rank-3 completion
    assert learned_sv[scales.index(a), 3] < 1e-6 * learned_sv[scales.index(a), 0]
    assert abs(runs[a].W[1, 3] - 1.2) < 1e-4
limit4 = mfbook.small_init_limit(FOUR, record=True)
assert limit4.rank == 3 and abs(limit4.W[1, 3] - 1.2) < 1e-8       # and so does the alpha -> 0 limit
""")

md(r"""
From $\alpha = 1$ the learned matrix has four clearly non-zero singular values: the flow fits the 15
observed entries from a starting point that already has rank 4, and the hidden entry keeps a value
that has nothing to do with the truth. As $\alpha$ shrinks, the fourth singular value falls steeply
(to $10^{-7}$ at $\alpha = 10^{-2}$ and to the level of rounding errors from $\alpha \approx 10^{-8}$ on), and the
hidden entry converges to $1.2$. The other three singular values
settle at $15.779, 2.095, 0.909$, those of the true matrix.
""")

md(r"""
## From saddle to saddle

Look at one small-initialization run in time. We plot the loss and the norm of the gradient for
$\alpha = 10^{-8}$, and mark the losses of the best rank-$k$ approximations of the observed data,
$\min_{\mathrm{rank}(W) \le k} R_S(W)$, computed independently by `mfbook.best_rank_k` (alternating
least squares with restarts).
""")

code(r"""
run = runs[1e-8]
best = {k: mfbook.best_rank_k(FOUR, k).loss for k in (1, 2)}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
mfbook.plotting.plot_loss(run.t, run.loss, ax=ax1, lw=2)
for k, v in best.items():
    ax1.axhline(v, color="gray", ls=":", lw=1.5); ax1.text(run.t[-1], v, f" best rank {k}", va="bottom", ha="right", fontsize=8)
ax2.semilogy(run.t, run.grad_norm, lw=2); ax2.set_xlabel("time $t$"); ax2.set_ylabel(r"gradient norm $\|\nabla R_S\|$")
fig.tight_layout()
print("plateaus of the limit path:", limit4.plateaus.round(6), " best rank-k losses:", {k: round(v, 6) for k, v in best.items()})
""")

md(r"""
The loss falls in three steps and rests twice. On each plateau the gradient nearly vanishes: the
parameters are close to a critical point. Between plateaus the gradient norm spikes while the loss
drops. The plateau heights coincide with the best rank-1 and rank-2 fits, which is the content of the
assertions below: training visits the best rank-1 fit, then the best rank-2 fit, then an exact
rank-3 fit.
""")

code(r"""
# claim C16
plateau_time, dips, peaks = [], [], []
for k in (1, 2):
    on = np.abs(run.loss / limit4.plateaus[k] - 1) < 1e-2
    plateau_time.append(np.ptp(run.t[on]))
    dips.append(run.grad_norm[on].min())
for hi, lo in [(limit4.plateaus[0], limit4.plateaus[1]), (limit4.plateaus[1], limit4.plateaus[2]), (limit4.plateaus[2], 1e-10)]:
    between = (run.loss < 0.99 * hi) & (run.loss > 1.01 * lo)
    peaks.append(run.grad_norm[between].max())
assert min(plateau_time) > 20                       # two long plateaus (tens of time units each) ...
assert dips[0] < 1e-2 * min(peaks[0], peaks[1]) and dips[1] < 1e-2 * min(peaks[1], peaks[2])   # ... between gradient spikes
""")

code(r"""
# claim C17
assert limit4.ranks == [0, 1, 2, 3]
for k in (1, 2):
    assert abs(limit4.plateaus[k] / best[k] - 1) < 1e-6            # plateau k = best rank-k fit of the data
    assert abs(np.median(run.loss[np.abs(run.loss / best[k] - 1) < 1e-2]) / best[k] - 1) < 1e-3   # also at alpha = 1e-8
""")

md(r"""
The paper repeats the experiment for all 16 ways of hiding one entry of the rank-3 matrix. We do the
same with gradient flow from $\alpha = 10^{-16}$ and compare every run with the best rank-1 and rank-2
fits of its own data (computed for the 16 problems at once by `mfbook.sweep.rank_k_fit_batch`).
""")

code(r"""
from mfbook import sweep
truth = np.array([[4, 0.6, 1.8, 0.8], [6, 0.9, 2.7, 1.2], [8, 2.2, 2.6, 1.6], [8, 2.7, 5.1, 3.6]])
masks16 = ~np.eye(16, dtype=bool).reshape(16, 4, 4)            # pattern i hides entry i (row-major)
values16 = np.where(masks16, truth, np.nan)
fits16 = {k: sweep.rank_k_fit_batch(values16, masks16, k) for k in (1, 2)}
runs16 = [mfbook.gradient_flow(mfbook.Completion.from_arrays(v, m), init_scale=1e-16, t_max=1e4) for v, m in zip(values16, masks16)]
def rest_time(r, level):           # how long the loss stays within 1% of a level
    near = np.abs(r.loss / level - 1) < 1e-2
    return np.ptp(r.t[near]) if near.any() else 0.0
rest16 = np.array([[rest_time(r, fits16[k][i]) for k in (1, 2)] for i, r in enumerate(runs16)])
fig, ax = plt.subplots(figsize=(6, 3.2))
for r in runs16:
    mfbook.plotting.plot_loss(r.t, r.loss, ax=ax, lw=1.5, alpha=0.7)
ax.set_xlim(0, 700)
print("time spent within 1% of the best rank-1 / rank-2 fit, min over the 16 patterns:", rest16.min(0).round(1))
""")

code(r"""
# claim C17
assert all(r.converged and mfbook.numerical_rank(r.W) == 3 for r in runs16)   # every pattern ends at rank 3
assert rest16.min() > 5          # and every run rests at its best rank-1 fit and at its best rank-2 fit
""")

md(r"""
Inside the factors the same steps appear (the paper's Fig. 3e-h): one singular value of $W$, of $A$,
of $B$ and of $W_{aug}$ rises at each step, and the counts always agree -- chapter 3's invariant
manifolds $\Omega_1 \subset \Omega_2 \subset \Omega_3$ being entered one after the other.
""")

code(r"""
fig, axes = plt.subplots(1, 4, figsize=(13, 3), sharey=True)
for ax, sv, name in zip(axes, (run.sv_W, run.sv_A, run.sv_B, run.sv_aug), ("W", "A", "B", "W_{aug}")):
    mfbook.plotting.plot_singular_values(run.t, sv, ax=ax, label=name)
axes[0].legend(fontsize=7); fig.tight_layout()
""")

md(r"""
**Interactive demo.** *Question:* how does the initialization scale change the loss curve? Does a
larger $\alpha$ only shorten the plateaus, or does it remove them, and what happens to the fourth
singular value? Move the slider.
""")

code(r"""
def setup_scale():                   # axes, limits, labels and the best rank-k levels: fixed
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    for ax in (ax1, ax2):
        ax.set_yscale("log"); ax.set_xlim(0, 250); ax.set_xlabel("time $t$")
    ax1.set_ylim(1e-13, 100); ax1.set_ylabel("loss $R_S$")
    for v in best.values():
        ax1.axhline(v, color="gray", ls=":", lw=1.5)
    ax2.set_ylim(1e-18, 100); ax2.set_ylabel("singular value")
    ax2.legend(handles=[mpl.lines.Line2D([], [], color=f"C{k}", label=f"$\\sigma_{k + 1}(W)$") for k in range(4)],
               fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    return fig

def draw_scale(fig, alpha=1e-8):     # the loss and the singular values of the run from this alpha
    r = runs[alpha]
    ax1, ax2 = fig.axes
    ax1.plot(r.t, r.loss, lw=2)
    for k in range(4):
        ax2.plot(r.t, np.maximum(r.sv_W[:, k], 1e-18), color=f"C{k}")

mfbook.widgets.interact(draw_scale, setup=setup_scale, alpha=scales, defaults={"alpha": 1e-8})
""")

md(r"""
## Theorem 1: no bad local minima

A plateau is a neighbourhood of a critical point $\theta_c$. Training leaves it only if the point is
unstable. The first theorem says that this is always the case unless the point is already optimal.

```{prf:theorem} Loss landscape
:label: thm-landscape

For any data $S$, every critical point of $R_S(A, B)$ is either a strict saddle (the Hessian has a
negative eigenvalue) or a global minimum.

(Theorem 1 of {cite}`bai2024connectivity`.)
```

We check it at every critical point visited by the $\alpha \to 0$ limit path of the $4\times4$ example,
of the disconnected $3\times3$ example, and of six random $4\times4$ problems. The limit solver returns
each critical value $W_c$. We rebuild balanced factors of it (`mf.balanced_factors`: $A = U\Sigma^{1/2}$,
$B = \Sigma^{1/2}V^\top$, which is what small-initialization training produces up to a rotation), check
that the gradient vanishes there, and compute the full Hessian with `mfbook.hessian`.
""")

code(r"""
rng = np.random.default_rng(0)
problems = {"4x4 example": four, "3x3 disconnected": three}
for i in range(6):
    mask = rng.random((4, 4)) < 0.65
    problems[f"random {i}"] = mfbook.Completion.from_arrays(np.where(mask, rng.uniform(-3, 3, (4, 4)), np.nan), mask)
limits = {name: (limit4 if name == "4x4 example" else mfbook.small_init_limit(p)) for name, p in problems.items()}
rows = []
for name, p in problems.items():
    for j, s in enumerate(limits[name].saddles):
        A, B = mf.balanced_factors(s.W)
        _, grads = mfbook.loss_gradient([A, B], p.values, p.mask)
        eig = np.linalg.eigvalsh(mfbook.hessian(A, B, p.values, p.mask))
        residual_sv = np.linalg.svd((2 / p.n_observed) * np.where(p.mask, p.values - s.W, 0), compute_uv=False)[0]
        rows.append(dict(problem=name, rank=s.rank, loss=s.loss, grad=max(np.abs(g).max() for g in grads),
                         lam_min=eig[0], rate=s.rate, residual_sv=residual_sv, last=j == len(limits[name].saddles) - 1))
for r in rows[:8]:
    print(f"{r['problem']:17s} rank {r['rank']}  loss {r['loss']:9.3e}  |grad| {r['grad']:.0e}  min eig {r['lam_min']:+.4f}")
""")

code(r"""
# claim C25
for r in rows:
    assert r["grad"] < 1e-8                                    # a critical point
    if r["last"]:
        assert r["loss"] < 1e-12 and r["lam_min"] > -1e-8      # the end: a global minimum (loss 0)
    else:
        assert r["lam_min"] < -1e-3                            # every other one: a strict saddle
print(len(rows), "critical points checked;", sum(not r["last"] for r in rows), "strict saddles")
""")

md(r"""
A minimum reached with loss 0 is global because the loss is non-negative. The Hessian there has
zero eigenvalues (the rescalings $A G$, $G^{-1} B$ leave $W$ unchanged), so it is not a strict
minimum, but it is not a trap either. Every other visited point has a clearly negative eigenvalue,
including the rank-1 point of the disconnected example with loss 5 (next sections).
""")

md(r"""
## Theorem 2: where and when the flow leaves a saddle

Near a critical point $\theta_c$ the flow is linear to first order:
$\dot{\delta} = -H\delta$ with $H = \nabla^2 R_S(\theta_c)$. The component of $\delta$ along an eigenvector of
$-H$ with eigenvalue $\lambda$ grows like $e^{\lambda t}$. The fastest one, $\lambda_1$, wins. For $W = AB$
this eigenvalue has a closed form: with $A_c, B_c$ a critical point and $E_c = \frac2n P_{S_x}(A_cB_c - M)$,
the second-order change of the loss along $(X, Y)$ contains the term $2\,\langle E_c, XY\rangle$. With
$X = u w^\top$, $Y = w v^\top$ for unit singular vectors $u, v$ of $-E_c$ and a hidden direction $w$ not yet used
by the factors, this term is $-2\sigma_1(E_c)\|w\|^2$, while the other term of the Hessian vanishes because
$A_c w = 0$ and $w^\top B_c = 0$. Therefore

$$
\lambda_1 = \sigma_1\!\left(\tfrac{2}{n} P_{S_x}(M - W_c)\right),
$$ (lambda-one)

the largest singular value of the (scaled) residual. This is our rewriting of the paper's
Assumption 1 and Theorem 2; the assertions below check it.

```{prf:theorem} Escape from a critical point
:label: thm-escape

Let $\theta_c \in \Omega_k$ be a critical point reached from initialization scale $\alpha$, with a
unique top singular value of the residual (Assumption 1 of the paper) and a non-degenerate
initial direction. Then, as $\alpha \to 0$, the trajectory leaves $\theta_c$ along the top eigendirection
of $-\nabla^2 R_S(\theta_c)$, whose rate is {eq}`lambda-one`; leaving adds one rank, so it enters
$\Omega_{k+1}$; and the trajectories for different $\alpha$ coincide after the time shift
$\frac{1}{\lambda_1}\log\frac{1}{\alpha}$.

(Theorem 2 of {cite}`bai2024connectivity`.)
```

### The rate and the direction

Three measurements of the escape rate must agree: the top eigenvalue of $-H$ from `mfbook.hessian`,
the top singular value of the residual {eq}`lambda-one`, and the `rate` reported by the limit solver.
A fourth comes from the trajectory itself: while $\theta$ is small, $\|W\| \propto e^{2\lambda_1 t}$; while the
flow leaves the rank-1 plateau, the loss departs from it like $e^{2\lambda_1 t}$ (the first-order term vanishes
at a critical point).
""")

code(r"""
lam_hess = [-r["lam_min"] for r in rows if not r["last"]]
lam_res = [r["residual_sv"] for r in rows if not r["last"]]
lam_solver = [r["rate"] for r in rows if not r["last"]]
norm_W = np.linalg.norm(run.W_path, axis=(1, 2))
early = (norm_W > 1e-14) & (norm_W < 1e-4)
rate_origin = np.polyfit(run.t[early], np.log(norm_W[early]), 1)[0] / 2
gap = limit4.plateaus[1] - run.loss
leaving = (run.t > 20) & (gap > 1e-9 * limit4.plateaus[1]) & (gap < 1e-4 * limit4.plateaus[1])
rate_saddle1 = np.polyfit(run.t[leaving], np.log(gap[leaving]), 1)[0] / 2
print("rates at the 4x4 saddles (Hessian, residual, solver):", np.round(lam_hess[:3], 6), np.round(lam_res[:3], 6), np.round(lam_solver[:3], 6))
print(f"measured from the alpha = 1e-8 run: {rate_origin:.6f} at the origin, {rate_saddle1:.6f} at the rank-1 saddle")
""")

md(r"""
For the direction we integrate the flow from the same tiny start with the fixed-step integrator of
chapter 3 (which keeps the factors) and measure which fraction of $\theta = (A, B)$ lies in the top
eigenspace of $-H$ at the origin (here 4-dimensional: $A = u_1 w^\top$, $B = w v_1^\top$ for any $w \in \mathbb R^4$).
""")

code(r"""
A0, B0 = mfbook.init_factors((4, 4), 1e-8, seed=0)
t_e, As, Bs, _ = mf.flow_from(A0, B0, FOUR, t_max=8.0, steps=800, record_every=20)
H0 = mfbook.hessian(np.zeros((4, 4)), np.zeros((4, 4)), four.values, four.mask)
ev, vecs = np.linalg.eigh(-H0)
top = vecs[:, ev > ev[-1] * (1 - 1e-9)]
theta = np.concatenate([As.reshape(len(t_e), -1), Bs.reshape(len(t_e), -1)], axis=1)
in_top = np.linalg.norm(theta @ top, axis=1) / np.linalg.norm(theta, axis=1)
size = np.linalg.norm(theta, axis=1)
i_escape = np.argmax(size > 1e-3)
print(f"top eigenspace of -H(0): dimension {top.shape[1]}; share of theta in it: {in_top[0]:.3f} at t = 0, {in_top[i_escape]:.6f} at t = {t_e[i_escape]:.1f} (|theta| = {size[i_escape]:.1e})")
""")

code(r"""
# claim C27
assert np.allclose(lam_hess, lam_res, rtol=1e-8) and np.allclose(lam_res, lam_solver, rtol=1e-8)   # lambda_1 three ways
assert abs(rate_origin / limit4.saddles[0].rate - 1) < 1e-3      # observed growth rate at the origin
assert abs(rate_saddle1 / limit4.saddles[1].rate - 1) < 1e-2     # and when leaving the rank-1 saddle
assert top.shape[1] == limit4.saddles[0].multiplicity
assert in_top[0] < 0.9 and in_top[i_escape] > 0.999                # the escape aligns with the top eigenspace
""")

md(r"""
A random start has only a modest share of its norm in the top eigenspace, but by the time the
parameters have grown to $10^{-3}$ everything else is negligible: the other directions grow at most at
rate $\sigma_2(E_0) \approx 0.33$ against $\lambda_1 \approx 2.09$.
""")

md(r"""
### The time shift

Theorem 2's last statement is quantitative. The component along the top direction starts at size
$\propto\alpha$ and grows like $\alpha e^{\lambda_1 t}$, so it reaches a fixed size at time
$\frac{1}{\lambda_1}\log\frac{1}{\alpha} + \text{const}$. Plot the runs for $\alpha = 10^{-4}, \dots, 10^{-12}$
against $t - \frac{1}{\lambda_1}\log\frac{1}{\alpha}$.
""")

code(r"""
lam1 = limit4.saddles[0].rate
shift_alphas = [1e-4, 1e-6, 1e-8, 1e-10, 1e-12]
def crossing(r, level):
    return np.interp(-level, -r.loss, r.t)          # the loss decreases along gradient flow
mid1 = 0.5 * (limit4.plateaus[0] + limit4.plateaus[1])
mid2 = 0.5 * (limit4.plateaus[1] + limit4.plateaus[2])
t_first = np.array([crossing(runs[a], mid1) for a in shift_alphas])
t_second = np.array([crossing(runs[a], mid2) for a in shift_alphas])
shift = np.log(1 / np.array(shift_alphas)) / lam1
grid = np.linspace(-1.5, 1.5, 61)
curves = np.array([np.interp(grid, runs[a].t - s, np.log(runs[a].loss)) for a, s in zip(shift_alphas, shift)])
print("first drop, raw times:    ", t_first.round(3))
print("first drop, shifted times:", (t_first - shift).round(4))
print("second drop, shifted times:", (t_second - shift).round(2))
""")

code(r"""
# claim C26
assert np.ptp(t_first) > 8                              # without the shift the first drop moves by ~9 time units
assert np.ptp(t_first - shift) < 0.01                   # with it, the drops coincide
assert np.abs(curves - curves[-1]).max() < 1e-2         # and so do whole log-loss curves around the first escape
slopes = np.diff(t_second - shift) / np.diff(np.log(1 / np.array(shift_alphas)))
assert slopes.min() > 1 and np.ptp(slopes) < 0.05 * slopes.mean()   # later plateaus add their own log(1/alpha) delay
""")

md(r"""
The collapse is exact for the first escape: the shifted drop times agree to about $10^{-3}$ while the
raw ones spread over nine time units. The later drops do *not* collapse with the same shift: each
later plateau adds its own delay, again proportional to $\log\frac{1}{\alpha}$ (the last assertion checks
that the extra delay is linear in $\log\frac1\alpha$). This is Theorem 2 applied saddle by saddle: the
direction that will lead the next escape arrives at the saddle with a size that is itself a power
of $\alpha$. Exercise {ref}`ex-dyn-slope` computes the slope.

**Interactive demo.** *Question:* which part of the loss curve collapses under the shift, and which does not? The
slider applies the fraction $c$ of the shift, from the raw time ($c = 0$) to the full shift ($c = 1$); the left
panel shows the first escape, the right one the whole run.
""")

code(r"""
def setup_shift():                   # two windows side by side: the first escape, the whole run
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
    for ax, xlim, ylim, name in zip(axes, [(-2, 15), (-5, 240)], [(0.1, 60), (1e-13, 100)], ["first escape", "whole run"]):
        ax.set_yscale("log"); ax.set_xlim(*xlim); ax.set_ylim(*ylim)
        ax.set_xlabel(r"$t - c\,\frac{1}{\lambda_1}\log\frac{1}{\alpha}$")
        ax.text(0.03, 0.05, name, transform=ax.transAxes, fontsize=9, color="gray")
    axes[0].set_ylabel("loss $R_S$")
    axes[1].legend(handles=[mpl.lines.Line2D([], [], color=f"C{i}", lw=2, label=f"$\\alpha$ = {a:.0e}")
                            for i, a in enumerate(shift_alphas)], fontsize=7, loc="upper left", bbox_to_anchor=(1, 1))
    return fig

def draw_shift(fig, c=1.0):          # the five loss curves against t - c log(1/alpha) / lambda_1
    for ax in fig.axes:
        for i, (a, s) in enumerate(zip(shift_alphas, shift)):
            ax.plot(runs[a].t - c * s, runs[a].loss, lw=2, color=f"C{i}")
    fig.axes[0].text(0.97, 0.92, f"c = {c:g}", transform=fig.axes[0].transAxes, ha="right")

mfbook.widgets.interact(draw_shift, setup=setup_shift, c=[0.0, 0.25, 0.5, 0.75, 1.0], defaults={"c": 1.0})
""")

md(r"""
## How `small_init_limit` follows the limit

Theorem 2 turns into an algorithm, which is how `mfbook.small_init_limit` computes the
$\alpha \to 0$ limit without ever using a small $\alpha$ (its module docstring, `mfbook/limit.py`, has the
details). Starting at $\theta = 0$: compute the Hessian at the current critical point and its top
eigenvalue $\lambda_1$ of $-H$; if $\lambda_1 \le 0$, stop (by Theorem 1 this is a global minimum). Otherwise
project the initial direction $\theta_0$ onto the top eigenspace, step a distance $\varepsilon = 10^{-5}$ away
along it (with a second-order correction so that the start lies on the unstable manifold), integrate
the flow until the gradient nearly vanishes again, polish the new critical point with Newton steps,
and repeat. The rest of the initial direction is carried along by the linearized flow, because its
fastest-growing part decides the next escape. For depth 2 and a connected pattern this is the
Greedy Low-Rank Learning procedure of {cite}`li2021towards`, who proved that it is the limit of gradient
flow from infinitesimal initialization. The `phases` of a result with `record=True` are the transits
between plateaus, which chapter 3 used to measure subspaces.

Two facts make this cheap. The first is about width. Started on the unstable manifold of the origin,
the flow uses one inner direction: $A$ and $B$ stay of the form $a z^\top$ and $z b^\top$ for one unit vector
$z \in \mathbb{R}^d$, so in inner coordinates that start with $z$ the other $d - 1$ stay exactly zero. After
$k$ escapes it uses $k$. At such a point the Hessian splits into two blocks: the Hessian of the width-$k$
factorization, and $d - k$ identical copies of the block of the origin (exercise below),
$(x, y) \mapsto (E y, E^\top x)$ with $E$ the residual gradient, whose eigenvalues are $\pm\sigma_i(E)$. So
the solver keeps the factors only as wide as the rank learned so far, plus one new inner direction
along the top singular pair of $E$ for the next escape: for the $4\times4$ example its Hessians have 8,
16 and 24 parameters instead of 32. The next cell checks the splitting at the rank-2 plateau.
""")

code(r"""
# the Hessian at the rank-2 plateau with width-2 factors padded to width 4 has the spectrum of the
# width-2 Hessian plus d - k = 2 copies of the origin block, the singular values +-sigma_i(E)
W2 = limit4.saddles[2].W
U, S, Vt = np.linalg.svd(W2)
A2, B2 = U[:, :2] * np.sqrt(S[:2]), np.sqrt(S[:2])[:, None] * Vt[:2]           # balanced factors of W2
padded = np.linalg.eigvalsh(mfbook.hessian(np.pad(A2, ((0, 0), (0, 2))), np.pad(B2, ((0, 2), (0, 0))),
                                           four.values, four.mask))
narrow = np.linalg.eigvalsh(mfbook.hessian(A2, B2, four.values, four.mask))
sig = np.linalg.svd((2 / four.n_observed) * np.where(four.mask, W2 - four.values, 0), compute_uv=False)
blocks = np.sort(np.r_[narrow, np.tile(np.r_[sig, -sig], 2)])
print("largest difference between the two spectra:", f"{np.abs(padded - blocks).max():.1e}")
print("top eigenvalue of -H:", f"{-padded[0]:.6f}", "  sigma_1(E):", f"{sig[0]:.6f}", "  rate of the 3rd escape:",
      f"{limit4.saddles[2].rate:.6f}")
assert np.abs(padded - blocks).max() < 1e-10
assert abs(-padded[0] - sig[0]) < 1e-9 and abs(limit4.saddles[2].rate - sig[0]) < 1e-9
""")

md(r"""
The second is about the initial direction. Carrying the rest of it costs as much as the flow itself, and
it changes the result only at a *degenerate* escape. At a saddle of rank $k$ the top eigenspace of $-H$
always contains the orbit of the rotation symmetry $(A, B) \mapsto (AQ, Q^\top B)$ through the escape
direction, of dimension $d - k$, and every direction in that orbit leads to the same path of $W$. The
escape is degenerate when the eigenspace is larger, for example when the top singular value of the
residual is repeated. So the solver first runs narrow without carrying the direction, and repeats at
full width with it only the runs that meet a degenerate escape. The 3x3 example of the next section is
one of them. Its limit depends on the seed, while the 4x4 limit does not. (A run whose narrow transit
does not settle within its step budget is also repeated at full width: there, as in floating-point
training, rounding errors seed the unused inner directions and can end a stage that crawls.)
""")

code(r"""
def degenerate(result):
    # for each escape on the path: is the top eigenspace larger than the rotation orbit (d - rank)?
    d = max(result.problem.shape)
    return [s.multiplicity > d - s.rank for s in result.saddles[:-1]]


print("degenerate escapes, 4x4:", degenerate(limit4), "  3x3:", degenerate(limits["3x3 disconnected"]))
# record=True takes the NumPy path, which always carries the initial direction at full width
seeds4 = [mfbook.small_init_limit(FOUR, seed=s, record=True).W for s in (0, 1, 2)]
seeds3 = [mfbook.small_init_limit(THREE, seed=s).W[0, 1] for s in (0, 1, 2)]
print("4x4 limit from seeds 0, 1, 2: largest difference", f"{max(np.abs(W - seeds4[0]).max() for W in seeds4):.1e}")
print("3x3 limit, W[0, 1] from seeds 0, 1, 2:", np.round(seeds3, 4))
""")

code(r"""
# the carried direction matters only at a degenerate escape: none on the 4x4 path (its limit is the
# same from every seed), the second escape of the 3x3 example (its limit depends on the seed)
assert degenerate(limit4) == [False, False, False]
assert degenerate(limits["3x3 disconnected"]) == [False, True]
assert max(np.abs(W - seeds4[0]).max() for W in seeds4) < 1e-8
assert min(abs(a - b) for i, a in enumerate(seeds3) for b in seeds3[i + 1:]) > 0.1
""")

md(r"""
## The disconnected case: a sub-optimal saddle

For $M = \begin{bmatrix} 1 & \star & 3 \\ \star & 5 & \star \\ 3 & \star & 9 \end{bmatrix}$ a rank-1 completion exists
($W_{12}W_{21} = W_{11}W_{22}$ can be satisfied), so the best rank-1 fit has loss 0. Yet the limit path
visits a rank-1 critical point with loss 5 and then ends at rank 2. The reason is chapter 3's
decoupling: at $\theta = 0$ the residual $\frac2n P_{S_x}(M)$ is block diagonal, with singular values $4$ (the
block $\begin{bmatrix}1&3\\3&9\end{bmatrix}$) and $2$ (the entry $5$). The top direction lives in the big component
only, so the first escape fits that block and leaves row 2 and column 2 at zero: the flow enters the
sub-manifold $\omega_1$ of Proposition 2 and stops at its best point.
""")

code(r"""
limit3 = limits["3x3 disconnected"]
best3 = mfbook.best_rank_k(THREE, 1)
run3 = mfbook.gradient_flow(THREE, init_scale=1e-16, t_max=1e4, seed=0)
on5 = np.abs(run3.loss / 5 - 1) < 1e-3
W_plateau = run3.W_path[np.where(on5)[0][on5.sum() // 2]]
print("plateaus:", limit3.plateaus.round(6), " ranks:", limit3.ranks, f" best rank-1 loss: {best3.loss:.1e}")
print("W at the rank-1 saddle:\n", limit3.saddles[1].W.round(6))
fig, ax = plt.subplots(figsize=(5, 3)); mfbook.plotting.plot_loss(run3.t, run3.loss, ax=ax, lw=2)
ax.axhline(5, color="gray", ls=":", lw=1.5); ax.set_xlim(0, 30);
""")

code(r"""
# claim C20
assert limit3.ranks == [0, 1, 2] and abs(limit3.plateaus[1] - 5) < 1e-8    # a rank-1 critical point with loss 5 ...
assert best3.loss < 1e-8                                                  # ... although rank 1 can reach loss 0
assert np.allclose(limit3.saddles[1].W, [[1, 0, 3], [0, 0, 0], [3, 0, 9]], atol=1e-8)   # it fits only the big block
assert np.ptp(run3.t[on5]) > 3 and np.abs(W_plateau[1]).max() < 1e-3 and np.abs(W_plateau[:, 1]).max() < 1e-3
""")

md(r"""
Greedy Low-Rank Learning behaves the same way here: its rank-1 step follows the top singular
vectors of the residual, which belong to the big block. A learner that insisted on the *best* rank-1
fit would have found the rank-1 completion. From the saddle the second escape (rate 2, the residual
$5$ at position $(2,2)$ times $\frac25$) opens a second hidden direction for the small component, and the
flow ends at a rank-2 interpolant: the lowest-rank completion is missed. Chapter 5 shows which
completion is found instead (minimum nuclear norm).

**Interactive demo.** *Question:* do all problems visit the best rank-$k$ fit on their way? Pick a
problem: the bars compare each plateau of the limit path with the best rank-$k$ loss.
""")

code(r"""
demo_problems = {"4x4 connected": FOUR, "3x3 disconnected": THREE, "[[1,2],[10,*]]": "1 2; 10 *",
                 "3x3 connected": "1 2 *; 3 4 *; 6 * 5"}
plateau_table = {}
for name, text in demo_problems.items():
    lim = limit4 if text == FOUR else (limit3 if text == THREE else mfbook.small_init_limit(text))
    ks = [s.rank for s in lim.saddles[1:-1]]
    plateau_table[name] = (lim, ks, [best[k] if text == FOUR else mfbook.best_rank_k(text, k).loss for k in ks])

MAX_RANK = max(max(ks, default=1) for _, ks, _ in plateau_table.values())
BOX = max(len(mfbook.Completion.parse(text).values) for text in demo_problems.values())

def setup_plateaus():                # bar axes (one slot per rank, log scale), legend, a square box for the matrix
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3), gridspec_kw={"width_ratios": [2, 1]}, layout="constrained")
    ax1.set_yscale("log"); ax1.set_ylim(1e-3, 300); ax1.set_xlim(-0.6, MAX_RANK - 0.4)
    ax1.set_xticks(range(MAX_RANK), [f"rank {k}" for k in range(1, MAX_RANK + 1)]); ax1.set_ylabel("loss")
    ax1.legend(handles=[mpl.patches.Patch(color="C0", label="plateau of the limit path"),
                        mpl.patches.Patch(color="C1", label="best rank-$k$ fit")], fontsize=8, loc="upper right")
    ax2.set_xlim(-0.5, BOX - 0.5); ax2.set_ylim(BOX - 0.5, -0.5); ax2.set_aspect("equal"); ax2.axis("off")
    return fig

def matrix_in_box(ax, W, problem, fmt="{:.2f}"):   # plot_matrix's picture, scaled to fill the box of setup
    mask = mfbook.Completion.parse(problem).mask
    d1, d2 = W.shape
    cell = BOX / max(d1, d2)
    lim = np.abs(W).max() or 1.0
    ax.imshow(W, cmap="RdBu_r", vmin=-lim, vmax=lim, extent=(-0.5, d2 * cell - 0.5, d1 * cell - 0.5, -0.5))
    for (i, j), x in np.ndenumerate(W):           # observed entries bold, learned ones italic
        ax.text((j + 0.5) * cell - 0.5, (i + 0.5) * cell - 0.5, fmt.format(x), ha="center", va="center", fontsize=10,
                fontweight="bold" if mask[i, j] else "normal", fontstyle="normal" if mask[i, j] else "italic")

def draw_plateaus(fig, problem="4x4 connected"):
    lim, ks, fits = plateau_table[problem]
    ax1, ax2 = fig.axes
    x = np.array(ks) - 1
    plateaus = [s.loss for s in lim.saddles[1:-1]]
    ax1.bar(x - 0.2, plateaus, 0.4, color="C0")
    ax1.bar(x + 0.2, np.maximum(fits, 1e-3), 0.4, color="C1")
    for xi, p, f in zip(x, plateaus, fits):         # the values, also those below the axis
        ax1.text(xi - 0.2, max(p, 1e-3) * 1.3, f"{p:.3g}", ha="center", fontsize=8)
        ax1.text(xi + 0.2, max(f, 1e-3) * 1.3, f"{f:.3g}", ha="center", fontsize=8)
    if not ks:
        ax1.text(0.5, 0.5, "no plateau between the start and the end", transform=ax1.transAxes, ha="center")
    matrix_in_box(ax2, lim.W, demo_problems[problem])

mfbook.widgets.interact(draw_plateaus, setup=setup_plateaus, problem=list(demo_problems))
""")

md(r"""
## Exercises

```{exercise} The Hessian at the origin
:label: ex-dyn-origin

Show that at $A = B = 0$ the Hessian of $R_S$ has eigenvalues $\pm\sigma_i(E_0)$, each with multiplicity
$d$, where $E_0 = \frac{2}{n}P_{S_x}(M)$ and $d$ is the inner width (plus zeros if $d_1 \ne d_2$). Check it
numerically with `mfbook.hessian` for the $4\times4$ example.
```

```{solution} ex-dyn-origin
:class: dropdown

At the origin $R_S(X, Y) = R_S(0) - \frac{2}{n}\langle P_{S_x}(M), XY \rangle + O(4)$, so the quadratic form is
$-2\langle E_0, XY\rangle = -2\,\mathrm{tr}(X^\top E_0 Y^\top)$. For each hidden coordinate $l$ it couples column
$x_l$ of $X$ with row $y_l$ of $Y$ through $\begin{bmatrix}0 & -E_0\\ -E_0^\top & 0\end{bmatrix}$, whose eigenvalues
are $\pm\sigma_i(E_0)$; there are $d$ identical copies.

    H0 = mfbook.hessian(np.zeros((4, 4)), np.zeros((4, 4)), four.values, four.mask)
    E0 = (2 / four.n_observed) * np.where(four.mask, four.values, 0)
    s = np.linalg.svd(E0, compute_uv=False)
    print(np.allclose(np.sort(np.linalg.eigvalsh(H0)), np.sort(np.repeat(np.r_[s, -s], 4))))
```

```{exercise} How long is the second plateau?
:label: ex-dyn-slope

The assertions above found that the second drop of the $4\times4$ example, after the shift
$\frac1{\lambda_1}\log\frac1\alpha$, still moves by a fixed amount per decade of $\alpha$. Predict this slope
(in time per unit of $\log\frac1\alpha$) from three numbers: the rates $\lambda_1^{(0)} = \sigma_1(E_0)$ and
$\lambda_1^{(1)}$ of the origin and of the rank-1 saddle, and the second singular value $\sigma_2(E_0)$. Compare
with `slopes`.
```

```{solution} ex-dyn-slope
:class: dropdown

While the flow leaves the origin (time $\approx \frac{1}{\lambda^{(0)}_1}\log\frac1\alpha$), the direction that
will lead the next escape grows at most at rate $\sigma_2(E_0)$, so it arrives at the rank-1 saddle with
size $\alpha \cdot \alpha^{-\sigma_2/\lambda_1^{(0)}} = \alpha^{1 - \sigma_2/\lambda_1^{(0)}}$. There it grows like
$e^{\lambda_1^{(1)} t}$ and needs a time $\frac{1 - \sigma_2/\lambda_1^{(0)}}{\lambda_1^{(1)}}\log\frac1\alpha$ to become of order one.
Numbers: $(1 - 0.3289/2.0880)/0.2689 \approx 3.13$; the measured slopes are about $3.12$-$3.13$.

    s = np.linalg.svd((2 / four.n_observed) * np.where(four.mask, four.values, 0), compute_uv=False)
    print((1 - s[1] / s[0]) / limit4.saddles[1].rate, slopes)
```

```{exercise} Which saddle first?
:label: ex-dyn-which

Change the $5$ in the disconnected example to $20$ (`"1 * 3; * 20 *; 3 * 9"`). Which component is fitted
first now, what is the loss of the rank-1 saddle, and is the rank-1 completion still missed? Use
`mfbook.small_init_limit` and {eq}`lambda-one`.
```

```{solution} ex-dyn-which
:class: dropdown

At the origin the residual's singular values are now $\frac25\cdot20 = 8$ and $\frac25\cdot 10 = 4$, so the
small component ($M_{22} = 20$) escapes first: the rank-1 saddle is $W = 20\,e_2e_2^\top$ with loss
$(1 + 9 + 9 + 81)/5 = 20$. The rank-1 completion (loss 0) still exists and is still missed; the limit
is again a rank-2 matrix with the two blocks fitted in turn.

    lim = mfbook.small_init_limit("1 * 3; * 20 *; 3 * 9")
    print(lim.ranks, lim.plateaus, lim.saddles[1].W.round(3))
```

## Summary

- The initialization scale decides what is learned: on the $4\times4$ example $\alpha = 1$ gives a rank-4
  completion and every $\alpha \le 10^{-4}$ the rank-3 one ($\star = 1.2$).
- From a small start the loss falls in steps; the plateaus are the best rank-$k$ fits of the data
  and the gradient norm spikes between them.
- Every critical point is a strict saddle or a global minimum (Theorem 1); the escape follows the top
  eigendirection of $-H$, whose rate is the top singular value of $\frac2n P_{S_x}(M - W_c)$ (Theorem 2).
- Runs from different $\alpha$ coincide after the shift $\frac1{\lambda_1}\log\frac1\alpha$ (the first escape;
  later plateaus add their own logarithmic delay).
- With a disconnected pattern the first escape fits one component only, and the flow stops at a
  sub-optimal rank-1 saddle: the lowest-rank completion is missed.
""")

nb.write(Path(__file__).resolve().parents[1] / "chapters" / "04_dynamics.ipynb")
