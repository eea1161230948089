"""Print the built book to PDF: a lecture handout per page of ``_toc.yml`` and the whole book.

Run with ``make pdf`` (after ``make book``); ``tests/browser/check_pdf.py`` checks the result.

* serves ``_build/html`` on 127.0.0.1 and opens each page of ``_toc.yml`` (in its order) in the
  headless Chromium that ``tests/browser/run_browser_check.py`` drives (its DevTools client is
  reused; no network: MathJax and every asset come from ``_build/html/_static``);
* waits until MathJax has typeset the page (``MathJax.startup.promise``), the web fonts are loaded
  and every image is decoded, so the demos show their default frame;
* adds a small print stylesheet (the left sidebar, the top bar, the launch buttons, the right
  "Contents" panel and the previous/next links are not printed; the text takes the page width);
  folded code stays folded, as on the web page (``--open-solutions`` unfolds the exercise
  solutions too, for a lecturer's copy);
* prints with ``Page.printToPDF`` (A4 by default, the page's title and "page i / n" in the footer,
  one bookmark per heading) into ``_build/pdf/<name>.pdf``, then merges them in the order of the
  table of contents into ``_build/pdf/book.pdf``, one bookmark per page of the book.
"""
from __future__ import annotations

import argparse
import base64
import json
import pathlib
import re
import sys
import time

import yaml
from pypdf import PdfReader, PdfWriter

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from run_browser_check import Browser, find_chromium, serve  # noqa: E402

PAPER = {"a4": (8.27, 11.69), "letter": (8.5, 11.0)}   # inches, as printToPDF wants them
MARGIN = 0.6                                             # inches, on every side

# print only the article: the theme's chrome is screen furniture
PRINT_CSS = r"""
@media print {
  .bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary,
  .header-article, .prev-next-area, .prev-next-footer, .bd-footer, .bd-footer-article,
  .bd-footer-content, .search-button-field, .theme-switch-button, .skip-link,
  #pst-back-to-top, .primary-toggle, .secondary-toggle,
  button.toggle-button { display: none !important; }
  .bd-container, .bd-container__inner, .bd-page-width, .bd-main, .bd-content,
  .bd-article-container, .bd-article { max-width: 100% !important; width: 100% !important;
    margin: 0 !important; padding-left: 0 !important; padding-right: 0 !important; }
  .bd-main .bd-content { margin-left: 0 !important; }
  html { font-size: 90%; }
  img, figure, .mfbook-static-interact, mjx-container[display="true"], table,
    div.cell_input, div.cell_output { break-inside: avoid; }
  /* a folded cell is absent from paper, not a "Show code cell source" line */
  details.hide:not([open]) { display: none !important; }
  mjx-container[display="true"] { overflow: visible !important; }
  pre { white-space: pre-wrap !important; }
}
"""

# wait until the page is ready to print: fonts, images (lazy ones loaded now), MathJax idle
READY = r"""
(async (openSolutions) => {
  const style = document.createElement('style');
  style.id = 'mfbook-print-css';
  style.textContent = %s;
  document.head.appendChild(style);
  if (!openSolutions) {
    // sphinx-togglebutton unfolds the folded admonitions (the solutions) when the page is printed,
    // by a "beforeprint" listener that finds them by the class "toggle": keep them as the web
    // page shows them by taking that class away from the folded ones (their look does not need it)
    const folded = '.admonition.toggle.toggle-hidden, details.toggle-details:not([open])';
    document.querySelectorAll(folded)
      .forEach(el => el.classList.remove('toggle', 'toggle-details'));
  } else {   // the lecturer's copy: togglebutton opens its own; open the other dropdowns too
    document.querySelectorAll('details.sd-dropdown').forEach(d => d.open = true);
  }
  for (const img of document.querySelectorAll('img')) img.loading = 'eager';
  await Promise.all([...document.images].map(i => i.decode().catch(() => {})));
  if (document.fonts) await document.fonts.ready;
  if (document.querySelector('script[src*="mathjax"]')) {  // MathJax on the page: let it typeset
    const started = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
    for (let i = 0; i < 600 && !started(); i++) await new Promise(r => setTimeout(r, 50));
    if (!started()) throw new Error('no MathJax');
    await MathJax.startup.promise;
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return {
    title: document.title,
    mjx: document.querySelectorAll('mjx-container').length,
    mjxErrors: document.querySelectorAll('mjx-merror').length,
    images: document.images.length,
    broken: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length,
  };
})
"""

