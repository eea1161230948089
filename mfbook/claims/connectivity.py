"""Claim checks of chapter 2 (Connectivity): C11-C14.

Each check states a sentence of the chapter as a property of the evidence the chapter computes and
raises :class:`mfbook.claims.ClaimFailed` when the evidence contradicts it; ``tests/
test_claims_connectivity.py`` feeds every check wrong evidence and sees it fail.

Explained in: chapter 2 (Connectivity) and the appendix page "Claims and how they are checked".
"""
from __future__ import annotations

import math

import numpy as np

from . import claim, require

__all__ = ["observed_zero_is_not_an_edge", "paper_examples_classified", "three_examples_rank_versus_nuclear",
           "connected_miss_is_a_slow_omega_k_stage", "phase_transition_by_class",
           "finite_init_misses_at_near_tied_rates", "transition_curves_have_the_papers_shape"]


def _components(P):
    """Connected components of the bipartite graph of the 0/1 matrix ``P`` (union-find, no networkx),
    isolated vertices dropped: a list of (rows, cols)."""
    d1, d2 = P.shape
    parent = list(range(d1 + d2))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in zip(*np.nonzero(P)):
        parent[find(int(i))] = find(d1 + int(j))
    groups = {}
    for v in {int(i) for i in np.nonzero(P)[0]} | {d1 + int(j) for j in np.nonzero(P)[1]}:
        groups.setdefault(find(v), set()).add(v)
    return [(sorted(v for v in g if v < d1), sorted(v - d1 for v in g if v >= d1)) for g in groups.values()]


def _classify(values, mask):
    """Independent classification from Definitions 1-3 (the 0/1 observation matrix, union-find)."""
    P = (np.asarray(mask, bool) & (np.asarray(values, float) != 0)).astype(int)
    comps = _components(P)
    if len(comps) == 1:
        return "connected"
    if all(P[np.ix_(r, c)].all() for r, c in comps):
        return "disconnected-complete-bipartite"
    return "disconnected"


def _wilson(hits: int, total: int, z: float = 1.96):
    """95% Wilson score interval of a binomial fraction."""
    if total == 0:
        return 0.0, 1.0
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return centre - half, centre + half


@claim("C11", "The observation matrix $P$ counts observed **non-zero** entries only, isolated vertices are "
       "removed from $G_M$, and on $\\begin{bmatrix}0&1\\\\2&\\star\\end{bmatrix}$ training fills $\\star$ with a "
       "value that goes to 0 like a power of $\\alpha$ (the observed zero exerts no force at first).",
       computed="$P$ and the class of $[[0,1],[2,*]]$ from mfbook.connectivity, the vertices of $G_M$ for "
                "$[[0,1,*],[2,*,*]]$, and the entry $\\star$ learned by gradient flow at three scales $\\alpha$.",
       cross_check="$P$, the components and the class are recomputed inside the check from the definition "
                   "(union-find on observed non-zero entries), independently of networkx; the fill comes from "
                   "training (mfbook.gradient_flow), not from the limit solver.",
       tolerance="Fill decreasing in $\\alpha$ with log-log slopes above 0.1 that agree to 0.05: two estimates "
                 "of one exponent over 3 decades each; a wrong (constant or growing) fill gives a slope near 0.")
