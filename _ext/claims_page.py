"""The directive ``claims-table``: the book's page "Claims and how they are checked".

It imports :mod:`mfbook.claims`, whose registry holds one entry per claim check (the sentence it
checks, what the chapter computes, the independent cross-check, the tolerances and why), and writes
one table row per check, linked to the chapter whose tagged claim cell calls it. The page is
therefore made at build time from the same code that the chapters run.
"""
import pathlib

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


class ClaimsTable(SphinxDirective):
    has_content = False

    def run(self):
        from mfbook import claims

        for path in (ROOT / "mfbook" / "claims").glob("*.py"):
            self.env.note_dependency(str(path))
        chapters = {p.stem.split("_", 1)[1]: p.stem for p in (ROOT / "chapters").glob("*.ipynb")}
        lines = ["| claim | checked in | what is computed, and the independent cross-check | tolerance and why |",
                 "|---|---|---|---|"]
        for c in claims.all_claims():
            where = chapters.get(c.chapter)
            link = f"{{doc}}`/chapters/{where}`" if where else c.chapter
            lines.append(f"| **{c.id}** {_cell(c.statement)} | {link} (`{c.name}`) | "
                         f"{_cell(c.computed)} *Cross-check:* {_cell(c.cross_check)} | {_cell(c.tolerance)} |")
        ids = {c.id for c in claims.all_claims()}
        lines += ["", f"{len(ids)} of the {len(claims.CLAIM_IDS)} claims of the ledger are checked, "
                      f"by {len(claims.all_claims())} checks."]
        container = nodes.container(classes=["claims-table"])
        self.state.nested_parse(StringList(lines, source="claims-table"), self.content_offset, container)
        return [container]


def setup(app):
    app.add_directive("claims-table", ClaimsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
