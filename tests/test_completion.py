"""Completion: parsing, validation, text round trip (property-based where it matters)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from mfbook import Completion, as_completion


def test_parse_basic_forms_agree():
    a = Completion.parse("1 2 *; 3 * *; * * 5")
    b = Completion.parse("1, 2, ?\n3 * *\n* * 5")
    c = Completion.parse("[[1, 2, *], [3, *, *], [*, *, 5]]")
    assert a == b == c
    assert a.shape == (3, 3) and a.n_observed == 4
    assert a.mask.tolist() == [[True, True, False], [True, False, False], [False, False, True]]
    assert a.values[2, 2] == 5 and a.values[0, 2] == 0


def test_str_round_trip_and_text_accepted_everywhere():
    q = Completion.parse("1 2.5; -1e-3 *")
    assert str(q) == "1 2.5; -0.001 *"
    assert Completion.parse(str(q)) == q
    assert as_completion("1 2.5; -0.001 *") == q


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("1 2; 3", "different lengths"),
    ("1 x; 3 4", "not a number"),
    ("1 nan; 3 4", "finite"),
    ("1 inf; 3 4", "finite"),
    ("* *; * *", "nothing is observed"),
    ("[[1, 2], [3, 4]", "brackets"),
])
def test_parse_errors_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        Completion.parse(text)


def test_from_arrays_validation():
    with pytest.raises(ValueError, match="shape"):
        Completion.from_arrays(np.ones((2, 2)), np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="finite"):
        Completion.from_arrays([[1.0, np.nan]], [[True, True]])
    with pytest.raises(ValueError, match="nothing is observed"):
        Completion.from_arrays(np.ones((2, 2)), np.zeros((2, 2), bool))
    with pytest.raises(ValueError, match="2-D"):
        Completion.from_arrays(np.ones(3), np.ones(3, bool))
    q = Completion.from_arrays([[1.0, np.nan], [3.0, 4.0]])
    assert q.mask.tolist() == [[True, False], [True, True]]
    with pytest.raises(TypeError):
        Completion.parse(3)
    with pytest.raises(TypeError):
        as_completion(3)


def test_immutable_and_loss():
    q = Completion.parse("1 2; 3 *")
    with pytest.raises(AttributeError):
        q.values = None
    with pytest.raises(ValueError):
        q.values[0, 0] = 5
    W = np.array([[1.0, 2.0], [4.0, 100.0]])
    assert q.loss(W) == pytest.approx(1.0 / 3)
    assert not q.fits(W) and q.fits(q.with_fill(7.0))


numbers = st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e12, max_value=1e12)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_round_trip_property(data):
    d1 = data.draw(st.integers(1, 5))
    d2 = data.draw(st.integers(1, 5))
    vals = np.array(data.draw(st.lists(numbers, min_size=d1 * d2, max_size=d1 * d2))).reshape(d1, d2)
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=d1 * d2, max_size=d1 * d2))).reshape(d1, d2)
    if not mask.any():
        with pytest.raises(ValueError, match="nothing is observed"):
            Completion.from_arrays(vals, mask)
        return
    q = Completion.from_arrays(vals, mask)
    assert Completion.parse(str(q)) == q


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.-+eE*?;, \n[]xabnif", max_size=40))
def test_random_text_gives_a_completion_or_a_value_error(text):
    try:
        q = Completion.parse(text)
    except ValueError as err:
        assert str(err)  # a message, never an empty error
    else:
        assert q.mask.any() and np.isfinite(q.values).all()
        assert q.values.shape == q.mask.shape