def observed_zero_is_not_an_edge(problem, P, kind, graph_problem, vertices, fills):
    """``problem``: [[0,1],[2,*]]; ``P``, ``kind``: what the package computed; ``graph_problem`` and
    ``vertices``: a pattern with an unobserved column and the vertex set of its graph; ``fills``:
    {alpha: learned * by training}."""
    V, Mk = problem.values, problem.mask
    want = (Mk & (V != 0)).astype(int)
    require(np.array_equal(np.asarray(P), want),
            f"P = {np.asarray(P).tolist()} should be 1 exactly on observed non-zero entries: {want.tolist()}")
    require(kind == _classify(V, Mk) == "disconnected-complete-bipartite",
            f"class {kind!r}: the observed zero is no edge, so the graph is two single edges "
            f"(complete bipartite components); definition gives {_classify(V, Mk)!r}")
    Pg = (graph_problem.mask & (graph_problem.values != 0))
    touched = {("r", int(i)) for i in np.nonzero(Pg.any(axis=1))[0]} | \
              {("c", int(j)) for j in np.nonzero(Pg.any(axis=0))[0]}
    require(set(vertices) == touched, f"vertices {sorted(vertices)} should be exactly those with an edge "
            f"{sorted(touched)} (isolated vertices removed)")
    alphas = sorted(fills, reverse=True)
    f = np.array([fills[a] for a in alphas], float)
    require(len(f) >= 3 and np.all(f > 0) and np.all(np.diff(f) < 0),
            f"the learned fill should be positive and shrink with alpha: {dict(zip(alphas, f))}")
    slopes = np.diff(np.log(f)) / np.diff(np.log(alphas))
    require(np.all(slopes > 0.1) and np.ptp(slopes) < 0.05,
            f"the fill should vanish like a power of alpha: log-log slopes {np.round(slopes, 3).tolist()}")
    return {"exponent": float(np.mean(slopes)), "fill_smallest_alpha": float(f[-1])}


@claim("C12", "$M_1$ is disconnected, $M_2$ is disconnected with complete bipartite components "
       "(blocks rows 1-2 / columns 1-2 and the entry 5) and $M_3$ is connected.",
       computed="mfbook.connectivity on the three $3\\times3$ examples of the paper.",
       cross_check="Each class is recomputed inside the check from Definitions 1-3 by union-find on the "
                   "observed non-zero entries (no networkx), and both must agree with the paper's classes.",
       tolerance="Exact: classes and components are discrete.")
def paper_examples_classified(problems, kinds):
    """``problems``: {"M1": Completion, ...}; ``kinds``: {"M1": mfbook.connectivity(...), ...}."""
    paper = {"M1": "disconnected", "M2": "disconnected-complete-bipartite", "M3": "connected"}
    for name, want in paper.items():
        q = problems[name]
        mine = _classify(q.values, q.mask)
        require(kinds[name].kind == mine == want,
                f"{name}: package says {kinds[name].kind!r}, the definition {mine!r}, the paper {want!r}")
    P2 = problems["M2"].mask & (problems["M2"].values != 0)
    comps = sorted((tuple(r), tuple(c)) for r, c in _components(P2))
    require(comps == [((0, 1), (0, 1)), ((2,), (2,))], f"M2 components {comps}")
    require(sorted((c.rows, c.cols) for c in kinds["M2"].components) == comps,
            "M2: the package's components differ from the definition's")
    return {"components_M1": len(_components(problems["M1"].mask & (problems["M1"].values != 0))),
            "components_M3": len(_components(problems["M3"].mask & (problems["M3"].values != 0)))}


@claim("C13", "On the paper's examples small-initialization training finds the lowest rank on the "
       "connected $M_3$ (not the minimum nuclear norm), the minimum nuclear norm on $M_2$ (not the "
       "lowest rank), and neither on $M_1$.",
       computed="For each example: the learned rank and nuclear norm of the $\\alpha\\to0$ limit "
                "(mfbook.small_init_limit) and of plain gradient descent from 10 seeds at a small scale, the "
                "minimum rank (mfbook.min_rank) and minimum nuclear norm (convex program).",
       cross_check="Plain gradient descent (mfbook.gradient_descent_batch, 10 seeds) must give the same "
                   "learned rank as the limit solver on at least 9 of 10 seeds per example.",
       tolerance="Nuclear norms equal to 1e-4 relative (the convex program's accuracy is ~1e-9 and finite "
                 "alpha leaves O(alpha^p) remnants); 'not minimal' means a gap above 0.1 (the gaps are about 1 "
                 "and 2); 9/10 seeds allows one seed on a near-tie.")
