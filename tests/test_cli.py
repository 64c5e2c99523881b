"""The `nrm` command line of the contract, run as a user runs it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from service.cli import app
from service.kit.config import generate_keys
from tests.conftest import PG_URL, fresh_database

NRM = [sys.executable, "-m", "service.cli"]
runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A fresh database; keys in the environment except on SQLite, which makes its own."""
    with fresh_database(tmp_path) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NRM_")}
        env["NRM_DATABASE_URL"] = url
        if PG_URL is not None:
            env.update({f"NRM_{k.upper()}": v for k, v in generate_keys().items()})
        yield env


def nrm(
    env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """In a real process, as a user runs it: real stdin, real environment, real exit code."""
    return subprocess.run(
        [*NRM, *args], input=stdin, env=env, capture_output=True, text=True, cwd=cwd, timeout=120
    )


def nrm_here(env: dict[str, str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    """In this process (faster), with the environment replaced for the call."""
    cleared: dict[str, str | None] = {k: None for k in os.environ if k.startswith("NRM_")}
    result = runner.invoke(app, list(args), input=stdin, env={**cleared, **env})
    return result.exit_code, result.stdout, result.stderr


def test_users_add_reads_the_password_from_stdin_and_stores_only_a_hash(
    cli_env: dict[str, str],
) -> None:
    assert nrm(cli_env, "db", "upgrade").returncode == 0
    secret = "a password from stdin"
    args = ["users", "add", "rina.kemensos", "--role", "case_worker", "--ministry", "KEMENSOS"]
    done = nrm(cli_env, *args, "--password-stdin", stdin=secret + "\n")
    assert done.returncode == 0, done.stderr
    assert "created rina.kemensos (case_worker, KEMENSOS)" in done.stdout
    engine = create_engine(cli_env["NRM_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT password_hash FROM user_account")).scalar_one()
    finally:
        engine.dispose()
    assert stored.startswith("$argon2id$") and secret not in stored


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["--role", "case_worker", "--password-stdin"],
            "long enough password",
            "a case_worker belongs to exactly one ministry",
        ),
        (["--role", "wizard", "--password-stdin"], "long enough password", "role"),
        (["--role", "auditor", "--password-stdin"], "short", "password"),
        (["--role", "auditor"], "long enough password", "--password-stdin"),
    ],
)
def test_users_add_refuses_bad_input_with_a_clear_message(
    cli_env: dict[str, str], args: list[str], stdin: str, message: str
) -> None:
    nrm_here(cli_env, "db", "upgrade")
    code, _out, err = nrm_here(cli_env, "users", "add", "someone", *args, stdin=stdin)
    assert code == 2
    assert message in err


def test_demo_loads_once_and_says_how_to_log_in(cli_env: dict[str, str]) -> None:
    nrm_here(cli_env, "db", "upgrade")
    code, out, err = nrm_here(cli_env, "demo")
    assert code == 0, err
    assert "demo data loaded" in out and "kemensos.worker" in out
    code, out, _err = nrm_here(cli_env, "demo")
    assert code == 0 and "already loaded" in out


def test_the_service_refuses_to_start_without_a_secret_key_off_sqlite(
    cli_env: dict[str, str],
) -> None:
    env = {k: v for k, v in cli_env.items() if not k.startswith("NRM_")}
    env["NRM_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    code, _out, err = nrm_here(env, "serve")
    assert code == 2
    assert "NRM_SECRET_KEY" in err


def test_the_service_refuses_a_weak_secret_key(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "NRM_SECRET_KEY": "changeme"}
    code, _out, err = nrm_here(env, "serve")
    assert code == 2 and "NRM_SECRET_KEY" in err


@pytest.mark.slow
def test_sqlite_default_generates_keys_once_beside_the_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NRM_")}
    assert nrm(env, "db", "upgrade", cwd=tmp_path).returncode == 0
    assert nrm(env, "demo", cwd=tmp_path).returncode == 0
    keys = tmp_path / "nrm.db.keys.json"
    assert (tmp_path / "nrm.db").exists() and keys.exists()
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    before = keys.read_text()
    assert nrm(env, "demo", cwd=tmp_path).returncode == 0
    assert keys.read_text() == before


def test_nrm_sla_sweep_runs_once_and_reports(cli_env: dict[str, str]) -> None:
    code, _out, err = nrm_here(cli_env, "sla", "sweep")
    assert code == 2 and "nrm db upgrade" in err  # no schema yet: it says what to do
    nrm_here(cli_env, "db", "upgrade")
    code, out, err = nrm_here(cli_env, "sla", "sweep", "--batch-size", "50")
    assert code == 0, err
    assert "SLA sweep: 0 cases" in out


def test_cases_erase_is_an_event_refused_twice_and_the_trail_still_verifies(
    cli_env: dict[str, str],
) -> None:
    assert nrm_here(cli_env, "db", "upgrade")[0] == 0
    assert nrm_here(cli_env, "demo")[0] == 0
    engine = create_engine(cli_env["NRM_DATABASE_URL"])
    with engine.connect() as connection:
        closed = connection.execute(
            text("SELECT id FROM case_file WHERE closed_at IS NOT NULL")
        ).first()
    engine.dispose()
    assert closed is not None
    case_id = str(uuid.UUID(str(closed[0])))
    code, out, err = nrm_here(cli_env, "cases", "erase", case_id, "--reason", "request 17")
    assert code == 0 and "erased NRM-" in out + err, out + err
    code, out, err = nrm_here(cli_env, "cases", "erase", case_id, "--reason", "again")
    assert code == 1 and "was erased on" in out + err
    code, out, err = nrm_here(cli_env, "retention", "run")
    assert code == 0 and "erased 0 case(s)" in out + err
    assert nrm_here(cli_env, "audit", "verify")[0] == 0
