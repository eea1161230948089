"""Execute the chapters into the book's execution cache on every core, before `jupyter-book build`.

Jupyter Book 1.x executes the notebooks one after the other (``execute_notebooks: cache``). This
script fills the same jupyter-cache (``_build/.jupyter_cache``) with the notebooks that are not
cached yet, executed in parallel (one process per core, each in the notebook's folder, as the build
does); the build then finds them cached and only renders. A notebook that fails here is executed
again by the build, which reports the error (``-W`` makes it fail).
"""
import pathlib
import sys

from jupyter_cache import get_cache
from jupyter_cache.executors import load_executor

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main() -> int:
    cache = get_cache(ROOT / "_build" / ".jupyter_cache")
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        cache.add_nb_to_project(str(path))
    result = load_executor("local-parallel", cache=cache).run_and_cache(timeout=300, allow_errors=False)
    print(f"executed in parallel: {len(result.succeeded)} succeeded, "
          f"{len(result.excepted) + len(result.errored)} failed (the build will run and report those)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