def three_examples_rank_versus_nuclear(rows, trained_ranks):
    """``rows``: {"M1": {learned_rank, learned_nuc, min_rank, min_nuc}, ...} for the learned matrices;
    ``trained_ranks``: {"M1": ranks of gradient descent over >= 10 seeds, ...}."""
    m1, m2, m3 = rows["M1"], rows["M2"], rows["M3"]
    require(m3["learned_rank"] == m3["min_rank"], f"M3 (connected): rank {m3['learned_rank']} != min {m3['min_rank']}")
    require(m3["learned_nuc"] > m3["min_nuc"] + 0.1, "M3: the learned matrix should not be the min nuclear norm")
    require(abs(m2["learned_nuc"] - m2["min_nuc"]) <= 1e-4 * m2["min_nuc"],
            f"M2 (complete bipartite): |W|_* = {m2['learned_nuc']:.6f}, minimum {m2['min_nuc']:.6f}")
    require(m2["learned_rank"] > m2["min_rank"], "M2: the learned matrix should not have the minimum rank")
    require(m1["learned_rank"] > m1["min_rank"] and m1["learned_nuc"] > m1["min_nuc"] + 0.1,
            "M1 (other disconnected): the learned matrix should be neither lowest rank nor min nuclear norm")
    agree = {}
    for name, r in rows.items():
        ranks = np.asarray(trained_ranks[name])
        require(ranks.size >= 10, f"{name}: at least 10 training seeds, got {ranks.size}")
        agree[name] = float(np.mean(ranks == r["learned_rank"]))
        require(agree[name] >= 0.9, f"{name}: gradient descent gives rank {r['learned_rank']} on only "
                f"{agree[name]:.0%} of seeds")
    return {f"training_agrees_{k}": v for k, v in agree.items()}


@claim("C13", "A connected pattern on which training misses the lowest rank at every representable scale: "
       "inside $\\Omega_k$ the rank-$k$ stage converges to an exact fit of the minimum rank, but so slowly that "
       "an unused inner direction seeded at size $\\varepsilon$ leaves it when $\\int\\sigma_1(E)\\,dt$ reaches "
       "$\\log(1/\\varepsilon)$; only seeds far below rounding level let the stage finish.",
       computed="The width-$k$ gradient flow (no unused inner direction) with the top singular value "
                "$\\sigma_1(E)$ of its residual gradient; full-width flows from a point of that stage with "
                "unused directions seeded at sizes $\\varepsilon$ (4 decades or more, all far above rounding); "
                "gradient descent at two scales over 10 or more seeds; the exact minimum rank.",
       cross_check="The exit times come from separate full-width flows; they must match the growth predicted "
                   "from the width-$k$ flow alone. Plain gradient descent (10+ seeds, two scales) must miss the "
                   "minimum rank, as the explanation predicts for seeds at rounding level.",
       tolerance="Fit: loss below 1e-12 of the mean squared observation (the flow is stopped at 1e-16), "
                 "factors moving by < 1e-3 and loss falling by >= 1e3 over the last half of the flow time "
                 "(geometric convergence; a power-law crawl cannot do that over a doubling of time). "
                 "$\\Lambda(t_{exit}) - \\log(1/\\varepsilon)$ constant to 0.5 nats (the exit threshold and the "
                 "seed's direction shift it by a constant; 0.5 nats is a factor 1.6 in $\\varepsilon$). Threshold "
                 "seed below 1e-16 (double-precision rounding). 9/10 seeds miss (one seed of margin).")
