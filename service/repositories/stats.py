"""The history read for figures: the state-entering events of the cases a ministry touched."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlmodel import Session, col

from service.models import CaseEvent, CaseFile, CaseMinistry

STATE_EVENT_KINDS = ("created", "transition")


class StateEntry(NamedTuple):
    case_id: uuid.UUID
    workflow_name: str
    workflow_version: int
    state: str
    at: datetime


def state_entries(session: Session, ministry: str, until: datetime) -> Iterator[StateEntry]:
    """Every entry into a state before `until`, grouped by case, oldest first within a case.

    Only the cases `ministry` referred or led (`case_ministry`) are read; of `case_file`, only
    the immutable pin to a definition version is used, never its mutable state columns.
    """
    event = CaseEvent
    touched = select(col(CaseMinistry.case_id)).where(col(CaseMinistry.ministry) == ministry)
    statement = (
        select(
            col(event.case_id),
            col(CaseFile.workflow_name),
            col(CaseFile.workflow_version),
            col(event.to_state),
            col(event.at),
        )
        .join(CaseFile, col(CaseFile.id) == col(event.case_id))
        .where(
            col(event.case_id).in_(touched),
            col(event.kind).in_(STATE_EVENT_KINDS),
            col(event.to_state).is_not(None),
            or_(col(event.from_state).is_(None), col(event.from_state) != col(event.to_state)),
            col(event.at) < until,
        )
        .order_by(col(event.case_id), col(event.seq))
        .execution_options(yield_per=5000)
    )
    for case_id, name, version, state, at in session.execute(statement):
        assert case_id is not None and state is not None
        yield StateEntry(case_id, name, version, state, at)
