"""Command line for lecturers: ``python -m mfbook complete "1 2; 10 *"``.

Prints the small-initialization completion (the alpha -> 0 limit, or gradient flow at ``--init``),
its rank and nuclear norm, the connectivity class, and the minimum-rank and minimum-nuclear-norm
references side by side.

Explained in: the pipeline chapter.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import sys

CONVEX_HINT = 'pip install "mfbook[convex]" (or: pip install cvxpy)'


def _fmt(W) -> str:
    return "\n".join("  " + " ".join(f"{x:9.4f}" for x in row) for row in W)


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(x) and 0 < x <= 1e3):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number no larger than 1e3")
    return x


def _seed(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= x < 2**63:
        raise argparse.ArgumentTypeError(f"{text} must be a whole number from 0 to 2**63 - 1")
    return x


def _depth(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= x <= 10:
        raise argparse.ArgumentTypeError(f"{text} must be a whole number from 1 to 10")
    return x


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mfbook", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("complete", help="complete an incomplete matrix the way small-init training does")
    c.add_argument("matrix", help="rows separated by ';', unknown entries '*' or '?', e.g. \"1 2; 10 *\"")
    c.add_argument("--init", type=_positive_float, default=None,
                   help="init scale alpha for gradient flow (default: the alpha -> 0 limit)")
    c.add_argument("--depth", type=_depth, default=2, help="number of factors (default 2; >2 needs --init)")
    c.add_argument("--seed", type=_seed, default=0, help="seed of the initial direction")
    c.add_argument("--no-convex", action="store_true", help="skip the nuclear-norm reference (no cvxpy)")
    k = sub.add_parser("compile", help="compile the fast solvers for this machine now (once; cached afterwards)")
    k.add_argument("--half", choices=HALVES, help=argparse.SUPPRESS)   # (the half a compile runs beside itself)
    args = parser.parse_args(argv)
    if args.command == "compile":
        return _compile(args.half)
    try:
        return _complete(args)
    except (ValueError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:   # a solver failure: one line, not a traceback
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


#: the kernel's parts (:func:`mfbook._kernel.ready`) in two halves of about the same compile time,
#: which share little code: the narrow pass, then the pass by components; gradient flow (first: a
#: first ``gradient_flow`` call waits for it), then the full width (measured here, each half in its
#: own process side by side: the parts ready after 36, 40, 9 and 34 s, everything in 41 s, against
#: 54 to 58 s one part after the other)
HALVES = {"narrow": ("narrow", "components"), "flow": ("flow", "full")}


def _compile(half: str | None = None) -> int:
    """Compile the kernel for this machine (numba caches it): the two halves of :data:`HALVES` side by
    side, one in this process and one in a child process, where the machine has two cores or more
    (else one after the other); ``half``: only that one, here (what the child runs). Each part can be
    used as soon as it is cached. One compiler at a time on the machine: a second one waits for the
    first and then finds everything cached."""
    import os
    import subprocess
    import time

    os.environ["MFBOOK_COMPILE"] = "foreground"
    from . import _kernel, limit

    start = time.perf_counter()
    if half is not None:            # (the caller holds the lock)
        limit.warm_passes(HALVES[half])
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    with _compile_lock(_kernel.limit_path_narrow._cache._cache_path):
        child = None
        if cores > 1:
            child = subprocess.Popen([sys.executable, "-m", "mfbook", "compile", "--half", "flow"],
                                     stdin=subprocess.DEVNULL)
        limit.warm_passes(HALVES["narrow"] if child else HALVES["narrow"] + HALVES["flow"])
        if child is not None and child.wait() != 0:
            print(f"mfbook: compiling {HALVES['flow']} failed (exit code {child.returncode})", file=sys.stderr)
            return 1
    print(f"mfbook: the solvers are compiled for this machine ({time.perf_counter() - start:.0f} s)")
    return 0


def _compile_lock(folder):
    """An exclusive lock on ``folder``/compiling.lock while this process holds it (released by the
    system if the process dies); a no-op where there is no ``fcntl`` (Windows)."""
    import contextlib
    import os

    try:
        import fcntl
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()

    @contextlib.contextmanager
    def held():
        with open(os.path.join(folder, "compiling.lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    return held()


def _complete(args) -> int:
    import numpy as np

    from . import connectivity, gradient_flow, min_nuclear_norm, min_rank, nuclear_norm, numerical_rank
    from .completion import Completion
    from .limit import small_init_limit

    problem = Completion.parse(args.matrix)
    if args.init is None:
        if args.depth != 2:
            raise ValueError("the alpha -> 0 limit is computed for depth 2; give --init for deeper models")
        res = small_init_limit(problem, seed=args.seed)
        W = res.W
        how = "alpha -> 0 limit of gradient flow"
        if res.status != "converged":     # then W is not a limit: say so (LimitResult.status)
            how = f"NOT a limit: the limit solver's status is {res.status!r}; the matrix where it stopped"
    else:
        W = gradient_flow(problem, init_scale=args.init, seed=args.seed, depth=args.depth).W
        how = f"gradient flow from init scale {args.init:g}, depth {args.depth}"
    if not np.all(np.isfinite(W)):
        raise RuntimeError("the learned matrix is not finite (the run diverged); try a smaller --init")
    conn = connectivity(problem)
    rank, W_rank = min_rank(problem)
    print(f"problem      : {problem}")
    print(f"connectivity : {conn.kind} ({len(conn.components)} component(s))")
    print(f"\nlearned ({how}):\n{_fmt(W)}")
    print(f"  rank {int(numerical_rank(W))}, nuclear norm {nuclear_norm(W):.6f}")
    print(f"\nminimum rank {rank}, e.g.:\n{_fmt(W_rank)}\n  nuclear norm {nuclear_norm(W_rank):.6f}")
    if args.no_convex:
        return 0
    if importlib.util.find_spec("cvxpy") is None:
        print(f"\nminimum nuclear norm: not computed, it needs cvxpy: {CONVEX_HINT}")
    else:
        W_nuc = min_nuclear_norm(problem)
        print(f"\nminimum nuclear norm {nuclear_norm(W_nuc):.6f}, e.g.:\n{_fmt(W_nuc)}"
              f"\n  rank {int(numerical_rank(W_nuc, 1e-5))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
