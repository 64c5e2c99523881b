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
    text,
)
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow

OPEN_CASES = text("due_at IS NOT NULL")


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
    closure_reason: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class Victim(SQLModel, table=True):
    """The person: identity encrypted at rest, the rest (HTCDS context) in clear JSON."""

    __tablename__ = "victim"

    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True)
    )
    identity_ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    profile: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    trafficking: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )


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
