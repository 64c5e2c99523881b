"""Liveness and readiness.

Live: the process answers (no database). Ready: the database answers on a connection of the
probe's own (never the pool's, so a busy pool does not read as a dead database) and its schema
is at the migrations' head. The probe is bounded twice: by libpq's connect and statement
timeouts, and by a deadline here, for a database that accepts and then never answers (a frozen
server keeps no timeout of its own): the thread is then left to finish alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio
import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from service.health import repository
from service.kit.context import AppContext
from service.kit.migrate import head_revisions

# probes never queue behind requests for a thread, nor pile up while the database is frozen
_PROBE_THREADS = anyio.CapacityLimiter(4)
_MARGIN_SECONDS = 0.5


@dataclass(frozen=True)
class Readiness:
    database: str  # "ok", "down" or "no answer" (never which database it is: it helps an attacker)
    migrations: str  # "head", "behind" (or ahead: another version's) or "unknown"

    @property
    def ready(self) -> bool:
        return self.migrations == "head"


def _probe(context: AppContext) -> Readiness:
    database = context.database
    try:
        with database.probe() as connection:
            revisions = repository.schema_revisions(connection)
    except SQLAlchemyError:
        return Readiness(database="down", migrations="unknown")
    at_head = revisions == head_revisions()
    return Readiness("ok", "head" if at_head else "behind")


async def readiness(context: AppContext) -> Readiness:
    deadline = context.settings.ready_timeout_seconds + _MARGIN_SECONDS
    with anyio.move_on_after(deadline):
        return await anyio.to_thread.run_sync(
            _probe, context, abandon_on_cancel=True, limiter=_PROBE_THREADS
        )
    return Readiness(database="no answer", migrations="unknown")
