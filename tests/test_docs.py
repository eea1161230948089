"""Every public name of mfbook -- each module's ``__all__``, functions and classes alike -- has a
docstring that names the chapter that explains it (book-style rule). The claim checks of
``mfbook.claims`` are left out: each is registered with its claim, whose chapter the page "Claims and
how they are checked" lists; the compiled kernel is private."""
import importlib
import inspect
import pathlib

import pytest

import mfbook

ROOT = pathlib.Path(mfbook.__file__).parent
MODULES = sorted({".".join(("mfbook",) + p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for p in ROOT.rglob("*.py")
                  if not {"_kernel", "claims"} & set(p.relative_to(ROOT).parts) and p.name != "__main__.py"})


def _public():
    out = []
    for name in MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
                out.append(f"{module.__name__}.{attr}")
    return sorted(set(out))


PUBLIC = _public()


def test_the_public_names_are_many():
    assert len(PUBLIC) > 80


@pytest.mark.parametrize("name", PUBLIC)
def test_public_name_says_where_it_is_explained(name):
    module, attr = name.rsplit(".", 1)
    doc = inspect.getdoc(getattr(importlib.import_module(module), attr)) or ""
    assert "Explained in" in doc, f"{name}: docstring lacks 'Explained in: chapter N'"
