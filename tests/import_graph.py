"""The project's module-level import graph, read with ``ast`` (nothing is imported).

Function-level imports are left out on purpose: they run when called, not when the module
loads, so they cannot form an import cycle (a service enqueuing its own task uses one).
``python -m tests.import_graph`` prints the cycles and which app imports which.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "core", "monitoring", "explain", "ops")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def _all_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, function-level ones included (except under TYPE_CHECKING)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip.update(id(n) for n in ast.walk(node))
    return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom) and id(n) not in skip]


def _top_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    out: list = []
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.If) and not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            out.extend(n for n in node.body + node.orelse if isinstance(n, ast.Import | ast.ImportFrom))
        elif isinstance(node, ast.Try):
            out.extend(n for n in node.body if isinstance(n, ast.Import | ast.ImportFrom))
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module ``name`` refers to (the longest known prefix), else None."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def graph(*, functions: bool = False) -> dict[str, set[str]]:
    """module -> project modules it imports at load time (``functions``: or when any of its
    functions runs)."""
    modules = project_modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(), str(path))
        for node in _all_imports(tree) if functions else _top_level_imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                # "from pkg import mod" imports the submodule pkg.mod when it exists.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
            for target in targets:
                found = _resolve(target, modules)
                if found and found != name:
                    edges[name].add(found)
        edges.setdefault(name, set())
    return dict(edges)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def app_edges(edges: dict[str, set[str]]) -> dict[tuple[str, str], int]:
    """(importing app, imported app) -> number of module-level import edges between them."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for source, targets in edges.items():
        for target in targets:
            a, b = source.split(".")[0], target.split(".")[0]
            if a != b:
                counts[(a, b)] += 1
    return dict(sorted(counts.items()))


def enqueue_edges(edges: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Function-level imports of an app's ``tasks`` module from its services: a service
    enqueuing its own task after commit (the one import allowed to close a loop)."""
    top = graph()
    return {
        (source, target)
        for source, targets in edges.items()
        for target in targets
        if target.endswith(".tasks")
        and target.split(".")[0] == source.split(".")[0]
        and ".services" in f".{source}"
        and target not in top.get(source, set())
    }


def without(edges: dict[str, set[str]], drop: set[tuple[str, str]]) -> dict[str, set[str]]:
    return {s: {t for t in targets if (s, t) not in drop} for s, targets in edges.items()}


def _print(title: str, g: dict[str, set[str]]) -> None:
    found = cycles(g)
    print(f"{title}: {len(g)} modules, {sum(len(t) for t in g.values())} import edges, {len(found)} cycle(s)")
    for component in found:
        print("  cycle: " + " <-> ".join(component))


if __name__ == "__main__":
    _print("module-level imports", graph())
    full = graph(functions=True)
    _print("all imports (function-level included)", full)
    allowed = enqueue_edges(full)
    _print("all imports minus a service's enqueue of its own task", without(full, allowed))
    for source, target in sorted(allowed):
        print(f"  enqueue import: {source} -> {target}")
    for title, g in (("module-level", graph()), ("all imports", full)):
        print(f"app -> app ({title} import edges):")
        for (a, b), n in app_edges(g).items():
            print(f"  {a} -> {b}: {n}")
