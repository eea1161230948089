"""The data of chapter 2's headline figure (the paper's Fig. 1 with smooth curves).

For 4x4 ground truths of rank 1, 2, 3 and every sample size n = 1..16, REPEATS random problems
(ground truth U V^T with Gaussian U, V; n positions uniform without replacement), the alpha -> 0
limit of training (mfbook.sweep.phase_transition, trainer="limit") and both references (minimum
rank, minimum nuclear norm). About 70 s for 50 repeats on one core, so the chapter loads the result
instead of recomputing it, and recomputes a seeded subsample live to check that the stored outcomes
still follow from the code (mfbook.sweep.rerun_record; claim C14 in chapter 2).

Run:  .venv/bin/python benchmarks/fig1_sweep.py [repeats]     (default 100; writes chapters/data/fig1.npz)
"""
import pathlib
import sys
import time

import numpy as np

from mfbook import sweep

SEED = 2024
OUT = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "data" / "fig1.npz"


def main(repeats: int = 100) -> None:
    t0 = time.perf_counter()
    S = sweep.phase_transition(ranks=(1, 2, 3), sizes=range(1, 17), repeats=repeats, seed=SEED,
                               trainer="limit")
    seconds = time.perf_counter() - t0
    sweep.save_record(OUT, S, seed=SEED, repeats=repeats)
    curves = sweep.transition_curves(S)
    print(f"{len(S)} runs in {seconds:.1f} s;",
          {k: round(v, 1) for k, v in S.info.items() if k.startswith("seconds")})
    np.set_printoptions(precision=2, linewidth=120)
    for a, r in enumerate(curves["ranks"]):
        print(f"rank {r} (threshold 2rd - r^2 = {2 * r * curves['d'] - r * r})")
        for name in ("min_nuclear", "min_rank", "connected"):
            print(f"  {name:12s}", curves[name][a])
    print("wrote", OUT, f"({OUT.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
