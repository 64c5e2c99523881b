"""Ministry queues, assignment and escalation lists: light summaries, never a victim's identity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from schemas.common import CountryCode, Province, StrictModel, examples
from schemas.victim import VictimSummary
from workflows.model import Phase
from workflows.sla import SlaLabel


class CaseSummary(BaseModel):
    id: str
    reference: str
    workflow: str
    workflow_version: int
    state: str
    phase: str
    ministry: str = Field(description="the lead ministry of the current state")
    unit: str | None = Field(default=None, description="the unit the current step belongs to")
    transfer_to: str | None = Field(
        default=None, description="the unit a hand-over waits for, if any"
    )
    transfer_due_at: datetime | None = Field(
        default=None, description="when the waiting hand-over is due to be accepted or declined"
    )
    version: int
    due_at: datetime | None
    state_entered_at: datetime
    overdue: bool = Field(description="the current step is past its due time")
    sla: SlaLabel = Field(description="the highest level the SLA sweep recorded for this step")
    assigned_to: str | None = Field(description="the username of the case worker on the case")
    referral_date: date
    victim: VictimSummary


class CasePage(BaseModel):
    items: list[CaseSummary]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page"
    )


class PageQuery(StrictModel):
    limit: int = Field(default=25, ge=1, description="page size; the server caps it")
    cursor: str | None = Field(
        default=None, max_length=512, description="the previous page's `next_cursor`"
    )


class QueueQuery(PageQuery):
    """Filters of a ministry's queue; a cursor only continues the filters it was made with."""

    state: str | None = Field(default=None, min_length=1, max_length=64)
    phase: Phase | None = None
    overdue: bool | None = None
    assigned: Literal["me", "unassigned"] | None = Field(
        default=None, description="`me`: assigned to the caller; `unassigned`: to nobody"
    )
    child: bool | None = None
    nationality: CountryCode | None = None
    province: Province | None = Field(default=None, description="province of origin")
    referral_from: date | None = Field(default=None, description="referred on or after")
    referral_to: date | None = Field(default=None, description="referred on or before")

    @model_validator(mode="after")
    def _range_is_ordered(self) -> QueueQuery:
        if self.referral_from and self.referral_to and self.referral_from > self.referral_to:
            raise ValueError("referral_from must not be after referral_to")
        return self


class EscalationQuery(PageQuery):
    ministry: str | None = Field(
        default=None, max_length=20, description="lead ministry (Task Force users and auditors)"
    )
    level: Literal["breached", "escalated"] | None = Field(
        default=None,
        description="`breached`: with the lead ministry's supervisors; `escalated`: with the "
        "national Task Force",
    )


class AssignRequest(StrictModel):
    model_config = examples({"assignee": "kemlu.worker", "note": "you met her at the embassy"})

    assignee: str = Field(
        min_length=1, max_length=64, description="username of a case worker of the lead ministry"
    )
    note: str | None = Field(default=None, max_length=2000)