def connected_miss_is_a_slow_omega_k_stage(min_rank, stage, start, eps, exit_times, trained_ranks,
                                           trained_nuclear=None, min_nuclear=None):
    """``stage``: :func:`mfbook.sweep.omega_k_stage` at width ``min_rank``; ``start``: the index where the
    seeded flows start; ``exit_times``: from :func:`mfbook.sweep.seeded_exit_times`; ``trained_ranks``:
    {alpha: ranks of gradient descent over seeds}; optional ``trained_nuclear`` {alpha: nuclear norms}."""
    t, loss, sigma, norm = (np.asarray(stage[key], float) for key in ("t", "loss", "sigma", "norm"))
    level = stage["level"]
    k = int(min_rank)
    require(loss[-1] <= 1e-12 * level, f"inside Omega_{k} the flow should reach an exact fit: loss "
            f"{loss[-1] / level:.2e} of the data level at t = {t[-1]:.3g}")
    r_end = int(np.sum(stage["sv"][-1] > 1e-6 * stage["sv"][-1][0]))
    require(r_end == k, f"the fit inside Omega_{k} should have rank {k}, has {r_end}")
    half = np.searchsorted(t, t[-1] / 2)
    # a finite fit, not a crawl outwards: over the last half of the flow time the factors move by less
    # than 1e-3 and the loss falls geometrically (by 1e3 or more; a crawl to an infimum at infinity decays
    # like a power of t, which over a doubling of t would need an exponent of 10)
    require(abs(norm[-1] - norm[half]) <= 1e-3 * norm[-1] and loss[half] >= 1e3 * loss[-1],
            f"the factors should settle (a finite fit, not a crawl outwards): |theta| {norm[half]:.6g} -> "
            f"{norm[-1]:.6g}, loss {loss[half]:.2e} -> {loss[-1]:.2e} from t = {t[half]:.3g} to {t[-1]:.3g}")
    Lam = np.concatenate([[0.0], np.cumsum(0.5 * (sigma[1:] + sigma[:-1]) * np.diff(t))])
    Lam -= Lam[start]
    eps, ex = np.asarray(eps, float), np.asarray(exit_times, float)
    require(eps.size >= 3 and np.log10(eps.max() / eps.min()) >= 4, "seed sizes should span >= 4 decades")
    require(np.all(np.isfinite(ex)), f"every seeded run should leave the stage: exit times {ex}")
    order = np.argsort(-eps)
    require(np.all(np.diff(ex[order]) > 0), "smaller seeds should leave later")
    offset = np.interp(ex + t[start], t, Lam) - np.log(1 / eps)
    require(np.ptp(offset) <= 0.5, f"exit when the accumulated rate reaches log(1/eps): offsets "
            f"{np.round(offset, 3).tolist()} (nats) should be constant")
    log_threshold = Lam[-1] - float(np.mean(offset))      # seeds below exp(-this) let the stage finish
    require(log_threshold > math.log(1e16), f"the stage ends before a seed of size exp(-{log_threshold:.1f}) "
            "grows: rounding-level seeds would not leave it, and the explanation fails")
    out = {"accumulated_rate": float(Lam[-1]), "log10_threshold_seed": float(-log_threshold / math.log(10)),
           "rate_offset": float(np.mean(offset))}
    for a, ranks in trained_ranks.items():
        ranks = np.asarray(ranks)
        require(ranks.size >= 10, f"at least 10 training seeds at alpha = {a:g}")
        miss = float(np.mean(ranks > k))
        require(miss >= 0.9, f"training at alpha = {a:g} should miss the minimum rank {k}: misses on {miss:.0%}")
        out[f"miss_fraction_{a:g}"] = miss
    if trained_nuclear is not None:
        for a, nucs in trained_nuclear.items():
            gap = float(np.median(nucs) / min_nuclear - 1)
            require(gap <= 0.02, f"training at alpha = {a:g}: median |W|_* {np.median(nucs):.4f} is not within "
                    f"2% of the minimum {min_nuclear:.4f}")
            out[f"nuclear_gap_{a:g}"] = gap
    return out


@claim("C14", "On random $4\\times4$ problems of rank 1-3 the class decides the bias: connected patterns "
       "reach the minimum rank far more often than disconnected ones, patterns with complete bipartite "
       "components reach the minimum nuclear norm, and most connected runs do not reach the minimum nuclear "
       "norm.",
       computed="The phase-transition sweep in the $\\alpha\\to0$ limit (mfbook.sweep, trainer 'limit') and by "
                "plain gradient descent at one or more small scales on the same problems, with the minimum-rank "
                "and minimum-nuclear-norm references.",
       cross_check="Every statistic is required of the gradient-descent sweep too (training, not the limit "
                   "solver), and the classes are recomputed inside the check from the definition.",
       tolerance="95% Wilson intervals: connected at minimum rank, lower bound >= 0.5 ('most'), and above the "
                 "upper bounds of both disconnected classes ('far more often': the intervals do not overlap); "
                 "connected NOT at minimum nuclear norm "
                 "(1e-4 relative, the convex solver's accuracy), lower bound >= 0.5; complete bipartite at "
                 "minimum nuclear norm on >= 90% (limit: all). The bounds hold with room at the test size "
                 "(3 repeats) and at the paper's 10.")
