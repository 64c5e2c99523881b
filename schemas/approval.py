"""Four-eyes approvals of sensitive transitions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from schemas.case import CaseRead
from schemas.common import StrictModel, examples


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"


class ApprovalRead(BaseModel):
    id: str
    case_id: str
    case_reference: str
    trigger: str
    source: str
    dest: str
    payload: dict[str, Any]
    note: str | None
    ministry: str = Field(description="the ministry whose supervisors decide")
    requested_by: str
    requested_at: datetime
    status: ApprovalStatus
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class ApprovalDecision(StrictModel):
    model_config = examples({"reason": "indicators checked against the screening notes"})

    reason: str = Field(min_length=3, max_length=2000, description="recorded with the decision")


class PendingTransitionRead(BaseModel):
    """202: a sensitive transition waits for a second person; the case has not moved yet."""

    status: Literal["pending_approval"] = "pending_approval"
    approval: ApprovalRead
    case: CaseRead


class ApprovalPage(BaseModel):
    items: list[ApprovalRead] = Field(description="oldest request first")
    next_cursor: str | None
