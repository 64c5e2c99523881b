"""The database itself refuses to change history: UPDATE and DELETE on the log tables fail."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from migrations import append_only
from service.kit.context import AppContext
from tests.auditlog import Log, build_log
from tests.factories import Actors


@pytest.fixture
def log(client: TestClient, actors: Actors, context: AppContext) -> Log:
    return build_log(client, actors, context)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_event SET note = 'rewritten'",
        "UPDATE case_event SET seq = seq + 1000",
        "DELETE FROM case_event",
        "DELETE FROM case_event WHERE kind = 'transition'",
        "UPDATE audit_checkpoint SET root = prev_hash",
        "DELETE FROM audit_checkpoint",
    ],
)
def test_the_log_tables_refuse_update_and_delete(
    log: Log, connection: Connection, statement: str
) -> None:
    before = connection.execute(text("SELECT count(*) FROM case_event")).scalar_one()
    with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
        connection.execute(text(statement))
    assert connection.execute(text("SELECT count(*) FROM case_event")).scalar_one() == before


def test_truncate_is_refused_on_postgresql(log: Log, connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    for table in ("case_event", "audit_checkpoint"):
        with pytest.raises(DBAPIError, match="append-only"), connection.begin_nested():
            connection.execute(text(f"TRUNCATE {table} CASCADE"))


def test_appending_is_still_allowed(log: Log, connection: Connection) -> None:
    """(the log grows through the API in `log`: 9 events, 2 checkpoints)"""
    assert connection.execute(text("SELECT count(*) FROM audit_checkpoint")).scalar_one() == 2


@pytest.mark.parametrize("table", ["case_event; DROP TABLE x", "Case_Event", "évent", ""])
def test_the_helper_takes_plain_table_names_only(table: str) -> None:
    with pytest.raises(ValueError):
        append_only.statements("sqlite", table)


def test_the_helper_names_what_it_cannot_do() -> None:
    with pytest.raises(NotImplementedError):
        append_only.statements("mysql", "case_event")
