"""Service requests: the services a victim receives beside the case's main pathway."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from schemas.common import LabelRead, StrictModel, examples

ServiceKind = Literal[
    "health", "psychosocial", "shelter", "social_rehabilitation", "legal_aid", "lpsk_protection",
    "restitution", "family_tracing", "education_vocational", "economic_reintegration",
]  # fmt: skip
BasisWithoutConsent = Literal[
    "contract", "legal_obligation", "vital_interest", "public_task", "legitimate_interest"
]
ServiceAction = Literal["start", "complete", "decline", "withdraw"]


class ServiceRequestCreate(StrictModel):
    """Ask a ministry for a service. Without the victim's consent to share the case with the
    service's owner, name the lawful basis the request rests on (UU 27/2022 Art. 20(2)); the
    definition says which bases each service admits."""

    model_config = examples(
        {"kind": "shelter"},
        {"kind": "health", "emergency": True, "lawful_basis": "vital_interest",
         "note": "injuries from the journey; cannot wait for consent"},
    )  # fmt: skip

    kind: ServiceKind
    emergency: bool = Field(
        default=False, description="urgent: the service's shorter start (health care: 24 hours)"
    )
    lawful_basis: BasisWithoutConsent | None = Field(
        default=None, description="required when the owner has no consent to share the case"
    )
    to_unit: str | None = Field(
        default=None, max_length=40, description="the owning ministry's unit to ask (its code)"
    )
    note: str | None = Field(default=None, max_length=2000)


class ServiceRequestChange(StrictModel):
    """Move a request on: start, complete, decline (the provider) or withdraw."""

    model_config = examples({"expected_version": 1}, {"expected_version": 2, "note": "done"})

    expected_version: int = Field(ge=1, description="the request's version as last read")
    note: str | None = Field(default=None, max_length=2000)


class ServiceRequestRead(BaseModel):
    id: str
    case_id: str
    case_reference: str
    kind: str
    label: LabelRead
    ministry: str = Field(description="the ministry that provides the service")
    unit: str = Field(description="the unit that owns the request")
    status: str = Field(description="requested, started, completed, declined or withdrawn")
    emergency: bool
    lawful_basis: str = Field(description="consent, or the basis it rests on without consent")
    legal_basis: str = Field(description="the law behind its start deadline")
    requested_at: datetime
    start_due_at: datetime = Field(description="when it must have started")
    started_at: datetime | None
    ended_at: datetime | None
    sla: str = Field(description="on_track, warning, breached or escalated: the start clock")
    late_start: bool = Field(description="not started by its start_due_at (or started late)")
    version: int


class ServiceRequestList(BaseModel):
    items: list[ServiceRequestRead]
    next_cursor: str | None = None
