from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    SmallInteger,
    Text,
    text,
)
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow

OPEN_CASES = text("due_at IS NOT NULL")
ASSIGNED_CASES = text("assigned_to_id IS NOT NULL")
SLA_PENDING = text("sla_next_at IS NOT NULL")
ESCALATED_CASES = text("sla_level >= 2")  # workflows.SlaLevel.BREACHED and above
IN_TRANSFER = text("transfer_to_unit_id IS NOT NULL")


class CaseFile(SQLModel, table=True):
    """The shared record of one victim's case; `case` is a reserved word in SQL.

    Every change to this row appends one event to the case's hash chain, and the row's
    `event_count` is the compare-and-set that keeps two writers from both succeeding.
    """

    __tablename__ = "case_file"
    __table_args__ = (
        ForeignKeyConstraint(
            ["workflow_name", "workflow_version"],
            ["workflow_definition.name", "workflow_definition.version"],
        ),
        Index("ix_case_file_queue", "ministry", "due_at", "id", sqlite_where=OPEN_CASES,
              postgresql_where=OPEN_CASES),
        # Queues, deadlines and escalation: the watch and escalation lists (open cases by due
        # time), "my cases", and the sweep's candidates (the next SLA checkpoint).
        Index("ix_case_file_open", "due_at", "id", sqlite_where=OPEN_CASES,
              postgresql_where=OPEN_CASES),
        Index("ix_case_file_assignee", "assigned_to_id", "due_at", "id",
              sqlite_where=ASSIGNED_CASES, postgresql_where=ASSIGNED_CASES),
        Index("ix_case_file_sla_next", "sla_next_at", "id", sqlite_where=SLA_PENDING,
              postgresql_where=SLA_PENDING),
        Index("ix_case_file_escalated", "due_at", "id", sqlite_where=ESCALATED_CASES,
              postgresql_where=ESCALATED_CASES),
        # Units: a unit's queue, and the hand-overs waiting for a unit to accept them.
        Index("ix_case_file_unit_queue", "unit_id", "due_at", "id", sqlite_where=OPEN_CASES,
              postgresql_where=OPEN_CASES),
        Index("ix_case_file_incoming", "transfer_to_unit_id", "due_at", "id",
              sqlite_where=IN_TRANSFER, postgresql_where=IN_TRANSFER),
    )  # fmt: skip

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        table = cls.__table__  # type: ignore[attr-defined]
        return {"version_id_col": table.c.event_count, "version_id_generator": False}

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    reference: str = Field(max_length=24, unique=True)
    workflow_name: str = Field(max_length=64)
    workflow_version: int
    state: str = Field(max_length=64)
    phase: str = Field(max_length=20)
    ministry: str = Field(max_length=20)
    version: int = Field(default=1)
    event_count: int = Field(default=0)
    head_hash: str = Field(max_length=64)
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    state_entered_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    is_child: bool
    sex: str = Field(max_length=10)
    age_at_intake: int | None = None
    nationality: str = Field(max_length=2)
    province_of_origin: str | None = Field(default=None, max_length=64)
    referring_ministry: str = Field(max_length=20)
    referral_channel: str = Field(max_length=32)
    referral_date: date
    country_of_exploitation: str | None = Field(default=None, max_length=2)
    objects_to_country_notification: bool = Field(default=False)
    legal: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # What the case's processing rests on now (UU 27/2022 Art. 20(2)): "consent" once given, or
    # the basis of the step that moved it without consent (vital_interest, ...).
    lawful_basis: str | None = Field(default=None, max_length=24)
    closure_reason: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    # The case worker of the lead ministry working the case; ends when the case changes hands.
    assigned_to_id: int | None = Field(default=None, foreign_key="user_account.id")
    assigned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # What the SLA sweep has recorded for what the case waits on (the step, or a hand-over:
    # sla/clock.py): 0 on track, 1 warned, 2 breached, 3 + n escalated to the Task Force
    # ladder's rung n; and when the next stage is due. Null: nothing left to record.
    sla_level: int = Field(
        default=0, sa_column=Column(SmallInteger, nullable=False, server_default="0")
    )
    sla_next_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # The unit the current step belongs to (while a hand-over waits: the sender, who keeps
    # responsibility until the receiving unit accepts), the unit that referred the case, and
    # the unit a hand-over waits for.
    unit_id: int = Field(foreign_key="unit.id")
    referring_unit_id: int = Field(foreign_key="unit.id")
    transfer_to_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    transfer_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    transfer_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class Victim(SQLModel, table=True):
    """The person: identity encrypted at rest, the rest (HTCDS context) in clear JSON.

    `data_key` is the case's own key (wrapped by the service's data key) that seals the free
    text of the case's events. Erasure (cases/erasure.py) empties the identity, the profile and
    the key: the events' sealed text can no longer be opened, their hashes still verify.
    """

    __tablename__ = "victim"

    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True)
    )
    identity_ciphertext: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    data_key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    erased_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    # a legal hold (its reason): retention does not erase the case while it is set
    legal_hold: str | None = Field(default=None, sa_column=Column(Text))
    profile: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    trafficking: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    # the blind index of the identity document (cases/duplicates/blind_index.py): an HMAC,
    # never the number; null without a document, and after erasure
    document_index: str | None = Field(default=None, max_length=64, index=True)


class CaseMinistry(SQLModel, table=True):
    """Each ministry that referred or led the case at some step: the memory visibility needs."""

    __tablename__ = "case_ministry"

    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True)
    )
    ministry: str = Field(primary_key=True, max_length=20, index=True)
    since: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))


class Consent(SQLModel, table=True):
    """Consent per purpose and recipient ministry; a withdrawal ends it, nothing is deleted."""

    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    purpose: str = Field(max_length=32)
    recipient: str = Field(max_length=20)
    given_by: str = Field(max_length=24)
    given_on: date
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
