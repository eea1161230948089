"""Build one reveal.js slide deck per chapter into _build/slides/ (run by `make slides`).

The decks come from the executed notebooks, so they show the same figures as the book:

* the outputs come from the execution cache of `make book` (``_build/.jupyter_cache``) when it holds
  the chapter's current code, else from this script's own cache (``_build/.slides_cache``, keyed by
  the chapter's code and the package's source); otherwise the chapter is executed here (nbclient,
  with ``MFBOOK_STATIC=1`` so that the demos are precomputed sliders that work without a kernel);
* the decks are 1280 x 720 (16:9) and made to be projected as they are (`build_deck`): a chapter
  without ``slideshow`` metadata is cut into slides that fit the screen -- every heading opens a
  slide, every theorem/definition/exercise box, figure (with its caption) and demo gets a slide of
  its own, the prose fills slides up to an estimated height and long paragraphs, tables and boxes
  are split; code is hidden except where a slide is about the code (tag ``slide-code``; the short
  cells of the pipeline chapter), long printed output is clipped, claim verdicts, solutions and
  the install cell are left out, and each demo's "What you should see" becomes its speaker notes
  (key ``s``). ``make test-browser`` measures every slide in Chromium and fails on any that
  overflows. A chapter with its own ``slideshow`` metadata keeps its slides. The notebooks
  themselves are not modified;
* MyST syntax that plain Markdown does not know (``{prf:theorem}`` and ``{exercise}`` blocks,
  ``{cite}`` and ``{prf:ref}`` roles, equation labels) is turned into readable Markdown;
* reveal.js, MathJax and RequireJS are served from ``_build/slides/_assets/`` (copied from
  ``_assets-slides/``, which ``tools/fetch_assets.sh slides`` fills from the npm registry), so the
  decks work with no network.

Usage: ``python tools/make_slides.py [chapters/NN_name.ipynb ...]`` (default: every chapter).
"""
from __future__ import annotations

import argparse
import copy
import os
import pathlib
import re
import shutil
import sys
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "slides"
ASSETS = ROOT / "_assets-slides"
TEMPLATES = ROOT / "tools" / "slides_template"
CACHE = ROOT / "_build" / ".jupyter_cache"
SLIDES_CACHE = ROOT / "_build" / ".slides_cache"   # chapters executed by this script

DIRECTIVE_NAMES = {
    "prf:theorem": "Theorem", "prf:definition": "Definition", "prf:proposition": "Proposition",
    "prf:lemma": "Lemma", "prf:corollary": "Corollary", "prf:conjecture": "Conjecture",
    "prf:example": "Example", "prf:remark": "Remark", "prf:assumption": "Assumption",
    "prf:proof": "Proof", "exercise": "Exercise", "note": "Note", "warning": "Warning",
    "tip": "Tip", "important": "Important", "admonition": "",
}
DROPPED_DIRECTIVES = {"solution", "bibliography", "tableofcontents"}


# ----------------------------------------------------------------------------------------------
# MyST -> plain Markdown
# ----------------------------------------------------------------------------------------------
def read_bib(path: pathlib.Path) -> dict[str, str]:
    """Citation key -> 'Surname et al. YEAR' (enough for a slide)."""
    labels = {}
    if not path.exists():
        return labels
    for entry in re.split(r"\n@", "\n" + path.read_text()):
        head = re.match(r"\w+\{([^,]+),", entry)
        if not head:
            continue
        author = re.search(r"author\s*=\s*\{(.+?)\},?\s*\n", entry, re.S)
        year = re.search(r"year\s*=\s*\{?(\d{4})", entry)
        names = [a.strip() for a in (author.group(1) if author else "").split(" and ") if a.strip()]
        surnames = [re.sub(r"[{}\\`'\"]", "", n.split(",")[0].strip()) for n in names]
        if len(surnames) > 2:
            who = f"{surnames[0]} et al."
        else:
            who = " and ".join(surnames) or head.group(1)
        labels[head.group(1)] = f"{who} {year.group(1) if year else ''}".strip()
    return labels