def phase_transition_by_class(limit, trained):
    """``limit``: the Sweep of the limit; ``trained``: {alpha: Sweep by gradient descent on the same problems}."""
    out = {}
    for name, S in {"limit": limit, **{f"{a:g}": R for a, R in trained.items()}}.items():
        mine = np.array([_classify(v, m) for v, m in zip(S.truth, S.mask)])
        require(np.array_equal(mine, S.kind), f"{name}: the recorded classes do not follow the definition")
        conn, cb, dis = (S.kind == "connected"), (S.kind == "disconnected-complete-bipartite"), \
            (S.kind == "disconnected")
        hit = S.reaches_min_rank
        lo_c, _ = _wilson(int(hit[conn].sum()), int(conn.sum()))
        require(lo_c >= 0.5, f"{name}: connected runs at min rank {hit[conn].mean():.2f} (lower bound {lo_c:.2f})")
        for label, sel in (("other disconnected", dis), ("complete bipartite", cb)):
            _, up = _wilson(int(hit[sel].sum()), int(sel.sum()))
            require(up < lo_c, f"{name}: {label} runs at min rank {hit[sel].mean():.2f} (upper bound {up:.2f}) "
                    f"not clearly below the connected runs (lower bound {lo_c:.2f})")
        nuc = S.reaches_min_nuclear(rtol=1e-4)
        lo_n, _ = _wilson(int((~nuc[conn]).sum()), int(conn.sum()))
        require(lo_n >= 0.5, f"{name}: connected runs away from the min nuclear norm {1 - nuc[conn].mean():.2f} "
                f"(lower bound {lo_n:.2f}): the two biases should differ")
        need = 1.0 if name == "limit" else 0.9
        require(cb.sum() > 0 and nuc[cb].mean() >= need,
                f"{name}: complete-bipartite runs at the min nuclear norm {nuc[cb].mean():.2f} < {need}")
        out[f"{name}_connected_min_rank"] = float(hit[conn].mean())
        out[f"{name}_disconnected_min_rank"] = float(hit[dis | cb].mean())
    return out


@claim("C14", "At a finite $\\alpha$ the connected runs that miss the minimum rank although their limit "
       "reaches it have nearly tied top singular values of the observed data, and there are fewer such misses "
       "at a smaller $\\alpha$.",
       computed="For the connected runs whose limit has the minimum rank: $\\sigma_2/\\sigma_1$ of the observed "
                "data (mfbook.sweep.first_residual_gap) and whether gradient descent at two scales reaches the "
                "minimum rank.",
       cross_check="A one-sided Mann-Whitney rank test of the ratios (misses against hits), and a one-sided "
                   "sign test on the runs whose outcome changes between the two scales.",
       tolerance="p < 0.05 for both tests (the usual 5% level; a shuffled assignment of misses gives p ~ 0.5).")
def finite_init_misses_at_near_tied_rates(ratio, hits):
    """``ratio``: sigma_2/sigma_1 per run (connected runs whose limit has min rank); ``hits``: {alpha:
    bool array, gradient descent at that scale reaches the minimum rank}, two scales."""
    from scipy.stats import binomtest, mannwhitneyu

    ratio = np.asarray(ratio, float)
    out = {}
    for a, h in hits.items():
        h = np.asarray(h, bool)
        require((~h).sum() >= 3 and h.sum() >= 3, f"alpha = {a:g}: too few misses or hits to test")
        p = mannwhitneyu(ratio[~h], ratio[h], alternative="greater").pvalue
        require(p < 0.05, f"alpha = {a:g}: misses do not have larger sigma_2/sigma_1 (Mann-Whitney p = {p:.3f})")
        out[f"p_ratio_{a:g}"] = float(p)
        out[f"misses_{a:g}"] = int((~h).sum())
    big, small = sorted(hits, reverse=True)
    fixed = int(np.sum(~hits[big] & hits[small]))      # miss at the larger scale, hit at the smaller
    broken = int(np.sum(hits[big] & ~hits[small]))
    p = binomtest(fixed, fixed + broken, 0.5, alternative="greater").pvalue if fixed + broken else 1.0
    require(p < 0.05, f"smaller alpha should fix misses: {fixed} fixed, {broken} new (sign test p = {p:.3f})")
    out.update(fixed_by_smaller_alpha=fixed, broken_by_smaller_alpha=broken, p_sign=float(p))
    return out


