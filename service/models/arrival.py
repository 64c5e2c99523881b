"""Mass arrivals: the arrival that groups cases, the manifest rows imported into it, and the
group decisions fired at many cases at once."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow

GROUP_STATUSES = ("pending", "approved", "rejected", "done")  # done: nothing waited


class Arrival(SQLModel, table=True):
    """One group of people received together (a flight, a ship): the manifest's cases hang off
    it. It holds no identity: operation names and ports are not personal data."""

    __tablename__ = "arrival"
    __table_args__ = (Index("ix_arrival_date", "arrival_date", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    arrival_date: date
    place: str = Field(max_length=200)  # the port or airport of arrival
    source_country: str = Field(max_length=2)  # ISO 3166-1 alpha-2
    operation_name: str = Field(max_length=200)
    unit_id: int = Field(foreign_key="unit.id")  # the unit that received them
    ministry: str = Field(max_length=20)  # the ministry of the one who recorded it
    created_by_id: int = Field(foreign_key="user_account.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class ManifestRow(SQLModel, table=True):
    """A manifest row imported into an arrival. `row_key` is a keyed hash of the normalised row
    (no identity can be read back from it): a second upload of the same row finds it taken and
    makes no second case. Written in the same transaction as the row's case."""

    __tablename__ = "manifest_row"
    __table_args__ = (Index("ix_manifest_row_case", "case_id"),)

    arrival_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("arrival.id"), primary_key=True, nullable=False)
    )
    row_key: str = Field(primary_key=True, max_length=64)
    case_id: uuid.UUID | None = Field(default=None, sa_column=Column(ForeignKey("case_file.id")))
    imported_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class GroupDecision(SQLModel, table=True):
    """One trigger with one payload, fired at many cases. A sensitive trigger makes one pending
    approval per case, each naming this group, which a supervisor decides once for all.

    The payload, note and decision's reason live only in the member approvals and events
    (sealed per case, so that erasing a case erases them): no free text of any case is here."""

    __tablename__ = "group_decision"
    __table_args__ = (
        CheckConstraint(f"status IN {GROUP_STATUSES!r}", name="status"),
        Index("ix_group_decision_ministry_status", "ministry", "status"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    trigger: str = Field(max_length=64)
    arrival_id: uuid.UUID | None = Field(default=None, sa_column=Column(ForeignKey("arrival.id")))
    ministry: str = Field(max_length=20)
    requested_by_id: int = Field(foreign_key="user_account.id")
    requested_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    status: str = Field(default="pending", max_length=12)
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
