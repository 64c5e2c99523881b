"""SQLite writes one transaction at a time: a worker's writes take ONE turn, first come first
served, waiting without a thread (readers keep theirs) and longer than the pool timeout; the
process's transactions take the file's write lock in order, and give it back however they end.
(Before: writes took threads and polled in SQLite's busy handler; 32 writing clients saw a
p99 of seconds and a 503 after the 10-second busy timeout: bench/sqlite_writers.py.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import anyio
import anyio.to_thread
import pytest
from sqlalchemy import text

from service.kit.capacity import ONE_WRITER, ONE_WRITER_AHEAD, in_thread, write_turn
from service.kit.config import settings_for
from service.kit.context import AppContext

POOL_TIMEOUT = 0.5


def test_writes_take_one_turn_on_sqlite_and_their_case_s_turn_elsewhere(
    published: AppContext,
) -> None:
    expected = ONE_WRITER if published.settings.database_url.startswith("sqlite") else "case-a"
    assert write_turn(published, "case-a") == expected


def test_queued_sqlite_writes_hold_no_thread_and_outwait_the_pool_timeout(
    published: AppContext,
) -> None:
    if not published.database.one_writer:
        pytest.skip("SQLite's one writer; PostgreSQL writes take their case's turn")
    settings = settings_for(published.settings.database_url, pool_timeout_seconds=POOL_TIMEOUT)
    context = replace(published, settings=settings)
    stuck = threading.Event()
    writes = ONE_WRITER_AHEAD + 4

    async def write() -> None:
        await in_thread(context, stuck.wait, 10.0, serial=write_turn(context, None))

    async def main() -> tuple[float, int]:
        set_threads = anyio.to_thread.current_default_thread_limiter()
        set_threads.total_tokens = ONE_WRITER_AHEAD + 1
        async with anyio.create_task_group() as tasks:
            for _ in range(writes):
                tasks.start_soon(write)
            await anyio.sleep(0.2)
            borrowed = set_threads.borrowed_tokens
            read = await in_thread(context, lambda: 7)  # the thread the writes left free
            await anyio.sleep(POOL_TIMEOUT * 2)  # queued writes wait past the pool timeout
            stuck.set()
        return borrowed, read

    borrowed, read = anyio.run(main)  # a DatabaseBusy in any write would raise here
    assert borrowed == ONE_WRITER_AHEAD and read == 7


def test_the_write_lock_comes_back_after_a_rollback_and_the_next_writer_waits_for_it(
    committed_context: Callable[..., AppContext],
) -> None:
    context = committed_context()
    if not context.database.one_writer:
        pytest.skip("the process's write lock is SQLite's")
    database = context.database
    with pytest.raises(RuntimeError), database.transaction() as session:
        session.execute(text("DELETE FROM login_failure"))
        raise RuntimeError("a use case fails half-way")
    holding, done = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with database.transaction() as session:
            session.execute(text("DELETE FROM login_failure"))
            holding.set()
            time.sleep(0.3)
            order.append("first commits")

    def second() -> None:
        holding.wait(5)
        with database.transaction() as session:
            session.execute(text("DELETE FROM login_failure"))
            order.append("second wrote")
        done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert done.is_set() and order == ["first commits", "second wrote"]
    assert time.monotonic() - started < 5.0  # not the 10-second busy timeout