def _first_true(flags) -> int:
    """Index of the first True entry (-1 if none)."""
    hit = np.flatnonzero(flags)
    return int(hit[0]) if hit.size else -1


@claim("C14", "For $4\\times4$ ground truths of rank $r = 1, 2, 3$ and every number $n$ of observed "
       "entries (at least 50 random problems each): the fraction of limits with the minimum rank is "
       "below one half somewhere under the threshold $r(d_1 + d_2 - r)$ (7, 12, 15) and at least 0.85 "
       "from the threshold on; it never exceeds the fraction of connected patterns and stays within 0.1 "
       "of it on average; the fraction with the minimum nuclear norm, at least 0.9 for $n \\le 2$, "
       "falls below 0.25 and crosses below the minimum-rank fraction before the threshold, staying "
       "below it up to the threshold.",
       computed="The stored per-run outcomes of the full sweep (benchmarks/fig1_sweep.py: the $\\alpha\\to0$ "
                "limit by mfbook.sweep.phase_transition, trainer 'limit', with both references; "
                "chapters/data/fig1.npz), a live rerun of one run per (rank, $n$) with the current code "
                "(mfbook.sweep.rerun_record), and plain gradient descent at $\\alpha = 10^{-15}$ on the same "
                "runs.",
       cross_check="The classes are recomputed inside the check from the stored observed positions "
                   "(union-find, Definitions 1-3); the live rerun must reproduce the stored classes exactly "
                   "and the stored outcomes on >= 95% of its runs (the stored data cannot drift from the "
                   "code); plain gradient descent (training, not the limit solver) must agree with the limit's "
                   "outcomes on >= 75% of those runs.",
       tolerance="Wilson 95% lower bound >= 0.85 for the pooled fraction past the threshold ('high', with room "
                 "for the connected runs that miss); 'low' = below one half; 'falls' = below a quarter; a mean "
                 "gap of 0.1 (a tenth of the scale) is what 'tracks' means; >= 50 runs per point (standard "
                 "error <= 0.07). 95% live agreement: the minimum-rank search restarts alternating least "
                 "squares at random and the nuclear-norm match uses 1e-4, so a run on a near-tie may flip; "
                 "75% for training: a finite $\\alpha$ misses about one run in ten that the limit reaches "
                 "(near-tied rates, see 'Finite initialization'), and 48 runs add a sampling error of about "
                 "0.09 (two standard errors).")
