"""The book's tooling: slide preparation (MyST -> Markdown, slide breaks), the install cell helper,
the HTML script de-duplication."""
import importlib.util
import pathlib
import types

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load(path):
    spec = importlib.util.spec_from_file_location(pathlib.Path(path).stem, ROOT / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


slides = load("tools/make_slides.py")
cell_helper = load("tools/new_chapter_cell.py")
book_html = load("_ext/book_html.py")


def test_directives_become_quotes_and_solutions_are_dropped():
    text = ("Before.\n\n```{prf:theorem} Connectivity\n:label: thm-x\n\nA graph is $G_M$.\n```\n\n"
            "````{exercise}\n:label: ex-1\nCompute\n```python\nx = 1\n```\n````\n\n"
            "````{solution} ex-1\n:class: dropdown\nSecret.\n````\nAfter.")
    out = slides.convert_directives(text)
    assert "> **Theorem** (Connectivity)." in out and "> A graph is $G_M$." in out
    assert ":label:" not in out and "Secret" not in out and "After." in out
    assert "> **Exercise.**" in out and "> x = 1" in out


def test_roles_become_text():
    bib = slides.read_bib(ROOT / "references.bib")
    assert bib["bai2024connectivity"] == "Bai et al. 2024"
    assert bib["candes2009exact"].startswith("Cand") and bib["candes2009exact"].endswith("2009")
    labels = {"thm-x": "Theorem (Connectivity)"}
    text = "See {prf:ref}`thm-x`, {cite}`bai2024connectivity` and {cite:t}`saxe2014exact`, {eq}`eq-a`.\n$$x$$ (eq-a)"
    out = slides.convert_roles(text, bib, labels)
    assert out.startswith("See Theorem (Connectivity), (Bai et al. 2024) and Saxe et al. (2014), (eq-a).")
    assert out.endswith("$$x$$")


def test_slide_breaks_from_structure():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title\ntext"),
        nbformat.v4.new_code_cell(cell_helper.install_cell_source()),
        nbformat.v4.new_markdown_cell("## Section"),
        nbformat.v4.new_markdown_cell("plain"),
        nbformat.v4.new_markdown_cell("### Sub"),
        nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
            "display_data", data={"image/png": "AAAA"})]),
        nbformat.v4.new_markdown_cell("```{solution} ex-1\nhidden\n```"),
    ])
    prepared = slides.prepare(nb, {})
    kinds = [c.metadata["slideshow"]["slide_type"] for c in prepared.cells]
    assert kinds == ["slide", "skip", "slide", "-", "subslide", "subslide", "skip"]
    assert "slideshow" not in nb.cells[0].metadata          # the chapter itself is untouched


def test_own_slide_metadata_is_kept():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title", metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_markdown_cell("## Not a break here"),
    ])
    prepared = slides.prepare(nb, {})
    assert prepared.cells[0].metadata["slideshow"]["slide_type"] == "slide"
    assert "slideshow" not in prepared.cells[1].metadata


def test_install_cell_pins_pyproject_version(tmp_path):
    version = cell_helper.book_version()
    src = cell_helper.install_cell_source()
    assert f"@v{version}\"" in src and src.startswith("# Colab") and "except ImportError:" in src
    path = tmp_path / "new.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# New"),
                                                   nbformat.v4.new_code_cell("import mfbook")]), path)
    assert cell_helper.put_first(path) == "inserted"
    assert cell_helper.put_first(path) == "updated"
    cells = nbformat.read(path, as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "code", "code"] and cells[1].source == src


def test_repeated_scripts_are_dropped():
    js = lambda filename, **attrs: types.SimpleNamespace(filename=filename, attributes=attrs)
    files = [js(None, body="const A = 1"), js("a.js"), js("", body="const A = 1"), js("a.js"), js("b.js")]
    context = {"script_files": files}
    book_html._dedupe_scripts(None, "page", "page.html", context, None)
    assert [f.filename for f in context["script_files"]] == [None, "a.js", "b.js"]
