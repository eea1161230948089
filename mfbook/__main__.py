"""Command line for lecturers: ``python -m mfbook complete "1 2; 10 *"``.

Prints the small-initialization completion (the alpha -> 0 limit, or gradient flow at ``--init``),
its rank and nuclear norm, the connectivity class, and the minimum-rank and minimum-nuclear-norm
references side by side.

Explained in: the pipeline chapter.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np


def _fmt(W) -> str:
    return "\n".join("  " + " ".join(f"{x:9.4f}" for x in row) for row in np.asarray(W))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mfbook", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("complete", help="complete an incomplete matrix the way small-init training does")
    c.add_argument("matrix", help="rows separated by ';', unknown entries '*' or '?', e.g. \"1 2; 10 *\"")
    c.add_argument("--init", type=float, default=None,
                   help="init scale alpha for gradient flow (default: the alpha -> 0 limit)")
    c.add_argument("--depth", type=int, default=2, help="number of factors (default 2; >2 needs --init)")
    c.add_argument("--seed", type=int, default=0, help="seed of the initial direction")
    c.add_argument("--no-convex", action="store_true", help="skip the nuclear-norm reference (no cvxpy)")
    args = parser.parse_args(argv)

    from . import connectivity, gradient_flow, min_nuclear_norm, min_rank, nuclear_norm, numerical_rank
    from .completion import Completion
    from .limit import small_init_limit

    try:
        problem = Completion.parse(args.matrix)
        if args.init is None:
            if args.depth != 2:
                raise ValueError("the alpha -> 0 limit is computed for depth 2; give --init for deeper models")
            W = small_init_limit(problem, seed=args.seed).W
            how = "alpha -> 0 limit of gradient flow"
        else:
            W = gradient_flow(problem, init_scale=args.init, seed=args.seed, depth=args.depth).W
            how = f"gradient flow from init scale {args.init:g}, depth {args.depth}"
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    conn = connectivity(problem)
    rank, W_rank = min_rank(problem)
    print(f"problem      : {problem}")
    print(f"connectivity : {conn.kind} ({len(conn.components)} component(s))")
    print(f"\nlearned ({how}):\n{_fmt(W)}")
    print(f"  rank {int(numerical_rank(W))}, nuclear norm {nuclear_norm(W):.6f}")
    print(f"\nminimum rank {rank}, e.g.:\n{_fmt(W_rank)}\n  nuclear norm {nuclear_norm(W_rank):.6f}")
    if not args.no_convex:
        W_nuc = min_nuclear_norm(problem)
        print(f"\nminimum nuclear norm {nuclear_norm(W_nuc):.6f}, e.g.:\n{_fmt(W_nuc)}"
              f"\n  rank {int(numerical_rank(W_nuc, 1e-5))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
