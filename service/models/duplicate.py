from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.base import UTCDateTime, utcnow

MATCH_STATUSES = ("open", "linked", "dismissed")


class VictimBlock(SQLModel, table=True):
    """A coarse, keyed feature of a victim (a name token with a birth year or a province, as
    an HMAC): the fuzzy search decrypts only the victims that share one with the newcomer."""

    __tablename__ = "victim_block"

    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True)
    )
    block: str = Field(sa_column=Column(String(32), primary_key=True, index=True))


class DuplicateMatch(SQLModel, table=True):
    """Two cases that may be one person, found at the intake of `case_id`: open until a
    reviewer links them (one victim, two referrals) or dismisses the match."""

    __tablename__ = "duplicate_match"
    __table_args__ = (
        CheckConstraint(f"status IN {MATCH_STATUSES!r}", name="status"),
        UniqueConstraint("case_id", "other_case_id"),
        Index("ix_duplicate_match_status", "status", "id"),
        Index("ix_duplicate_match_other", "other_case_id"),
    )  # fmt: skip

    id: int | None = Field(default=None, primary_key=True)
    case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False)
    )
    other_case_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("case_file.id", ondelete="CASCADE"), nullable=False)
    )
    score: int
    basis: str = Field(max_length=12)  # "document" (equal blind index) or "name"
    status: str = Field(default="open", max_length=12)
    found_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime, nullable=False)
    )
    decided_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
