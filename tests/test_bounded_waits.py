"""Every wait on the database is bounded: a request that cannot get a connection, a thread or a
lock in time answers at once 503 `database_busy` with Retry-After, as JSON, instead of hanging
(before: a plain-text 500 after 30 s, `QueuePool limit ... timeout 30`)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import anyio
import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response  # what starlette's TestClient answers with
from psycopg import errors as pg_errors
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.app import create_app
from service.cases import repository as repo
from service.kit.capacity import in_thread, set_worker_threads
from service.kit.config import settings_for
from service.kit.context import AppContext
from service.kit.db import is_busy
from service.kit.errors import DatabaseBusy
from tests.conftest import PG_URL
from tests.factories import Actors, fire, register

POOL_TIMEOUT = 0.5
# bounds with room for a loaded machine: what they tell apart is seconds from 30 s or for ever


def _assert_busy(response: Response, elapsed: float, bound: float) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "database_busy"
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-Request-ID"]
    assert elapsed < bound, f"answered after {elapsed:.2f}s"


def test_a_request_that_gets_no_connection_in_time_answers_503_database_busy(
    committed_context: Callable[..., AppContext],
) -> None:
    context = committed_context(pool_size=1, pool_max_overflow=0, pool_timeout_seconds=POOL_TIMEOUT)
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        held = context.database.engine.connect()  # another thread's: the pool's only one
        held.execute(text("SELECT 1"))
        try:
            started = time.monotonic()
            response = client.post(
                "/api/v1/auth/token", data={"username": "someone", "password": "x" * 12}
            )
            _assert_busy(response, time.monotonic() - started, POOL_TIMEOUT + 4.0)
        finally:
            held.close()
        again = client.post("/api/v1/auth/token", data={"username": "someone", "password": "x"})
        assert again.status_code == 401  # the pool is free again: the service recovers at once


def test_a_request_that_gets_no_worker_thread_in_time_is_refused_busy(
    published: AppContext,
) -> None:
    """The worker's threads are as many as its connections; the wait for one is bounded."""
    settings = settings_for(published.settings.database_url, pool_timeout_seconds=POOL_TIMEOUT)
    context = replace(published, settings=settings)

    async def main() -> float:
        set_worker_threads(1)
        limiter = anyio.to_thread.current_default_thread_limiter()
        holder = object()
        await limiter.acquire_on_behalf_of(holder)  # the one thread, busy elsewhere
        started = time.monotonic()
        try:
            with pytest.raises(DatabaseBusy):
                await in_thread(context, lambda: None)
        finally:
            limiter.release_on_behalf_of(holder)
        elapsed = time.monotonic() - started
        assert await in_thread(context, lambda: 42) == 42  # and a free one is used
        return elapsed

    assert anyio.run(main) < POOL_TIMEOUT + 2.0


def test_the_settings_bound_every_database_wait() -> None:
    settings = settings_for("postgresql+psycopg://u@h/db", pool_size=4, pool_max_overflow=2)
    assert settings.worker_threads == 6  # one thread per connection of the pool
    options = settings.database_limits.libpq_options()
    assert options["connect_timeout"] == 5 and options["keepalives"] == 1
    assert options["keepalives_idle"] == 30 and options["keepalives_count"] == 3
    assert "-c statement_timeout=30000" in options["options"]
    assert "-c lock_timeout=5000" in options["options"]


@pytest.mark.skipif(PG_URL is None, reason="lock_timeout is PostgreSQL's (NRM_TEST_DATABASE_URL)")
def test_a_case_row_locked_longer_than_lock_timeout_answers_503_not_a_hang(
    committed_context: Callable[..., AppContext],
) -> None:
    """Choice: 503 `database_busy` (try again later: nothing was done), not 409, which in this
    API means "the case changed: read it again"."""
    context = committed_context(db_lock_timeout_seconds=1.0)
    lock_timeout = context.settings.db_lock_timeout_seconds
    with TestClient(create_app(context), raise_server_exceptions=False) as client:
        actors = Actors(client, context)
        worker = actors.worker("KEMENPPPA")
        case = register(client, actors.worker("KEMLU"))
        locker = context.database.engine.connect()
        try:
            locker.execute(
                text("SELECT 1 FROM case_file WHERE id = :id FOR UPDATE"),
                {"id": repo.parse_case_id(case["id"])},
            )
            # without a lock timeout the request would wait for the lock as long as it is held
            release = threading.Timer(lock_timeout + 10.0, locker.rollback)
            release.start()
            started = time.monotonic()
            response = fire(client, worker, case, "begin_screening", {})
            _assert_busy(response, time.monotonic() - started, lock_timeout + 5.0)
        finally:
            release.cancel()
            locker.rollback()
            locker.close()
        assert fire(client, worker, case, "begin_screening", {}).status_code == 200


def test_writes_to_one_case_take_turns_without_holding_threads_others_go_on(
    published: AppContext,
) -> None:
    """A write stuck on one case (its row locked) holds one thread; the next write to the same
    case waits for its turn without a thread and is refused in time; other cases go on."""
    settings = settings_for(published.settings.database_url, pool_timeout_seconds=POOL_TIMEOUT)
    context = replace(published, settings=settings)
    stuck = threading.Event()

    async def main() -> tuple[float, int]:
        set_worker_threads(2)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: in_thread(context, stuck.wait, 10.0, serial="case-a"))
            await anyio.sleep(0.1)
            started = time.monotonic()
            with pytest.raises(DatabaseBusy):
                await in_thread(context, lambda: None, serial="case-a")
            elapsed = time.monotonic() - started
            other = await in_thread(context, lambda: 7, serial="case-b")  # the second thread
            stuck.set()
        return elapsed, other

    elapsed, other = anyio.run(main)
    assert other == 7 and elapsed < POOL_TIMEOUT + 2.0


@pytest.mark.parametrize(
    ("orig", "busy"),
    [
        (pg_errors.QueryCanceled("canceling statement due to statement timeout"), True),
        (pg_errors.LockNotAvailable("canceling statement due to lock timeout"), True),
        (sqlite3.OperationalError("database is locked"), True),
        (pg_errors.OperationalError("server closed the connection unexpectedly"), False),
    ],
)
def test_a_timeout_on_the_database_is_busy_not_down(orig: Exception, busy: bool) -> None:
    assert is_busy(OperationalError("SELECT 1", {}, orig)) is busy
