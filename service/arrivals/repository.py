"""Queries of arrivals and their manifest rows; an arrival's cases as far as the caller may see."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, tuple_
from sqlmodel import Session, col, select

from service.models import Arrival, CaseFile, ManifestRow, Unit, UserAccount


def get(session: Session, arrival_id: uuid.UUID) -> Arrival | None:
    return session.get(Arrival, arrival_id)


def page(
    session: Session, after: tuple[date, uuid.UUID] | None, fetch: int
) -> Sequence[tuple[Arrival, str, str, int]]:
    """Newest arrival first: (arrival, receiving unit's code, recorder's name, cases imported)."""
    statement = _described()
    if after is not None:
        statement = statement.where(
            tuple_(col(Arrival.arrival_date), col(Arrival.id)) < tuple_(*after)
        )
    statement = statement.order_by(col(Arrival.arrival_date).desc(), col(Arrival.id).desc())
    rows: Sequence[tuple[Arrival, str, str, int]] = session.exec(statement.limit(fetch)).all()
    return rows


def described(session: Session, arrival_id: uuid.UUID) -> tuple[Arrival, str, str, int] | None:
    row: tuple[Arrival, str, str, int] | None = session.exec(
        _described().where(col(Arrival.id) == arrival_id)
    ).first()
    return row


def _described() -> Any:
    imported = (
        select(func.count())
        .where(col(ManifestRow.arrival_id) == col(Arrival.id), col(ManifestRow.case_id).isnot(None))
        .scalar_subquery()
    )
    return (
        select(Arrival, Unit.code, UserAccount.username, imported)
        .join(Unit, col(Unit.id) == col(Arrival.unit_id))
        .join(UserAccount, col(UserAccount.id) == col(Arrival.created_by_id))
    )


def imported_case(session: Session, arrival_id: uuid.UUID, row_key: str) -> uuid.UUID | None:
    statement = select(ManifestRow.case_id).where(
        col(ManifestRow.arrival_id) == arrival_id, col(ManifestRow.row_key) == row_key
    )
    return session.exec(statement).first()


def imported_cases(
    session: Session, arrival_id: uuid.UUID, row_keys: list[str]
) -> dict[str, uuid.UUID | None]:
    """Which of these rows the arrival already holds, and their cases."""
    statement = select(ManifestRow.row_key, ManifestRow.case_id).where(
        col(ManifestRow.arrival_id) == arrival_id, col(ManifestRow.row_key).in_(row_keys)
    )
    return dict(session.exec(statement).all())


def cases(
    session: Session,
    arrival_id: uuid.UUID,
    visible: ColumnElement[bool],
    after: str | None,
    fetch: int,
) -> Sequence[CaseFile]:
    """The arrival's cases that `visible` admits, by case id."""
    statement = (
        select(CaseFile)
        .join(ManifestRow, col(ManifestRow.case_id) == col(CaseFile.id))
        .where(col(ManifestRow.arrival_id) == arrival_id, visible)
    )
    if after is not None:
        statement = statement.where(col(CaseFile.id) > uuid.UUID(after))
    return session.exec(statement.order_by(col(CaseFile.id)).limit(fetch)).all()


def forget_row_keys(session: Session, case_id: uuid.UUID) -> None:
    """The manifest rows of an erased case keep their arrival and case but lose the keyed hash
    of the identity: a random key takes its place (a re-upload of the old file would then make
    a new case, as for a person never seen)."""
    rows = session.exec(select(ManifestRow).where(col(ManifestRow.case_id) == case_id)).all()
    for row in rows:
        fresh = "erased-" + secrets.token_hex(16)
        session.add(ManifestRow(arrival_id=row.arrival_id, row_key=fresh, case_id=row.case_id,
                                imported_at=row.imported_at))  # fmt: skip
        session.delete(row)


def state_counts(
    session: Session, arrival_id: uuid.UUID, visible: ColumnElement[bool]
) -> list[tuple[str, int]]:
    """How many of the arrival's cases that `visible` admits are in each state."""
    statement = (
        select(CaseFile.state, func.count())
        .join(ManifestRow, col(ManifestRow.case_id) == col(CaseFile.id))
        .where(col(ManifestRow.arrival_id) == arrival_id, visible)
        .group_by(col(CaseFile.state))
        .order_by(col(CaseFile.state))
    )
    return [(state, int(count)) for state, count in session.exec(statement).all()]


def cases_in_state(
    session: Session, arrival_id: uuid.UUID, visible: ColumnElement[bool], state: str, limit: int
) -> Sequence[CaseFile]:
    """The arrival's cases in `state` that `visible` admits, by reference."""
    statement = (
        select(CaseFile)
        .join(ManifestRow, col(ManifestRow.case_id) == col(CaseFile.id))
        .where(col(ManifestRow.arrival_id) == arrival_id, col(CaseFile.state) == state, visible)
        .order_by(col(CaseFile.reference))
        .limit(limit)
    )
    return session.exec(statement).all()