FOOTER = ('<div style="font-size:7pt;width:100%;margin:0 0.6in;color:#555;display:flex;'
          'justify-content:space-between;font-family:sans-serif"><span class="title"></span>'
          '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')


def toc_docnames(root: pathlib.Path) -> list[str]:
    """The pages of ``_toc.yml`` in reading order (root first), as Sphinx docnames."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(re.sub(r"\.(md|ipynb)$", "", entry["file"]))
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts") or []:
        walk(part.get("chapters"))
    return [str(pathlib.PurePosixPath(n).with_suffix("")) if n.endswith((".md", ".ipynb")) else n
            for n in names]


def pdf_name(docname: str) -> str:
    return pathlib.PurePosixPath(docname).name + ".pdf"


def print_page(browser: Browser, url: str, out: pathlib.Path, paper, open_solutions: bool) -> dict:
    browser.goto(url, timeout=120)
    flag = "true" if open_solutions else "false"
    info = browser.evaluate(f"({READY % json.dumps(PRINT_CSS)})({flag})",
                            timeout=120)
    width, height = paper
    res = browser.call(
        "Page.printToPDF", timeout=600,
        paperWidth=width, paperHeight=height,
        marginTop=MARGIN, marginBottom=MARGIN, marginLeft=MARGIN, marginRight=MARGIN,
        printBackground=True, displayHeaderFooter=True,
        headerTemplate="<span></span>", footerTemplate=FOOTER,
        generateDocumentOutline=True,
    )
    out.write_bytes(base64.b64decode(res["data"]))
    info["pages"] = len(PdfReader(out).pages)
    return info


def merge(parts: list[tuple[str, pathlib.Path]], out: pathlib.Path, title: str) -> int:
    writer = PdfWriter()
    for label, path in parts:
        writer.append(str(path), outline_item=label)
    writer.add_metadata({"/Title": title})
    with out.open("wb") as fh:
        writer.write(fh)
    return len(writer.pages)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--html", default=str(ROOT / "_build" / "html"))
    ap.add_argument("--out", default=str(ROOT / "_build" / "pdf"))
    ap.add_argument("--paper", choices=sorted(PAPER), default="a4")
    ap.add_argument("--open-solutions", action="store_true",
                    help="print the folded solutions and dropdowns unfolded (a lecturer's copy)")
    ap.add_argument("--chromium", default=None)
    ap.add_argument("pages", nargs="*", help="docnames to print (default: all of _toc.yml)")
    args = ap.parse_args(argv)

    html, out = pathlib.Path(args.html), pathlib.Path(args.out)
    docnames = toc_docnames(ROOT)
    missing = [d for d in docnames if not (html / f"{d}.html").exists()]
    if missing:
        sys.exit(f"not built: {', '.join(missing)} (run `make book` first)")
    selected = args.pages or docnames
    out.mkdir(parents=True, exist_ok=True)

    server = serve(html)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    browser = Browser(find_chromium(args.chromium))
    failures, parts = [], []
    start = time.time()
    try:
        for doc in selected:
            t0 = time.time()
            target = out / pdf_name(doc)
            info = print_page(browser, f"{base}/{doc}.html", target, PAPER[args.paper],
                              args.open_solutions)
            label = info["title"].split(" \u2014 ")[0].strip() or doc
            parts.append((label, target))
            print(f"{target}: {info['pages']:>3} pages, {info['mjx']:>4} formulas, "
                  f"{info['images']:>3} images"
                  f" ({time.time() - t0:.1f} s)", flush=True)
            if info["mjxErrors"]:
                failures.append(f"{doc}: {info['mjxErrors']} MathJax errors")
            if info["broken"]:
                failures.append(f"{doc}: {info['broken']} images did not load")
    finally:
        browser.close()
        server.shutdown()
    if not args.pages:
        book = out / "book.pdf"
        title = yaml.safe_load((ROOT / "_config.yml").read_text()).get("title", "book")
        n = merge(parts, book, title)
        print(f"{book}: {n} pages (the {len(parts)} parts above, in the order of _toc.yml)")
    print(f"printed in {time.time() - start:.0f} s")
    for f in failures:
        print(f"FAIL {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
