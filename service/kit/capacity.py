"""A worker's threads that touch the database, and a bounded wait for one.

A worker runs as many such threads as its pool has connections (`Settings.worker_threads`),
so a thread never queues for a connection held by another of its threads: the one queue is
for a thread, and it is bounded by the pool timeout. A request that cannot get one in time is
refused at once with 503 `database_busy` instead of waiting behind a locked row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from service.kit.context import AppContext
from service.kit.errors import DatabaseBusy

T = TypeVar("T")
# The tokens are taken (with a deadline) from the default limiter before the hop; the hop itself
# must not queue a second time.
_ALREADY_COUNTED = anyio.CapacityLimiter(math.inf)


def set_worker_threads(count: int) -> None:
    """Size the event loop's default thread limiter: every hop to a thread (ours, Starlette's,
    the periodic jobs') counts against it."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = count


async def in_thread(context: AppContext, func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` on a worker thread, after waiting at most the pool timeout for one."""
    wait = context.settings.pool_timeout_seconds
    limiter = anyio.to_thread.current_default_thread_limiter()
    acquired = False
    with anyio.move_on_after(wait):
        await limiter.acquire()
        acquired = True  # no await between: the deadline cannot strike after the token is ours
    if not acquired:
        raise DatabaseBusy()
    try:
        return await anyio.to_thread.run_sync(func, *args, limiter=_ALREADY_COUNTED)
    finally:
        limiter.release()
