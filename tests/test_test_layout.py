"""The test tree's own layout: helpers live in ``tests/common/``, test modules stand alone.

No module of the tests (a test module, a ``conftest.py``, a helper) imports a test module
(``tests/**/test_*.py``): what tests share is imported from ``tests/common/…``, and shared
fixtures come from a ``conftest.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def imported_modules(source: str) -> Iterator[tuple[str, int]]:
    """Every module the source imports, and each name imported from one as a possible module."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, node.lineno
            yield from ((f"{node.module}.{alias.name}", node.lineno) for alias in node.names)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imports_of_test_modules(paths: list[Path], source_of=Path.read_text) -> list[str]:  # type: ignore[no-untyped-def]
    """``path:line imports module`` for each import of a test module by another module."""
    names = {module_name(path) for path in paths if path.name.startswith("test_")}
    found = []
    for path in paths:
        for target, line in imported_modules(source_of(path)):
            if target in names and target != module_name(path):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return found


def test_no_test_module_imports_another() -> None:
    assert imports_of_test_modules(sorted(TESTS.rglob("*.py"))) == []


def test_the_check_above_sees_one_test_module_importing_another() -> None:
    """The scan finds such an import (so the test above can fail)."""
    paths = [TESTS / "services" / "test_surveys.py", TESTS / "storage" / "test_surveys.py"]
    sources = {paths[0]: "from tests.storage.test_surveys import started\n", paths[1]: ""}

    found = imports_of_test_modules(paths, source_of=sources.__getitem__)

    assert found == ["tests/services/test_surveys.py:1 imports tests.storage.test_surveys"]
