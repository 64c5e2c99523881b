"""Webhook subscriptions (admins), their dead letters, and re-queueing them.

Every create, change, deletion and re-queue is an event on the audit log's `webhooks` stream:
who pointed case events where, and when. The secret is returned once, at creation; it is kept
sealed under NRM_DATA_KEY because the service must sign with it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from schemas.webhook import (
    DeadLetterPage,
    DeadLetterRead,
    Requeued,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPage,
    SubscriptionRead,
    SubscriptionUpdate,
)
from service.audit.log import append_stream_event
from service.kit.context import AppContext
from service.kit.errors import Invalid, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import WebhookDelivery, WebhookSubscription
from service.webhooks import delivery, signing
from service.webhooks import repository as repo

WEBHOOKS_STREAM = "webhooks"


def list_subscriptions(
    session: Session, context: AppContext, cursor: str | None, limit: int
) -> SubscriptionPage:
    paging = Paging.of(
        context.settings.keys.secret_key, scope_of(list="webhook_subscriptions"), cursor, limit,
        context.settings.queue_page_max,
    )  # fmt: skip
    rows = repo.subscriptions_after(session, paging.after_number(), paging.fetch)
    page, next_cursor = paging.page(rows, lambda sub: [sub.id or 0])
    counts = repo.backlog_by_subscription(session, (sub.id or 0 for sub in page))
    return SubscriptionPage(
        items=[_present(sub, counts.get(sub.id or 0, (0, 0))) for sub in page],
        next_cursor=next_cursor,
    )


def get_subscription(session: Session, subscription_id: int) -> SubscriptionRead:
    sub = _subscription(session, subscription_id)
    return _present(
        sub, repo.backlog_by_subscription(session, [subscription_id]).get(subscription_id, (0, 0))
    )


def create_subscription(
    session: Session, context: AppContext, admin: Principal, body: SubscriptionCreate
) -> SubscriptionCreated:
    """A new receiver; it hears of the events fanned out from now on."""
    if body.ministry is not None and body.ministry not in context.registry.ministries():
        known = ", ".join(sorted(context.registry.ministries()))
        raise Invalid(f"ministry: {body.ministry!r} is not a ministry code ({known})")
    secret = signing.new_secret()
    now = context.clock()
    sub = WebhookSubscription(
        url=body.url, description=body.description, event_kinds=body.event_kinds,
        ministry=body.ministry, region_code=body.region_code, is_active=True,
        secret_sealed=delivery.seal_secret(context.cipher, secret),
        created_by_id=admin.user_id or 0, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(sub)
    session.flush()
    _record(session, context, admin, "webhook_subscription_created", sub)
    read = _present(sub, (0, 0))
    return SubscriptionCreated(**read.model_dump(), secret=secret)


def update_subscription(
    session: Session, context: AppContext, admin: Principal, subscription_id: int,
    body: SubscriptionUpdate,
) -> SubscriptionRead:  # fmt: skip
    """Change the URL, the kinds or the description, or pause (events keep queueing) and
    resume."""
    sub = _subscription(session, subscription_id)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if not changes:
        raise Invalid("body: nothing to change")
    for name, value in changes.items():
        setattr(sub, name, value)
    sub.updated_at = context.clock()
    session.add(sub)
    session.flush()
    _record(session, context, admin, "webhook_subscription_updated", sub, changed=sorted(changes))
    return get_subscription(session, subscription_id)


def delete_subscription(
    session: Session, context: AppContext, admin: Principal, subscription_id: int
) -> None:
    """Remove a receiver and every delivery still waiting for it."""
    sub = _subscription(session, subscription_id)
    _record(session, context, admin, "webhook_subscription_deleted", sub)
    repo.drop_deliveries(session, subscription_id)
    session.delete(sub)
    session.flush()


def list_dead_letters(
    session: Session, context: AppContext, subscription_id: int | None, cursor: str | None,
    limit: int,
) -> DeadLetterPage:  # fmt: skip
    paging = Paging.of(
        context.settings.keys.secret_key,
        scope_of(list="webhook_dead_letters", subscription=subscription_id), cursor, limit,
        context.settings.queue_page_max,
    )  # fmt: skip
    rows = repo.dead_after(session, subscription_id, paging.after_number(), paging.fetch)
    page, next_cursor = paging.page(rows, lambda row: [row.id or 0])
    return DeadLetterPage(items=[_dead_letter(row) for row in page], next_cursor=next_cursor)


def requeue(
    session: Session, context: AppContext, admin: Principal, *, subscription_id: int | None,
    delivery_id: int | None,
) -> Requeued:  # fmt: skip
    """Dead letters back to the queue (one, one subscription's, or all): tried again at once,
    with their attempts counted afresh; the case's later events follow them."""
    if subscription_id is not None:
        _subscription(session, subscription_id)
    count = repo.requeue(
        session, context.clock(), subscription_id=subscription_id, delivery_id=delivery_id
    )
    if delivery_id is not None and count == 0:
        raise NotFound("dead letter not found")
    append_stream_event(
        session, WEBHOOKS_STREAM, actor=admin, at=context.clock(), kind="webhook_requeued",
        payload={"subscription_id": subscription_id, "delivery_id": delivery_id, "count": count},
    )  # fmt: skip
    return Requeued(requeued=count)


def reseal_secrets(context: AppContext) -> int:
    """After a data-key rotation (`nrm keys rotate-data-key`): seal every subscription's
    secret again under the current key; how many were sealed again (0 on a second run)."""
    resealed = 0
    with context.database.transaction() as session:
        for sub in repo.all_subscriptions(session):
            if context.cipher.is_current(sub.secret_sealed, delivery.SECRET_BOUND_TO):
                continue
            secret = delivery.open_secret(context.cipher, sub.secret_sealed)
            sub.secret_sealed = delivery.seal_secret(context.cipher, secret)
            session.add(sub)
            resealed += 1
    return resealed


def _subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    sub = repo.subscription(session, subscription_id)
    if sub is None:
        raise NotFound("subscription not found")
    return sub


def _record(
    session: Session, context: AppContext, admin: Principal, kind: str,
    sub: WebhookSubscription, **extra: Any,
) -> None:  # fmt: skip
    append_stream_event(
        session, WEBHOOKS_STREAM, actor=admin, at=context.clock(), kind=kind,
        payload={
            "subscription_id": sub.id, "url": _without_query(sub.url),
            "event_kinds": sub.event_kinds,
            "ministry": sub.ministry, "region_code": sub.region_code,
            "is_active": sub.is_active, **extra,
        },
    )  # fmt: skip


def _without_query(url: str) -> str:
    """The receiver's address as the log keeps it: a query string may hold a token."""
    return urlsplit(url)._replace(query="", fragment="").geturl()


def _present(sub: WebhookSubscription, counts: tuple[int, int]) -> SubscriptionRead:
    return SubscriptionRead(
        id=sub.id or 0, url=sub.url, description=sub.description, event_kinds=sub.event_kinds,
        ministry=sub.ministry, region_code=sub.region_code, is_active=sub.is_active,
        created_at=sub.created_at, updated_at=sub.updated_at, backlog=counts[0],
        dead_letters=counts[1],
    )  # fmt: skip


def _dead_letter(row: WebhookDelivery) -> DeadLetterRead:
    assert row.dead_at is not None
    return DeadLetterRead(
        id=row.id or 0, subscription_id=row.subscription_id,
        message_id=delivery.message_id(row.event_seq), case_id=str(row.case_id),
        seq=row.stream_seq, kind=str(row.payload.get("data", {}).get("kind", "")),
        attempts=row.attempts, last_error=row.last_error, dead_at=row.dead_at,
    )  # fmt: skip
