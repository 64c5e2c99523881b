"""Queries of the outbox, the subscriptions and the deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    Row,
    String,
    any_,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    text,
    update,
)
from sqlalchemy import select as select_rows
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from service.models import CaseEvent, CaseFile, Unit, WebhookDelivery, WebhookOutbox
from service.models import WebhookSubscription as Subscription

# pg_try_advisory_xact_lock's key: one fan-out at a time, so a case's events enter the
# deliveries in the order they committed (any number; this one spells "webhook")
FAN_OUT_LOCK = 0x7765_6268_6F6F_6B


# --- subscriptions ---------------------------------------------------------------------------


def subscription(session: Session, subscription_id: int) -> Subscription | None:
    return session.get(Subscription, subscription_id)


def subscriptions_after(session: Session, after_id: int, limit: int) -> Sequence[Subscription]:
    statement = select(Subscription).where(col(Subscription.id) > after_id)
    return session.exec(statement.order_by(col(Subscription.id)).limit(limit)).all()


def all_subscriptions(session: Session) -> Sequence[Subscription]:
    return session.exec(select(Subscription).order_by(col(Subscription.id))).all()


def backlog_by_subscription(
    session: Session, subscription_ids: Iterable[int]
) -> dict[int, tuple[int, int]]:
    """(deliveries waiting, of which dead) per subscription."""
    ids = list(subscription_ids)
    if not ids:
        return {}
    dead = func.count(col(WebhookDelivery.dead_at))
    statement = (
        select(col(WebhookDelivery.subscription_id), func.count(), dead)
        .where(col(WebhookDelivery.subscription_id).in_(ids))
        .group_by(col(WebhookDelivery.subscription_id))
    )
    return {sid: (total, dead_count) for sid, total, dead_count in session.exec(statement)}


def backlog(session: Session) -> tuple[int, int, int]:
    """(outbox rows not fanned out, deliveries waiting, dead letters): the metrics' gauges."""
    outbox = session.exec(select(func.count()).select_from(WebhookOutbox)).one()
    waiting, dead = session.exec(
        select(func.count(), func.count(col(WebhookDelivery.dead_at))).select_from(WebhookDelivery)
    ).one()
    return outbox, waiting, dead


# --- fan-out ---------------------------------------------------------------------------------


