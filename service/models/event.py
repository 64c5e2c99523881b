from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from service.models.base import BigIntegerPK, UTCDateTime


class CaseEvent(SQLModel, table=True):
    """The append-only log: every creation, transition and action, hash-chained per stream.

    A stream is a case (its id) or a named log such as "users". `hash` covers the event's
    canonical serialisation and `prev_hash`, so a rewrite anywhere breaks the chain after it.
    """

    __tablename__ = "case_event"
    __table_args__ = (
        UniqueConstraint("stream", "stream_seq"),
        # the auditor's searches (service/audit/repository.py), each in seq order
        Index("ix_case_event_actor_seq", "actor", "seq"),
        Index("ix_case_event_ministry_seq", "ministry", "seq"),
        Index("ix_case_event_at", "at"),
        # the reports' monthly milestones (service/reports/repository.py): every column the
        # aggregate reads, so a million events are counted from the index alone
        Index("ix_case_event_moves", "kind", "at", "trigger", "from_state", "to_state",
              "case_id"),
    )  # fmt: skip

    seq: int | None = Field(default=None, sa_column=Column(BigIntegerPK, primary_key=True))
    stream: str = Field(max_length=40)
    stream_seq: int
    case_id: uuid.UUID | None = Field(
        default=None, sa_column=Column(ForeignKey("case_file.id"), index=True)
    )
    kind: str = Field(max_length=32)
    trigger: str | None = Field(default=None, max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str | None = Field(default=None, max_length=64)
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor: str = Field(max_length=64)
    actor_role: str = Field(max_length=20)
    ministry: str | None = Field(default=None, max_length=20)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str | None = Field(default=None, sa_column=Column(Text))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditStream(SQLModel, table=True):
    """The head of a named stream (not a case): its length and last hash, locked to append.

    Cases keep their head on the case row itself, so that a transition locks one row only.
    """

    __tablename__ = "audit_stream"

    stream: str = Field(primary_key=True, max_length=40)
    event_count: int = Field(default=0)
    head_hash: str = Field(max_length=64)
