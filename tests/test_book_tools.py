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


def _figure_cell(caption="What to see.", tags=("hide-input",)):
    cell = nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
        "display_data", data={"image/png": "AAAA", "text/plain": "<Figure>"})])
    cell.metadata["tags"] = list(tags)
    if caption:
        cell.metadata["mystnb"] = {"figure": {"caption": caption, "name": "fig-x"}}
    return cell


def _slides(deck):
    """The deck's cells grouped by slide: [(slide_type of the first cell, [cells])]."""
    groups = []
    for cell in deck.cells:
        kind = cell.metadata["slideshow"]["slide_type"]
        if kind in ("slide", "subslide") or not groups:
            groups.append((kind, []))
        if kind != "notes":
            groups[-1][1].append(cell)
    return groups


def test_markdown_splits_into_blocks():
    text = ("## Head\n\nA paragraph\non two lines.\n\n- item one\n  continued\n- item two\n\n"
            "$$\nx = 1\n$$\n\n````{prf:theorem} T\n:label: t\n\nBody.\n\n```{math}\ny\n```\n````\n"
            "```{solution} ex\nhidden\n```")
    kinds = [k for k, _ in slides.split_blocks(text)]
    assert kinds == ["h2", "para", "list", "list", "math", "prf:theorem", "solution"]
    theorem = dict(slides.split_blocks(text))["prf:theorem"]
    assert theorem.endswith("````") and "```{math}" in theorem


def test_deck_one_box_one_figure_one_exercise_per_slide():
    long = " ".join(["This sentence is long enough to fill a good part of a line."] * 60)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title\n\nIntro {glue:text}`val:.2f`."),
        nbformat.v4.new_code_cell(cell_helper.install_cell_source()),
        nbformat.v4.new_markdown_cell("## Section\n\n" + long),
        nbformat.v4.new_code_cell("x = compute()\nprint(x)", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="".join(f"{i}\n" for i in range(40)))]),
        _figure_cell(),
        nbformat.v4.new_code_cell("# claim C1\ncheck()", metadata={"tags": ["claim", "hide-input"]},
                                  outputs=[nbformat.v4.new_output("stream", name="stdout", text="C1 holds\n")]),
        nbformat.v4.new_markdown_cell("```{prf:theorem} Big\n:label: thm-big\nIt holds.\n```\nAfter."),
        nbformat.v4.new_markdown_cell(":::{dropdown} What you should see\nThe answer.\n:::"),
        nbformat.v4.new_markdown_cell("## Exercises\n\n```{exercise} \u2605 One\n:label: e1\nDo 1.\n```\n\n"
                                      "````{solution} e1\n:class: dropdown\nSecret.\n````\n\n"
                                      "```{exercise} \u2605\u2605 Two\n:label: e2\nDo 2.\n```"),
        nbformat.v4.new_markdown_cell("## Problem set\n\n- {ref}`e1`"),
        nbformat.v4.new_markdown_cell("## Summary\n\n- done"),
    ])
    glue = nbformat.v4.new_code_cell("glue('val', 1.234)", outputs=[nbformat.v4.new_output(
        "display_data", data={"application/papermill.record/text/plain": "1.234"},
        metadata={"scrapbook": {"name": "val", "mime_prefix": "application/papermill.record/"}})])
    nb.cells.insert(2, glue)
    deck = slides.prepare(nb, {}, "99_test")
    assert "slideshow" not in nb.cells[0].metadata          # the chapter itself is untouched
    groups = _slides(deck)
    texts = ["\n".join(c.source for c in cells if c.cell_type == "markdown") for _, cells in groups]
    assert groups[0][0] == "slide" and "Intro 1.23." in texts[0]
    assert not any("%pip" in c.source for c in deck.cells if c.cell_type == "code"
                   and not c.metadata.get("transient", {}).get("remove_source"))
    # the long paragraph is cut into several slides, each within the budget
    assert sum("This sentence" in t for t in texts) >= 3
    for _, cells in groups:
        estimate = float(cells[0].metadata["slideshow"]["data"]["estimate"])
        assert estimate <= slides.BUDGET or len(cells) == 1 or any(
            t.startswith("slide-figure") for c in cells for t in c.metadata.get("tags", []))
    # code hidden (not the pipeline chapter, no slide-code tag), long output clipped
    code = [c for c in deck.cells if c.cell_type == "code"]
    assert all(c.metadata["transient"]["remove_source"] for c in code)
    printed = [c for c in code if c.outputs and c.outputs[0].output_type == "stream"]
    assert len(printed) == 1 and printed[0].outputs[0].text.count("\n") == slides.MAX_OUTPUT_LINES
    assert not any("C1 holds" in str(c.outputs) for c in code)          # claim verdicts left out
    # the figure and its caption alone on a slide
    fig = next(cells for _, cells in groups if any(c.cell_type == "code" and
                                                   "image/png" in str(c.outputs) for c in cells))
    assert len(fig) == 2 and fig[1].source == "What to see."
    # the theorem alone; "After." on the next slide
    box = next(t for t in texts if "**Theorem** (Big)" in t)
    assert "After." not in box and "Intro" not in box
    # exercises one per slide, solutions left out, the answer of the demo in the notes
    assert sum("**Exercise** (\u2605 One)" in t for t in texts) == 1
    assert not any("**Exercise** (\u2605 One)" in t and "Two" in t for t in texts)
    assert "Secret" not in "".join(c.source for c in deck.cells)
    notes = [c for c in deck.cells if c.metadata["slideshow"]["slide_type"] == "notes"]
    assert len(notes) == 1 and "The answer." in notes[0].source
    # "Problem set" and "Summary" open horizontal slides
    assert [k for k, cells in groups if cells[0].source.startswith(("## Problem set", "## Summary"))] \
        == ["slide", "slide"]


def test_code_shown_only_where_the_slide_is_about_it():
    cell = nbformat.v4.new_code_cell("M = parse('1 2; 3 *')\nprint(M)")
    assert slides.shows_code(cell, "00_pipeline") and not slides.shows_code(cell, "04_dynamics")
    cell.metadata["tags"] = ["slide-code"]
    assert slides.shows_code(cell, "04_dynamics")
    cell.metadata["tags"] = ["hide-input"]
    assert not slides.shows_code(cell, "00_pipeline")


def test_own_slide_metadata_is_kept():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title", metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_markdown_cell("## Not a break here"),
    ])
    prepared = slides.prepare(nb, {})
    assert prepared.cells[0].metadata["slideshow"]["slide_type"] == "slide"
    assert "slideshow" not in prepared.cells[1].metadata


def test_install_cell_pins_pyproject_version(tmp_path):
    src = cell_helper.install_cell_source()
    assert f"@{cell_helper.public_home.release_tag()}\"" in src
    assert src.startswith("# Colab") and "except ImportError:" in src
    assert cell_helper.public_home.INSTALL.findall(src) == [cell_helper.public_home.install_command()]
    assert cell_helper.public_home.PIP in src      # what tools/public_home.py checks in every chapter
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
