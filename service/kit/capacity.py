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
    lock: anyio.Lock
    waiting: int = 0


_TURNS: RunVar[dict[str, _Turn]] = RunVar("nrm_turns")


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
        with anyio.move_on_after(context.settings.pool_timeout_seconds):
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


@contextmanager
def _turn_of(key: str | None) -> Iterator[anyio.Lock | None]:
    """The lock of `key` in this event loop, forgotten when nobody waits for it any more."""
    if key is None:
        yield None
        return
    try:
        turns = _TURNS.get()
    except LookupError:
        turns = {}
        _TURNS.set(turns)
    turn = turns.setdefault(key, _Turn(anyio.Lock()))
    turn.waiting += 1
    try:
        yield turn.lock
    finally:
        turn.waiting -= 1
        if turn.waiting == 0:
            del turns[key]
