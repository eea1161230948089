"""Precompute chapter 6's deep matrix completion curves (Arora et al. 2019, Section 4, at 50 x 50).

For every seed s = 0..9: a random rank-3 matrix M (mfbook.deep.random_low_rank, seed s), nested
uniform observation patterns (mfbook.deep.nested_masks, seed 10_000 + s) with n = f * r(d1 + d2 - r)
observed entries for the listed multiples f of the dimension of the rank-r manifold, and three
completions of each pattern:

- depth 1: the minimum-nuclear-norm completion (mfbook.deep.nuclear_norm_completion, the convex
  baseline; gradient descent on W itself would only give the zero fill);
- depth 2 and 3: gradient descent on W = F_1 ... F_N from alpha = 1e-3 (mfbook.deep.deep_completion,
  run seed s).

Stored in chapters/data/deep_completion.npz: the configuration, the test error on the hidden
entries, the effective rank, the singular values, the training loss and the steps of every run. The
chapter plots these curves, checks claim C30 on them, and recomputes one column live (a few seeds at
one n) to check that the stored numbers are what the code produces.

Run:  .venv/bin/python benchmarks/deep_completion.py     (about 10 minutes on 2 cores)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mfbook import deep  # noqa: E402

CONFIG = {
    "shape": (50, 50),
    "rank": 3,
    "init_scale": 1e-3,
    "multiples": (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0),
    "seeds": tuple(range(10)),
    "mask_seed_offset": 10_000,
    "max_steps": {2: 20_000, 3: 40_000},
    "tol": 1e-10,
    "nuclear_tol": 1e-9,
}


def problems(config=CONFIG, seeds=None, multiples=None):
    """The evidence's inputs: M per seed (S, d1, d2), counts (K,), masks (S, K, d1, d2)."""
    shape, r = config["shape"], config["rank"]
    seeds = config["seeds"] if seeds is None else seeds
    multiples = config["multiples"] if multiples is None else multiples
    dof = r * (shape[0] + shape[1] - r)
    counts = np.array([int(round(f * dof)) for f in multiples])
    Ms = np.stack([deep.random_low_rank(shape, r, seed=s) for s in seeds])
    masks = np.stack([deep.nested_masks(shape, counts, seed=config["mask_seed_offset"] + s) for s in seeds])
    return Ms, counts, masks


def complete(Ms, masks, depth, seeds, config=CONFIG):
    """Completions of every (seed, count) pattern at one depth (1 = minimum nuclear norm)."""
    S, K = masks.shape[:2]
    values = np.repeat(Ms, K, axis=0)
    flat_masks = masks.reshape((S * K,) + masks.shape[2:])
    if depth == 1:
        out = deep.nuclear_norm_completion(values, flat_masks, tol=config["nuclear_tol"])
        loss = np.zeros(S * K)                      # every iterate fits the observations exactly
        steps = out["iterations"]
    else:
        out = deep.deep_completion(values, flat_masks, depth, config["init_scale"],
                                   config["max_steps"][depth], seeds=np.repeat(seeds, K),
                                   tol=config["tol"])
        loss, steps = out["loss"], out["steps"]
    W = out["W"]
    err = deep.hidden_entry_error(W, values, flat_masks)
    sv = np.linalg.svd(W, compute_uv=False)
    eff = deep.effective_rank(W)
    shape = (S, K)
    return {"err": err.reshape(shape), "eff": eff.reshape(shape), "sv": sv.reshape(shape + sv.shape[1:]),
            "loss": loss.reshape(shape), "steps": steps.reshape(shape)}


def main():
    Ms, counts, masks = problems()
    seeds = np.array(CONFIG["seeds"])
    data = {"counts": counts, "seeds": seeds, "depths": np.array([1, 2, 3]),
            "shape": np.array(CONFIG["shape"]), "rank": CONFIG["rank"],
            "init_scale": CONFIG["init_scale"], "multiples": np.array(CONFIG["multiples"]),
            "mask_seed_offset": CONFIG["mask_seed_offset"], "max_steps_2": CONFIG["max_steps"][2],
            "max_steps_3": CONFIG["max_steps"][3], "tol": CONFIG["tol"], "nuclear_tol": CONFIG["nuclear_tol"]}
    results = {}
    for depth in (1, 2, 3):
        t0 = time.time()
        results[depth] = complete(Ms, masks, depth, seeds)
        print(f"depth {depth}: {time.time() - t0:.0f} s; median test error per n",
              np.median(results[depth]["err"], axis=0).round(4), flush=True)
    for key in ("err", "eff", "sv", "loss", "steps"):
        data[key] = np.stack([results[N][key] for N in (1, 2, 3)])      # (3, S, K, ...)
    out = ROOT / "chapters" / "data" / "deep_completion.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **data)
    print("wrote", out)


if __name__ == "__main__":
    main()
