"""A page that reads like a book (CONTRIBUTING.md, "How a chapter reads"): checked on the stored
notebooks, cell by cell. Each rule names the cells that break it."""
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
FIGURE_CALLS = re.compile(r"plt\.(subplots|figure)\(|\bplot_(matrix|singular_values|loss|phase_transition|fraction|"
                          r"observed|observation_graph)\(")


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def where(path, i):
    return f"{path.name} cell {i}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_is_numbered_and_captioned(path):
    """A code cell that draws a figure (other than an interactive demo) carries myst-nb's figure
    metadata, caption and name, and the text refers to it with {numref}."""
    cs = cells(path)
    text = "\n".join(source(c) for c in cs if c["cell_type"] == "markdown")
    missing, unreferenced = [], []
    for i, c in enumerate(cs):
        if c["cell_type"] != "code" or "interact(" in source(c) or not FIGURE_CALLS.search(source(c)):
            continue
        fig = c.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if not (fig.get("caption", "").strip() and fig.get("name")):
            missing.append(where(path, i))
        elif f"{{numref}}`{fig['name']}`" not in text:
            unreferenced.append(f"{where(path, i)} ({fig['name']})")
    assert not missing, f"figures without caption/name: {missing}"
    assert not unreferenced, f"figures the text never refers to: {unreferenced}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_plumbing_is_folded_on_the_page(path):
    cs = cells(path)
    code = [(i, c) for i, c in enumerate(cs) if c["cell_type"] == "code"]
    assert "hide-cell" in tags(code[0][1]), f"{path.name}: the install cell is not folded (hide-cell)"
    bad = [where(path, i) for i, c in code
           if ("interact(" in source(c) or "# claim C" in source(c)) and not tags(c) & {"hide-input", "hide-cell"}]
    assert not bad, f"demo or claim cells shown in full on the page: {bad}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_code_line_is_wider_than_the_page(path):
    wide = [f"{where(path, i)}: {line[:40]}..." for i, c in enumerate(cells(path)) if c["cell_type"] == "code"
            for line in source(c).splitlines() if len(line) > 100]
    assert not wide, f"code lines wider than 100 characters: {wide}"


DECIMAL = re.compile(r"(?<![\w.])\d+\.\d{3,}")


def _prose(text):
    """Markdown without math, code, glue roles, labels, links and directive options."""
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]*\$", " ", text)
    text = re.sub(r"```.*?```", lambda m: m.group(0) if "{" in m.group(0).split("\n")[0] else " ", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"^:[\w-]+:.*$", " ", text, flags=re.M)
    return text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_numbers_in_the_prose_are_glued_from_the_computation(path):
    typed = [f"{where(path, i)}: {m.group(0)}" for i, c in enumerate(cells(path)) if c["cell_type"] == "markdown"
             for m in DECIMAL.finditer(_prose(source(c)))]
    assert not typed, f"numbers typed into the prose (glue them): {typed}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_demo_asks_a_question_and_answers_it(path):
    cs = cells(path)
    bad = []
    for i, c in enumerate(cs):
        if c["cell_type"] == "code" and re.search(r"\binteract\(", source(c)):
            after = next((source(d) for d in cs[i + 1:] if d["cell_type"] == "markdown"), "")
            before = next((source(d) for d in reversed(cs[:i]) if d["cell_type"] == "markdown"), "")
            if "What you should see" not in after or "dropdown" not in after:
                bad.append(f"{where(path, i)}: no folded 'What you should see' right after")
            if "?" not in before:
                bad.append(f"{where(path, i)}: no question before")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_are_graded_and_collected_in_a_problem_set(path):
    text = "\n".join(source(c) for c in cells(path) if c["cell_type"] == "markdown")
    titles = re.findall(r"[`:]{3,}\{exercise\}([^\n]*)", text)
    assert titles, f"{path.name}: no exercises"
    ungraded = [t.strip() for t in titles if "★" not in t]
    assert not ungraded, f"{path.name}: exercises without a difficulty (★ to ★★★): {ungraded}"
    assert re.search(r"^#+ Problem set", text, flags=re.M), f"{path.name}: no 'Problem set' section"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_figure_cell_shows_only_its_figure(path):
    """A captioned figure cell ends with plt.show() (or a statement), not an expression such as
    ax.legend(): its value would be a second output, and myst-nb would caption and label it too (a
    duplicate figure name, which fails the build)."""
    import ast

    bad = []
    for i, c in enumerate(cells(path)):
        if c["cell_type"] != "code" or "figure" not in c.get("metadata", {}).get("mystnb", {}):
            continue
        code = "\n".join(line for line in source(c).split("\n") if not line.lstrip().startswith("%"))
        last = ast.parse(code).body[-1]
        if isinstance(last, ast.Expr) and not (isinstance(last.value, ast.Call)
                                               and getattr(last.value.func, "attr", "") == "show"):
            bad.append(where(path, i))
    assert not bad, f"figure cells that end with a value: {bad}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_display_math_stands_in_its_own_block(path):
    """A $$ block opens after a blank line and is followed by one: inside a paragraph or a list item
    the parser reads $$ as two inline $ and every later formula of the cell prints as raw TeX (found
    in chapters 5 and 6 by the PDF check)."""
    bad = []
    for i, c in enumerate(cells(path)):
        if c["cell_type"] != "markdown":
            continue
        lines, inside = source(c).split("\n"), False
        for k, line in enumerate(lines):
            text = line.strip()
            opens = not inside and text.startswith("$$")
            closes = ("$$" in text[2:]) if opens else (inside and "$$" in text)
            fence = lambda j: lines[j].strip().startswith(("```", ":::"))  # noqa: E731
            if opens and k > 0 and lines[k - 1].strip() and not fence(k - 1):
                bad.append(f"{where(path, i)} line {k + 1}: no blank line before $$")
            if closes and k + 1 < len(lines) and lines[k + 1].strip() and not fence(k + 1):
                bad.append(f"{where(path, i)} line {k + 1}: no blank line after $$")
            inside = (opens and not closes) or (inside and not closes)
    assert not bad, bad
