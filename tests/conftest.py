"""Test databases are built by the migrations; each test runs in a transaction that is rolled back.

Backend: SQLite (a temporary file) by default. With NRM_TEST_DATABASE_URL set to a PostgreSQL
server (any database the user may connect to), every test runs on PostgreSQL instead, in
databases the suite creates and drops. If that server does not answer, the suite skips with the
reason, or fails when NRM_REQUIRE_POSTGRES=1 (CI).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from bench._setup import scratch_database
from service.app import create_app
from service.bootstrap import bootstrap
from service.kit import migrate
from service.kit.config import Settings, settings_for
from service.kit.context import AppContext
from service.kit.db import Database, create_db_engine
from tests.factories import Actors, pin_workflow

PG_URL = os.environ.get("NRM_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("NRM_REQUIRE_POSTGRES") == "1"


def _check_postgres() -> None:
    if PG_URL is None:
        return
    probe = create_engine(PG_URL)
    try:
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = f"PostgreSQL at NRM_TEST_DATABASE_URL does not answer: {exc.orig}"
        if REQUIRE_PG:
            pytest.exit(reason, returncode=3)
        pytest.skip(reason, allow_module_level=True)
    finally:
        probe.dispose()


@contextmanager
def fresh_database(tmp_dir: Path) -> Iterator[str]:
    """A new, empty database URL on the test backend, dropped afterwards."""
    if PG_URL is None:
        yield f"sqlite:///{tmp_dir / f'nrm-{uuid.uuid4().hex[:8]}.db'}"
        return
    with scratch_database(PG_URL, "nrm_test") as url:
        yield url


def make_settings(url: str) -> Settings:
    return settings_for(url)


@pytest.fixture(scope="session")
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _check_postgres()
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(scope="session")
def settings(migrated_url: str) -> Settings:
    return make_settings(migrated_url)


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection per test, inside a transaction that is always rolled back."""
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture(scope="session")
def published(settings: Settings, engine: Engine) -> AppContext:
    """Workflows published once, committed, for the whole session."""
    return bootstrap(settings, Database(engine))


@pytest.fixture
def context(
    published: AppContext,
    connection: Connection,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> AppContext:
    """`@pytest.mark.workflow_version(N)`: new cases take version N, as if it were the latest
    (for tests of an earlier version's behaviour)."""
    if (marker := request.node.get_closest_marker("workflow_version")) is not None:
        pin_workflow(monkeypatch, published, marker.args[0])
    sessions = sessionmaker(
        bind=connection,
        class_=Session,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    return replace(published, database=Database(connection.engine, sessions))


@pytest.fixture
def session(context: AppContext) -> Iterator[Session]:
    with context.database.sessions() as session:
        yield session


@pytest.fixture
def client(context: AppContext) -> Iterator[TestClient]:
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def actors(client: TestClient, context: AppContext) -> Actors:
    return Actors(client, context)


@pytest.fixture
def committed_context(tmp_path: Path) -> Iterator[Callable[..., AppContext]]:
    """A context on its own real database, for tests that need real commits (concurrency)."""
    with ExitStack() as stack:

        def make(**settings: Any) -> AppContext:
            url = stack.enter_context(fresh_database(tmp_path))
            migrate.upgrade(url)
            chosen = settings_for(url, **settings)
            limits = chosen.database_limits
            database = Database(create_db_engine(url, limits), limits=limits)
            stack.callback(database.engine.dispose)
            return bootstrap(chosen, database)

        yield make


VICTIM_NAMES = ("Siti Rahayu", "Dewi Lestari", "Nguyen Thi Lan", "Rahasia", "Aung Ko Ko")


@pytest.fixture(autouse=True)
def no_identity_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test runs with every log captured, SQL and its parameters included: no victim's
    name may appear in any of it (UU PDP; traffickers read logs too)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    yield
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    text = "\n".join(record.getMessage() for record in records)
    leaked = [name for name in VICTIM_NAMES if name in text]
    assert leaked == [], f"victim names in the logs: {leaked}"
