from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from service.models.base import BigIntegerPK, UTCDateTime


class MinistryMove(SQLModel, table=True):
    """Each creation and each transition to another state (a "move"), once for every ministry
    whose report scope holds its case (`case_ministry`): the index a ministry's monthly report
    counts from, one range of (ministry, kind, at) like the national one on `case_event`.

    Derived from the events, never written by the application: database triggers (migration
    0019_report_counts) add the rows when an event or a `case_ministry` row is inserted (whichever
    comes second makes the pair; a case that joins a ministry's scope later brings its whole
    history with it, as the scope on `case_ministry` always did), and remove them with the
    `case_ministry` row. `reports.repository.rebuild_ministry_moves` recomputes it all from
    the events.
    """

    __tablename__ = "ministry_move"
    __table_args__ = (
        Index("ix_ministry_move_range", "ministry", "kind", "at", "trigger", "from_state",
              "to_state"),
    )  # fmt: skip

    ministry: str = Field(primary_key=True, max_length=20)
    event_seq: int = Field(
        sa_column=Column(BigIntegerPK, primary_key=True, autoincrement=False)
    )  # case_event.seq
    kind: str = Field(max_length=32)
    trigger: str | None = Field(default=None, max_length=64)
    from_state: str | None = Field(default=None, max_length=64)
    to_state: str | None = Field(default=None, max_length=64)
    at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
