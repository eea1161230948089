"""Incomplete matrices: the data of a matrix completion problem.

An incomplete matrix :math:`M \\in \\mathbb{R}^{d_1 \\times d_2}` is a pair (values, mask):
the observed index set is :math:`S_x = \\{(i, j) : \\text{mask}_{ij}\\}` and only
:math:`M_{ij}, (i, j) \\in S_x` carry information. The number of observations is
:math:`n = |S_x|`.

Text form (used by the book's widgets and the command line)::

    "1 2 *; 3 * *; * * 5"

rows are separated by ``;`` or new lines, entries by spaces or commas, and ``*`` or ``?``
marks an unknown entry. A Python-like nested list ``[[1, 2], [10, *]]`` is accepted too.

Explained in: chapter 1 (Background) and the notation page.
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["Completion", "as_completion"]

_UNKNOWN = {"*", "?"}


def _format_entry(x: float) -> str:
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


class Completion:
    """An incomplete matrix: observed values and a boolean mask of observed positions.

    Build one with :meth:`parse` (text) or :meth:`from_arrays` (arrays). Instances are
    immutable: ``values`` and ``mask`` are read-only arrays; unobserved values are stored as 0.

    Attributes
    ----------
    values : ndarray, shape (d1, d2)
        The observed entries :math:`M_{ij}`; 0 where unobserved.
    mask : ndarray of bool, shape (d1, d2)
        True on the observed set :math:`S_x`.

    Explained in: chapter 1 (Background).
    """

    __slots__ = ("values", "mask")

    def __init__(self, values, mask):
        values, mask = _validate(values, mask)
        values = np.where(mask, values, 0.0)
        values.setflags(write=False)
        mask.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "mask", mask)

    def __setattr__(self, name, value):
        raise AttributeError("Completion is immutable; build a new one")

    def __reduce__(self):
        # pickled as its data (for process pools and clusters: mfbook.distributed)
        return (Completion, (np.array(self.values), np.array(self.mask)))

    # -- constructors -----------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> "Completion":
        """Read an incomplete matrix from text such as ``"1 2 *; 3 * *; * * 5"``.

        Rows are separated by ``;`` or new lines, entries by white space or commas; ``*``
        or ``?`` marks an unknown entry. ``[[1, 2], [10, *]]`` is accepted as well.

        Raises
        ------
        TypeError
            If ``text`` is not a string.
        ValueError
            On an entry that is not a number, a NaN or infinite entry, rows of different
            lengths, an empty matrix, or a matrix with no observed entry.
        """
        if not isinstance(text, str):
            raise TypeError(f"Completion.parse expects a string, got {type(text).__name__}")
        body = text.strip()
        if "[" in body or "]" in body:
            if body.count("[") != body.count("]"):
                raise ValueError("unbalanced brackets in the matrix text")
            rows_text = body.replace("[", "").split("]")
        else:
            rows_text = re.split(r"[;\n]", body)
        rows = []
        for raw in rows_text:
            tokens = [t for t in re.split(r"[\s,]+", raw.strip()) if t]
            if tokens:
                rows.append(tokens)
        if not rows:
            raise ValueError("the matrix text is empty: write rows like '1 2 *; 3 * 4'")
        widths = {len(r) for r in rows}
        if len(widths) != 1:
            lengths = ", ".join(str(len(r)) for r in rows)
            raise ValueError(f"rows have different lengths ({lengths}); every row needs the same number of entries")
        values = np.zeros((len(rows), len(rows[0])))
        mask = np.zeros(values.shape, dtype=bool)
        for i, row in enumerate(rows):
            for j, tok in enumerate(row):
                if tok in _UNKNOWN:
                    continue
                try:
                    x = float(tok)
                except ValueError:
                    raise ValueError(
                        f"entry ({i + 1}, {j + 1}) is {tok!r}: not a number; use a number, or * or ? for unknown"
                    ) from None
                if not np.isfinite(x):
                    raise ValueError(f"entry ({i + 1}, {j + 1}) is {tok!r}: observed entries must be finite numbers")
                values[i, j] = x
                mask[i, j] = True
        return cls(values, mask)

    @classmethod
    def from_arrays(cls, values, mask=None) -> "Completion":
        """Build from a value array and a boolean mask of observed positions.

        Parameters
        ----------
        values : array_like, shape (d1, d2)
            Entries; only those under ``mask`` are used.
        mask : array_like of bool, shape (d1, d2), optional
            Observed positions. If omitted, the NaN entries of ``values`` are the unknowns.

        Raises
        ------
        ValueError
            If shapes differ, an observed entry is NaN or infinite, or nothing is observed.
        """
        values = np.asarray(values, dtype=float)
        if mask is None:
            mask = ~np.isnan(values)
        return cls(values, mask)

    # -- views ------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(d1, d2), the shape of the matrix."""
        return self.values.shape

    @property
    def n_observed(self) -> int:
        """n = |S_x|, the number of observed entries (zeros included)."""
        return int(self.mask.sum())

    @property
    def scale(self) -> float:
        """:math:`\\max_{S_x} |M_{ij}|`, the size of the data (0 when every observation is 0).

        The completion problems are scale-invariant: the answers for :math:`cM` are :math:`c` times
        those for :math:`M`. Solvers divide by this scale on the way in and multiply on the way
        out (:meth:`normalized`), so that they answer the same problem at every scale.
        """
        return float(np.max(np.abs(self.values[self.mask])))

    def normalized(self) -> tuple["Completion", float]:
        """``(problem / scale, scale)``: the same pattern with observations of largest size 1.

        An all-zero problem is returned as it is, with scale 1.
        """
        c = self.scale
        if c == 0.0:
            return self, 1.0
        return Completion(self.values / c, self.mask), c

    def residual(self, W) -> np.ndarray:
        """:math:`P_{S_x}(W - M)`: the misfit of ``W`` on the observed entries, 0 elsewhere."""
        W = np.asarray(W, dtype=float)
        if W.shape[-2:] != self.shape:
            raise ValueError(f"W has shape {W.shape[-2:]}, the problem has shape {self.shape}")
        return np.where(self.mask, W - self.values, 0.0)

    def loss(self, W) -> float | np.ndarray:
        """Mean squared error over observed entries, :math:`R_S = \\frac1n \\sum_{S_x}(W_{ij}-M_{ij})^2`."""
        r = self.residual(W)
        return np.sum(r * r, axis=(-2, -1)) / self.n_observed

    def fits(self, W, atol: float = 1e-6) -> bool:
        """True if ``W`` matches every observed entry to ``atol``."""
        return bool(np.all(np.abs(self.residual(W)) <= atol))

    def with_fill(self, fill) -> np.ndarray:
        """The full matrix: observed values, and ``fill`` (scalar or array) elsewhere."""
        return np.where(self.mask, self.values, np.broadcast_to(np.asarray(fill, dtype=float), self.shape))

    def __str__(self) -> str:
        return "; ".join(
            " ".join(_format_entry(v) if m else "*" for v, m in zip(vrow, mrow))
            for vrow, mrow in zip(self.values, self.mask)
        )

    def __repr__(self) -> str:
        return f"Completion.parse({str(self)!r})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Completion):
            return NotImplemented
        return (
            self.shape == other.shape
            and np.array_equal(self.mask, other.mask)
            and np.array_equal(self.values, other.values)
        )

    def __hash__(self):
        return hash((self.shape, self.mask.tobytes(), self.values.tobytes()))


