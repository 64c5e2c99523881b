from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, Text, text
from sqlmodel import Field, SQLModel

from schemas.approval import ApprovalStatus
from service.models.base import UTCDateTime, utcnow

APPROVAL_STATUSES = tuple(status.value for status in ApprovalStatus)
PENDING = text("status = 'pending'")


class Approval(SQLModel, table=True):
    """A sensitive transition waiting for a second person: a supervisor of the same ministry.

    At most one is pending per case. Approving re-checks the case and fires the transition.
    """

    __tablename__ = "approval"
    __table_args__ = (
        CheckConstraint(f"status IN {APPROVAL_STATUSES!r}", name="status"),
        Index("ux_approval_one_pending_per_case", "case_id", unique=True,
              sqlite_where=PENDING, postgresql_where=PENDING),
        Index("ix_approval_ministry_status", "ministry", "status"),
        Index("ix_approval_group", "group_id"),
    )  # fmt: skip

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(sa_column=Column(ForeignKey("case_file.id"), nullable=False))
    trigger: str = Field(max_length=64)
    source: str = Field(max_length=64)
    dest: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    consent_override_reason: str | None = Field(default=None, sa_column=Column(Text))
    ministry: str = Field(max_length=20)
    requested_by_id: int = Field(foreign_key="user_account.id")
    requested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    state_entered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    status: str = Field(default=ApprovalStatus.PENDING, max_length=12)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    decision_reason: str | None = Field(default=None, sa_column=Column(Text))
    # the group decision this request is one case of (service/groups/), if any
    group_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("group_decision.id"))
    )
