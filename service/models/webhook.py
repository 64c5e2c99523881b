"""The outbox of case events for other systems, the subscriptions, and the deliveries waiting.

`webhook_outbox` is written by `audit/log.py` in the event's own transaction: one small row per
case event, whoever subscribes. The delivery worker (`service/webhooks/`) fans each row out into
one `webhook_delivery` per matching subscription and deletes it; a delivery is deleted when the
receiver accepts it. Both tables are therefore the backlog, never a history (the audit log is).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    LargeBinary,
    UniqueConstraint,
    Uuid,
)
from sqlmodel import Field, SQLModel

from service.models.base import BigIntegerPK, UTCDateTime, utcnow


class WebhookOutbox(SQLModel, table=True):
    """A case event not yet fanned out, with what the case was when it happened (its phase,
    lead ministry and unit move on after). The event itself is `case_event` (stream, seq)."""

    __tablename__ = "webhook_outbox"

    id: int | None = Field(default=None, sa_column=Column(BigIntegerPK, primary_key=True))
    case_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    stream_seq: int
    state: str = Field(max_length=64)
    phase: str = Field(max_length=20)
    ministry: str = Field(max_length=20)
    unit_id: int


class WebhookSubscription(SQLModel, table=True):
    """A receiver of events: where, which kinds, which ministry or region, and its secret
    (sealed under NRM_DATA_KEY: the service signs with it, nobody reads it back)."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=200)
    event_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    ministry: str | None = Field(default=None, max_length=20)
    region_code: str | None = Field(default=None, max_length=5)
    is_active: bool = Field(default=True)
    secret_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscription, until the receiver accepts it. Per (subscription, case)
    only the lowest `stream_seq` is ever sent, so a case's events never overtake each other;
    `dead_at` set: the attempts ran out, and the case's later events wait behind it until an
    admin re-queues it."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "case_id", "stream_seq"),
        Index("ix_webhook_delivery_next_attempt_at", "next_attempt_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntegerPK, primary_key=True))
    subscription_id: int = Field(
        sa_column=Column(ForeignKey("webhook_subscription.id", ondelete="CASCADE"), nullable=False)
    )
    case_id: uuid.UUID = Field(sa_column=Column(Uuid, nullable=False))
    stream_seq: int
    # case_event.seq: the message id (`webhook-id`) a receiver deduplicates on
    event_seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    leased_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    dead_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
