"""Widget responsiveness: time every interactive demo's callback over all its control values.

Run:  .venv/bin/python benchmarks/widgets.py [chapters/NN_name.ipynb ...]

Each notebook is executed (nbclient) in static mode, where mfbook.widgets.interact calls the draw
function once per combination of control values -- exactly what a reader's slider move triggers
live -- and logs each call's time, alone and together with rendering the figure to the image a
live update shows. Printed per widget: number of frames, median and max of both (the goal is a
median update under 100 ms), and per notebook the total execution time (the goal for
building a chapter's static frames is under 20 s).
"""
import json
import os
import pathlib
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(path: pathlib.Path, log: str) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ.update(MFBOOK_STATIC="1", MFBOOK_WIDGET_TIMES=log, MFBOOK_NOTEBOOK=path.name)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def main(paths):
    paths = [pathlib.Path(p) for p in paths] or sorted((ROOT / "chapters").glob("*.ipynb"))
    log = tempfile.mktemp(suffix=".jsonl")
    totals = {p.name: run(p, log) for p in paths}
    rows = [json.loads(line) for line in open(log)] if os.path.exists(log) else []
    print(f"{'':62s} {'callback ms':>18s} {'with image ms':>18s}")
    print(f"{'notebook':32s} {'widget':22s} {'frames':>6s} {'median':>9s} {'max':>8s} {'median':>9s} {'max':>8s}")
    for r in rows:
        s, w = sorted(r["seconds"]), sorted(r.get("with_image", r["seconds"]))
        print(f"{r['notebook']:32s} {r['widget'][:22]:22s} {len(s):6d} {1000 * s[len(s) // 2]:9.1f} {1000 * s[-1]:8.1f}"
              f" {1000 * w[len(w) // 2]:9.1f} {1000 * w[-1]:8.1f}")
    print()
    frames = {}
    for r in rows:
        frames[r["notebook"]] = frames.get(r["notebook"], 0.0) + sum(r.get("with_image", r["seconds"]))
    for name, total in totals.items():
        print(f"{name:32s} static frames built in {frames.get(name, 0.0):5.1f} s;"
              f" the whole notebook executed in {total:6.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
