"""Every query about the audit log and its checkpoints.

Long reads stream: Core rows (not ORM objects) through `yield_per`, which on PostgreSQL is a
server-side cursor, so verifying or exporting a log of any length holds one batch at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import func, select, text
from sqlmodel import Session, col

from service import seal
from service.auditfile import head_record
from service.models import AuditCheckpoint, AuditStream, CaseEvent, CaseFile

BATCH = 5000
LOCK_FUNCTION = "audit_lock_log"  # created by migration 0005 (PostgreSQL only)
LOCK_TIMEOUT = "5s"
_events = CaseEvent.__table__  # type: ignore[attr-defined]
_checkpoints = AuditCheckpoint.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class EventFilter:
    case_id: uuid.UUID | None = None
    actor: str | None = None
    ministry: str | None = None
    trigger: str | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def event_rows(session: Session) -> Iterator[Mapping[str, Any]]:
    """Every event, in seq order, streamed."""
    statement = select(*_events.c).order_by(_events.c.seq)
    rows = session.execute(statement, execution_options={"yield_per": BATCH}).mappings()
    return cast(Iterator[Mapping[str, Any]], iter(rows))


def checkpoint_records(session: Session) -> Iterator[dict[str, Any]]:
    """Every checkpoint, oldest first, in the shape that is hashed and signed."""
    statement = select(*_checkpoints.c).order_by(_checkpoints.c.number)
    for row in session.execute(statement, execution_options={"yield_per": BATCH}).mappings():
        yield seal.record(cast(Mapping[str, Any], row))


def heads(session: Session) -> Iterator[dict[str, Any]]:
    """Each case row's and named stream's count and last hash, as the verifier reads them."""
    cases = select(
        col(CaseFile.id),
        col(CaseFile.event_count),
        col(CaseFile.head_hash),
        col(CaseFile.version),
        col(CaseFile.state),
    ).order_by(col(CaseFile.id))
    for case_id, count, head, version, state in session.execute(
        cases, execution_options={"yield_per": BATCH}
    ):
        yield head_record(case_id.hex, count, head, str(case_id), version, state)
    streams = select(
        col(AuditStream.stream), col(AuditStream.event_count), col(AuditStream.head_hash)
    )
    for stream, count, head in session.execute(streams.order_by(col(AuditStream.stream))):
        yield head_record(stream, count, head)


def lock_log(session: Session) -> None:
    """Wait for every writer that inserted an event to finish, and hold new ones back until
    this transaction ends (PostgreSQL; on SQLite every writer already holds the database)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text("SELECT set_config('lock_timeout', :t, true)"), {"t": LOCK_TIMEOUT})
    session.execute(text(f"SELECT {LOCK_FUNCTION}()"))


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    statement = select(AuditCheckpoint).order_by(col(AuditCheckpoint.number).desc()).limit(1)
    return session.scalars(statement).first()


def leaves_after(session: Session, after_seq: int, limit: int) -> Sequence[tuple[int, str]]:
    """(seq, hash) of the first `limit` events after `after_seq`."""
    statement = (
        select(_events.c.seq, _events.c.hash)
        .where(_events.c.seq > after_seq)
        .order_by(_events.c.seq)
        .limit(limit)
    )
    return [(seq, digest) for seq, digest in session.execute(statement)]


def leaves_in(session: Session, first_seq: int, last_seq: int) -> Sequence[tuple[int, str]]:
    statement = (
        select(_events.c.seq, _events.c.hash)
        .where(_events.c.seq.between(first_seq, last_seq))
        .order_by(_events.c.seq)
    )
    return [(seq, digest) for seq, digest in session.execute(statement)]


def count_after(session: Session, after_seq: int, cap: int) -> int:
    """How many events follow `after_seq`, counting no further than `cap`."""
    pending = select(_events.c.seq).where(_events.c.seq > after_seq).limit(cap).subquery()
    return int(session.execute(select(func.count()).select_from(pending)).scalar_one())


def checkpoints_page(session: Session, after: int, limit: int) -> Sequence[AuditCheckpoint]:
    statement = (
        select(AuditCheckpoint)
        .where(col(AuditCheckpoint.number) > after)
        .order_by(col(AuditCheckpoint.number))
        .limit(limit)
    )
    return session.scalars(statement).all()


def checkpoint_covering(session: Session, seq: int) -> AuditCheckpoint | None:
    statement = select(AuditCheckpoint).where(
        col(AuditCheckpoint.first_seq) <= seq, col(AuditCheckpoint.last_seq) >= seq
    )
    return session.scalars(statement).first()


def event(session: Session, seq: int) -> CaseEvent | None:
    return session.get(CaseEvent, seq)


def search(session: Session, where: EventFilter, after: int, limit: int) -> Sequence[CaseEvent]:
    """Events matching every given filter, in seq order after the cursor `after`."""
    statement = select(CaseEvent).where(col(CaseEvent.seq) > after)
    for column, value in (
        (CaseEvent.case_id, where.case_id),
        (CaseEvent.actor, where.actor),
        (CaseEvent.ministry, where.ministry),
        (CaseEvent.trigger, where.trigger),
        (CaseEvent.kind, where.kind),
    ):
        if value is not None:
            statement = statement.where(col(column) == value)
    if where.since is not None:
        statement = statement.where(col(CaseEvent.at) >= where.since)
    if where.until is not None:
        statement = statement.where(col(CaseEvent.at) < where.until)
    return session.scalars(statement.order_by(col(CaseEvent.seq)).limit(limit)).all()
