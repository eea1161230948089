"""small_init_limit vs the authors' training recipe on the six seed examples, side by side.

Run:  .venv/bin/python benchmarks/limit.py [--large]   (OPENBLAS_NUM_THREADS=1 is set below unless given:
      on the 2-core machine threaded LAPACK on 32 x 32 matrices is slower, not faster)

For each example it prints the time of mfbook.small_init_limit and of the recipe
(benchmarks/recipe.py: full-batch GD, lr 0.1, init N(0, 1e-7), <= 1e5 steps, stop at loss < 1e-8),
each the best of several runs measured in turn (per round and example, 10 runs of the solver, which
takes well under a millisecond, then one of the recipe; 5 rounds), their ratio, and each side's
error to the alpha -> 0 limit. The limits are exact numbers (0, 1.5, 6, 20, 1.2) except for the 3x3 example, whose limit
depends on the initial direction: there the error is that of the nuclear norm (15) and of W[0,1]
against the limit computed at a tighter tolerance (rtol 1e-12) from the same seed (the recipe's
seed-0 draw is the same N(0,1) direction as mfbook's seed 0).

A second table asks what plain gradient descent needs to reach the limit solver's accuracy (1e-6):
smaller init (down to 1e-30) and smaller lr, with the step budget of the recipe (1e5) and 10x that;
[[0, 1], [2, *]] is in it because finite init approaches its limit slowly (0.017 at 1e-7).

With --large (about 2 minutes more) a third table: a 30 x 30 rank-3 completion with 40% of the
entries observed (seeded), where the limit is the ground truth itself: the limit solver, the
recipe, and mfbook's gradient_descent (lr 0.1) and gradient_flow (DOP853, rtol 1e-10) from the
same init 1e-7 to loss 1e-16, each with its time and its distance to the truth.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mfbook  # noqa: E402
from recipe import recipe  # noqa: E402

FOUR = "4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6"
THREE = "1 * 3; * 5 *; 3 * 9"
EXAMPLES = [("0 1; 2 *", (1, 1), 0.0), ("1 2; * 3", (1, 0), 1.5), ("1 2; 3 *", (1, 1), 6.0),
            ("1 2; 10 *", (1, 1), 20.0), (FOUR, (1, 3), 1.2), (THREE, None, None)]


def error(W, where, value, ref3):
    if where is not None:
        return abs(W[where] - value)
    return max(abs(np.linalg.svd(W, compute_uv=False).sum() - 15.0), abs(W[0, 1] - ref3[0, 1]))


def interleaved_best(problems, rounds, inner):
    """The best time of mfbook.small_init_limit (``inner`` calls a round) and of the recipe (one call a
    round) on each problem, the two measured in turn, problem by problem, round after round: the VM's
    speed changes over seconds, and this way both sides see the same moments. Also the last outputs."""
    tl = np.full(len(problems), np.inf)
    tr = np.full(len(problems), np.inf)
    res, rec = [None] * len(problems), [None] * len(problems)
    for _ in range(rounds):
        for i, p in enumerate(problems):
            for _ in range(inner):
                t = time.perf_counter()
                res[i] = mfbook.small_init_limit(p)
                tl[i] = min(tl[i], time.perf_counter() - t)
            t = time.perf_counter()
            rec[i] = recipe(p.values, p.mask)
            tr[i] = min(tr[i], time.perf_counter() - t)
    return tl, tr, res, rec


def main(rounds=5, inner=10):
    ref3 = mfbook.small_init_limit(THREE, seed=0, rtol=1e-12).W
    problems = [mfbook.Completion.parse(text) for text, _, _ in EXAMPLES]
    for p in problems:      # warm-up (imports, first LAPACK calls)
        mfbook.small_init_limit(p)
    tl, tr, res, rec = interleaved_best(problems, rounds, inner)
    print(f"best of {rounds * inner} runs of the limit solver and of {rounds} of the recipe, in turn, per example")
    print(f"{'example':<28} {'limit ms':>9} {'recipe ms':>10} {'ratio':>7} {'limit err':>10} {'recipe err':>11} {'steps':>7}")
    for (text, where, value), a, b, r, (Wr, steps) in zip(EXAMPLES, tl, tr, res, rec):
        el, er = error(r.W, where, value, ref3), error(Wr, where, value, ref3)
        print(f"{text[:28]:<28} {a * 1e3:9.2f} {b * 1e3:10.1f} {b / a:7.1f} {el:10.1e} {er:11.1e} {steps:7d}")
    print(f"{'all six':<28} {tl.sum() * 1e3:9.2f} {tr.sum() * 1e3:10.1f} {tr.sum() / tl.sum():7.1f}")

    print("\nPlain GD toward 1e-6 (error to the limit; '-' = not below the stop loss within the budget)")
    print(f"{'example':<12} {'init std':>9} {'lr':>6} {'max steps':>10} {'steps':>8} {'time s':>7} {'error':>9}")
    for text, where, value in [EXAMPLES[0], *EXAMPLES[2:4]]:
        p = mfbook.Completion.parse(text)
        for std, lr, budget, stop in [(1e-7, 0.1, 100_000, 1e-8), (1e-7, 0.1, 100_000, 1e-16),
                                      (1e-12, 0.1, 100_000, 1e-16), (1e-12, 0.02, 1_000_000, 1e-16),
                                      (1e-30, 0.1, 100_000, 1e-16)]:
            t = time.perf_counter()
            W, steps = recipe(p.values, p.mask, lr=lr, std=std, max_steps=budget, stop=stop)
            dt = time.perf_counter() - t
            print(f"{text:<12} {std:9.0e} {lr:6.2f} {budget:10d} {steps:8d} {dt:7.2f} {abs(W[where] - value):9.1e}"
                  f"  (stop loss {stop:.0e})")

    if "--large" in sys.argv[1:]:
        large()


def large(d=30, r=3, fraction=0.4, seed=0):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((d, r)) @ rng.standard_normal((r, d))
    mask = rng.random((d, d)) < fraction
    p = mfbook.Completion.from_arrays(M, mask)
    print(f"\n{d}x{d} rank {r}, {mask.sum()} of {d * d} entries observed (error = max |W - truth|)")
    print(f"{'solver':<44} {'time s':>7} {'error':>9}")
    runs = [("small_init_limit", lambda: mfbook.small_init_limit(p).W),
            ("recipe (lr 0.1, init 1e-7, stop loss 1e-8)", lambda: recipe(M, mask)[0]),
            ("gradient_descent (lr 0.1, init 1e-7)", lambda: mfbook.gradient_descent(p, 1e-7, lr=0.1, tol=1e-16).W),
            ("gradient_flow (init 1e-7)", lambda: mfbook.gradient_flow(p, 1e-7, tol=1e-16).W)]
    for name, run in runs:
        t = time.perf_counter()
        W = run()
        print(f"{name:<44} {time.perf_counter() - t:7.2f} {np.abs(W - M).max():9.1e}")


if __name__ == "__main__":
    main()
