"""The two units of work: a transaction that writes, and a snapshot that only reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from psycopg import _queries as psycopg_queries
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.kit.context import AppContext
from tests.factories import Actors, fire, register

POLICE_REPORT = {"report_number": "LP/1/2026", "filed_on": "2026-01-02"}


def test_a_snapshot_refuses_writes_and_the_next_transaction_writes_again(
    committed_context: Callable[..., AppContext],
) -> None:
    """A stray write in a read-only unit of work fails loudly (it would otherwise be rolled
    back without a word), and the connection it ran on goes back to writing."""
    database = committed_context().database
    with pytest.raises(DBAPIError), database.snapshot() as session:
        session.execute(text("UPDATE unit SET name = name"))
    for _ in range(3):  # the pool hands the same connection out again
        with database.transaction() as session:
            session.execute(text("UPDATE unit SET name = name"))
            assert session.execute(text("SELECT count(*) FROM unit")).scalar_one() > 0


def test_on_postgresql_a_snapshot_is_repeatable_read_and_a_transaction_read_committed(
    committed_context: Callable[..., AppContext],
) -> None:
    database = committed_context().database
    if database.engine.dialect.name != "postgresql":
        pytest.skip(
            "isolation levels are PostgreSQL's; SQLite's deferred transaction is one snapshot"
        )
    for _ in range(2):
        with database.snapshot() as session:
            level = session.execute(text("SHOW transaction_isolation")).scalar_one()
            read_only = session.execute(text("SHOW transaction_read_only")).scalar_one()
            assert (level, read_only) == ("repeatable read", "on")
        with database.transaction() as session:
            level = session.execute(text("SHOW transaction_isolation")).scalar_one()
            read_only = session.execute(text("SHOW transaction_read_only")).scalar_one()
            assert (level, read_only) == ("read committed", "off")


def test_on_postgresql_the_case_load_is_parsed_once_not_on_every_request(
    actors: Actors, client: TestClient, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg keeps a statement's parsed placeholders only up to a length; the case load
    (with its visibility predicate, over 4 kB) must stay under the one the engine sets, or it is
    parsed again on every read and transition (6 % of a transition's CPU)."""
    if context.database.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's statement parsing is PostgreSQL's driver; SQLite has none")
    parsed_again: list[int] = []
    uncached = psycopg_queries._query2pg_nocache

    def counting(query: bytes, encoding: str) -> Any:
        if b"FROM case_file" in query:
            parsed_again.append(len(query))
        return uncached(query, encoding)

    monkeypatch.setattr(psycopg_queries, "_query2pg_nocache", counting)
    case = register(client, actors.worker("KEMLU"))
    police = actors.worker("POLRI")  # a supporting ministry: the longest predicate
    for _ in range(3):
        moved = fire(client, police, case, "record_police_report", POLICE_REPORT)
        assert moved.status_code == 200, moved.text
        case = moved.json()
    assert parsed_again == []