def transition_curves_have_the_papers_shape(record, live, trained):
    """``record``: :func:`mfbook.sweep.load_record` of the stored sweep; ``live``:
    :func:`mfbook.sweep.rerun_record` of some of its runs (``info["runs_index"]``); ``trained``: a
    gradient-descent Sweep of the same problems as ``live`` (its references copied from ``live``)."""
    rank, n, mask, d = record["rank"], record["n"], record["mask"], int(record["d"])
    # classes from the stored positions: the ground truths are Gaussian, so no observed entry is 0
    mine = np.array([_classify(np.ones(m.shape), m) for m in mask])
    require(np.array_equal(mine, record["kind"]), "the stored classes do not follow the definition on "
            f"{int(np.sum(mine != record['kind']))} runs")
    hit_rank, hit_nuc = np.asarray(record["reaches_min_rank"], bool), np.asarray(record["reaches_min_nuclear"], bool)
    conn = mine == "connected"
    sizes = np.arange(1, d * d + 1)
    out = {}
    # 1. the shape of the three curves (checked first, on the full stored sweep)
    for r in np.unique(rank):
        r = int(r)
        cells = [(rank == r) & (n == s) for s in sizes]
        count = np.array([c.sum() for c in cells])
        require(count.min() >= 50, f"rank {r}: at least 50 runs per n for smooth curves, got {count.min()}")
        f_rank = np.array([hit_rank[c].mean() for c in cells])
        f_nuc = np.array([hit_nuc[c].mean() for c in cells])
        f_conn = np.array([conn[c].mean() for c in cells])
        n_r = 2 * r * d - r * r
        below = (sizes >= 2) & (sizes <= n_r)
        require(f_rank[below].min() < 0.5, f"rank {r}: the min-rank fraction should be low (< 1/2) somewhere "
                f"below the threshold {n_r}; its minimum there is {f_rank[below].min():.2f}")
        past = sizes >= n_r
        lo, _ = _wilson(int(sum(hit_rank[c].sum() for c, p in zip(cells, past) if p)), int(count[past].sum()))
        require(lo >= 0.85, f"rank {r}: the min-rank fraction from n = {n_r} on is "
                f"{np.sum(f_rank[past] * count[past]) / count[past].sum():.2f} (lower bound {lo:.2f} < 0.85)")
        gap = f_conn - f_rank
        require(np.all(gap >= 0), f"rank {r}: the min-rank fraction exceeds the connected fraction at n = "
                f"{sizes[gap < 0].tolist()}: disconnected patterns should not reach the minimum rank")
        require(gap.mean() <= 0.1, f"rank {r}: the connected fraction does not track the min-rank fraction "
                f"(mean gap {gap.mean():.3f})")
        require(np.all(f_nuc[sizes <= 2] >= 0.9), f"rank {r}: the min-nuclear fraction at n <= 2 should be "
                f"near 1: {f_nuc[sizes <= 2].round(2).tolist()}")
        k = _first_true((f_rank >= f_nuc) & below)
        require(k >= 0 and sizes[k] < n_r, f"rank {r}: the min-rank fraction should overtake the min-nuclear "
                f"fraction before the threshold {n_r}")
        after = (sizes >= sizes[k]) & (sizes <= n_r)
        require(np.all(f_rank[after] > f_nuc[after]) and f_nuc[after].min() < 0.25,
                f"rank {r}: after crossing at n = {sizes[k]} the min-nuclear fraction should stay below the "
                f"min-rank fraction up to n = {n_r} and fall below 1/4: {f_nuc[after].round(2).tolist()}")
        out[f"crossing_n_rank{r}"] = int(sizes[k])
        out[f"connected_at_crossing_rank{r}"] = float(f_conn[k])
        out[f"mean_gap_rank{r}"] = float(gap.mean())
    # 2. the stored outcomes follow from the code: a live rerun of some runs reproduces them
    idx = np.asarray(live.info["runs_index"], int)
    covered = set(zip(rank[idx].tolist(), n[idx].tolist()))
    require(covered == set(zip(rank.tolist(), n.tolist())), "the live rerun should cover every (rank, n)")
    require(np.array_equal(live.mask, mask[idx]) and np.array_equal(live.kind, record["kind"][idx]),
            "the live rerun's problems or classes differ from the stored ones")
    agree = {"min_rank": float(np.mean(live.reaches_min_rank == hit_rank[idx])),
             "min_nuclear": float(np.mean(live.reaches_min_nuclear(record["rtol"]) == hit_nuc[idx]))}
    for name, a in agree.items():
        require(a >= 0.95, f"the live rerun reproduces the stored '{name}' outcome on only {a:.0%} of "
                f"{idx.size} runs: the stored data no longer follow from the code")
        out[f"live_agrees_{name}"] = a
    # 3. training confirms the limit on the same runs
    require(trained.info.get("trainer") == "gd" and np.array_equal(trained.mask, live.mask),
            "the training cross-check must be gradient descent on the live runs")
    for name, a in (("min_rank", np.mean(trained.reaches_min_rank == live.reaches_min_rank)),
                    ("min_nuclear", np.mean(trained.reaches_min_nuclear(record["rtol"])
                                            == live.reaches_min_nuclear(record["rtol"])))):
        require(a >= 0.75, f"gradient descent agrees with the limit's '{name}' outcome on only {a:.0%}")
        out[f"training_agrees_{name}"] = float(a)
    return out