def directive_labels(cells) -> dict[str, str]:
    """Label -> 'Theorem (title)' for every labelled directive of a notebook."""
    labels = {}
    for cell in cells:
        if cell.cell_type != "markdown":
            continue
        for m in re.finditer(r"^(`{3,}|:{3,})\{([\w:-]+)\}[ \t]*(.*)\n((?::[\w-]+:.*\n)*)", cell.source, re.M):
            kind, title, options = m.group(2), m.group(3).strip(), m.group(4)
            label = re.search(r"^:label:\s*(\S+)", options, re.M)
            if label:
                name = DIRECTIVE_NAMES.get(kind, kind.split(":")[-1].capitalize())
                labels[label.group(1)] = f"{name} ({title})" if title else name
    return labels


def convert_roles(text: str, bib: dict[str, str], labels: dict[str, str]) -> str:
    def cite(m):
        keys = [k.strip() for k in m.group(2).split(",")]
        names = [bib.get(k, k) for k in keys]
        if m.group(1) == "cite:t":
            return "; ".join(re.sub(r" (\d{4})$", r" (\1)", n) for n in names)
        return "(" + "; ".join(names) + ")"

    def ref(m):
        target = m.group(2)
        explicit = re.match(r"(.+?)\s*<([^>]+)>$", target)
        if explicit:
            return explicit.group(1)
        if m.group(1) == "eq":
            return f"({target})"
        return labels.get(target, target)

    text = re.sub(r"\{(cite(?::[tp])?|cite:ps|cite:ts)\}`([^`]+)`", cite, text)
    text = re.sub(r"\{(prf:ref|ref|numref|eq|doc)\}`([^`]+)`", ref, text)
    text = re.sub(r"\{[\w:-]+\}`([^`]+)`", r"\1", text)            # any other role: its text
    text = re.sub(r"(\$\$)\s*\(([\w:-]+)\)", r"\1", text)           # $$ ... $$ (label)
    text = re.sub(r"^\(([\w:-]+)\)=\s*$", "", text, flags=re.M)     # (target)= lines
    return text


