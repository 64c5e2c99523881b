"""A worker's threads that touch the database, and a bounded wait for one.

A worker runs as many such threads as its pool has connections (`Settings.worker_threads`),
so a thread never queues for a connection held by another of its threads: the one queue is
for a thread, and it is bounded by the pool timeout. A request that cannot get one in time is
refused at once with 503 `database_busy` instead of waiting behind a locked row.

Writes to one case take their turn inside the worker before they take a thread (`serial`): a
flood of transitions on one case (its row locked by a long transaction) then holds one thread
per worker, waiting for the lock, while the others wait without a thread and are refused after
the pool timeout; requests for other cases keep their threads. (Measured with
`bench/degradations.py`: before, 100 transitions on a locked case took every thread and an
unrelated read waited behind them.)

On SQLite, which writes one transaction at a time, every write of the worker takes ONE turn
(`write_turn`), first come first served, for up to `NRM_SQLITE_WRITE_WAIT_SECONDS` more: the
writes queue in order without holding threads (readers keep them), instead of polling for the
file's lock in SQLite's busy handler, which sleeps and retries and serves nobody in order
(`bench/sqlite_writers.py`: 32 writing clients, p99 1.4-2.5 s before, see bench/RESULTS.md).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar

from service.kit.context import AppContext
from service.kit.errors import DatabaseBusy

T = TypeVar("T")
log = logging.getLogger("nrm")
# The tokens are taken (with a deadline) from the default limiter before the hop; the hop itself
# must not queue a second time.
_ALREADY_COUNTED = anyio.CapacityLimiter(math.inf)


@dataclass
class _Turn:
    lock: anyio.Semaphore
    waiting: int = 0


_TURNS: RunVar[dict[str, _Turn]] = RunVar("nrm_turns")
ONE_WRITER = "nrm:one-writer"  # the turn of every write on SQLite
# Two writes hold the one writer's turn at once: while one is in its transaction (the threads
# take SQLite's lock in order, `Database.transaction`), the next is already on its thread, so
# the hand-over costs no trip through the event loop (one at a time: 47 writes/s against 63).
ONE_WRITER_AHEAD = 2


def write_turn(context: AppContext, case_id: str | None) -> str | None:
    """The turn a write takes in this worker: the one writer's on SQLite, else its case's."""
    return ONE_WRITER if context.database.one_writer else case_id


def set_worker_threads(count: int) -> None:
    """Size the event loop's default thread limiter: every hop to a thread (ours, Starlette's,
    the periodic jobs') counts against it."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = count


async def in_thread(
    context: AppContext, func: Callable[..., T], *args: Any, serial: str | None = None
) -> T:
    """`func(*args)` on a worker thread, after waiting at most the pool timeout for one (and
    for the turn of `serial`, if given, among the worker's requests with that key)."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    with _turn_of(serial) as turn:
        has_turn = has_thread = False
        with anyio.move_on_after(_longest_wait(context, serial)):
            if turn is not None:
                await turn.acquire()
                has_turn = True  # no await between: the deadline cannot strike after this
            await limiter.acquire()
            has_thread = True
        try:
            if not has_thread:
                log.warning(
                    "database busy: no %s in time",
                    "turn" if turn is not None and not has_turn else "thread",
                )
                raise DatabaseBusy()
            try:
                return await anyio.to_thread.run_sync(func, *args, limiter=_ALREADY_COUNTED)
            finally:
                limiter.release()
        finally:
            if has_turn and turn is not None:
                turn.release()


def _longest_wait(context: AppContext, serial: str | None) -> float:
    settings = context.settings
    writer = settings.sqlite_write_wait_seconds if serial == ONE_WRITER else 0.0
    return settings.pool_timeout_seconds + writer


@contextmanager
def _turn_of(key: str | None) -> Iterator[anyio.Semaphore | None]:
    """The turn of `key` in this event loop (first come, first served), forgotten when nobody
    waits for it any more."""
    if key is None:
        yield None
        return
    try:
        turns = _TURNS.get()
    except LookupError:
        turns = {}
        _TURNS.set(turns)
    if key not in turns:
        turns[key] = _Turn(anyio.Semaphore(ONE_WRITER_AHEAD if key == ONE_WRITER else 1))
    turn = turns[key]
    turn.waiting += 1
    try:
        yield turn.lock
    finally:
        turn.waiting -= 1
        if turn.waiting == 0:
            del turns[key]
