"""The shape of the package: one module per idea, imports that run one way.

The import graph of mfbook (every ``from .x import ...`` / ``from . import x``, at the top of a module
or inside a function) has no cycle, and no module imports a private (underscore) name of another,
except inside the compiled kernel (the package ``mfbook._kernel``, whose modules share private
helpers), which is itself private to the modules that drive it (``limit`` and ``training``, and the command line,
whose ``compile`` command compiles it)."""
import ast
import pathlib

import networkx as nx

ROOT = pathlib.Path(__file__).resolve().parents[1] / "mfbook"
KERNEL = "mfbook._kernel"
DRIVERS = {"mfbook.limit", "mfbook.training", "mfbook.__main__"}   # the modules that call the compiled kernel


def _in_kernel(name):
    return name == KERNEL or name.startswith(KERNEL + ".")


def _allowed(me, mod):
    """A private import is allowed within the kernel, and from the kernel package by its drivers."""
    return (_in_kernel(me) and _in_kernel(mod)) or (me in DRIVERS and mod == KERNEL)


def _module_name(path):
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports():
    """(importer, imported module, imported name or None) for every relative import in mfbook."""
    out = []
    for path in ROOT.rglob("*.py"):
        me = _module_name(path)
        package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    if (ROOT.parent / sub.replace(".", "/")).with_suffix(".py").exists() or \
                            (ROOT.parent / sub.replace(".", "/") / "__init__.py").exists():
                        out.append((me, sub, None))          # "from . import module"
                    else:
                        out.append((me, target, alias.name))
    return out


def test_no_module_imports_a_private_name_of_another():
    bad = [f"{me} imports {name} from {mod}" for me, mod, name in _imports()
           if name and name.startswith("_") and mod != me and not _allowed(me, mod)]
    bad += [f"{me} imports the private module {mod}" for me, mod, name in _imports()
            if name is None and mod.rsplit(".", 1)[-1].startswith("_") and not _allowed(me, mod)]
    assert not bad, "\n".join(sorted(bad))


def test_the_import_graph_has_no_cycle():
    graph = nx.DiGraph()
    for me, mod, _ in _imports():
        if mod != me and not mod.startswith(me + "."):     # a package importing its own modules is fine
            graph.add_edge(me, mod)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles[:5])
