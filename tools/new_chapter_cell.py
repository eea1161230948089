"""The first code cell of every chapter: install mfbook when it is missing (Colab), else nothing.

    python tools/new_chapter_cell.py                      # print the cell
    python tools/new_chapter_cell.py chapters/07_x.ipynb  # put it first in a notebook (or update it)

On Colab (and any kernel without mfbook) the cell pip-installs mfbook, with the convex solver the
chapters use, from the book's public home at the tag of the book's version (``v`` + the version in
pyproject.toml), so a reader gets the code the chapter was written for; both come from
tools/public_home.py, the one setting. Where mfbook is installed (``make lab``, Binder, ``make test``,
``make book``) ``import mfbook`` succeeds and the cell does nothing. tests/test_notebooks.py checks
that every chapter starts with it.
"""
from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import public_home  # noqa: E402


def install_cell_source() -> str:
    return (
        "# Colab / Binder: install the book's helper package when it is missing (does nothing locally)\n"
        "try:\n"
        "    import mfbook\n"
        "except ImportError:\n"
        f"    {public_home.install_command()}\n"
        f"    {public_home.PIP}\n"
        "    import mfbook"
    )


def put_first(path: pathlib.Path) -> str:
    """Insert the install cell before the first code cell, or replace an older install cell."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(install_cell_source())
    codes = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if codes and "%pip install" in nb.cells[codes[0]].source and "mfbook" in nb.cells[codes[0]].source:
        cell.id = nb.cells[codes[0]].get("id", cell.id)
        nb.cells[codes[0]] = cell
        action = "updated"
    else:
        nb.cells.insert(codes[0] if codes else len(nb.cells), cell)
        action = "inserted"
    nbformat.write(nb, path)
    return action


if __name__ == "__main__":
    if len(sys.argv) == 1:
        print(install_cell_source())
    else:
        for arg in sys.argv[1:]:
            print(f"{arg}: install cell {put_first(pathlib.Path(arg))}")
