"""The offline verifier shares its code with the online one and needs no database to run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_architecture import ROOT, _imports

PURE = ["chain", "merkle", "seal", "verifier", "auditfile", "proofs"]
DATABASE_OR_WEB = {"sqlalchemy", "sqlmodel", "fastapi", "starlette", "alembic", "psycopg"}


@pytest.mark.parametrize("module", PURE)
def test_the_verifier_modules_import_no_database_and_no_web_framework(module: str) -> None:
    path = ROOT / "service" / f"{module}.py"
    assert _imports(path) & DATABASE_OR_WEB == set()
    own = {line.split()[1] for line in path.read_text().splitlines()
           if line.startswith("from service.")}  # fmt: skip
    assert own <= {f"service.{m}" for m in PURE}


def test_checking_an_export_loads_no_database_driver(tmp_path: Path) -> None:
    probe = (
        "import io, sys\n"
        "from service.auditfile import verify_export\n"
        "verify_export(io.BytesIO(b''), {})\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & {'sqlalchemy', 'sqlmodel', 'psycopg', 'sqlite3', 'fastapi'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
