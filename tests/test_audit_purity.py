"""The offline verifier shares its code with the online one and needs no database to run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_architecture import ROOT, _imports

INTEGRITY = ROOT / "service" / "audit" / "integrity"
PURE = sorted(path.stem for path in INTEGRITY.glob("*.py") if path.stem != "__init__")
DATABASE_OR_WEB = {"sqlalchemy", "sqlmodel", "fastapi", "starlette", "alembic", "psycopg"}
MAY_IMPORT = {f"service.audit.integrity.{m}" for m in PURE} | {"service.kit.canonical_json"}


def test_the_integrity_package_holds_the_whole_verifier() -> None:
    assert set(PURE) >= {"chain", "merkle", "signing", "verifier", "export_format", "proofs"}


@pytest.mark.parametrize("module", PURE)
def test_the_verifier_modules_import_no_database_and_no_web_framework(module: str) -> None:
    path = INTEGRITY / f"{module}.py"
    assert _imports(path) & DATABASE_OR_WEB == set()
    own = {line.split()[1] for line in path.read_text().splitlines()
           if line.startswith("from service.")}  # fmt: skip
    assert own <= MAY_IMPORT


def test_checking_an_export_loads_no_database_driver(tmp_path: Path) -> None:
    probe = (
        "import io, sys\n"
        "from service.audit.integrity.export_format import verify_export\n"
        "verify_export(io.BytesIO(b''), {})\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & {'sqlalchemy', 'sqlmodel', 'psycopg', 'sqlite3', 'fastapi'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
