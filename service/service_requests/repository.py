"""Every query of service requests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, tuple_
from sqlmodel import Session, col, select

from service.models import CaseFile, ServiceRequest, Unit
from workflows.services import OPEN_STATUSES


def of_case(session: Session, case_id: uuid.UUID) -> Sequence[tuple[ServiceRequest, str]]:
    """A case's requests with their owning unit's code, oldest first."""
    statement = (
        select(ServiceRequest, Unit.code)
        .join(Unit, col(Unit.id) == col(ServiceRequest.unit_id))
        .where(col(ServiceRequest.case_id) == case_id)
        .order_by(col(ServiceRequest.requested_at), col(ServiceRequest.id))
    )
    return session.exec(statement).all()


def one(session: Session, case_id: uuid.UUID, request_id: uuid.UUID) -> ServiceRequest | None:
    statement = select(ServiceRequest).where(
        col(ServiceRequest.id) == request_id, col(ServiceRequest.case_id) == case_id
    )
    return session.exec(statement).first()


def open_kinds(session: Session, case_id: uuid.UUID) -> set[str]:
    statement = select(ServiceRequest.kind).where(
        col(ServiceRequest.case_id) == case_id, col(ServiceRequest.status).in_(OPEN_STATUSES)
    )
    return set(session.exec(statement).all())


class Position(NamedTuple):
    start_due_at: datetime
    request_id: uuid.UUID


def open_for_unit(
    session: Session, unit_path: str, after: Position | None, limit: int
) -> Sequence[tuple[ServiceRequest, str, str]]:
    """Open requests owned by the unit at `unit_path` or a unit below it, the earliest start
    deadline first; with the owning unit's code and the case's reference."""
    statement = (
        select(ServiceRequest, Unit.code, CaseFile.reference)
        .join(Unit, col(Unit.id) == col(ServiceRequest.unit_id))
        .join(CaseFile, col(CaseFile.id) == col(ServiceRequest.case_id))
        .where(
            col(ServiceRequest.status).in_(OPEN_STATUSES),
            or_(col(Unit.path) == unit_path, col(Unit.path).startswith(unit_path + ".")),
        )
        .order_by(col(ServiceRequest.start_due_at), col(ServiceRequest.id))
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            tuple_(col(ServiceRequest.start_due_at), col(ServiceRequest.id)) > tuple_(*after)
        )
    return session.exec(statement).all()


def starts_between(
    session: Session, start: datetime, until: datetime, ministry: str | None
) -> Sequence[tuple[datetime, datetime]]:
    """(started_at, start_due_at) of the requests started in [start, until), of one providing
    ministry or of all."""
    statement = select(ServiceRequest.started_at, ServiceRequest.start_due_at).where(
        col(ServiceRequest.started_at) >= start, col(ServiceRequest.started_at) < until
    )
    if ministry is not None:
        statement = statement.where(col(ServiceRequest.ministry) == ministry)
    return [(row[0], row[1]) for row in session.execute(statement).all() if row[0] is not None]
