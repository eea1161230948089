"""What a reader on a fresh Colab or Binder runtime waits for: mfbook installed from a wheel into a
new virtual environment, with an empty numba cache, then the first results and one whole chapter.

Run:  .venv/bin/python benchmarks/cold_start.py [--chapter chapters/00_pipeline.ipynb ...] [--read-only]

Steps (each timed and printed):
1. build mfbook's wheel (``pip wheel --no-deps``) and install it with its dependencies and a
   Jupyter kernel into a new venv under a temporary folder (pip's download cache makes this
   quick after the first time; it is set-up, not what a reader waits for);
2. in a new process of that venv, with ``NUMBA_CACHE_DIR`` pointing at an empty folder: the time of
   ``import mfbook``, of the first ``small_init_limit`` call (2 x 2 and then the 4 x 4 example: the
   reference answers while a background process compiles the kernel), of the first
   ``gradient_flow`` (it waits for its compiled integrator, which that process compiles first), and
   when the compiled solvers are ready; the peak memory of that process;
3. the cold compile in the foreground (``python -m mfbook compile``, a new empty cache): what a
   maintainer waits for after editing the kernel;
4. each chapter executed cold in a new kernel of that venv (a new empty numba cache each), as
   Colab runs a notebook on a fresh runtime;
5. with ``--read-only``: the package folder made read-only and HOME unwritable (a system-wide
   install), where numba cannot write its cache next to the source.

The floors the book aims at: first limit result under 20 s, a whole chapter under 60 s.
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

PROBE = r"""
import resource, time
t0 = time.perf_counter()
import mfbook
t1 = time.perf_counter()
first = mfbook.small_init_limit("1 2; 3 *")
t2 = time.perf_counter()
mfbook.small_init_limit("4 0.6 1.8 0.8; 6 0.9 2.7 *; 8 2.2 2.6 1.6; 8 2.7 5.1 3.6")
t3 = time.perf_counter()
mfbook.gradient_flow("1 2; 3 *", init_scale=1e-3)
t4 = time.perf_counter()
mfbook._kernel.ready("limit", wait=True)            # the background compile, started by the first call
t5 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"import {t1 - t0:.1f} s | first small_init_limit (2x2, {first.method}) {t2 - t1:.2f} s | "
      f"then 4x4 {t3 - t2:.2f} s | first gradient_flow {t4 - t3:.2f} s | compiled solvers ready "
      f"{t5 - t0:.0f} s after the import began | peak {peak:.0f} MB")
"""


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", nargs="+", default=["chapters/00_pipeline.ipynb"])
    parser.add_argument("--read-only", action="store_true")
    args = parser.parse_args(argv)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="mfbook-cold-"))
    try:
        t = time.perf_counter()
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)])
        wheel = next((tmp / "dist").glob("mfbook-*.whl"))
        run([sys.executable, "-m", "venv", str(tmp / "venv")])
        py = str(tmp / "venv" / "bin" / "python")
        run([py, "-m", "pip", "install", "-q", f"{wheel}[convex]", "ipykernel", "nbclient"])
        print(f"set-up (wheel, venv, install): {time.perf_counter() - t:.0f} s")
        env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp / "numba-cache"), MFBOOK_STATIC="0")
        env.pop("PYTHONPATH", None)
        if args.read_only:
            site = run([py, "-c", "import mfbook, os; print(os.path.dirname(mfbook.__file__))"]).stdout.strip()
            run(["chmod", "-R", "a-w", site])
            env.pop("NUMBA_CACHE_DIR")
            env["HOME"] = "/nonexistent"
        print("cold process:", run([py, "-c", PROBE], env=env, cwd=tmp).stdout.strip())
        if not args.read_only:
            shutil.rmtree(tmp / "numba-cache", ignore_errors=True)
            t = time.perf_counter()
            run([py, "-m", "mfbook", "compile"], env=env, cwd=tmp)
            print(f"cold compile in the foreground (python -m mfbook compile, all solvers): "
                  f"{time.perf_counter() - t:.1f} s")
        execute = ("import nbformat, sys\nfrom nbclient import NotebookClient\n"
                   "nb = nbformat.read(sys.argv[1], as_version=4)\n"
                   "NotebookClient(nb, timeout=1200, kernel_name='python3').execute()\n")
        for name in args.chapter:
            shutil.rmtree(tmp / "numba-cache", ignore_errors=True)
            chapter = ROOT / name
            t = time.perf_counter()
            run([py, "-c", execute, str(chapter)], env=env, cwd=chapter.parent)
            print(f"whole chapter cold ({name}): {time.perf_counter() - t:.1f} s")
            # a compile the chapter started but never waited for would slow the next measurement
            subprocess.run(["pkill", "-f", f"{py} -m mfbook compile"], check=False)
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(tmp)], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
