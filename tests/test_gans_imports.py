"""The gans modules import one another without a circle.

Every `import` and `from ... import` of a gans module in gans/**/*.py counts, those inside
functions too: an import moved into a function to dodge a circle is still a circle. The graph
is read with ast, so nothing is imported, and a failure prints the circle it found.
"""

import ast
from pathlib import Path

GANS = Path(__file__).resolve().parent.parent / "gans"


def module_name(path, root=GANS):
    """gans/data/celeba.py -> "gans.data.celeba"; gans/data/__init__.py -> "gans.data"."""
    parts = ("gans", *path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root=GANS):
    """{module: set of the gans modules it imports anywhere in its file}."""
    files = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: from .x import y, from .. import z
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module
                # `from .data import celeba` imports the module gans.data.celeba; `from .x import f` the module gans.x
                submodules = [f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in files]
                targets.update(submodules or [source])
        graph[name] = {target for target in targets if target in files and target != name}
    return graph


def find_cycle(graph):
    """One circle of the graph as a list of modules [a, b, ..., a], or None (depth-first search)."""
    state = {}  # module -> "open" while on the search path, "done" after

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target, path + [target])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [module])
            if cycle:
                return cycle
    return None


def test_the_gans_modules_import_one_another_without_a_circle():
    graph = import_graph()
    assert len(graph) > 20 and "gans.training" in graph and "gans.data.celeba" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_search_finds_a_circle_through_a_function_level_import(tmp_path):
    package = tmp_path / "gans"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import f\n")
    (package / "b.py").write_text("def f():\n    from .data import c\n")
    (package / "data" / "c.py").write_text("from .. import a\n")
    graph = import_graph(package)
    assert graph["gans.a"] == {"gans.b"} and graph["gans.b"] == {"gans.data.c"} and graph["gans.data.c"] == {"gans.a"}
    assert find_cycle(graph) == ["gans.a", "gans.b", "gans.data.c", "gans.a"]
    (package / "data" / "c.py").write_text("import os\n")
    assert find_cycle(import_graph(package)) is None
