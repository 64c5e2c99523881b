"""Cases: intake, the case as read, transition commands and history events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from schemas.common import LabelRead, StrictModel, examples
from schemas.duplicate import IntakeWarning
from schemas.referral import ReferralCreate, ReferralRead
from schemas.victim import VictimCreate, VictimRead
from workflows.payload import portable_numbers


class CaseCreate(StrictModel):
    """A referral. `state`, `version`, `ministry` and the rest belong to the server: 422 if sent."""

    model_config = examples(
        {
            "victim": {
                "full_name": "Siti Rahayu",
                "sex": "female",
                "birth_date": "2003-04-12",
                "nationality": "ID",
                "province_of_origin": "Nusa Tenggara Timur",
            },
            "referral": {
                "channel": "embassy",
                "country_of_exploitation": "MM",
                "exploitation_types": ["forced_criminality"],
            },
        }
    )

    victim: VictimCreate
    referral: ReferralCreate
    workflow: str | None = Field(
        default=None, max_length=64, description="defaults to the national mechanism"
    )


class ActionRead(BaseModel):
    """A trigger the caller's ministry may fire from the current state."""

    trigger: str
    dest: str
    label: LabelRead
    sensitive: bool


class CaseRead(BaseModel):
    id: str
    reference: str
    workflow: str
    workflow_version: int
    state: str
    state_label: LabelRead
    phase: str
    ministry: str = Field(description="the lead ministry of the current state")
    unit: str = Field(description="the unit the current step belongs to")
    transfer_to: str | None = Field(
        description="the unit a hand-over waits for: it leads once it accepts"
    )
    transfer_due_at: datetime | None = Field(
        description="when the waiting hand-over is due to be accepted or declined"
    )
    supporting: list[str]
    version: int
    due_at: datetime | None
    state_entered_at: datetime
    sla: str = Field(description="on_track, warning, breached or escalated (the SLA sweep's level)")
    assigned_to: str | None = Field(description="the case worker on the case, if any")
    referring_ministry: str
    closure_reason: str | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    legal: dict[str, Any]
    consent_recipients: list[str] = Field(
        description="ministries the victim currently agrees to share the case with"
    )
    lawful_basis: str | None = Field(
        default=None,
        description="what the case's processing rests on now (UU 27/2022 Art. 20(2)): consent, "
        "or a basis without it such as vital_interest; null when none was recorded",
    )
    victim: VictimRead
    referral: ReferralRead
    actions: list[ActionRead]


class CaseCreated(CaseRead):
    """The registered case, and what the intake noticed (possible duplicates the caller may see);
    a warning never refuses an intake."""

    warnings: list[IntakeWarning] = Field(default_factory=list)


class TransitionRequest(StrictModel):
    model_config = examples(
        {
            "trigger": "begin_screening_abroad",
            "expected_version": 1,
            "payload": {"mission": "KBRI Yangon"},
            "note": "screening at the embassy shelter",
        },
        {"trigger": "identify", "expected_version": 2,
         "payload": {"indicators": ["deceptive_recruitment", "exploitation"]}},
    )  # fmt: skip

    trigger: str = Field(min_length=1, max_length=64)
    to_unit: str | None = Field(
        default=None,
        max_length=40,
        description="the unit the next step goes to (a unit of the ministry that leads it); "
        "by default the service picks the unit nearest the victim",
    )
    expected_version: int = Field(ge=1, description="the case version the caller last saw")
    payload: dict[str, Any] = Field(default_factory=dict)
    note: str | None = Field(default=None, max_length=4000)
    consent_override_reason: str | None = Field(
        default=None,
        min_length=10,
        max_length=2000,
        description="a supervisor's recorded reason to hand over without the victim's consent",
    )

    @field_validator("payload")
    @classmethod
    def _portable_numbers(cls, payload: dict[str, Any]) -> dict[str, Any]:
        """Hashed into the audit log as text: whole numbers within +-(2**53 - 1) only."""
        portable: dict[str, Any] = portable_numbers(payload)
        return portable


class EventRead(BaseModel):
    seq: int
    kind: str
    trigger: str | None
    from_state: str | None
    to_state: str | None
    actor: str
    actor_role: str
    ministry: str | None
    at: datetime
    payload: dict[str, Any]
    note: str | None
    hash: str
    prev_hash: str


class HistoryRead(BaseModel):
    """A page of a case's events, oldest first; `next_cursor` is null on the last page."""

    items: list[EventRead]
    next_cursor: str | None = None
