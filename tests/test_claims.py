"""The claim checks as a whole: every claim C1-C32 has a check, is checked in a chapter, and every
check has a falsification test (a test that feeds it wrong evidence and sees it fail)."""
import json
import pathlib
import re

import pytest

from mfbook import claims

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECKS = claims.all_claims()


def _falsified_names():
    names = set()
    for path in (ROOT / "tests").glob("test_claims_*.py"):
        names |= set(re.findall(r"refutes\(\s*(?:[\w]+\.)*(\w+)\s*\)", path.read_text()))
    return names


def _chapter_sources():
    out = {}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        out[path.stem] = [c for c in cells if c["cell_type"] == "code"]
    return out


def test_every_claim_of_the_ledger_has_a_check():
    missing = sorted(set(claims.CLAIM_IDS) - {c.id for c in CHECKS}, key=lambda s: int(s[1:]))
    assert not missing, f"claims without a registered check: {missing}"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.id}-{c.name}")
def test_every_check_has_a_falsification_test(check):
    assert check.name in _falsified_names(), (
        f"{check.id} ({check.chapter}.{check.name}): no test in tests/test_claims_*.py refutes it")


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.id}-{c.name}")
def test_every_check_is_called_from_a_tagged_claim_cell(check):
    calls = [(stem, c) for stem, cells in _chapter_sources().items() for c in cells
             if re.search(rf"\b{check.name}\(", "".join(c["source"]))]
    assert calls, f"{check.id} ({check.name}) is registered but no chapter calls it"
    for stem, cell in calls:
        tags = cell.get("metadata", {}).get("tags", [])
        assert "claim" in tags, f"{stem}: the cell calling {check.name} lacks the 'claim' tag"
        assert re.search(rf"#\s*claim\s+{check.id}\b", "".join(cell["source"])), (
            f"{stem}: the cell calling {check.name} does not start with '# claim {check.id}'")


def test_every_check_documents_its_evidence_and_tolerance():
    for c in CHECKS:
        for field in ("statement", "computed", "cross_check", "tolerance"):
            assert len(getattr(c, field).strip()) > 10, f"{c.id} {c.name}: {field} is empty"


def test_printed_verdicts_are_plain_text():
    """A claim cell prints its verdict as text, on the web page and on paper: the statement's TeX
    (rendered on the claims page) is turned into symbols, with no backslash or dollar left."""
    from mfbook.claims import _plain, all_claims

    for c in all_claims():
        text = _plain(c.statement)
        assert "\\" not in text and "$" not in text, (c.id, c.name, text)
    assert _plain(r"$\begin{bmatrix}1&\star\\2&3\end{bmatrix}$, $\tfrac12\|W\|_*\le\sigma_1$") == \
        "[[1, ★], [2, 3]], 1/2‖W‖_*≤σ_1"
