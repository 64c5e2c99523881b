from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow

UNIT_LEVELS = ("national", "province", "district", "mission")


class Unit(SQLModel, table=True):
    """An office that does the work: one ministry's unit at one level of government.

    National units have no region; province units carry a province code ("53"), district or
    city units a regency/city code ("53.71"), missions abroad a country. `path` holds the ids
    from the national unit down to this one ("1.5.17"), so that "this unit or one below it" is
    a prefix test; a unit's parent never changes (open a new unit instead).
    """

    __tablename__ = "unit"
    __table_args__ = (
        CheckConstraint(f"level IN {UNIT_LEVELS!r}", name="level"),
        CheckConstraint(
            "(level IN ('province', 'district')) = (region_code IS NOT NULL)", name="region"
        ),
        CheckConstraint("(level = 'mission') = (country IS NOT NULL)", name="country"),
        Index("ix_unit_place", "ministry", "level", "region_code"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=120)
    ministry: str = Field(max_length=20)
    level: str = Field(max_length=12)
    region_code: str | None = Field(default=None, max_length=5)
    country: str | None = Field(default=None, max_length=2)
    parent_id: int | None = Field(default=None, foreign_key="unit.id")
    path: str = Field(default="", max_length=200)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )


class CaseUnit(SQLModel, table=True):
    """Each unit that referred or led the case: who may see the victim's name, and until when.

    `left_at` is when the unit handed the case on (null while it leads, and for the referrer):
    a unit that handed over keeps sight of the identity for a while after (cases/presenters).
    `withdrawn_at` is when a hand-over shown to the unit was declined or sent elsewhere: it
    never led the case and sees no identity since (the row stays for the unit's figures).
    """

    __tablename__ = "case_unit"

    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True)
    )
    unit_id: int = Field(foreign_key="unit.id", primary_key=True, index=True)
    referred: bool = Field(default=False)
    since: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False))
    left_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class CaseEscalation(SQLModel, table=True):
    """Each Task Force unit an overdue step reached: what that Task Force may see (read-only,
    without identity) while the case stays in that step (`reached_at >= state_entered_at`).
    The events on the case's chain are the record; this is their index for reading."""

    __tablename__ = "case_escalation"

    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True)
    )
    unit_id: int = Field(foreign_key="unit.id", primary_key=True, index=True)
    level: str = Field(max_length=12)
    reached_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
