"""Queries of service levels: the cases the sweep must record something for, and the history
read for figures (the state-entering events of the cases a ministry touched).

The sweep's candidates come from `ix_case_file_sla_next`: only cases with something due are
read, however many cases are open.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import or_, select, tuple_
from sqlmodel import Session, col
from sqlmodel import select as sql_select

from service.models import (
    CaseEscalation,
    CaseEvent,
    CaseFile,
    CaseMinistry,
    CaseUnit,
    ServiceRequest,
)

STATE_EVENT_KINDS = ("created", "transition")
UNIT_EVENT_KINDS = (
    "created", "transition", "transfer_accepted", "transfer_declined", "transfer_rerouted",
)  # fmt: skip


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


class UnitEvent(NamedTuple):
    case_id: uuid.UUID
    workflow_name: str
    workflow_version: int
    kind: str
    from_state: str | None
    to_state: str | None
    at: datetime
    payload: dict[str, Any]


def unit_events(session: Session, unit_ids: list[int], until: datetime) -> Iterator[UnitEvent]:
    """The events that move a step or its lead unit, before `until`, of every case one of the
    units referred, led or was handed (`case_unit`), grouped by case, oldest first."""
    event = CaseEvent
    touched = select(col(CaseUnit.case_id)).where(col(CaseUnit.unit_id).in_(unit_ids))
    statement = (
        select(
            col(event.case_id), col(CaseFile.workflow_name), col(CaseFile.workflow_version),
            col(event.kind), col(event.from_state), col(event.to_state), col(event.at),
            col(event.payload),
        )
        .join(CaseFile, col(CaseFile.id) == col(event.case_id))
        .where(
            col(event.case_id).in_(touched),
            col(event.kind).in_(UNIT_EVENT_KINDS),
            col(event.at) < until,
        )
        .order_by(col(event.case_id), col(event.seq))
        .execution_options(yield_per=5000)
    )  # fmt: skip
    for row in session.execute(statement):
        yield UnitEvent(*row)


def sla_due(
    session: Session, now: datetime, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> Sequence[CaseFile]:
    """Cases with an SLA level due by `now`, locked; rows another sweeper holds are skipped."""
    next_at, case_id = col(CaseFile.sla_next_at), col(CaseFile.id)
    statement = (
        sql_select(CaseFile)
        .where(next_at.is_not(None), next_at <= now)
        .order_by(next_at, case_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if after is not None:
        statement = statement.where(tuple_(next_at, case_id) > tuple_(*after))
    return session.exec(statement).all()


def sla_due_case(session: Session, case_id: uuid.UUID, now: datetime) -> CaseFile | None:
    statement = (
        sql_select(CaseFile)
        .where(col(CaseFile.id) == case_id, col(CaseFile.sla_next_at) <= now)
        .with_for_update()
    )
    return session.exec(statement).first()


def escalations_of(
    session: Session, case_ids: Sequence[uuid.UUID]
) -> dict[tuple[uuid.UUID, int], CaseEscalation]:
    """The Task Force units these cases have reached, by (case, unit): one query per batch."""
    if not case_ids:
        return {}
    statement = sql_select(CaseEscalation).where(col(CaseEscalation.case_id).in_(case_ids))
    return {(row.case_id, row.unit_id): row for row in session.exec(statement)}


def cases_by_id(session: Session, case_ids: set[uuid.UUID]) -> dict[uuid.UUID, CaseFile]:
    """The cases of a batch of service requests, in one query."""
    if not case_ids:
        return {}
    statement = sql_select(CaseFile).where(col(CaseFile.id).in_(case_ids))
    return {case.id: case for case in session.exec(statement)}


def service_sla_due(
    session: Session, now: datetime, after: tuple[datetime, uuid.UUID] | None, limit: int
) -> Sequence[ServiceRequest]:
    """Service requests whose start clock has a stage due by `now`, locked; rows another
    sweeper holds are skipped (the table is the service requests feature's; the sweep reads
    and moves only its SLA columns)."""
    next_at, request_id = col(ServiceRequest.sla_next_at), col(ServiceRequest.id)
    statement = (
        sql_select(ServiceRequest)
        .where(next_at.is_not(None), next_at <= now)
        .order_by(next_at, request_id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if after is not None:
        statement = statement.where(tuple_(next_at, request_id) > tuple_(*after))
    return session.exec(statement).all()
