"""Shared test helpers."""
from contextlib import contextmanager

import pytest

from mfbook.claims import ClaimFailed


@contextmanager
def refutes(check):
    """``with refutes(claims.background.some_check): some_check(wrong evidence, quiet=True)``.

    Passes only if the claim check raises :class:`ClaimFailed`: the falsification test of a claim
    (every registered check needs one; ``tests/test_claims.py`` counts them by the check's name).
    """
    assert hasattr(check, "claim"), f"{check!r} is not a registered claim check"
    with pytest.raises(ClaimFailed):
        yield
