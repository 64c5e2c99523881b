"""Webhooks: subscriptions of other systems to case events, and the deliveries that failed."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator

from schemas.common import StrictModel, examples
from schemas.unit import REGION_CODE

# Every kind of case event (the audit log's `kind`), which a subscription may filter on.
EVENT_KINDS = (
    "created", "transition", "approval_requested", "approval_approved", "approval_rejected",
    "approval_cancelled", "assigned", "unassigned", "transfer_accepted", "transfer_declined",
    "transfer_rerouted", "sla_warning", "sla_breach", "escalated", "legal_hold_set",
    "legal_hold_released", "erased", "workflow_migrated", "service_requested", "service_started",
    "service_completed", "service_declined", "service_withdrawn", "service_sla_warning",
    "service_sla_breach", "service_escalated", "duplicate_linked", "duplicate_dismissed",
    "legal_linked", "legal_record", "lpsk_deadline_breach",
)  # fmt: skip


def _receiver_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https"):
        raise ValueError("url: only http:// and https:// receivers are accepted")
    if not parts.hostname:
        raise ValueError("url: names no host")
    if parts.username or parts.password:
        raise ValueError("url: carries credentials; receivers verify the signature instead")
    return value


def _kinds(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    unknown = sorted(set(value) - set(EVENT_KINDS))
    if unknown:
        raise ValueError(
            f"event_kinds: unknown {', '.join(unknown)} (one of {', '.join(EVENT_KINDS)})"
        )
    return sorted(set(value))


class SubscriptionCreate(StrictModel):
    model_config = examples(
        {"url": "https://dashboard.ntt.example/nrm-events", "description": "NTT dashboard",
         "event_kinds": ["created", "transition"], "region_code": "53"}
    )  # fmt: skip

    url: str = Field(max_length=2000, description="http or https; receives signed POSTs")
    description: str = Field(
        default="", max_length=200, description="who receives, no personal data"
    )
    event_kinds: list[str] = Field(
        default_factory=list, max_length=len(EVENT_KINDS), description="empty: every kind"
    )
    ministry: str | None = Field(
        default=None, max_length=20, description="only cases this ministry leads at the event"
    )
    region_code: str | None = Field(
        default=None, pattern=REGION_CODE,
        description="only cases whose unit is in this province or regency (Kemendagri code)",
    )  # fmt: skip

    check_url = field_validator("url")(_receiver_url)
    check_kinds = field_validator("event_kinds")(_kinds)


class SubscriptionUpdate(StrictModel):
    model_config = examples({"is_active": False}, {"event_kinds": ["transition"]})

    url: str | None = Field(default=None, max_length=2000)
    description: str | None = Field(default=None, max_length=200)
    event_kinds: list[str] | None = Field(default=None, max_length=len(EVENT_KINDS))
    is_active: bool | None = Field(default=None, description="false: paused (events queue)")

    @field_validator("url")
    @classmethod
    def check_url(cls, value: str | None) -> str | None:
        return None if value is None else _receiver_url(value)

    check_kinds = field_validator("event_kinds")(_kinds)


class SubscriptionRead(BaseModel):
    id: int
    url: str
    description: str
    event_kinds: list[str]
    ministry: str | None
    region_code: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    backlog: int = Field(description="deliveries waiting, dead letters included")
    dead_letters: int


class SubscriptionCreated(SubscriptionRead):
    secret: str = Field(
        description="whsec_...: verifies the `webhook-signature` header (Standard Webhooks); "
        "shown this once, never again"
    )


class SubscriptionPage(BaseModel):
    items: list[SubscriptionRead]
    next_cursor: str | None


class DeadLetterRead(BaseModel):
    id: int
    subscription_id: int
    message_id: str = Field(description="the `webhook-id` the receiver deduplicates on")
    case_id: str
    seq: int = Field(description="the event's number on its case")
    kind: str
    attempts: int
    last_error: str | None
    dead_at: datetime


class DeadLetterPage(BaseModel):
    items: list[DeadLetterRead]
    next_cursor: str | None


class Requeued(BaseModel):
    requeued: int
