"""The phase transition at research scale: d = 30 ... 100, rank 3, stored for the book.

Run:  .venv/bin/python benchmarks/transition_at_scale.py [--repeats N]   (default 16; about two minutes on
      2 cores)

For each d in DIMS and each ratio in RATIOS, the first ``repeats`` problems of
:func:`mfbook.sweep.connected_problems` with n = round(ratio * (2rd - r^2)) observed entries, and the
small-initialization limit of each (``mfbook.small_init_limit_batch``, seed 0, 1, ...). Each run's
outcome is :func:`mfbook.sweep.scale_outcome`: 0 "ground truth", 1 "converged elsewhere", 2 "not
settled" (a stage of the path crawls), 3 any other status. The outcomes are written to
chapters/data/transition_scale.npz with the settings; the appendix chapter draws them and recomputes
a few of them live.
"""
import os
import sys
import time

import numpy as np

import mfbook
from mfbook.sweep import connected_problems, scale_outcome

DIMS = (30, 50, 70, 100)
RATIOS = (1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0)
RANK = 3
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "chapters", "data", "transition_scale.npz")


def runs(d, ratio, repeats):
    """The outcome codes of the runs at one (d, ratio), and the number n of observed entries."""
    n = int(round(ratio * (2 * RANK * d - RANK * RANK)))
    pairs = connected_problems(d, n, repeats, RANK)
    results = mfbook.small_init_limit_batch([q for q, _ in pairs], seed=0)
    return n, np.array([scale_outcome(r, t) for r, (_, t) in zip(results, pairs)])


def main(repeats=16):
    codes = np.zeros((len(DIMS), len(RATIOS), repeats), int)
    ns = np.zeros((len(DIMS), len(RATIOS)), int)
    seconds = np.zeros(len(DIMS))
    for i, d in enumerate(DIMS):
        t = time.perf_counter()
        for j, ratio in enumerate(RATIOS):
            ns[i, j], codes[i, j] = runs(d, ratio, repeats)
            print(d, ratio, ns[i, j], np.bincount(codes[i, j], minlength=4), flush=True)
        seconds[i] = time.perf_counter() - t
        print(f"d = {d}: {seconds[i]:.0f} s", flush=True)
    np.savez_compressed(OUT, dims=np.array(DIMS), ratios=np.array(RATIOS), rank=RANK, n=ns, codes=codes,
                        seconds=seconds, repeats=repeats)
    print("written", os.path.relpath(OUT))


if __name__ == "__main__":
    main(int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 16)
