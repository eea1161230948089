import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
INSTALL = '''# Colab / Binder: install the book's helper package when it is missing (does nothing locally)
try:
    import mfbook
except ImportError:
    %pip install -q "mfbook @ git+https://github.com/mfbook/implicit-regularization-book@v0.1.0"
    import mfbook'''
class NB:
    def __init__(self): self.cells = []
    def md(self, t): self.cells.append(new_markdown_cell(t.strip("\n")))
    def code(self, t): self.cells.append(new_code_cell(t.strip("\n")))
    def write(self, path):
        nb = new_notebook(cells=self.cells)
        nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.write(nb, path); print("wrote", path)
