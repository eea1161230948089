"""The Fig. 1 sweep (4x4, ranks 1-3, every sample size 1..16, 10 repeats = 480 runs) in the
alpha -> 0 limit with mfbook.small_init_limit_batch (each run's whole saddle-to-saddle path compiled
in numba, the runs shared out over the CPU cores), against the authors' recipe
(benchmarks/recipe.py) run one problem at a time on one core.

Run:  .venv/bin/python benchmarks/sweep.py [repeats]   (default 10; OPENBLAS_NUM_THREADS=1 unless set)

The limit batch is timed twice, with all of numba's threads (one per core) and with one thread, and
the ratio is printed both ways: the recipe is plain NumPy on tiny matrices and uses one core.

Problems: ground truth U V^T with U, V standard Gaussian 4 x r, n observed positions uniform
without replacement (seeded). Prints the batch time, the recipe's total time, their ratio, the
status counts of the limit runs, and how far the two sides' completions are apart on the runs
both finished (the recipe stops at loss 1e-8 from init 1e-7, so it is 1e-4..1e-1 off the limit).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys
import time
from collections import Counter

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mfbook  # noqa: E402
from recipe import recipe  # noqa: E402


def sample(repeats, d=4, seed=0):
    rng = np.random.default_rng(seed)
    problems = []
    for r in (1, 2, 3):
        for n in range(1, d * d + 1):
            for _ in range(repeats):
                M = rng.standard_normal((d, r)) @ rng.standard_normal((r, d))
                mask = np.zeros(d * d, bool)
                mask[rng.choice(d * d, n, replace=False)] = True
                problems.append(mfbook.Completion.from_arrays(M, mask.reshape(d, d)))
    return problems


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    problems = sample(repeats)
    mfbook.small_init_limit_batch(problems, seed=0)  # warm-up: loads every compiled pass from the cache
    threads = numba.get_num_threads()
    t = time.perf_counter()
    res = mfbook.small_init_limit_batch(problems, seed=0)
    t_lim = time.perf_counter() - t
    numba.set_num_threads(1)
    t = time.perf_counter()
    mfbook.small_init_limit_batch(problems, seed=0)
    t_one = time.perf_counter() - t
    numba.set_num_threads(threads)
    status = Counter(r.status for r in res)
    finite = all(np.all(np.isfinite(r.W)) for r in res)
    t = time.perf_counter()
    rec = [recipe(q.values, q.mask, seed=i) for i, q in enumerate(problems)]
    t_rec = time.perf_counter() - t
    gap = np.array([np.abs(r.W - W).max() for r, (W, _) in zip(res, rec)])
    conv = np.array([r.status == "converged" for r in res])
    print(f"runs: {len(problems)}  (4x4, ranks 1-3, n = 1..16, {repeats} repeats)")
    print(f"small_init_limit_batch: {t_lim:7.2f} s   ({threads} threads; {t_one:.2f} s with one)   "
          f"statuses {dict(status)}   all finite: {finite}")
    print(f"recipe one by one:      {t_rec:7.2f} s   ({np.mean([s for _, s in rec]):.0f} steps on average, "
          f"{sum(s >= 99_999 for _, s in rec)} hit the 1e5 budget)")
    print(f"ratio recipe / limit:   {t_rec / t_lim:7.2f}   (one thread each: {t_rec / t_one:.2f})")
    print(f"max |W_limit - W_recipe| on converged runs: median {np.median(gap[conv]):.1e}, "
          f"90th pct {np.percentile(gap[conv], 90):.1e}")


if __name__ == "__main__":
    main()
