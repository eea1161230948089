"""Build one reveal.js slide deck per chapter into _build/slides/ (run by `make slides`).

The decks come from the executed notebooks, so they show the same figures as the book:

* the outputs come from the execution cache of `make book` (``_build/.jupyter_cache``) when it holds
  the chapter's current code; otherwise the chapter is executed here (nbclient, with
  ``MFBOOK_STATIC=1`` so that the demos are precomputed sliders that work without a kernel);
* slide breaks come from the cells' ``slideshow`` metadata when a chapter has any; a chapter with
  none gets them from its structure: every markdown cell that starts with a heading begins a slide
  (a level-3 heading a sub-slide), a code cell that draws a figure gets its own sub-slide so the
  figure fills the screen, and the Colab install cell and the exercise solutions are left out. The
  notebooks themselves are not modified;
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
# slide structure
# ----------------------------------------------------------------------------------------------
def has_slide_metadata(nb) -> bool:
    return any("slideshow" in cell.get("metadata", {}) for cell in nb.cells)


def is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and "import mfbook" in cell.source and "%pip install" in cell.source


def draws_figure(cell) -> bool:
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data or "image/svg+xml" in data:
            return True
        if "mfbook-static-interact" in str(data.get("text/html", "")):
            return True
    return False


def add_slide_metadata(nb) -> None:
    """Slide breaks from the chapter's structure (only used when it has no slideshow metadata)."""
    for cell in nb.cells:
        kind = "-"
        tags = set(cell.get("metadata", {}).get("tags", []))
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


def prepare(nb, bib) -> nbformat.NotebookNode:
    nb = copy.deepcopy(nb)
    if not has_slide_metadata(nb):
        add_slide_metadata(nb)
    labels = directive_labels(nb.cells)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = convert_roles(convert_directives(cell.source), bib, labels)
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell.cell_type == "code" and ("remove-input" in tags or "hide-input" in tags):
            cell.setdefault("metadata", {}).setdefault("transient", {})["remove_source"] = True
    return nb


# ----------------------------------------------------------------------------------------------
# executed notebooks
# ----------------------------------------------------------------------------------------------
def code_of(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def executed(source: pathlib.Path, cache_dir: pathlib.Path) -> tuple[nbformat.NotebookNode, str]:
    """The chapter with outputs: from the book build's jupyter-cache when its code is unchanged,
    otherwise executed here."""
    nb = nbformat.read(source, as_version=4)
    if (cache_dir / "global.db").exists():
        from jupyter_cache import get_cache

        try:
            _, done = get_cache(str(cache_dir)).merge_match_into_notebook(nb)
            return done, "outputs from the make book cache"
        except KeyError:
            pass
    from nbclient import NotebookClient

    start = time.perf_counter()
    os.environ["MFBOOK_STATIC"] = "1"
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(source.parent)}}).execute()
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
        reveal_width="1280",
        reveal_height="800",
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
        deck = prepare(nb, bib)
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
