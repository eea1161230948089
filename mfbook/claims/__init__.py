"""The book's claims C1-C32 as checks that a wrong science would fail.

Every numbered claim of the book (the claim ledger of the science brief) is checked by a function
registered here with :func:`claim`. A chapter computes the *evidence* (training runs, limits,
convex references) and passes it to the check in a cell tagged with the claim; the check states
the claim as a property of that evidence and raises :class:`ClaimFailed` when the evidence
contradicts it. Keeping the property apart from the evidence has two uses:

- ``tests/test_claims_*.py`` feed every check *wrong* evidence (the minimum-Frobenius completion in
  place of the learned one, a shuffled mask, a large initialization, ...) and see it fail, so no
  check holds by construction;
- the book's page "Claims and how they are checked" is generated from this registry: for each
  claim the sentence it checks, what is computed, the independent cross-check and the tolerance
  with its reason.

Rules for a check (CONTRIBUTING.md has them in full): independent of what it verifies (a claim
about training is checked on a training run), no value that only this package's seed produces,
statistics over seeds where the claim says "training does X", every tolerance with a one-line
reason, and a falsification test in ``tests/``.

The checks live in one module per chapter (:mod:`mfbook.claims.background`, ...); a claim that two
chapters check has a check in each.

Explained in: the appendix page "Claims and how they are checked".
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Claim", "ClaimFailed", "claim", "require", "registry", "all_claims", "CLAIM_IDS"]

#: the claim ledger's identifiers, C1 to C32
CLAIM_IDS = tuple(f"C{i}" for i in range(1, 33))


class ClaimFailed(AssertionError):
    """The evidence contradicts a claim of the book (raised by a claim check)."""


@dataclass(frozen=True)
class Claim:
    """One registered check of a claim.

    Attributes
    ----------
    id : str
        The claim's identifier in the ledger, ``"C1"`` ... ``"C32"``.
    statement : str
        The sentence of the book that the check checks (Markdown, math in ``$...$``).
    computed : str
        What the chapter computes and hands to the check (the evidence).
    cross_check : str
        The independent cross-check inside the check (e.g. a training run beside the limit solver).
    tolerance : str
        The tolerances used and, for each, the one-line reason.
    chapter : str
        The module (one per chapter) that holds the check, e.g. ``"background"``.
    name : str
        The check's function name: the chapter calls ``mfbook.claims.<chapter>.<name>(...)``.
    check : callable
        The check itself.
    """

    id: str
    statement: str
    computed: str
    cross_check: str
    tolerance: str
    chapter: str
    name: str
    check: Callable = field(repr=False, compare=False)


_REGISTRY: dict[str, Claim] = {}


def require(condition, message: str) -> None:
    """Raise :class:`ClaimFailed` with ``message`` unless ``condition`` holds.

    A check states each property of the evidence with one ``require``; the message says what was
    expected and what was measured, so a failing check explains itself.
    """
    if not bool(condition):
        raise ClaimFailed(message)


def claim(id: str, statement: str, *, computed: str, cross_check: str, tolerance: str):
    """Register the decorated function as the check of claim ``id``.

    The function takes the evidence as keyword arguments, states the claim with :func:`require`
    and returns a dict of the measured numbers that the text quotes (or ``None``). Called from a
    chapter, the wrapped check prints one line, ``C4 holds: <statement> (<measured numbers>)``,
    and returns that dict, so the chapter can glue the numbers into its prose.

    Parameters
    ----------
    id : str
        ``"C1"`` ... ``"C32"``.
    statement, computed, cross_check, tolerance : str
        See :class:`Claim`; they make the book's claims page.
    """
    if id not in CLAIM_IDS:
        raise ValueError(f"id: {id!r} is not a claim of the ledger (C1 ... C32)")

    def register(fn):
        chapter = fn.__module__.rsplit(".", 1)[-1]

        @functools.wraps(fn)
        def check(*args, quiet: bool = False, **evidence):
            measured = fn(*args, **evidence)
            if not quiet:
                shown = ", ".join(f"{k} = {_fmt(v)}" for k, v in (measured or {}).items())
                print(f"{id} holds: {_plain(statement)}" + (f" ({shown})" if shown else ""))
            return measured

        key = f"{chapter}.{fn.__name__}"
        if any(c.name == fn.__name__ and c.chapter != chapter for c in _REGISTRY.values()):
            raise ValueError(f"claim check {fn.__name__!r} exists in another chapter: choose another name")
        _REGISTRY[key] = Claim(id, statement, computed, cross_check, tolerance, chapter, fn.__name__, check)
        check.claim = _REGISTRY[key]
        return check

    return register


def _fmt(value) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


_SYMBOLS = {"star": "★", "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "varepsilon": "ε",
            "epsilon": "ε", "theta": "θ", "lambda": "λ", "sigma": "σ", "Sigma": "Σ", "mu": "μ", "phi": "φ",
            "varphi": "φ", "omega": "ω", "Omega": "Ω", "pi": "π", "le": "≤", "leq": "≤", "ge": "≥",
            "geq": "≥", "ne": "≠", "neq": "≠", "to": "→", "rightarrow": "→", "infty": "∞", "approx": "≈",
            "cdot": "·", "times": "×", "in": "∈", "ldots": "…", "dots": "…", "top": "ᵀ", "|": "‖",
            "sqrt": "√", "pm": "±", "propto": "∝", "sum": "Σ", "nabla": "∇", "partial": "∂", "ell": "ℓ"}


_DROPPED = ("left", "right", "big", "Big", "bigg", "quad", "qquad", "widehat", "hat", "tilde", "bar", "mathcal",
            "displaystyle")


def _plain(text: str) -> str:
    """A statement's TeX as plain text for a printed verdict (the claims page renders the TeX itself):
    matrices as nested lists, fractions with a slash, Greek letters and relations as symbols."""
    import re

    def matrix(m):
        rows = [r.strip() for r in m.group(2).split("\\\\")]
        return "[" + ", ".join("[" + ", ".join(c.strip() for c in r.split("&")) + "]" for r in rows) + "]"

    t = text.replace("$", "")
    t = re.sub(r"\\begin\{([bp]?matrix)\}(.*?)\\end\{\1\}", matrix, t, flags=re.S)
    t = re.sub(r"\\[td]?frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", t)
    t = re.sub(r"\\[td]?frac(\w)(\w)", r"\1/\2", t)                             # \tfrac12
    t = re.sub(r"\\(?:operatorname|mathrm|text|mathbf|mathcal|widehat|hat|tilde|bar)\{([^{}]*)\}", r"\1", t)
    t = re.sub(r"\\mathbb\{?R\}?", "ℝ", t)
    t = re.sub(r"\\dot(?![A-Za-z])\s*", "(d/dt)", t)
    t = re.sub(r"\\([A-Za-z]+|\|)", lambda m: _SYMBOLS.get(m.group(1), "" if m.group(1) in _DROPPED
                                                            else m.group(1)), t)
    t = re.sub(r"([_^])\{([^{}]*)\}", lambda m: m.group(1) + (m.group(2) if m.group(1) == "_" or len(m.group(2)) == 1 else
                                                               f"({m.group(2)})"), t)
    t = t.replace("{", "").replace("}", "")
    return " ".join(t.replace("\\,", " ").replace("\\;", " ").split())


def all_claims() -> list[Claim]:
    """Import every chapter's checks and return them, ordered by claim number and chapter."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return sorted(_REGISTRY.values(), key=lambda c: (int(c.id[1:]), c.chapter, c.name))


def registry() -> dict[str, list[Claim]]:
    """The registered checks grouped by claim id (every chapter's module imported first)."""
    grouped: dict[str, list[Claim]] = {}
    for c in all_claims():
        grouped.setdefault(c.id, []).append(c)
    return grouped