def _validate(values, mask):
    try:
        values = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("values must be a rectangular array of numbers") from None
    mask_arr = np.asarray(mask)
    if mask_arr.dtype != bool:
        if mask_arr.dtype.kind not in "iu" or not np.isin(mask_arr, (0, 1)).all():
            raise ValueError("mask must be boolean (or 0/1): True where the entry is observed")
        mask_arr = mask_arr.astype(bool)
    mask = np.array(mask_arr, dtype=bool)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D matrix, got {values.ndim} dimension(s)")
    if mask.shape != values.shape:
        raise ValueError(f"mask has shape {mask.shape} but values have shape {values.shape}")
    if values.size == 0:
        raise ValueError("the matrix is empty")
    bad = mask & ~np.isfinite(values)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"observed entry ({i + 1}, {j + 1}) is {values[i, j]}: observed entries must be finite")
    if not mask.any():
        raise ValueError("nothing is observed: at least one entry must be known")
    return values, mask


def as_completion(problem) -> Completion:
    """Accept a :class:`Completion` or its text form and return a :class:`Completion`.

    Explained in: chapter 0 (A first run).
    """
    if isinstance(problem, Completion):
        return problem
    if isinstance(problem, str):
        return Completion.parse(problem)
    raise TypeError(f"expected a Completion or matrix text like '1 2; 3 *', got {type(problem).__name__}")
