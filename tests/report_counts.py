"""The monthly figures and `ministry_move` computed the straightforward way, one event at a
time, for tests to hold the reports' fast paths against."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from schemas.common import WIB
from service.kit.context import AppContext
from service.models import CaseEvent, CaseMinistry
from service.reports.figures import MILESTONES, StateMap, monthly, months_between
from service.reports.repository import EventGroup, ministry_moves, rebuild_ministry_moves


def counted_from_events(
    session: Session, context: AppContext, ministry: str, period: dict[str, str], now: datetime
) -> dict[str, dict[str, int]]:
    """The milestones per WIB month in `period` (as of `now`), straight from every event of
    every case whose scope (`case_ministry`) includes `ministry`."""
    first, last = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
    start = datetime.combine(first, time(), WIB)
    until = min(datetime.combine(last + timedelta(days=1), time(), WIB), now)
    cases = set(session.exec(select(CaseMinistry.case_id)
                             .where(CaseMinistry.ministry == ministry)).all())  # fmt: skip
    groups = []
    for event in session.exec(select(CaseEvent)).all():
        moved = event.kind == "created" or (
            event.kind == "transition" and event.from_state != event.to_state
        )
        if event.case_id in cases and moved and start <= event.at < until:
            month = event.at.astimezone(WIB).strftime("%Y-%m")
            groups.append(EventGroup(month, event.kind, event.trigger, event.from_state,
                                     event.to_state, 1))  # fmt: skip
    counts = monthly(groups, StateMap.of(context.registry.definitions()))
    return {month: dict(counts.get(month, dict.fromkeys(MILESTONES, 0)))
            for month, _ in months_between(first, last)}  # fmt: skip


def moves_of(session: Session, case_id: str) -> int:
    """A case's creation and transitions to another state."""
    moved = (CaseEvent.kind == "created") | (
        (CaseEvent.kind == "transition") & (CaseEvent.from_state != CaseEvent.to_state)
    )
    where = (CaseEvent.case_id == uuid.UUID(case_id), moved)
    return session.exec(select(func.count()).select_from(CaseEvent).where(*where)).one()


def kept_moves(session: Session) -> list[tuple[Any, ...]]:
    """Every row of `ministry_move`, in order."""
    return sorted(ministry_moves(session))


def rebuilt_and_kept(session: Session) -> list[tuple[Any, ...]]:
    """`ministry_move` recomputed from the events, its rows."""
    count = rebuild_ministry_moves(session)
    rows = kept_moves(session)
    assert count == len(rows)
    return rows
