"""The shape of the code: no module imports itself in a circle (the layer rule itself is
import-linter's contract in pyproject.toml, run by `make lint`)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

from app.config import ROOT


def _cycles(graph) -> list[list[str]]:
    """Strongly connected groups of modules that import each other, directly or not."""
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_no_module_imports_itself_in_a_circle():
    cycles = _cycles(grimp.build_graph("app", cache_dir=None))
    assert cycles == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_finder_finds_a_circle():
    class Graph:
        modules = {"a", "b", "c", "d"}
        imports = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.imports[module]

    assert _cycles(Graph()) == [["a", "b", "c"]]


def _private_imports(root: Path) -> list[str]:
    """`from app.x import _name` anywhere under `root`: a private name used across modules."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app"):
                found += [
                    f"{path}: from {node.module} import {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    return found


def test_no_private_name_is_imported_across_modules():
    assert _private_imports(ROOT / "app") == []


def test_the_private_import_finder_finds_one(tmp_path):
    (tmp_path / "m.py").write_text("from app.people.users import _secret\n")
    assert _private_imports(tmp_path) == [
        f"{tmp_path / 'm.py'}: from app.people.users import _secret"
    ]