def convert_directives(text: str) -> str:
    """Turn fenced MyST directives into block quotes (solutions are dropped)."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = re.match(r"^(`{3,}|:{3,})\{([\w:-]+)\}[ \t]*(.*)$", lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        fence, kind, title = m.group(1), m.group(2), m.group(3).strip()
        close = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        body, depth, i = [], 0, i + 1
        while i < len(lines):
            inner = re.match(r"^(`{3,}|:{3,})(\S*)", lines[i])
            if close.match(lines[i]) and depth == 0:
                break
            if inner and inner.group(1)[0] == fence[0] and len(inner.group(1)) >= len(fence):
                depth += 1 if inner.group(2) else -1
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if kind in DROPPED_DIRECTIVES:
            continue
        body = [b for b in body if not re.match(r"^:[\w-]+:", b)]      # directive options
        inner_text = convert_directives("\n".join(body)).strip("\n")
        if kind == "math":
            out.append(f"$$\n{inner_text}\n$$")
            continue
        name = DIRECTIVE_NAMES.get(kind, kind.split(":")[-1].capitalize())
        if kind == "prf:proof":
            head = "*Proof.*"
        elif name and title:
            head = f"**{name}** ({title})."
        elif name:
            head = f"**{name}.**"
        else:
            head = f"**{title}.**" if title else ""
        quoted = [f"> {head}", ">"] + [f"> {line}" if line else ">" for line in inner_text.split("\n")]
        out.extend(quoted)
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# slide structure: a deck for a 16:9 projector
# ----------------------------------------------------------------------------------------------
# The deck is 1280 x 720 (reveal.js scales it to the screen). Its text is set in 30 px type
# (slides_template: about a 22-point font on a 16:9 PowerPoint slide). Slides are filled from an
# *estimate* of each block's height in those pixels; `make test-browser` then measures every slide
# in Chromium and fails on any that is taller or wider than the slide.
WIDTH, HEIGHT = 1280, 720
BUDGET = 620            # px of content per slide: 720 minus the slide number and a reserve for
                        # the estimate's error (measured: real heights are 0.6-1.2 x the estimate)
FONT = 30               # px, body text (slides_template/mfbook_reveal/index.html.j2 sets the same)
LINE = 1.35 * FONT      # px per line of body text
CHARS = 76              # characters of body text per line, at 1200 px (Source Sans, ~0.52 em)
DENSE = 0.8             # font scale of a box tagged slide-dense (one long box)
LARGE = 1.2             # font scale of a box tagged slide-large (a short box: set large)
CODE_LINE = 26          # px per line of code or printed output (20 px monospace)
CODE_CHARS = 84         # characters of code per line (20 px monospace is ~12.4 px a character)
MAX_OUTPUT_LINES = 12   # printed output longer than this is clipped on the slide
HEADINGS = {1: (1.6, 40), 2: (1.35, 48), 3: (1.15, 58), 4: (1.0, 70)}   # em, characters per line
FIGURE_HEIGHTS = (600, 540, 470)   # px: image height classes (long captions get a lower image)
DEMO_HEIGHT = 470       # px: the image of a precomputed demo (its controls below it)
BOXES = {"prf:theorem", "prf:definition", "prf:proposition", "prf:lemma", "prf:corollary",
         "prf:conjecture", "prf:example", "prf:remark", "prf:assumption", "prf:proof", "exercise",
         "note", "warning", "tip", "important", "admonition"}
# a code cell shows its code on a slide only where the slide is about the code: cells tagged
# `slide-code`, and the short visible cells of the pipeline chapter (it introduces the calls)
CODE_CHAPTERS = {"00_pipeline"}
CODE_MAX_LINES = 8


def has_slide_metadata(nb) -> bool:
    return any("slideshow" in cell.get("metadata", {}) for cell in nb.cells)


def is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and "import mfbook" in cell.source and "%pip install" in cell.source


def is_static_demo(out) -> bool:
    return "mfbook-static-interact" in str(out.get("data", {}).get("text/html", ""))


def is_figure(out) -> bool:
    data = out.get("data", {})
    return "image/png" in data or "image/svg+xml" in data or is_static_demo(out)


def draws_figure(cell) -> bool:
    return any(is_figure(out) for out in cell.get("outputs", []))


def tags_of(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


# --- markdown blocks -------------------------------------------------------------------------
DIRECTIVE_OPEN = re.compile(r"^(`{3,}|:{3,})\{([\w:-]+)\}[ \t]*(.*)$")


def split_blocks(text: str) -> list[tuple[str, str]]:
    """A MyST markdown cell -> [(kind, source)]: kind is 'h1'..'h4', a directive name
    ('prf:theorem', 'exercise', 'solution', 'dropdown', ...), 'math', 'code', 'list' or 'para'.
    Blocks are separated at blank lines; a directive, a $$ block or a fenced code block is one
    block (blank lines inside included); each item of a list is its own 'list' block."""
    lines = text.strip("\n").split("\n")
    blocks: list[tuple[str, str]] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        m = DIRECTIVE_OPEN.match(line)
        fence = re.match(r"^(`{3,}|~{3,})", line)
        if m:
            char, size = m.group(1)[0], len(m.group(1))
            close = re.compile(rf"^{re.escape(char)}{{{size},}}\s*$")
            j, depth = i + 1, 0
            while j < len(lines):
                inner = re.match(r"^(`{3,}|:{3,})(\S*)", lines[j])
                if close.match(lines[j]) and depth == 0:
                    break
                if inner and inner.group(1)[0] == char and len(inner.group(1)) >= size:
                    depth += 1 if inner.group(2) else -1
                j += 1
            blocks.append((m.group(2), "\n".join(lines[i:j + 1])))
            i = j + 1
        elif fence:
            j = i + 1
            while j < len(lines) and not lines[j].startswith(fence.group(1)):
                j += 1
            blocks.append(("code", "\n".join(lines[i:j + 1])))
            i = j + 1
        elif line.strip().startswith("$$"):
            j = i
            if line.strip() == "$$" or line.strip().count("$$") == 1:
                j = i + 1
                while j < len(lines) and "$$" not in lines[j]:
                    j += 1
            blocks.append(("math", "\n".join(lines[i:j + 1])))
            i = j + 1
        elif line.lstrip().startswith("|"):
            j = i
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            blocks.append(("table", "\n".join(lines[i:j])))
            i = j
        elif re.match(r"^#{1,6} ", line):
            level = len(line) - len(line.lstrip("#"))
            blocks.append((f"h{min(level, 4)}", line))
            i += 1
        elif re.match(r"^\s*([-*+]|\d+[.)])\s", line):
            j = i + 1
            while (j < len(lines) and lines[j].strip()
                   and not re.match(r"^([-*+]|\d+[.)])\s", lines[j])):
                j += 1
            blocks.append(("list", "\n".join(lines[i:j])))
            i = j
        else:
            j = i + 1
            while (j < len(lines) and lines[j].strip() and not DIRECTIVE_OPEN.match(lines[j])
                   and not re.match(r"^(#{1,6} |\$\$|```)", lines[j])
                   and not re.match(r"^([-*+]|\d+[.)])\s", lines[j])):
                j += 1
            blocks.append(("para", "\n".join(lines[i:j])))
            i = j
    return blocks


def visible_length(text: str) -> float:
    """Characters a line of markdown shows, roughly (markup dropped, TeX source counted at 60%)."""
    text = re.sub(r"\{[\w:-]+\}`([^`<]*)(<[^>]*>)?`", r"\1", text)
    math = sum(len(m) for m in re.findall(r"\$([^$]+)\$", text))
    text = re.sub(r"\$[^$]+\$", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`>]", "", text)
    return len(text) + 0.6 * math


def widest_inline_math(text: str) -> float:
    """Characters of the longest inline formula ($...$): it cannot break across lines."""
    text = re.sub(r"\$\$.+?\$\$", "", text, flags=re.S)
    return max((0.6 * len(m) for m in re.findall(r"\$([^$]+)\$", text)), default=0)


def text_height(text: str, chars: float = CHARS, line: float = LINE) -> float:
    """Height in px of markdown prose: wrapped lines of `chars` characters."""
    height = 0.0
    # a paragraph's source lines flow together; a list item or a line ending in a hard break
    # ("\\" or two spaces) starts a new line
    logical: list[str] = []
    for raw in text.split("\n"):
        item = re.match(r"^\s*([-*+]|\d+[.)])\s", raw)
        if logical and raw.strip() and logical[-1].strip() and not item \
                and not re.search(r"(\\|  )$", logical[-1]):
            logical[-1] += " " + raw.strip()
        else:
            logical.append(raw)
    for raw in logical:
        n = visible_length(raw.strip())
        rows = max(1, -(-n // chars))
        # inline fractions, sums, matrices and superscripts make their lines taller
        tall = re.search(r"\$[^$]*(\\frac|\\sum|\\begin|\\tfrac|\^\{|\\hat|\\tilde)[^$]*\$", raw)
        height += (1.12 if tall else 1.0) * line * rows if raw.strip() else 0.3 * line
    return height


def math_height(tex: str) -> float:
    rows = 1 + len(re.findall(r"\\\\", tex)) - len(re.findall(r"\\\\\s*\\end", tex))
    tall = len(re.findall(
        r"\\frac|\\sum|\\int|\\prod|\\max_|\\min_|\\lim|\\sqrt|\\underbrace|\^\{", tex))
    matrix = len(re.findall(r"\\begin\{[bpv]?matrix\}", tex))
    return 40 + rows * 48 + (18 if tall else 0) + (20 * matrix if rows == 1 else 0)


def block_height(kind: str, source: str) -> float:
    """Estimated height in px of one markdown block (after MyST conversion), margins included."""
    if kind.startswith("h"):
        em, chars = HEADINGS[int(kind[1])]
        title = source.lstrip("#").strip()
        return 30 + em * 1.2 * FONT * max(1, -(-visible_length(title) // chars))
    if kind == "math":
        return math_height(source)
    if kind == "code":
        rows = source.count("\n") - 1
        return 30 + CODE_LINE * max(1, rows)
    if kind == "table":
        return table_height(source)
    if kind == "list":      # one item: indented by its bullet, with a small margin
        return 14 + text_height(source, CHARS - 8)
    if kind in BOXES or kind not in ("para",):
        # a box: its title line, its body in 0.9 em at 92% width, padding and margins
        body = [b for b in split_blocks(_box_body(source))]
        return 50 + LINE + sum(0.9 * block_height(k, s) for k, s in body)
    return 20 + sum(math_height(m) for m in re.findall(r"\$\$(.+?)\$\$", source, re.S)) + \
        text_height(re.sub(r"\$\$(.+?)\$\$", "", source, flags=re.S))


TABLE_FONT = 0.7        # tables are set in 0.7 em (slides_template)


def _table_rows(source: str) -> list[list[str]]:
    return [[c.strip() for c in row.strip().strip("|").split("|")] for row in source.split("\n")]


def table_height(source: str) -> float:
    """Height of a Markdown table: each row as tall as its longest cell wrapped in its column."""
    rows = [r for r in _table_rows(source) if not all(re.fullmatch(r":?-+:?", c) for c in r)]
    columns = max(len(r) for r in rows)
    chars = CHARS / TABLE_FONT / columns * 0.9
    line = TABLE_FONT * LINE
    return 24 + sum(10 + line * max(max(1, -(-visible_length(c) // chars)) for c in row)
                    for row in rows)


def split_table(source: str, budget: float) -> list[str]:
    """A table too tall for one slide -> several tables, each with the header row."""
    lines = source.split("\n")
    head, body = lines[:2], lines[2:]
    parts, current = [], []
    for row in body:
        if current and table_height("\n".join(head + current + [row])) > budget:
            parts.append("\n".join(head + current))
            current = []
        current.append(row)
    parts.append("\n".join(head + current))
    return parts


def _box_body(source: str) -> str:
    """The body of a fenced directive (its options dropped)."""
    lines = source.split("\n")[1:-1]
    return "\n".join(line for line in lines if not re.match(r"^:[\w-]+:", line))


def split_box(kind: str, source: str, budget: float) -> list[str]:
    """A directive too tall for one slide -> several directives of the same kind (at block
    boundaries; the title of the later parts says "continued")."""
    head = source.split("\n", 1)[0]
    m = DIRECTIVE_OPEN.match(head)
    fence = m.group(1)
    options = [line for line in source.split("\n")[1:-1] if re.match(r"^:[\w-]+:", line)]
    parts, current, height = [], [], 50 + LINE
    for k, s in split_blocks(_box_body(source)):
        h = 0.9 * block_height(k, s)
        if current and height + h > budget:
            parts.append(current)
            current, height = [], 50 + LINE
        current.append(s)
        height += h
    parts.append(current)
    out = []
    for n, part in enumerate(parts):
        title = m.group(3) if n == 0 else (m.group(3) + " (continued)").strip()
        out.append("\n".join([f"{fence}{{{kind}}} {title}".rstrip(), *(options if n == 0 else []),
                              "", "\n\n".join(part), fence]))
    return out


def split_para(source: str, budget: float) -> list[str]:
    """A paragraph too tall for one slide -> pieces at sentence ends."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z({$])", source.replace("\n", " "))
    parts, current = [], ""
    for sentence in sentences:
        trial = (current + " " + sentence).strip()
        if current and block_height("para", trial) > budget:
            parts.append(current)
            current = sentence
        else:
            current = trial
    parts.append(current)
    return parts


