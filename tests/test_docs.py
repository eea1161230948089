"""Every public function of mfbook names the chapter that explains it (book-style rule)."""
import inspect

import pytest

import mfbook

PUBLIC = [name for name in dir(mfbook) if not name.startswith("_") and inspect.isfunction(getattr(mfbook, name))]


@pytest.mark.parametrize("name", PUBLIC)
def test_public_function_says_where_it_is_explained(name):
    doc = inspect.getdoc(getattr(mfbook, name)) or ""
    assert "Explained in" in doc, f"mfbook.{name}: docstring lacks 'Explained in: chapter N'"
