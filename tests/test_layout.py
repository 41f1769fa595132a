"""The layout is the architecture (docs/architecture.md): every import of every module of
service/ and workers/, those inside functions included, is read from its AST; the import
graph has no cycle, a package imports only the packages below it, the core imports
nothing outside the standard library, pydantic and yaml, and no module is over 400 lines."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "workers")

# what each package may import, besides itself (docs/architecture.md draws the same)
ALLOWED: dict[str, set[str]] = {
    "service.settings": set(),
    "service.core": set(),
    "service.store": {"service.core", "service.settings"},
    "service.pages": {"service.core"},
    "service.media": {"service.core", "service.store", "service.settings"},
    "service.fix": {"service.core", "service.store", "service.media", "service.settings"},
    "service.submissions": {"service.core", "service.store", "service.media", "service.settings"},
    "service.batch": {"service.core", "service.store", "service.media", "service.fix", "service.pages",
                      "service.settings"},
    "service.review": {"service.core", "service.store", "service.media", "service.submissions",
                       "service.pages", "service.settings"},
    "service.web": {"service", "service.core", "service.store", "service.media", "service.fix",
                    "service.submissions", "service.batch", "service.review", "service.pages",
                    "service.settings"},
    "service.cli": {"service", "service.core", "service.store", "service.media", "service.fix",
                    "service.submissions", "service.batch", "service.review", "service.pages",
                    "service.settings", "service.web"},
    "workers": {"service", "service.core", "service.store", "service.media", "service.fix",
                "service.submissions", "service.batch", "service.review", "service.settings"},
}
CORE_THIRD_PARTY = {"pydantic", "yaml"}
MAX_LINES = 400


def modules() -> Iterator[tuple[str, Path]]:
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


MODULES = dict(modules())


def imports_of(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, at the top or inside a function, resolved to a module
    of ours where it is one (``from service.core import units`` → ``service.core.units``)."""
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                found.add(sub if sub in MODULES else mod)
    return found


GRAPH = {name: {m for m in imports_of(name, path) if m in MODULES or m.split(".")[0] in PACKAGES}
         for name, path in MODULES.items()}


def package_of(module: str) -> str:
    """The layer a module belongs to: service.<package> (or service.settings), or workers."""
    parts = module.split(".")
    if parts[0] == "workers":
        return "workers"
    return ".".join(parts[:2]) if len(parts) > 1 else "service"


def test_no_import_cycles() -> None:
    # Tarjan's strongly connected components over our modules
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in MODULES:
                continue
            if w not in index:
                visit(w)
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
                cycles.append(sorted(comp))

    for v in MODULES:
        if v not in index:
            visit(v)
    assert cycles == []


def test_packages_import_only_lower_ones() -> None:
    wrong = []
    for name, deps in GRAPH.items():
        mine = package_of(name)
        for dep in deps:
            theirs = package_of(dep)
            if dep == "service":
                continue  # the root package: the version, imports nothing
            if theirs != mine and theirs not in ALLOWED.get(mine, set()):
                wrong.append(f"{name} -> {dep}")
    assert sorted(wrong) == []


def test_every_package_has_a_layer() -> None:
    assert {package_of(m) for m in MODULES} - {"service"} <= set(ALLOWED)


def test_core_imports_only_stdlib_pydantic_and_yaml() -> None:
    wrong = []
    for name, path in MODULES.items():
        if package_of(name) != "service.core":
            continue
        for dep in imports_of(name, path):
            top = dep.split(".")[0]
            if top in PACKAGES:
                continue  # checked by the layer test
            if top not in sys.stdlib_module_names and top not in CORE_THIRD_PARTY and top != "__future__":
                wrong.append(f"{name} -> {dep}")
    assert wrong == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size(name: str) -> None:
    lines = MODULES[name].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_routes_import_neither_the_app_nor_another_route() -> None:
    """What routes share is in service/web/deps.py (or a lower package), never in app.py or a route."""
    routes = {m for m in MODULES if m.startswith("service.web.routes.")}
    wrong = [f"{name} -> {dep}" for name in sorted(routes) for dep in sorted(GRAPH[name])
             if dep == "service.web.app" or (dep in routes and dep != name)]
    assert wrong == []
