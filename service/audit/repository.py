"""Every query about the audit log and its checkpoints.

Long reads stream: Core rows (not ORM objects) through `yield_per`, which on PostgreSQL is a
server-side cursor, so verifying or exporting a log of any length holds one batch at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Result,
    Select,
    Text,
    Uuid,
    bindparam,
    cast,
    func,
    select,
    text,
    type_coerce,
)
from sqlmodel import Session, col

from service.audit.filters import EventFilter
from service.audit.integrity import case_streams, grants, signing
from service.audit.integrity.export_format import head_record
from service.audit.integrity.slices import ROW_COLUMNS, payload_value
from service.models import (
    AuditCheckpoint,
    AuditStream,
    AuditWitness,
    CaseEvent,
    CaseFile,
    CaseMinistry,
    CaseUnit,
    IdentityAccess,
    Unit,
)

BATCH = 5000
LOCK_FUNCTION = "audit_lock_log"  # created by migration 0005 (PostgreSQL only)
LOCK_TIMEOUT = "5s"
_events = CaseEvent.__table__  # type: ignore[attr-defined]
_checkpoints = AuditCheckpoint.__table__  # type: ignore[attr-defined]


def event_records(session: Session) -> Iterator[dict[str, Any]]:
    """Every event in seq order, streamed, as the verifier and the export read it: `at` as its
    canonical text and `case_id` as text, formatted by the database, the payload parsed here.

    Nothing is trusted to be well-formed (SQLite stores anything in any column): a payload that
    is not JSON stays text, an id that is not one stays as stored, and both fail their hash.
    """
    postgres = _postgres(session)
    t = _events
    replaced = _as_stored_text(postgres)
    columns = [replaced.get(c.name, c) for c in t.c]
    names = [c.name for c in t.c]
    statement = select(*columns).order_by(t.c.seq)
    for row in _streamed(session, statement):
        record = dict(zip(names, row, strict=True))
        record["payload"] = _json(record["payload"])
        if not postgres and record["case_id"] is not None:
            record["case_id"] = _uuid_text(record["case_id"])
        yield record


def slice_statement(postgres: bool) -> Select[Any]:
    """The events with `after` < seq <= `upto` (bound parameters), in seq order, as the
    columns integrity/slices.ROW_COLUMNS: `at` and (PostgreSQL) `case_id` as canonical text
    formatted by the database, the payload as stored text."""
    t = _events
    replaced = _as_stored_text(postgres)
    return (
        select(*(replaced.get(name, t.c[name]) for name in ROW_COLUMNS))
        .where(t.c.seq > bindparam("after", type_=BigInteger))
        .where(t.c.seq <= bindparam("upto", type_=BigInteger))
        .order_by(t.c.seq)
    )


def _as_stored_text(postgres: bool) -> dict[str, Any]:
    """The event columns read as text formatted by the database: `at` canonical, `case_id`
    and the payload as stored (nothing trusted to be well-formed)."""
    as_text = _as_text(postgres)
    return {
        "at": _instant_text(postgres, _events.c.at),
        "case_id": as_text(_events.c.case_id),
        "payload": as_text(_events.c.payload),
    }


def slice_rows(session: Session, after: int, upto: int) -> Result[Any]:
    """The rows of `slice_statement`, streamed through this session's snapshot (close the
    result if it is not read to its end)."""
    statement = slice_statement(_postgres(session))
    return _streamed(session, statement, {"after": after, "upto": upto})


def seq_bounds(session: Session) -> tuple[int | None, int | None]:
    """The lowest and highest `seq` in the log (None, None when it is empty)."""
    low, high = session.execute(select(func.min(_events.c.seq), func.max(_events.c.seq))).one()
    return low, high


def seq_after(session: Session, after: int, count: int) -> int | None:
    """The `seq` of the `count`-th event after `after` (None: there are fewer): an index
    range, so cutting the log into slices of `count` events reads only their keys."""
    statement = (
        select(_events.c.seq)
        .where(_events.c.seq > after)
        .order_by(_events.c.seq)
        .offset(count - 1)
        .limit(1)
    )
    return session.execute(statement).scalar_one_or_none()


def export_snapshot(session: Session) -> str:
    """This transaction's snapshot, for other connections to read the same log
    (PostgreSQL; the transaction must stay open while they import it)."""
    return str(session.execute(text("SELECT pg_export_snapshot()")).scalar_one())


def uuid_text(raw: Any) -> Any:
    """A case id as SQLite stores it (32 hex digits), in its canonical text; anything else
    as it is (and so it fails its event's hash)."""
    return _uuid_text(raw)


def checkpoint_records(session: Session) -> Iterator[dict[str, Any]]:
    """Every checkpoint, oldest first, in the shape that is hashed and signed."""
    t = _checkpoints
    created = _instant_text(_postgres(session), t.c.created_at)
    columns = [created if c.name == "created_at" else c for c in t.c]
    statement = select(*columns).order_by(t.c.number)
    for row in _streamed(session, statement):
        yield signing.record(dict(zip([c.name for c in t.c], row, strict=True)))


def heads(session: Session) -> Iterator[dict[str, Any]]:
    """Each case row's and named stream's count and last hash, as the verifier reads them."""
    postgres = _postgres(session)
    rows = _streamed(session, case_heads_statement(postgres))
    yield from (case_streams.head_of(row, None if postgres else _uuid_text) for row in rows)
    yield from stream_heads(session)


def stream_heads(session: Session) -> Iterator[dict[str, Any]]:
    """Each named stream's count and last hash, by name."""
    streams = select(
        col(AuditStream.stream), col(AuditStream.event_count), col(AuditStream.head_hash)
    )
    for stream, count, head in session.execute(streams.order_by(col(AuditStream.stream))):
        yield head_record(stream, count, head)


def case_heads_statement(postgres: bool) -> Select[Any]:
    """The case rows' heads (id as stored text, count, last hash, version, state), by id."""
    return select(
        _as_text(postgres)(col(CaseFile.id)),
        col(CaseFile.event_count),
        col(CaseFile.head_hash),
        col(CaseFile.version),
        col(CaseFile.state),
    ).order_by(col(CaseFile.id))


def case_statements(
    postgres: bool, case_range: bool = False
) -> tuple[Select[Any], Select[Any], Select[Any], Select[Any]]:
    """The four reads each case is checked from on its own (integrity/case_streams.py): its
    events in seq order (case_streams.EVENT_COLUMNS), its row's head, its `case_ministry` and
    `case_unit` rows; each by case id. With `case_range`, of the cases whose id lies between
    the bound parameters `low` and `high` (both included: a worker's share)."""
    t, replaced = _events, _as_stored_text(postgres)
    events = (
        select(*(replaced.get(name, t.c[name]) for name in case_streams.EVENT_COLUMNS))
        .where(t.c.case_id.is_not(None))
        .order_by(t.c.case_id, t.c.seq)
    )
    case_heads = case_heads_statement(postgres)
    ministries, units = _grant_rows(postgres)
    if case_range:
        low, high = bindparam("low", type_=Uuid), bindparam("high", type_=Uuid)
        events = events.where(t.c.case_id.between(low, high))
        case_heads = case_heads.where(col(CaseFile.id).between(low, high))
        ministries = ministries.where(col(CaseMinistry.case_id).between(low, high))
        units = units.where(col(CaseUnit.case_id).between(low, high))
    return events, case_heads, ministries, units


def case_checks(session: Session, lead_ministry: grants.LeadMinistry) -> case_streams.CasesResult:
    """Every case checked on its own, in this process, through this session's snapshot."""
    postgres = _postgres(session)
    case_text = None if postgres else _uuid_text
    with ExitStack() as results:
        events, rows, ministries, units = (
            results.enter_context(_streamed(session, statement))
            for statement in case_statements(postgres)
        )
        return case_streams.check_cases(
            events, (case_streams.head_of(row, case_text) for row in rows),
            map(grants.ministry_item, ministries), map(grants.unit_item, units), lead_ministry,
        )  # fmt: skip


def identity_access_records(session: Session, after_id: int = 0) -> Iterator[dict[str, Any]]:
    """The `identity_access` rows after `after_id`, by id, streamed, as they are sealed:
    `case_id` dashed and `at` as canonical text (service/audit/integrity/signing.access_leaf)."""
    postgres = _postgres(session)
    t = IdentityAccess.__table__  # type: ignore[attr-defined]
    replaced = {"at": _instant_text(postgres, t.c.at), "case_id": _as_text(postgres)(t.c.case_id)}
    columns = [replaced.get(c.name, c) for c in t.c]
    names = [c.name for c in t.c]
    statement = select(*columns).where(t.c.id > after_id).order_by(t.c.id)
    for row in _streamed(session, statement):
        record = dict(zip(names, row, strict=True))
        if not postgres:
            record["case_id"] = _uuid_text(record["case_id"])
        yield record


def latest_access_seal(session: Session) -> int:
    """The `access_last_id` of the newest checkpoint that seals identity access (0: none)."""
    statement = (
        select(col(AuditCheckpoint.access_last_id))
        .where(col(AuditCheckpoint.access_root).is_not(None))
        .order_by(col(AuditCheckpoint.number).desc())
        .limit(1)
    )
    return int(session.execute(statement).scalar_one_or_none() or 0)


def access_waiting(session: Session) -> bool:
    """Whether any `identity_access` row waits to be sealed."""
    waiting = select(col(IdentityAccess.id)).where(
        col(IdentityAccess.id) > latest_access_seal(session)
    )
    return session.execute(waiting.limit(1)).first() is not None


def case_events_by_case(session: Session) -> Iterator[tuple[str, dict[str, Any]]]:
    """(case key, event) of every case's events, by case and stream position: what the grants
    are recomputed from (service/audit/integrity/grants.py). The key is the case id as 32 hex
    digits, in the order of the id column (the same in every query here)."""
    statement = grant_statements(_postgres(session))[0]
    rows = _streamed(session, statement)
    return (grants.event_item(row) for row in rows)


def case_ministry_rows(session: Session) -> Iterator[tuple[str, str]]:
    """(case key, ministry) of every `case_ministry` row, by case."""
    statement = grant_statements(_postgres(session))[1]
    rows = _streamed(session, statement)
    return (grants.ministry_item(row) for row in rows)


def case_unit_rows(session: Session) -> Iterator[tuple[str, tuple[str, bool, Any, Any, Any]]]:
    """(case key, (unit code, referred, since, left_at, withdrawn_at)) of every `case_unit`
    row, by case, the instants as canonical text."""
    statement = grant_statements(_postgres(session))[2]
    rows = _streamed(session, statement)
    return (grants.unit_item(row) for row in rows)


def grant_statements(postgres: bool) -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The three reads the walk checks the grants from (events, `case_ministry`, `case_unit`),
    each by case."""
    t, as_text, instant = _events, _as_text(postgres), _instant_text
    events = (
        select(as_text(t.c.case_id), t.c.kind, t.c.ministry, t.c.to_state,
               instant(postgres, t.c.at), as_text(t.c.payload))
        .where(t.c.case_id.is_not(None))
        .order_by(t.c.case_id, t.c.stream_seq)
    )  # fmt: skip
    return (events, *_grant_rows(postgres))


def _grant_rows(postgres: bool) -> tuple[Select[Any], Select[Any]]:
    """The `case_ministry` and `case_unit` rows, by case, the instants as canonical text."""
    as_text, instant = _as_text(postgres), _instant_text
    ministries = select(as_text(col(CaseMinistry.case_id)), col(CaseMinistry.ministry))
    ministries = ministries.order_by(col(CaseMinistry.case_id))
    units = (
        select(as_text(col(CaseUnit.case_id)), col(Unit.code), col(CaseUnit.referred),
               instant(postgres, col(CaseUnit.since)), instant(postgres, col(CaseUnit.left_at)),
               instant(postgres, col(CaseUnit.withdrawn_at)))
        .join(Unit, col(Unit.id) == col(CaseUnit.unit_id))
        .order_by(col(CaseUnit.case_id))
    )  # fmt: skip
    return ministries, units


def _streamed(
    session: Session, statement: Select[Any], params: dict[str, Any] | None = None
) -> Result[Any]:
    """A long read's rows, a batch at a time, as Core rows through the session's connection
    (through `Session.execute` the ORM built each row: 4 times the CPU on a million heads)."""
    return session.connection().execute(statement, params, execution_options={"yield_per": BATCH})


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _instant_text(postgres: bool, column: Any) -> Any:
    """The instant as integrity/chain.py's format_instant writes it, formatted by the database
    (SQLite keeps UTC as "YYYY-MM-DD HH:MM:SS.ffffff")."""
    if postgres:
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    return func.replace(type_coerce(column, Text), " ", "T").concat("Z")


def _as_text(postgres: bool) -> Callable[[Any], Any]:
    """The stored text, unprocessed: PostgreSQL casts (uuid, json), SQLite already has text."""
    return (lambda column: cast(column, Text)) if postgres else (lambda c: type_coerce(c, Text))


def _json(text: Any) -> Any:
    return payload_value(text)


def _uuid_text(raw: Any) -> Any:
    """SQLite keeps a UUID as 32 hex digits; the canonical form has dashes."""
    try:
        return str(uuid.UUID(hex=raw))
    except (TypeError, ValueError, AttributeError):
        return raw


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


def checkpoint_hash(session: Session, number: int) -> str | None:
    statement = select(col(AuditCheckpoint.hash)).where(col(AuditCheckpoint.number) == number)
    return session.execute(statement).scalar_one_or_none()


def witness_mark(session: Session, name: str) -> int:
    """The number of the last checkpoint witness `name` received (0: none yet)."""
    mark = session.get(AuditWitness, name)
    return mark.number if mark else 0


def advance_witness_mark(session: Session, name: str, number: int, at: datetime) -> None:
    mark = session.get(AuditWitness, name, with_for_update=True)
    if mark is None:
        session.add(AuditWitness(name=name, number=number, published_at=at))
    elif mark.number < number:
        mark.number, mark.published_at = number, at


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
