"""Engines and the unit of work: a request (or CLI command) commits once, here, or not at all."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from psycopg import IsolationLevel, errors
from psycopg import _queries as psycopg_queries
from sqlalchemy import Connection, Engine, NullPool, create_engine, event, literal
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from service.kit.errors import Conflict, DatabaseBusy, VersionConflict

SQLITE_BUSY_TIMEOUT_MS = 10_000
# An execution option: the transaction only reads, from one snapshot (see Database.snapshot).
SNAPSHOT = "nrm_snapshot"
_HOLDS_WRITER = "nrm_holds_writer"  # a pooled SQLite connection holds the process's write lock


@dataclass(frozen=True)
class DatabaseLimits:
    """How long anything may wait on the database (the settings' `pool_*` and `db_*`).

    Every wait is bounded: for a pooled connection (`pool_timeout`), for a new connection
    (`connect_timeout`), for a statement and for a lock (PostgreSQL's `statement_timeout`,
    `lock_timeout`, set per connection); TCP keepalives notice a peer that went away.
    A zero statement or lock timeout means no limit (migrations run without one).
    """

    pool_size: int = 10
    pool_max_overflow: int = 5
    pool_timeout_seconds: float = 3.0
    connect_timeout_seconds: int = 5
    statement_timeout_seconds: float = 30.0
    lock_timeout_seconds: float = 5.0
    keepalives_idle_seconds: int = 30
    keepalives_interval_seconds: int = 10
    keepalives_count: int = 3
    ready_timeout_seconds: float = 2.0

    def libpq_options(self, *, statement_timeout_seconds: float | None = None) -> dict[str, Any]:
        """psycopg's connect arguments: libpq's timeouts and keepalives, and the session's
        statement and lock timeouts (sent in the start-up packet: no extra round trip)."""
        statement = (
            self.statement_timeout_seconds
            if statement_timeout_seconds is None
            else statement_timeout_seconds
        )
        options = [
            f"-c statement_timeout={int(statement * 1000)}",
            f"-c lock_timeout={int(self.lock_timeout_seconds * 1000)}",
        ]
        return {
            "connect_timeout": self.connect_timeout_seconds,
            "keepalives": 1,
            "keepalives_idle": self.keepalives_idle_seconds,
            "keepalives_interval": self.keepalives_interval_seconds,
            "keepalives_count": self.keepalives_count,
            "options": " ".join(options),
        }


UNBOUNDED_STATEMENTS = DatabaseLimits(statement_timeout_seconds=0, lock_timeout_seconds=0)


def create_db_engine(
    url: str, limits: DatabaseLimits | None = None, *, echo: bool = False
) -> Engine:
    """An engine that behaves the same on SQLite and PostgreSQL where it matters.

    SQLite: WAL, foreign keys on, and every transaction begins IMMEDIATE, so that a read
    followed by a write never fails half-way with SQLITE_BUSY and the compare-and-set on a
    case row means the same as PostgreSQL's row lock.
    """
    limits = limits or DatabaseLimits()
    parsed = make_url(url)
    pool: dict[str, Any] = {
        "pool_size": limits.pool_size,
        "max_overflow": limits.pool_max_overflow,
        "pool_timeout": limits.pool_timeout_seconds,
    }
    if parsed.get_backend_name() == "sqlite":
        _owner_only(parsed.database)
        in_memory = parsed.database in (None, "", ":memory:")
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False},
            **({} if in_memory else pool),
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url,
        echo=echo,
        pool_pre_ping=True,
        connect_args=limits.libpq_options(),
        insertmanyvalues_page_size=INSERT_PAGE_ROWS,
        **pool,
    )
    _configure_postgres(engine)
    return engine


def _owner_only(database: str | None) -> None:
    """The SQLite file readable and writable by its owner only (0600), created so before SQLite
    opens it: SQLite gives the -wal and -shm files it creates the database file's mode. Files
    left by an earlier, laxer run are narrowed too."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            file.chmod(0o600)


def is_busy(exc: BaseException) -> bool:
    """The database answered but could not do it in time: a lock or statement timeout on
    PostgreSQL, SQLite's busy timeout. Trying again later may succeed."""
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    if isinstance(orig, errors.LockNotAvailable | errors.QueryCanceled):
        return True
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


def _configure_sqlite(engine: Engine) -> None:
    """Besides the pragmas: this process's write transactions take the file's write lock one
    after another, through a lock of the process taken just before BEGIN IMMEDIATE and given
    back when the connection returns to the pool (after its COMMIT or ROLLBACK), instead of
    polling for it in SQLite's busy handler, which sleeps and serves nobody in order. The
    requests' writes come to it in the order of their turns (`kit/capacity.py`); the periodic
    jobs' take it too. It is waited for as long as SQLite would wait (the busy timeout)."""
    writer = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        snapshot = bool(connection.get_execution_options().get(SNAPSHOT))
        # a snapshot refuses writes, as PostgreSQL's READ ONLY does, instead of losing them
        connection.exec_driver_sql(f"PRAGMA query_only={int(snapshot)}")
        if snapshot:
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        if not connection.info.get(_HOLDS_WRITER):  # held until the connection is returned
            if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise DatabaseBusy()
            connection.info[_HOLDS_WRITER] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    @event.listens_for(engine, "invalidate")
    def _on_release(_dbapi_connection: Any, record: Any, *_args: Any) -> None:
        if record.info.pop(_HOLDS_WRITER, False):
            writer.release()


# psycopg parses a statement's placeholders once and keeps the result, but only for a statement
# of at most 4,096 bytes and 50 parameters. The case load (every read and transition of a case)
# is 4.4 kB with 73 parameters (the visibility predicate's constants, bound), so psycopg parsed
# it again on every request: 6 % of a transition's CPU (bench/RESULTS.md, issue 17). A batch
# of rows inserted together by the ORM (the SLA sweep's events and outbox rows) is one statement
# of many rows' placeholders: pages of INSERT_PAGE_ROWS rows (SQLAlchemy's default is 1,000)
# are the same text from page to page, and within the limits below are parsed once (a page of
# 100 events is about 40 kB with 1,600 parameters; parsing 500-row batches again and again was a
# fifth of the sweep's CPU). Our statements are a fixed set built once; the cache stays an LRU of
# psycopg's size (128 statements).
PARSED_STATEMENT_BYTES = 65_536
PARSED_STATEMENT_PARAMS = 2_048
INSERT_PAGE_ROWS = 100


def _keep_long_statements_parsed() -> None:
    queries = psycopg_queries
    queries.MAX_CACHED_STATEMENT_LENGTH = max(
        queries.MAX_CACHED_STATEMENT_LENGTH, PARSED_STATEMENT_BYTES
    )
    queries.MAX_CACHED_STATEMENT_PARAMS = max(
        queries.MAX_CACHED_STATEMENT_PARAMS, PARSED_STATEMENT_PARAMS
    )


def _configure_postgres(engine: Engine) -> None:
    _keep_long_statements_parsed()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        """psycopg opens the transaction with the connection's settings in its BEGIN, so a
        snapshot costs no extra round trip (a SET TRANSACTION after BEGIN did: ~1 ms a read)."""
        snapshot = bool(connection.get_execution_options().get(SNAPSHOT))
        raw = connection.connection.dbapi_connection
        raw.read_only = snapshot or None
        raw.isolation_level = IsolationLevel.REPEATABLE_READ if snapshot else None


class Database:
    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session] | None = None,
        limits: DatabaseLimits | None = None,
    ) -> None:
        self.engine = engine
        self.sessions = sessions or sessionmaker(engine, class_=Session, expire_on_commit=False)
        self.limits = limits or DatabaseLimits()

    @property
    def one_writer(self) -> bool:
        """SQLite writes one transaction at a time (the whole file is the lock)."""
        return self.engine.dialect.name == "sqlite"

    @cached_property
    def _probe_engine(self) -> Engine:
        """Connections of their own, outside the pool, each opened and closed: a probe answers
        whether the database does even when every pooled connection is busy."""
        ready = self.limits.ready_timeout_seconds
        if self.engine.dialect.name == "sqlite":
            args: dict[str, Any] = {"timeout": ready, "check_same_thread": False}
        else:
            bounded = DatabaseLimits(connect_timeout_seconds=max(2, round(ready)))
            args = bounded.libpq_options(statement_timeout_seconds=ready)
        return create_engine(self.engine.url, poolclass=NullPool, connect_args=args)

    @contextmanager
    def probe(self) -> Iterator[Connection]:
        """One connection of its own (see `_probe_engine`), closed after."""
        with self._probe_engine.connect() as connection:
            yield connection

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit when the block ends, roll back if it raises.

        A concurrent writer that got there first is a conflict (409), wherever it surfaces:
        a compare-and-set that matched no row, or a unique key taken meanwhile.
        """
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except (StaleDataError, IntegrityError) as exc:
                session.rollback()
                raise _conflict(exc) from exc
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A unit of work that only reads, all of it from one consistent snapshot; never commits.

        For long reads (verifying, exporting the log) that must see events and case rows as of
        one instant while writers carry on: PostgreSQL REPEATABLE READ READ ONLY; SQLite a
        deferred transaction, which in WAL mode reads one snapshot without blocking writers.
        """
        with self.sessions() as session:
            session.connection(execution_options={SNAPSHOT: True})
            try:
                yield session
            finally:
                session.rollback()


def flush_or_conflict(session: Session) -> None:
    """Flush now, where what follows depends on the write (the compare-and-set on a case row,
    a one-pending-request index): a concurrent change becomes the same 409 as at commit."""
    try:
        session.flush()
    except (StaleDataError, IntegrityError) as exc:
        raise _conflict(exc) from exc


def _conflict(exc: StaleDataError | IntegrityError) -> Conflict:
    if isinstance(exc, StaleDataError):
        return VersionConflict("the case changed while this was being done; read it again")
    return Conflict("a concurrent request changed the same record first; read it again")


def insert_if_absent(session: Session, table: Any, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING: whether this transaction inserted the row.

    On PostgreSQL a conflicting row that another transaction has inserted but not yet committed
    makes this wait for that transaction, then report the conflict: so of concurrent callers,
    exactly one inserts and the others see its committed row afterwards.
    """
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**values).on_conflict_do_nothing().returning(literal(1))
    return session.execute(statement).first() is not None
