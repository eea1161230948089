"""What a chapter's page needs from its notebook: numbers glued into the prose.

The prose of a chapter never types a computed number: the notebook computes it and *glues* it
(``glue("name", value)``), and the text shows it with ``{glue:text}`name:.3f```. myst-nb formats a
glued number from its plain-text form, which for NumPy scalars is ``np.float64(0.5)`` (NumPy 2)
and cannot be formatted; :func:`glue` hands it a Python number instead. Where myst-nb is not
installed (a reader's Colab or Binder runtime) gluing does nothing, and the notebook runs the same.

Explained in: the pipeline chapter (how a chapter is built).
"""
from __future__ import annotations

import numbers

import numpy as np

try:
    from myst_nb import glue as _myst_glue
except ImportError:  # pragma: no cover - a reader's runtime without the book's build tools
    _myst_glue = None

__all__ = ["glue"]


def _plain(value):
    """``value`` with NumPy scalars and 0-d arrays turned into Python numbers (the rest as it is)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, numbers.Number) and not isinstance(value, bool) and value != value:
        raise ValueError("glue: a NaN would print as 'nan' in the prose: check the computation")
    return value


def glue(name: str, value, display: bool = False):
    """Make ``value`` available to the page's prose as ``{glue:text}`name```.

    Parameters
    ----------
    name : str
        The key the prose refers to.
    value : object
        A number (NumPy scalars are turned into Python numbers, so that formats such as ``:.3f``
        work) or anything myst-nb can glue.
    display : bool
        Also show the value in the cell's output (default: no).

    Raises
    ------
    ValueError
        If ``value`` is NaN.

    Explained in: the pipeline chapter (how a chapter is built).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    value = _plain(value)
    if _myst_glue is not None:
        _myst_glue(name, value, display=display)
    return value
