"""compose.yaml's database, without Docker: its role script, the migrations run as the owner,
and the API's login role, which may write the log but never change or remove it.

PostgreSQL only. The roles and the database are throwaway copies of compose's, made with the
script taken from compose.yaml itself and run through psql as the image's entrypoint runs it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from migrations import append_only
from service.app import create_app
from service.bootstrap import bootstrap
from service.kit import migrate
from service.kit.db import Database, create_db_engine
from tests.conftest import PG_URL, make_settings
from tests.factories import Actors, fire, register

pytestmark = pytest.mark.skipif(
    PG_URL is None or shutil.which("psql") is None, reason="needs PostgreSQL and psql"
)
COMPOSE = Path(__file__).resolve().parent.parent / "compose.yaml"
REFUSED = ("permission denied", "must be owner", "append-only")


@dataclass
class Stack:
    owner_url: str
    app_url: str
    app_role: str


def _psql(script: str, env: dict[str, str]) -> None:
    assert PG_URL is not None
    admin = make_url(PG_URL)
    done = subprocess.run(
        ["psql", "-h", admin.host or "127.0.0.1", "-p", str(admin.port or 5432),
         "-U", admin.username or "root", "-d", admin.database or "postgres",
         "-v", "ON_ERROR_STOP=1", "--no-psqlrc", "-q"],
        input=script, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """compose's `db` (roles script) and `migrate` (as the owner, with NRM_DB_APP_ROLE set)."""
    assert PG_URL is not None
    suffix = secrets.token_hex(4)
    names = {
        "NRM_DB_NAME": f"nrm_roles_{suffix}",
        "NRM_DB_OWNER_ROLE": f"nrm_owner_{suffix}",
        "NRM_DB_APP_ROLE": f"nrm_app_{suffix}",
        "NRM_DB_OWNER_PASSWORD": secrets.token_hex(12),
        "NRM_DB_APP_PASSWORD": secrets.token_hex(12),
    }
    compose = yaml.safe_load(COMPOSE.read_text())
    _psql(compose["configs"]["create-roles"]["content"], names)
    base = make_url(PG_URL).set(database=names["NRM_DB_NAME"])

    def url(role: str) -> str:
        return base.set(username=role, password=None).render_as_string(hide_password=False)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("NRM_DB_APP_ROLE", names["NRM_DB_APP_ROLE"])
            migrate.upgrade(url(names["NRM_DB_OWNER_ROLE"]))
        yield Stack(url(names["NRM_DB_OWNER_ROLE"]), url(names["NRM_DB_APP_ROLE"]),
                    names["NRM_DB_APP_ROLE"])  # fmt: skip
    finally:
        _psql(
            f'DROP DATABASE IF EXISTS "{names["NRM_DB_NAME"]}" WITH (FORCE);'
            f'DROP ROLE IF EXISTS "{names["NRM_DB_APP_ROLE"]}";'
            f'DROP ROLE IF EXISTS "{names["NRM_DB_OWNER_ROLE"]}";',
            {},
        )


@pytest.fixture
def app_engine(stack: Stack) -> Iterator[Engine]:
    engine = create_engine(stack.app_url)
    yield engine
    engine.dispose()


def refused(engine: Engine, statement: str) -> str:
    """The error that `statement` meets, run as that engine's role (nothing is committed)."""
    with engine.connect() as connection:
        try:
            connection.execute(text(statement))
        except DBAPIError as exc:
            return str(exc.orig)
        finally:
            connection.rollback()
    raise AssertionError(f"{statement!r} was allowed")


def test_the_api_role_runs_the_whole_service(stack: Stack) -> None:
    """Publish workflows, add users, register, transition, seal, verify, export: as nrm_app."""
    database = Database(create_db_engine(stack.app_url))
    try:
        context = bootstrap(make_settings(stack.app_url), database)
        with TestClient(create_app(context), raise_server_exceptions=False) as client:
            actors = Actors(client, context)
            case = register(client, actors.worker("KEMLU"))
            screened = fire(client, actors.worker("KEMENPPPA"), case, "begin_screening", {})
            assert screened.status_code == 200, screened.text
            auditor = actors.auditor().headers
            sealed = client.post("/api/v1/audit/checkpoints", headers=auditor)
            assert sealed.status_code == 201, sealed.text
            assert client.get("/api/v1/audit/export", headers=auditor).status_code == 200
            verdict = client.get("/api/v1/audit/verify", headers=auditor).json()
            assert verdict["ok"] is True and verdict["events_checked"] == 3
    finally:
        database.engine.dispose()


@pytest.mark.parametrize("table", ["case_event", "audit_checkpoint"])
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {t} SET key_id = key_id",
        "DELETE FROM {t}",
        "TRUNCATE {t}",
        "ALTER TABLE {t} DISABLE TRIGGER USER",
        "DROP TABLE {t}",
    ],
)
def test_the_api_role_cannot_change_or_remove_the_log(
    app_engine: Engine, table: str, statement: str
) -> None:
    sql = statement.format(t=table)
    if table == "case_event":
        sql = sql.replace("key_id = key_id", "note = 'rewritten'")
    assert any(word in refused(app_engine, sql) for word in REFUSED)


def test_the_api_role_cannot_switch_the_triggers_off(app_engine: Engine) -> None:
    message = refused(app_engine, "SET session_replication_role = replica")
    assert "permission denied" in message


def test_the_api_role_cannot_rewrite_the_migration_history(app_engine: Engine) -> None:
    assert "permission denied" in refused(
        app_engine, "UPDATE alembic_version SET version_num = 'x'"
    )
    assert "permission denied" in refused(app_engine, "DELETE FROM alembic_version")


def test_privileges_hold_even_with_the_triggers_disabled(stack: Stack, app_engine: Engine) -> None:
    owner = create_engine(stack.owner_url)
    try:
        with owner.begin() as connection:
            connection.execute(text("ALTER TABLE case_event DISABLE TRIGGER USER"))
        try:
            for sql in ("UPDATE case_event SET note = 'rewritten'", "DELETE FROM case_event"):
                assert "permission denied" in refused(app_engine, sql)
        finally:
            with owner.begin() as connection:
                connection.execute(text("ALTER TABLE case_event ENABLE TRIGGER USER"))
    finally:
        owner.dispose()


def test_a_later_table_is_granted_by_default_and_an_append_only_one_is_revoked(
    stack: Stack, app_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a later migration gets: default privileges, and append_only.create's revoke."""
    monkeypatch.setenv("NRM_DB_APP_ROLE", stack.app_role)
    owner = create_engine(stack.owner_url)
    try:
        with owner.begin() as connection:
            for name in ("later_table", "later_log"):
                connection.execute(text(f"CREATE TABLE {name} (id serial PRIMARY KEY, note text)"))
            append_only.create(_operations(connection), "later_log")
        with app_engine.begin() as connection:
            connection.execute(text("INSERT INTO later_table (note) VALUES ('a')"))
            connection.execute(text("UPDATE later_table SET note = 'b'"))
            connection.execute(text("INSERT INTO later_log (note) VALUES ('a')"))
        for sql in ("UPDATE later_log SET note = 'b'", "DELETE FROM later_log"):
            assert "permission denied" in refused(app_engine, sql)
        assert "append-only" in refused(owner, "UPDATE later_log SET note = 'b'")
    finally:
        with owner.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS later_table, later_log"))
            connection.execute(text("DROP FUNCTION IF EXISTS later_log_append_only()"))
        owner.dispose()


def _operations(connection: Any) -> Operations:
    return Operations(MigrationContext.configure(connection))