# --- glue --------------------------------------------------------------------------------------
def glue_values(nb) -> dict[str, str]:
    """name -> repr of every value the chapter glues (myst-nb's scrapbook outputs)."""
    values = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            data = out.get("data", {})
            text = data.get("application/papermill.record/text/plain", data.get("text/plain"))
            if name and text is not None:
                values[name] = text
    return values


def fill_glue(text: str, values: dict[str, str]) -> str:
    """{glue:text}`name:.3f` and {glue}`name` -> the glued value, formatted."""
    def fill(m):
        name, _, spec = m.group(2).partition(":")
        value = values.get(name.strip())
        if value is None:
            return m.group(0)
        try:
            number = float(value)
            if spec:
                return format(number, spec)
            return value
        except ValueError:
            return value.strip("'\"")
    return re.sub(r"\{(glue|glue:text|glue:any)\}`([^`]+)`", fill, text)


# --- the deck ----------------------------------------------------------------------------------
def _md(source: str, kind: str, tags=()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source)
    cell.metadata["slideshow"] = {"slide_type": kind}
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def clip_output(out, lines: int = MAX_OUTPUT_LINES):
    """A printed output clipped to `lines` lines; its estimated height."""
    out = copy.deepcopy(out)
    key = "text" if out.get("output_type") == "stream" else None
    text = out["text"] if key else out.get("data", {}).get("text/plain", "")
    rows = text.rstrip("\n").split("\n")
    if len(rows) > lines:
        rows = rows[:lines - 1] + [f"... ({len(rows) - lines + 1} more lines in the notebook)"]
    text = "\n".join(rows) + "\n"
    if key:
        out["text"] = text
    else:
        out["data"] = {"text/plain": text}
    height = 24 + CODE_LINE * sum(max(1, -(-len(r) // CODE_CHARS)) for r in rows)
    return out, height


def shows_code(cell, chapter: str) -> bool:
    tags = tags_of(cell)
    if "slide-code" in tags:
        return True
    hidden = tags & {"hide-input", "remove-input", "hide-cell", "remove-cell", "claim"}
    return (chapter in CODE_CHAPTERS and not hidden
            and len(cell.source.split("\n")) <= CODE_MAX_LINES)


def deck_items(nb, chapter: str, bib, labels, glued):
    """The chapter -> a list of (break, cell, height): break is 'slide' (a new horizontal slide),
    'subslide' (a new vertical slide), 'own' (a slide of its own), 'notes' or None (fill the
    current slide); height is the estimated height in px."""
    def convert(text):
        return convert_roles(convert_directives(fill_glue(text, glued)), bib, labels)

    items = []
    for cell in nb.cells:
        tags = tags_of(cell)
        if is_install_cell(cell) or "remove-cell" in tags:
            continue
        if cell.cell_type == "markdown":
            for kind, source in split_blocks(cell.source):
                if kind == "solution":
                    continue
                if kind == "dropdown":      # "What you should see": the speaker's notes
                    items.append(("notes", _md(convert(_box_body(source)), "notes"), 0))
                    continue
                if kind.startswith("h"):
                    level = int(kind[1])
                    brk = "slide" if level <= 2 else "subslide"
                    items.append((brk, _md(convert(source), "-"), block_height(kind, source)))
                    continue
                height = block_height(kind, source)
                if kind in BOXES:
                    # a box is set large when it fits with room for a heading above it, small
                    # ("dense") when it does not fit at the normal size, split when even that fails
                    parts, scale, tag = [source], 1.0, ()
                    if LARGE * height <= BUDGET - 110 and widest_inline_math(source) <= 40:
                        scale, tag = LARGE, ("slide-large",)
                    elif height > BUDGET:
                        scale, tag = DENSE, ("slide-dense",)
                        if DENSE * height > BUDGET:
                            parts = split_box(kind, source, BUDGET / DENSE)
                    for part in parts:
                        h = block_height(kind, part) * scale
                        items.append(("own", _md(convert(part), "-", tag), h))
                    continue
                pieces = [source]
                if kind == "para" and height > BUDGET - 60:
                    pieces = split_para(source, BUDGET - 60)
                elif kind == "table" and height > BUDGET - 60:
                    pieces = split_table(source, BUDGET - 60)
                for piece in pieces:
                    items.append((None, _md(convert(piece), "-"), block_height(kind, piece)))
            continue
        if cell.cell_type != "code":
            continue
        show = shows_code(cell, chapter)
        keep_text = "claim" not in tags
        pending = []   # consecutive printed outputs
        code_height = 30 + CODE_LINE * len(cell.source.split("\n")) if show else 0

        def flush_text(pending=pending):
            nonlocal show, code_height
            if not pending and not show:
                return
            new = copy.deepcopy(cell)
            new.outputs = [o for o, _ in pending]
            height = sum(h for _, h in pending) + code_height
            if not show:
                new.metadata.setdefault("transient", {})["remove_source"] = True
            new.metadata["slideshow"] = {"slide_type": "-"}
            new.metadata["tags"] = [t for t in tags if t not in ("hide-input", "hide-output")]
            items.append((None, new, height))
            pending.clear()
            show, code_height = False, 0

        caption = cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption", "")
        for out in cell.get("outputs", []):
            if out.get("metadata", {}).get("scrapbook") or out.get("output_type") == "error":
                continue
            if is_figure(out):
                flush_text()
                new = copy.deepcopy(cell)
                new.outputs = [out]
                new.metadata.setdefault("transient", {})["remove_source"] = True
                new.metadata["slideshow"] = {"slide_type": "-"}
                if is_static_demo(out):
                    new.metadata["tags"] = ["slide-demo"]
                    items.append(("own", new, 0))
                    continue
                cap_h = 0
                if caption:
                    cap_h = 16 + text_height(convert(caption), CHARS / 0.7, 0.7 * LINE)
                level = next((k for k, h in enumerate(FIGURE_HEIGHTS) if h + cap_h <= BUDGET + 40),
                             len(FIGURE_HEIGHTS) - 1)
                new.metadata["tags"] = [f"slide-figure-{level}"]
                items.append(("own", new, 0))
                if caption:
                    items.append(("with", _md(convert(caption), "-", ("slide-caption",)), cap_h))
                continue
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                continue
            data = out.get("data", {})
            if not keep_text:
                continue
            if "text/html" in data and "text/plain" not in data:
                continue        # an HTML table without a text version: left to the book
            # printed results (print) are kept; a bare value at the end of a cell (an
            # execute_result) means something only next to its code
            if out.get("output_type") == "stream" or (show and "text/plain" in data):
                pending.append(clip_output(out))
        flush_text()
    return items


def build_deck(nb, bib, chapter: str = "") -> nbformat.NotebookNode:
    """The slides of an executed chapter: a new notebook whose cells carry reveal.js slide types.

    Rules (issue 23 item 7: slides a lecturer can project as they are):
    * a level-1/2 heading starts a horizontal slide, a level-3 heading a vertical one; "Problem
      set" and "Summary" are level-2 headings, so they start slides of their own;
    * every theorem/definition/exercise box, every figure (with its caption) and every demo is a
      slide of its own; a box too tall for a slide is set smaller, then split ("continued");
    * other blocks fill the current slide up to BUDGET px (estimated), then a new vertical slide
      starts; a paragraph taller than a slide is split at sentence ends;
    * code is hidden (see shows_code), printed results are kept (clipped to MAX_OUTPUT_LINES),
      claim verdicts, solutions and the install cell are left out; "What you should see"
      dropdowns become the speaker notes of their demo.
    """
    glued = glue_values(nb)
    labels = directive_labels(nb.cells)
    items = deck_items(nb, chapter, bib, labels, glued)
    cells: list = []
    used = BUDGET + 1          # nothing on the current slide yet: the first cell opens one
    alone = False              # the current slide holds a box or a figure
    opening = None             # the first cell of the current slide
    only_heading = False       # the current slide holds only a heading
    for brk, cell, height in items:
        kind = cell.metadata["slideshow"]["slide_type"]
        if brk == "notes":
            cells.append(cell)
            continue
        if brk in ("slide", "subslide"):
            kind, used, alone, only_heading = brk, height, False, True
        elif brk == "own":
            picture = any(t == "slide-demo" or t.startswith("slide-figure")
                          for t in cell.metadata.get("tags", []))
            if only_heading and used + height <= BUDGET and not picture:
                used += height
            else:
                kind, used = "subslide", height
            alone, only_heading = True, False
        elif brk == "with":
            used += height
        else:
            if alone or used + height > BUDGET:
                kind, used = "subslide", height
            else:
                used += height
            alone, only_heading = False, False
        cell.metadata["slideshow"] = {"slide_type": kind}
        if kind in ("slide", "subslide"):
            opening = cell
        cells.append(cell)
        # the estimate, on the slide's <section data-estimate>: compare with the measured height
        opening.metadata["slideshow"]["data"] = {"estimate": str(round(used))}
    first = next((c for c in cells if c.metadata["slideshow"]["slide_type"] != "notes"), None)
    if first is not None:
        first.metadata["slideshow"]["slide_type"] = "slide"
    deck = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(nb.metadata))
    return deck


def add_slide_metadata(nb) -> None:
    """Slide types on the chapter's own cells (the notebook's structure, no re-packing): used for
    a chapter whose cells carry no slideshow metadata only by `prepare`."""
    for cell in nb.cells:
        kind = "-"
        tags = tags_of(cell)
        if is_install_cell(cell) or "remove-cell" in tags:
            kind = "skip"
        elif cell.cell_type == "markdown":
            first = cell.source.lstrip("\n").split("\n", 1)[0]
            level = len(first) - len(first.lstrip("#")) if first.startswith("#") else 0
            if re.match(r"^(`{3,}|:{3,})\{solution\}", cell.source.lstrip()):
                kind = "skip"
            elif level in (1, 2):
                kind = "slide"
            elif level >= 3:
                kind = "subslide"
        elif cell.cell_type == "code" and draws_figure(cell):
            kind = "subslide"
        cell.setdefault("metadata", {})["slideshow"] = {"slide_type": kind}


def prepare(nb, bib, chapter: str = "") -> nbformat.NotebookNode:
    """The deck of an executed chapter: a chapter with its own slideshow metadata keeps it (MyST
    turned into Markdown, code hidden where the book folds it); otherwise `build_deck`."""
    if not has_slide_metadata(nb):
        return build_deck(nb, bib, chapter)
    nb = copy.deepcopy(nb)
    labels = directive_labels(nb.cells)
    glued = glue_values(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text = convert_directives(fill_glue(cell.source, glued))
            cell.source = convert_roles(text, bib, labels)
        tags = tags_of(cell)
        if cell.cell_type == "code" and "slide-code" not in tags:
            cell.setdefault("metadata", {}).setdefault("transient", {})["remove_source"] = True
    return nb


# ----------------------------------------------------------------------------------------------
# executed notebooks
# ----------------------------------------------------------------------------------------------
def code_of(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def code_key(nb) -> str:
    """What the outputs depend on: the chapter's code and the package's source."""
    import hashlib

    digest = hashlib.sha256("\0".join(code_of(nb)).encode())
    for path in sorted((ROOT / "mfbook").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def executed(source: pathlib.Path, cache_dir: pathlib.Path) -> tuple[nbformat.NotebookNode, str]:
    """The chapter with outputs: from the book build's jupyter-cache when its code is unchanged,
    else from this script's own cache (``_build/.slides_cache``, keyed by the chapter's code and
    the package's source), otherwise executed here."""
    nb = nbformat.read(source, as_version=4)
    if (cache_dir / "global.db").exists():
        from jupyter_cache import get_cache

        try:
            _, done = get_cache(str(cache_dir)).merge_match_into_notebook(nb)
            return done, "outputs from the make book cache"
        except KeyError:
            pass
    own = SLIDES_CACHE / f"{source.stem}-{code_key(nb)}.ipynb"
    if own.exists():
        return nbformat.read(own, as_version=4), f"outputs from {own.parent.name}"
    from nbclient import NotebookClient

    start = time.perf_counter()
    os.environ["MFBOOK_STATIC"] = "1"
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(source.parent)}}).execute()
    SLIDES_CACHE.mkdir(parents=True, exist_ok=True)
    for old in SLIDES_CACHE.glob(f"{source.stem}-*.ipynb"):
        old.unlink()
    nbformat.write(nb, own)
    return nb, f"executed here in {time.perf_counter() - start:.0f} s"


# ----------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="reveal.js decks from the chapters")
    ap.add_argument("notebooks", nargs="*", type=pathlib.Path)
    ap.add_argument("--cache", type=pathlib.Path, default=CACHE,
                    help="jupyter-cache of the book build (default _build/.jupyter_cache)")
    ap.add_argument("--out", type=pathlib.Path, default=OUT, help="output folder (default _build/slides)")
    args = ap.parse_args(argv)
    sources = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    if not (ASSETS / "reveal.js" / "dist" / "reveal.js").exists():
        sys.exit("reveal.js is missing: run `tools/fetch_assets.sh slides` (make slides does)")

    from nbconvert import SlidesExporter

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ASSETS, out / "_assets", dirs_exist_ok=True)
    exporter = SlidesExporter(
        template_name="mfbook_reveal",
        extra_template_basedirs=[str(TEMPLATES)],
        reveal_url_prefix="_assets/reveal.js",
        reveal_theme="white",          # its fonts ship with reveal.js ("simple" pulls Google Fonts)
        reveal_transition="none",
        reveal_number="c/t",
        reveal_width=str(WIDTH),
        reveal_height=str(HEIGHT),
        require_js_url="_assets/requirejs/require.js",
        mathjax_url="_assets/mathjax/tex-mml-chtml.js",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    bib = read_bib(ROOT / "references.bib")
    decks = []
    for source in sources:
        source = source.resolve()
        nb, how = executed(source, args.cache)
        title = next((c.source.lstrip("# ").split("\n")[0] for c in nb.cells if c.cell_type == "markdown"), source.stem)
        deck = prepare(nb, bib, source.stem)
        deck.metadata["title"] = title                                   # the <title> of the deck
        body, _ = exporter.from_notebook_node(deck, resources={"metadata": {"name": source.stem}})
        target = out / f"{source.stem}.slides.html"
        target.write_text(body)
        n = body.count("<section")
        decks.append((target.name, title))
        print(f"{target}: {n} sections, {len(body) / 1e6:.1f} MB ({how})")
    # the index lists every deck in the folder, also those built by an earlier run
    titles = dict(decks)
    for deck in sorted(out.glob("*.slides.html")):
        if deck.name not in titles:
            m = re.search(r"<title>(.*?) slides</title>", deck.read_text())
            titles[deck.name] = m.group(1) if m else deck.stem
    items = "\n".join(f'<li><a href="{name}">{title}</a></li>' for name, title in sorted(titles.items()))
    (out / "index.html").write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Slides</title></head><body>"
        f"<h1>Implicit Regularization in Matrix Factorization: slides</h1><ul>{items}</ul>"
        "<p>Arrow keys move between slides; <kbd>s</kbd> opens the speaker view.</p></body></html>\n")
    print(f"open {out}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
