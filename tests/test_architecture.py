"""The house rules of style.md, held by a test: rooms of their own, one direction of dependency.

The import graph is read from the code (`ast`, every import wherever it stands, including those
under `TYPE_CHECKING`): a module depends on each module it imports, and on the package modules
on the way to it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("service", "workflows", "schemas")
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
# service/<room>: shared plumbing (kit), the tables (models), and the composition root, which
# knows every feature. Every other folder is a feature.
NOT_FEATURES = {"kit", "models"}
ROOT_MODULES = {"service.app", "service.cli", "service.bootstrap", "service.jobs"}


def _imports(path: Path) -> set[str]:
    """Top-level names of what `path` imports (for the rules on third-party packages)."""
    return {name.split(".")[0] for name in _imported(path)}


def _imported(path: Path) -> set[str]:
    """Dotted names `path` imports; `from a.b import c` counts as a.b.c when c is a module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if _is_module(f"{node.module}.{alias.name}")
            )
    return names


def _is_module(dotted: str) -> bool:
    path = ROOT / Path(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def graph() -> dict[str, frozenset[str]]:
    """Our modules and the modules of ours that each one imports."""
    modules = {
        _module_of(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }
    return {
        name: frozenset(dep for dep in _imported(path) if dep in modules and dep != name)
        for name, path in modules.items()
    }


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "service" or len(parts) < 3 or parts[1] in NOT_FEATURES:
        return None
    return parts[1]


def _cycles(edges: dict[str, frozenset[str]]) -> Iterator[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> Iterator[list[str]]:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in edges.get(node, ()):
            if dep not in index:
                yield from visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                yield sorted(component)

    for node in sorted(edges):
        if node not in index:
            yield from visit(node)


def test_the_graph_is_read_from_the_code() -> None:
    edges = graph()
    assert "service.cases.transition_core" in edges["service.cases.firing"]
    assert "service.cases.transition_core" in edges["service.approvals.service"]
    assert "workflows.engine" in edges["workflows.registry"]


def test_no_module_imports_itself_back_through_others() -> None:
    assert list(_cycles(dict(graph()))) == []


def test_features_depend_on_each_other_one_way() -> None:
    """Between rooms too: if approvals uses cases, nothing in cases uses approvals."""
    features: dict[str, set[str]] = {}
    for module, deps in graph().items():
        if (room := feature_of(module)) is not None:
            features.setdefault(room, set()).update(
                other for dep in deps if (other := feature_of(dep)) not in (None, room)
            )
    assert list(_cycles({k: frozenset(v) for k, v in features.items()})) == []


def test_a_cycle_would_be_found() -> None:
    edges = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert list(_cycles(edges)) == [["a", "b", "c"]]


def test_no_feature_reads_another_features_repository() -> None:
    """A feature may use another feature's use cases, never its queries or tables' queries."""
    offenders = sorted(
        f"{module} -> {dep}"
        for module, deps in graph().items()
        for dep in deps
        if dep.endswith(".repository")
        and feature_of(module) is not None
        and feature_of(dep) != feature_of(module)
    )
    assert offenders == []


def test_routers_call_use_cases_not_repositories() -> None:
    offenders = sorted(
        f"{module} -> {dep}"
        for module, deps in graph().items()
        if module.endswith(".api")
        for dep in deps
        if dep.endswith(".repository")
    )
    assert offenders == []


def test_kit_and_models_know_no_feature_and_no_composition_root() -> None:
    offenders = sorted(
        f"{module} -> {dep}"
        for module, deps in graph().items()
        if module.startswith(("service.kit", "service.models"))
        for dep in deps
        if feature_of(dep) is not None or dep in ROOT_MODULES
    )
    assert offenders == []


def test_features_do_not_import_the_composition_root() -> None:
    """app, cli, bootstrap and jobs assemble the features; a feature never reaches up to them
    (the feature CLIs' command context is the exception: a command must bootstrap)."""
    allowed = {
        ("service.audit.cli", "service.bootstrap"),
        ("service.arrivals.cli", "service.bootstrap"),
    }
    offenders = sorted(
        f"{module} -> {dep}"
        for module, deps in graph().items()
        if feature_of(module) is not None
        for dep in deps
        if dep in ROOT_MODULES and (module, dep) not in allowed
    )
    assert offenders == []


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


def test_no_two_modules_share_a_name_with_the_state_machine_library() -> None:
    """`transitions` is the library; no module of ours may shadow it."""
    assert not [name for name in graph() if name.split(".")[-1] == "transitions"]
