"""Appending to the log. Every event is hashed onto its stream's chain as it is written."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session, col, select

from service.audit.integrity.chain import GENESIS, event_hash
from service.kit.db import flush_or_conflict
from service.kit.principal import Principal
from service.models import AuditStream, CaseEvent, CaseFile, WebhookOutbox
from workflows.payload import portable_numbers


def append_case_event(
    session: Session,
    case: CaseFile,
    *,
    actor: Principal,
    at: datetime,
    kind: str,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    payload: dict[str, Any] | None = None,
    note: str | None = None,
) -> CaseEvent:
    """Chain an event onto `case` and bump its `event_count`, the row's compare-and-set.

    The event and the case row are flushed together; if another writer changed the case since
    it was read, the flush fails and nothing of either is written. So is the event's outbox
    row (service/webhooks/): other systems hear of exactly the events that committed.
    """
    event = _build(
        stream=case.id.hex,
        stream_seq=case.event_count + 1,
        prev_hash=case.head_hash,
        case_id=case.id,
        actor=actor,
        at=at,
        kind=kind,
        trigger=trigger,
        from_state=from_state,
        to_state=to_state,
        payload=payload or {},
        note=note,
    )
    case.event_count = event.stream_seq
    case.head_hash = event.hash
    session.add(event)
    queue_for_webhooks(session, case, event.stream_seq)
    return event


def append_case_event_now(
    session: Session,
    case: CaseFile,
    *,
    actor: Principal,
    at: datetime,
    kind: str,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    payload: dict[str, Any] | None = None,
    note: str | None = None,
) -> int:
    """`append_case_event` for one request's own transition, written at once; its `seq`.

    The case row's pending change (with the new head) is flushed first: the compare-and-set
    comes before the event as it does in one flush (a concurrent writer is the same 409). The
    event and its outbox row are then two prepared Core INSERTs, without the ORM's unit of work
    for them (which cost a fifth of a transition's CPU: bench/RESULTS.md, issue 17). For one
    event; a batch (the sweep) keeps `append_case_event`, whose flush inserts them together.
    """
    fields = _fields(
        stream=case.id.hex, stream_seq=case.event_count + 1, prev_hash=case.head_hash,
        case_id=case.id, actor=actor, at=at, kind=kind, trigger=trigger, from_state=from_state,
        to_state=to_state, payload=payload or {}, note=note,
    )  # fmt: skip
    fields["hash"] = event_hash(fields)
    case.event_count = fields["stream_seq"]
    case.head_hash = fields["hash"]
    flush_or_conflict(session)
    connection = session.connection()  # the session's transaction, without the ORM's execute
    seq: int = connection.execute(_INSERT_EVENT, fields).scalar_one()
    connection.execute(_INSERT_OUTBOX, {
        "case_id": case.id, "stream_seq": fields["stream_seq"], "state": case.state,
        "phase": case.phase, "ministry": case.ministry, "unit_id": case.unit_id,
    })  # fmt: skip
    return seq


_EVENTS: Table = CaseEvent.__table__  # type: ignore[attr-defined]
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.seq)
_INSERT_OUTBOX = insert(WebhookOutbox.__table__)  # type: ignore[attr-defined]


def queue_for_webhooks(session: Session, case: CaseFile, stream_seq: int) -> None:
    """The event's outbox row (service/webhooks/), in the event's transaction: one small
    insert whoever subscribes, with what the case is as the event happens."""
    session.add(
        WebhookOutbox(
            case_id=case.id, stream_seq=stream_seq, state=case.state, phase=case.phase,
            ministry=case.ministry, unit_id=case.unit_id,
        )
    )  # fmt: skip


def append_stream_event(
    session: Session,
    stream: str,
    *,
    actor: Principal,
    at: datetime,
    kind: str,
    payload: dict[str, Any] | None = None,
    note: str | None = None,
    case_id: uuid.UUID | None = None,
) -> CaseEvent:
    """Chain an event onto a named stream such as "users"; the stream's head row is locked."""
    head = session.exec(
        select(AuditStream).where(col(AuditStream.stream) == stream).with_for_update()
    ).first()
    if head is None:
        head = AuditStream(stream=stream, event_count=0, head_hash=GENESIS)
        session.add(head)
    event = _build(
        stream=stream,
        stream_seq=head.event_count + 1,
        prev_hash=head.head_hash,
        case_id=case_id,
        actor=actor,
        at=at,
        kind=kind,
        trigger=None,
        from_state=None,
        to_state=None,
        payload=payload or {},
        note=note,
    )
    head.event_count, head.head_hash = event.stream_seq, event.hash
    session.add(event)
    return event


def _build(
    *, stream: str, stream_seq: int, prev_hash: str, case_id: uuid.UUID | None, actor: Principal,
    at: datetime, kind: str, trigger: str | None, from_state: str | None, to_state: str | None,
    payload: dict[str, Any], note: str | None,
) -> CaseEvent:  # fmt: skip
    fields = _fields(
        stream=stream, stream_seq=stream_seq, prev_hash=prev_hash, case_id=case_id, actor=actor,
        at=at, kind=kind, trigger=trigger, from_state=from_state, to_state=to_state,
        payload=payload, note=note,
    )  # fmt: skip
    return CaseEvent(**fields, hash=event_hash(fields))


def _fields(
    *, stream: str, stream_seq: int, prev_hash: str, case_id: uuid.UUID | None, actor: Principal,
    at: datetime, kind: str, trigger: str | None, from_state: str | None, to_state: str | None,
    payload: dict[str, Any], note: str | None,
) -> dict[str, Any]:  # fmt: skip
    """What an event's hash covers (everything but `seq` and the hash itself)."""
    return {
        "stream": stream,
        "stream_seq": stream_seq,
        "prev_hash": prev_hash,
        "case_id": case_id,
        "actor_id": actor.user_id,
        "actor": actor.username,
        "actor_role": actor.role,
        "ministry": actor.ministry,
        "at": at,
        "kind": kind,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        # the boundary already refused what another language would write differently; a
        # number that slips past it is a bug, and must never reach the chain
        "payload": portable_numbers(payload),
        "note": note,
    }
