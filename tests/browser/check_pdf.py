"""Check the PDFs that ``make pdf`` printed (``tools/make_pdf.py``) into ``_build/pdf``.

Run by ``make pdf`` after printing (or alone: ``.venv/bin/python tests/browser/check_pdf.py``).
Not collected by pytest: it needs the built book and its PDFs. The expected files are derived
here from ``_toc.yml`` and the built HTML, not from the printer's own list.

For every page of ``_toc.yml`` (``_build/pdf/<name>.pdf``):

* the PDF exists and opens; a chapter (``chapters/...``) has more than one page, any page at least
  one;
* its first page prints the page's title (from the HTML's ``<title>``) as a heading: the
  normalized title occurs on page 1 at least twice (heading and running footer);
* math was typeset: a page whose HTML has math embeds MathJax's fonts (a ``MathJax_*`` font
  family), and its text holds no raw TeX from the prose -- ``$$``, ``\\frac``, ``\\begin{``,
  ``\\end{``, ``\\(``, ``\\[``, any TeX command ``\\name`` -- and no ``nan``: each occurs in the
  PDF's text at most as often as in the page's printed program text (``<pre>`` blocks outside
  folded cells, and inline ``<code>``), where an ``np.nan`` or a printed LaTeX string belongs to
  the program, not to the prose (MathJax's typeset math yields no TeX in the PDF's text);
* folded code stays folded: no line of a folded cell (25 characters or more, and not shown
  elsewhere on the page) is in the PDF's text;

and ``_build/pdf/book.pdf`` has at least the pages of all parts together (minus one per part of
slack for a book printed in one piece) and one top-level bookmark per part, titled and ordered as
in ``_toc.yml``.

Exit status 0 when everything holds; the table says what failed where.
"""
from __future__ import annotations

import argparse
import html as htmllib
import pathlib
import re
import sys
import unicodedata

from bs4 import BeautifulSoup
from pypdf import PdfReader

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from make_pdf import toc_docnames  # noqa: E402  (the pages in reading order, as make_pdf prints them)
RAW_TEX = {"$$": r"\$\$", r"\frac": r"\\frac", r"\begin{": r"\\begin\{", r"\end{": r"\\end\{",
           r"\(": r"\\\(", r"\[": r"\\\[", r"\command": r"\\[A-Za-z]+"}
NAN = r"\bnan\b"


def norm(text: str) -> str:
    """Compare text without case, spacing, hyphenation or ligatures."""
    return re.sub(r"[\s\-\u00ad\u2010\u2011]+", "", unicodedata.normalize("NFKC", text)).lower()


def html_facts(path: pathlib.Path) -> dict:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    title = htmllib.unescape(soup.title.get_text()).split(" \u2014 ")[0].strip()
    main = soup.find("main") or soup.body
    has_math = bool(main.select("span.math, div.math, .math"))
    folded = []
    for cell in main.select("details.hide"):   # folded cells are not printed
        folded += [line.strip() for pre in cell.find_all("pre")
                   for line in pre.get_text().split("\n")]
        cell.decompose()
    code = "\n".join(el.get_text() for el in main.find_all(["pre", "code"])
                      if el.find_parent("pre") is None)
    shown = norm(code)
    # lines of folded code that are printed nowhere else: the PDF must not show them
    folded = sorted({ln for ln in folded if len(norm(ln)) >= 25 and norm(ln) not in shown})
    allowed = {k: len(re.findall(p, code)) for k, p in RAW_TEX.items()}
    allowed["nan"] = len(re.findall(NAN, code))
    return {"title": title, "math": has_math, "allowed": allowed, "folded": folded}


def mathjax_fonts(reader: PdfReader) -> bool:
    for page in reader.pages:
        res = page.get("/Resources")
        fonts = res.get_object().get("/Font") if res is not None else None
        for ref in (fonts or {}).values():
            desc = ref.get_object().get("/FontDescriptor")
            family = str(desc.get_object().get("/FontFamily", "")) if desc is not None else ""
            if family.startswith("MathJax"):
                return True
    return False


