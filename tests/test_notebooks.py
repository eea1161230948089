"""Notebook hygiene: stored without outputs, listed in the table of contents, install cell first."""
import json
import pathlib
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
import public_home  # noqa: E402  (the install line, from the one setting of the book's public home)


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    stack = list(toc.get("chapters", [])) + [e for part in toc.get("parts", []) for e in part.get("chapters", [])]
    while stack:
        entry = stack.pop()
        if "file" in entry:
            files.append(entry["file"])
        stack.extend(entry.get("sections", []))
    return files


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in chapters/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [], f"{path.name}: a code cell has stored outputs"
            assert cell.get("execution_count") is None, f"{path.name}: a code cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_listed_in_toc(path):
    assert f"chapters/{path.stem}" in toc_files(), f"{path.name} is not listed in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_installs_mfbook_when_missing(path):
    nb = json.loads(path.read_text())
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    src = "".join(first["source"])
    assert "import mfbook" in src and public_home.install_command() in src, \
        f"{path.name}: first code cell is not the install cell"


def test_toc_entries_exist():
    for entry in toc_files():
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), f"_toc.yml lists missing {entry}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_valid_nbformat_with_unique_cell_ids(path):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    ids = [cell.get("id") for cell in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids), f"{path.name}: cell ids missing or repeated"


def test_the_notebook_is_the_one_source_of_each_chapter():
    """No script beside the notebooks generates or rewrites a chapter (CONTRIBUTING.md)."""
    for script in (ROOT / "tools").rglob("*.py"):
        text = script.read_text()
        for path in NOTEBOOKS:
            assert not (path.name in text and ("nbformat.write" in text or ".write(" in text)), (
                f"{script.relative_to(ROOT)} writes {path.name}: the notebook must be the one source")
