"""The package's import graph, built from the sources: no cycle, and layers that run one way.

Every ``import`` and ``from ... import`` counts, at module level or inside functions; only
imports under ``if TYPE_CHECKING:`` (never executed) are left out. ``from P import N`` is an edge
to the module ``P.N`` when that is a module of the package, else to ``P``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {"alpgen": ROOT / "generator", "alpgen.detectors": ROOT / "detectors"}


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join([package, *parts])] = path
    return mods


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        package = name if is_pkg else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [
                    f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod for a in node.names
                ]
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    return out


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


GRAPH = import_graph()


def test_the_graph_sees_known_edges():
    """The parser resolves relative and function-level imports (else the tests below are void)."""
    assert "alpgen.engine" in GRAPH["alpgen.runner"]
    assert "alpgen.precision" in GRAPH["alpgen.scanning"]
    assert "alpgen.reach" in GRAPH["alpgen.precision"]
    assert "alpgen.targets" in GRAPH["alpgen.detectors.config"]
    assert "alpgen.runner" in GRAPH["alpgen.cli"]  # a function-level import


def test_no_import_cycle():
    assert _cycles(GRAPH) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_imports_the_cli():
    assert [m for m, deps in GRAPH.items() if "alpgen.cli" in deps] == []


@pytest.mark.parametrize(
    ("module", "must_not_reach"),
    [
        ("alpgen.engine", {"alpgen.runner", "alpgen.scanning", "alpgen.reach", "alpgen.cli"}),
        ("alpgen.reach", {"alpgen.runner", "alpgen.scanning", "alpgen.cli", "alpgen.engine"}),
        ("alpgen.runner", {"alpgen.scanning", "alpgen.cli"}),
        ("alpgen.detectors.counting", {"alpgen.engine", "alpgen.reach", "alpgen.runner"}),
        ("alpgen.decays.registry", {"alpgen.decays.alp", "alpgen.decays.tau"}),
    ],
)
def test_layers_run_one_way(module, must_not_reach):
    """physics → engine → detectors → reach → run/scan → cli; the registry imports no plug-in."""
    assert _reachable(GRAPH, module) & must_not_reach == set()
