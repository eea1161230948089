"""Shared by the chapter generators (tools/make_NN_*.py): build a notebook cell by cell and write
it without outputs, with the Colab install cell every chapter starts with (see CONTRIBUTING.md)."""
import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

INSTALL = '''# Colab / Binder: install the book's helper package when it is missing (does nothing locally)
try:
    import mfbook
except ImportError:
    %pip install -q "mfbook @ git+https://github.com/mfbook/implicit-regularization-book@v0.1.0"
    import mfbook'''


class NB:
    """Cells in order: ``md(text)`` and ``code(text)`` append one; ``write(path)`` saves the notebook."""

    def __init__(self):
        self.cells = []

    def md(self, text):
        self.cells.append(new_markdown_cell(text.strip("\n")))

    def code(self, text):
        self.cells.append(new_code_cell(text.strip("\n")))

    def write(self, path):
        for i, cell in enumerate(self.cells):   # stable cell ids: regenerating gives the same file
            cell.id = f"cell-{i:03d}"
        nb = new_notebook(cells=self.cells)
        nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.write(nb, path)
        print("wrote", path, f"({len(self.cells)} cells)")