def check_part(doc: str, pdf: pathlib.Path, page_html: pathlib.Path) -> dict:
    failures, notes = [], []
    if not pdf.exists():
        return {"page": doc, "pages": 0, "failures": [f"{pdf} missing"], "notes": []}
    reader = PdfReader(pdf)
    n = len(reader.pages)
    least = 2 if doc.startswith("chapters/") else 1
    if n < least:
        failures.append(f"{n} page(s); a {'chapter' if least == 2 else 'page'} needs {least}")
    facts = html_facts(page_html)
    texts = [p.extract_text() or "" for p in reader.pages]
    text = "\n".join(texts)
    if norm(texts[0]).count(norm(facts["title"])) < 2:
        failures.append(f"page 1 does not print the title {facts['title']!r} as a heading")
    if facts["math"] and not mathjax_fonts(reader):
        failures.append("the page has math but the PDF embeds no MathJax font (math not typeset)")
    flat = norm(text)
    unfolded = [ln for ln in facts["folded"] if norm(ln) in flat]
    if unfolded:
        failures.append(f"{len(unfolded)} of {len(facts['folded'])} lines of folded code printed, "
                        f"e.g. {unfolded[0]!r}")
    elif facts["folded"]:
        notes.append(f"{len(facts['folded'])} lines of folded code not printed")
    found = {k: len(re.findall(p, text)) for k, p in RAW_TEX.items()}
    found["nan"] = len(re.findall(NAN, text))
    for key, count in found.items():
        if count > facts["allowed"][key]:
            at = re.search(RAW_TEX.get(key, NAN), text)
            context = text[max(0, at.start() - 50):at.end() + 30]
            failures.append(f"{key!r} {count} times, {facts['allowed'][key]} of them in printed "
                            f"code/output; first at ...{context!r}")
        elif count:
            notes.append(f"{count} x {key!r} in printed code/output")
    return {"page": doc, "pages": n, "title": facts["title"], "failures": failures, "notes": notes}


def check_book(book: pathlib.Path, parts: list[dict]) -> dict:
    failures = []
    if not book.exists():
        return {"page": "book", "pages": 0, "failures": [f"{book} missing"], "notes": []}
    reader = PdfReader(book)
    n = len(reader.pages)
    total = sum(p["pages"] for p in parts)
    if n < total - len(parts):
        failures.append(f"{n} pages, fewer than the parts' {total} minus {len(parts)}")
    top = [item["/Title"] for item in reader.outline if not isinstance(item, list)]
    want = [p.get("title", p["page"]) for p in parts]
    if [norm(t) for t in top] != [norm(t) for t in want]:
        failures.append(f"top-level bookmarks {top} are not the parts in toc order {want}")
    return {"page": "book", "pages": n, "failures": failures,
            "notes": [f"parts together {total} pages; {len(top)} part bookmarks"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--html", default=str(ROOT / "_build" / "html"))
    ap.add_argument("--pdf", default=str(ROOT / "_build" / "pdf"))
    args = ap.parse_args(argv)
    html, pdfs = pathlib.Path(args.html), pathlib.Path(args.pdf)
    results = []
    for doc in toc_docnames(ROOT):
        results.append(check_part(doc, pdfs / (pathlib.PurePosixPath(doc).name + ".pdf"),
                                  html / f"{doc}.html"))
    results.append(check_book(pdfs / "book.pdf", results[:]))
    width = max(len(r["page"]) for r in results)
    print(f"{'pdf':<{width}}  pages  result")
    for r in results:
        extra = f"  ({'; '.join(r['notes'])})" if r["notes"] else ""
        print(f"{r['page']:<{width}}  {r['pages']:>5}  {'FAIL' if r['failures'] else 'ok'}{extra}")
        for f in r["failures"]:
            print(f"    - {f}")
    failed = sum(bool(r["failures"]) for r in results)
    print(f"{len(results) - failed}/{len(results)} PDFs passed ({pdfs})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
