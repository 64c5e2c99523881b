"""The two units of work: a transaction that writes, and a snapshot that only reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.kit.context import AppContext


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
