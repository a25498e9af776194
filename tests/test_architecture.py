"""The import graph: arrows point inwards (STYLE.md), and the domain has no cycles.

``core`` imports no other package of ours and none of aiohttp, telegram or SQLAlchemy;
``storage`` imports ``core``; ``reports`` reads through ``storage``; ``services`` (the
operations) uses ``core``, ``storage`` and ``reports``; the adapters ``intake`` and ``bot``
call ``services`` and ``reports`` and import nothing of ``storage`` but the database handle
(``storage.db``), and never SQLAlchemy; only ``app`` knows everything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = ("core", "storage", "reports", "services", "intake", "bot", "app")
#: What each package may import of ours (besides itself).
MAY_IMPORT = {
    "core": set(),
    "storage": {"core"},
    "reports": {"core", "storage"},
    "services": {"core", "storage", "reports"},
    "intake": {"core", "services", "reports", "storage.db"},
    "bot": {"core", "services", "storage.db"},
    "app": set(OURS),
}
FRAMEWORKS = {
    "core": ("aiohttp", "telegram", "sqlalchemy"),
    "intake": ("sqlalchemy",),
    "bot": ("sqlalchemy", "aiohttp_jinja2"),
    "reports": ("aiohttp", "telegram"),
    "services": ("aiohttp", "telegram"),
}


def imports_of(path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``path`` imports (absolute names), with the line it does so on."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield from ((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)


def allowed(target: str, permitted: set[str]) -> bool:
    """True when the imported name ``target`` lies inside one of ``permitted``."""
    return any(target == p or target.startswith(p + ".") for p in permitted)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


@pytest.mark.parametrize("package", OURS)
def test_each_package_imports_only_what_lies_further_in(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for target, line in imports_of(path):
            top = target.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} imports {target}"
            if top in OURS and top != package and not allowed(target, MAY_IMPORT[package]):
                wrong.append(where)
            if top in FRAMEWORKS.get(package, ()):
                wrong.append(where)
    assert wrong == []


def test_the_domain_has_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / "core").rglob("*.py")):
        targets = {t for t, _line in imports_of(path) if t.startswith("core.")}
        modules = {".".join(t.split(".")[:2]) for t in targets}
        graph[module_name(path)] = modules - {module_name(path)}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        if node in trail:
            cycles.append(trail[trail.index(node) :] + [node])
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*trail, node])

    for start in sorted(graph):
        visit(start, [])
    assert cycles == []


def test_the_checks_above_see_a_wrong_arrow() -> None:
    """The scan finds an import that breaks the rules (so the tests above can fail)."""
    assert ("storage.models.Referral", 1) in list(_imports("from storage.models import Referral"))
    assert not allowed("storage.models.Referral", MAY_IMPORT["intake"])
    assert allowed("storage.db.Database", MAY_IMPORT["intake"])


def _imports(source: str) -> Iterator[tuple[str, int]]:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield from ((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)
