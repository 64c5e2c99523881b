"""The house rules of style.md, held by a test: one direction of dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "workflows": {
        "fastapi",
        "starlette",
        "sqlalchemy",
        "sqlmodel",
        "service",
        "schemas",
        "alembic",
    },
    "schemas": {"fastapi", "starlette", "sqlalchemy", "sqlmodel", "service", "alembic"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_pure_packages_import_no_web_framework_no_orm_and_no_service(package: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_no_use_case_or_router_commits() -> None:
    """One request commits once, in service/kit/db.py; everything else flushes."""
    committing = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "service").rglob("*.py")
        if path.name != "db.py" and ".commit()" in path.read_text()
    ]
    assert committing == []
