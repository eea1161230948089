"""Training with many digits on the runs of the appendix's sweep where double precision disagrees.

Run:  .venv/bin/python benchmarks/many_digits.py [--steps N]   (default 25,000; about 15 minutes on
      2 cores)

The appendix (chapters/07_appendix_limit.ipynb) trains the 144 runs of its sweep by gradient flow in
double precision from alpha = 1e-12 (loss down to 1e-14 of max|M_ij|^2) and compares the end points
with ``mfbook.small_init_limit``. Here every run that disagrees (relative distance above 1e-4) is
trained again by ``mfbook.precise_gradient_flow`` with 80 digits from alpha = 1e-100 (at most
``--steps`` steps), and the table gives both distances to the limit, by the limit's status. The
chapter itself shows one such run (run 81); this script measures them all. It is science, not speed:
it prints figures, it does not time anything.

80 digits are not enough where a later escape starts from a part of theta_0 that the first plateau
left about alpha^(1 - sigma_2/sigma_1) of its size, below 1e-80 here: on runs 112 and 115 the end
point still moves with the digits at 80 and stops moving from 120 on (tests/test_appendix_limit.py
checks those runs with 120 digits). And on some runs training approaches the limit slowly in
alpha: run 74 is 7.7e-2, 3.6e-2, 6.2e-3 and 2.1e-4 from it at alpha = 1e-30,
1e-50, 1e-100 and 1e-200 (60 to 240 digits).
"""
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np

import mfbook
from mfbook import sweep

SEED, TOL = 2024, 1e-4


def problems():
    _, _, truth, mask = sweep.sample_problems(ranks=(1, 2, 3), sizes=range(1, 17), repeats=3, seed=SEED)
    return [mfbook.Completion.from_arrays(t, m) for t, m in zip(truth, mask)]


def distance(W, limit):
    return float(np.linalg.norm(W - limit.W) / np.linalg.norm(limit.W))


def many_digits(args):
    r, q, limit, steps = args
    run = mfbook.precise_gradient_flow(q, init_scale=1e-100, digits=80, seed=SEED + r, max_steps=steps)
    return r, distance(run.W, limit), run.converged


def main(steps=25_000):
    qs = problems()
    limits = mfbook.small_init_limit_batch(qs, seed=SEED)
    double = [distance(mfbook.gradient_flow(q, init_scale=1e-12, seed=SEED + r, t_max=1e7, tol=1e-14).W, lim)
              for r, (q, lim) in enumerate(zip(qs, limits))]
    apart = [r for r, d in enumerate(double) if d > TOL]
    print(f"{len(apart)} of {len(qs)} runs disagree in double precision from alpha = 1e-12")
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        many = {r: (d, ok) for r, d, ok in pool.map(many_digits, [(r, qs[r], limits[r], steps) for r in apart])}
    print(f"{'run':>4} {'status':<12} {'method':<20} {'double, 1e-12':>14} {'80 digits, 1e-100':>18}  stopped")
    for r in apart:
        lim = limits[r]
        d, ok = many[r]
        print(f"{r:4d} {lim.status:<12} {lim.method:<20} {double[r]:14.1e} {d:18.1e}  "
              f"{'at the loss' if ok else 'at the step budget'}")
    for status in sorted({limits[r].status for r in apart}):
        runs = [r for r in apart if limits[r].status == status]
        close = sum(many[r][0] <= TOL for r in runs)
        closer = sum(many[r][0] < double[r] for r in runs)
        print(f"{status}: {len(runs)} runs; with 80 digits {close} within {TOL:g} of the limit, "
              f"{closer} closer than in double precision")


if __name__ == "__main__":
    main(int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 25_000)
