"""A service a victim receives beside the case's main pathway (a definition's `services:`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, SmallInteger, text
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime
from workflows.services import SERVICE_STATUSES

SERVICE_SLA_PENDING = text("sla_next_at IS NOT NULL")
OPEN_SERVICES = text("status IN ('requested', 'started')")


class ServiceRequest(SQLModel, table=True):
    """One request for one service (health, shelter, LPSK protection, ...) of one case.

    It must START by `start_due_at` (UU 21/2007 Art. 52(1)); once started it has no clock. Its
    owner is a ministry and one of its units (cases/routing.py picks it). Every change appends
    an event to the case's chain in the same transaction, so the case row's compare-and-set
    keeps two writers from both moving it; `version` counts the changes a user made (what a
    client names as `expected_version`; the sweep's SLA columns do not count).
    `sla_level`/`sla_next_at` are the SLA sweep's, as on the case row: what it has recorded of
    the start clock, and when the next stage falls due (null once started or ended).
    """

    __tablename__ = "service_request"
    __table_args__ = (
        CheckConstraint(f"status IN {SERVICE_STATUSES!r}", name="status"),
        Index("ix_service_request_case", "case_id", "requested_at"),
        Index("ix_service_request_unit_queue", "unit_id", "start_due_at", "id",
              sqlite_where=OPEN_SERVICES, postgresql_where=OPEN_SERVICES),
        Index("ix_service_request_sla_next", "sla_next_at", "id",
              sqlite_where=SERVICE_SLA_PENDING, postgresql_where=SERVICE_SLA_PENDING),
    )  # fmt: skip

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=32)
    ministry: str = Field(max_length=20)
    unit_id: int = Field(foreign_key="unit.id")
    status: str = Field(max_length=12)
    emergency: bool = Field(default=False)
    # UU 27/2022 Art. 20(2): consent, or the basis a request rests on without it.
    lawful_basis: str = Field(max_length=24)
    # None: opened by a workflow migration (its event names who ran it), not asked for by a user.
    requested_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    requested_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    start_due_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    version: int = Field(default=1)
    sla_level: int = Field(
        default=0, sa_column=Column(SmallInteger, nullable=False, server_default="0")
    )
    sla_next_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The Task Force unit the late start last reached (it may read the case while it waits).
    escalated_unit_id: int | None = Field(default=None, foreign_key="unit.id")