def lock_fan_out(session: Session) -> bool:
    """Whether this transaction may fan out (PostgreSQL: an advisory lock, not waited for; on
    SQLite the transaction already holds the only write lock)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": FAN_OUT_LOCK})
    return bool(taken.scalar_one())


def outbox_batch(session: Session, limit: int) -> Sequence[Row[Any]]:
    """The oldest outbox rows with their event, case and unit, in one query (the event by its
    place on the case's stream: the unique (stream, stream_seq) index)."""
    stream = func.replace(cast(col(WebhookOutbox.case_id), String), "-", "")  # the id's hex
    statement = (
        select_rows(
            col(WebhookOutbox.id),
            col(WebhookOutbox.case_id),
            col(WebhookOutbox.stream_seq),
            col(WebhookOutbox.state),
            col(WebhookOutbox.phase),
            col(WebhookOutbox.ministry),
            col(CaseFile.workflow_name),
            col(CaseFile.workflow_version),
            col(Unit.code),
            col(Unit.region_code),
            col(CaseEvent.seq),
            col(CaseEvent.kind),
            col(CaseEvent.trigger),
            col(CaseEvent.from_state),
            col(CaseEvent.to_state),
            col(CaseEvent.at),
        )
        .join(CaseFile, col(CaseFile.id) == col(WebhookOutbox.case_id))
        .join(Unit, col(Unit.id) == col(WebhookOutbox.unit_id))
        .outerjoin(
            CaseEvent,
            (col(CaseEvent.stream) == stream)
            & (col(CaseEvent.stream_seq) == col(WebhookOutbox.stream_seq)),
        )
        .order_by(col(WebhookOutbox.id))
        .limit(limit)
    )
    return session.execute(statement).all()


def add_deliveries(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(WebhookDelivery), rows)


def drop_outbox(session: Session, ids: list[int]) -> None:
    session.execute(delete(WebhookOutbox).where(_one_of(session, col(WebhookOutbox.id), ids)))


# --- delivery --------------------------------------------------------------------------------


def claim_due(session: Session, now: datetime, leased_until: datetime, limit: int) -> list[Any]:
    """Lease the deliveries due now that head their (subscription, case) (no lower
    `stream_seq` waits, dead or leased), skipping heads another worker holds, and behind each
    head the events of its case that wait after it: `limit` rows in all, breadth first (every
    head, then every head's next event, ...), so that a case's share is always a prefix of its
    queue. One `UPDATE ... RETURNING`; each row comes with its subscription's URL and sealed
    secret.

    A follower is never another worker's: only a head's holder leases behind it.
    """
    d = WebhookDelivery
    earlier = aliased(WebhookDelivery)
    heads = (
        select_rows(col(d.subscription_id), col(d.case_id))
        .join(Subscription, col(Subscription.id) == col(d.subscription_id))
        .where(
            col(Subscription.is_active).is_(True),
            col(d.dead_at).is_(None),
            col(d.next_attempt_at) <= now,
            or_(col(d.leased_until).is_(None), col(d.leased_until) <= now),
            ~exists().where(
                col(earlier.subscription_id) == col(d.subscription_id),
                col(earlier.case_id) == col(d.case_id),
                col(earlier.stream_seq) < col(d.stream_seq),
            ),
        )
        .order_by(col(d.id))
        .limit(limit)
        .with_for_update(of=d, skip_locked=True)
        .cte("heads")
    )
    place = func.row_number().over(
        partition_by=(col(d.subscription_id), col(d.case_id)), order_by=col(d.stream_seq)
    )
    queued = (
        select_rows(col(d.id), place.label("place"))
        .join(
            heads,
            (heads.c.subscription_id == col(d.subscription_id))
            & (heads.c.case_id == col(d.case_id)),
        )
        .where(col(d.dead_at).is_(None))
        .subquery("queued")
    )
    chosen = select_rows(queued.c.id).order_by(queued.c.place, queued.c.id).limit(limit)
    leased = session.execute(
        update(WebhookDelivery)
        .where(col(WebhookDelivery.id).in_(chosen))
        .values(leased_until=leased_until)
        .returning(*_CLAIMED_COLUMNS)
    ).all()
    if not leased:
        return []
    receivers = {
        sub_id: (url, sealed)
        for sub_id, url, sealed in session.execute(
            select_rows(
                col(Subscription.id), col(Subscription.url), col(Subscription.secret_sealed)
            ).where(_one_of(session, col(Subscription.id), {row.subscription_id for row in leased}))
        )
    }
    return [Claimed._make((*row, *receivers[row.subscription_id])) for row in leased]


_CLAIMED_COLUMNS = (
    col(WebhookDelivery.id), col(WebhookDelivery.subscription_id),
    col(WebhookDelivery.case_id), col(WebhookDelivery.stream_seq),
    col(WebhookDelivery.event_seq), col(WebhookDelivery.payload), col(WebhookDelivery.attempts),
)  # fmt: skip


class Claimed(NamedTuple):
    """A leased delivery, with where and how to send it."""

    id: int
    subscription_id: int
    case_id: uuid.UUID
    stream_seq: int
    event_seq: int
    payload: dict[str, Any]
    attempts: int
    url: str
    secret_sealed: bytes


def _one_of(session: Session, column: Any, values: Iterable[int]) -> Any:
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, one parameter however many
    values (a statement of 500 placeholders is parsed again by psycopg at every call)."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(BigInteger)))
    return column.in_(values)


def release(session: Session, ids: list[int]) -> None:
    """Leases given back unsent (behind a failure): the next claim starts from there."""
    if ids:
        session.execute(
            update(WebhookDelivery)
            .where(_one_of(session, col(WebhookDelivery.id), ids))
            .values(leased_until=None)
        )


def delivered(session: Session, ids: list[int]) -> None:
    if ids:
        session.execute(
            delete(WebhookDelivery).where(_one_of(session, col(WebhookDelivery.id), ids))
        )


def failed(session: Session, changes: list[dict[str, Any]]) -> None:
    """Each failure's new attempts, next_attempt_at, dead_at and last_error, the lease ended."""
    for change in changes:
        row_id = change.pop("id")
        session.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == row_id)
            .values(**change, leased_until=None)
        )


def drop_deliveries(session: Session, subscription_id: int) -> None:
    statement = delete(WebhookDelivery).where(
        col(WebhookDelivery.subscription_id) == subscription_id
    )
    session.execute(statement)


# --- dead letters ----------------------------------------------------------------------------


def dead_after(
    session: Session, subscription_id: int | None, after_id: int, limit: int
) -> Sequence[WebhookDelivery]:
    statement = select(WebhookDelivery).where(
        col(WebhookDelivery.dead_at).is_not(None), col(WebhookDelivery.id) > after_id
    )
    if subscription_id is not None:
        statement = statement.where(col(WebhookDelivery.subscription_id) == subscription_id)
    return session.exec(statement.order_by(col(WebhookDelivery.id)).limit(limit)).all()


def requeue(
    session: Session, now: datetime, *, subscription_id: int | None, delivery_id: int | None
) -> int:
    """Dead letters back to the queue, their attempts counted again from zero."""
    statement = update(WebhookDelivery).where(col(WebhookDelivery.dead_at).is_not(None))
    if subscription_id is not None:
        statement = statement.where(col(WebhookDelivery.subscription_id) == subscription_id)
    if delivery_id is not None:
        statement = statement.where(col(WebhookDelivery.id) == delivery_id)
    result = session.execute(
        statement.values(dead_at=None, attempts=0, next_attempt_at=now, leased_until=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
