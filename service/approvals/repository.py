"""Queries of approvals: the inbox, oldest request first, as far as the caller may see."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, true, tuple_
from sqlmodel import Session, col, select

from service.kit.errors import InvalidCursor
from service.kit.paging import NOT_OURS
from service.models import Approval, CaseFile

Row = tuple[Approval, CaseFile]
Position = tuple[datetime, uuid.UUID]


def of_ministry(ministry: str | None) -> ColumnElement[bool]:
    return col(Approval.ministry) == ministry


def requested_by(user_id: int | None) -> ColumnElement[bool]:
    return col(Approval.requested_by_id) == user_id


def anyone() -> ColumnElement[bool]:
    return true()


def page(
    session: Session,
    readable: ColumnElement[bool],
    whose: ColumnElement[bool],
    status: str | None,
    after: Position | None,
    limit: int,
) -> Sequence[Row]:
    requested_at, approval_id = col(Approval.requested_at), col(Approval.id)
    statement = (
        select(Approval, CaseFile)
        .join(CaseFile, col(CaseFile.id) == col(Approval.case_id))
        .where(readable, whose)
        .order_by(requested_at, approval_id)
        .limit(limit)
    )
    if status is not None:
        statement = statement.where(col(Approval.status) == status)
    if after is not None:
        statement = statement.where(tuple_(requested_at, approval_id) > tuple_(*after))
    return session.exec(statement).all()


def sort_key(approval: Approval) -> list[str]:
    return [approval.requested_at.isoformat(), approval.id.hex]


def position(after: list[Any] | None) -> Position | None:
    if after is None:
        return None
    try:
        requested_at, approval_id = after
        return datetime.fromisoformat(requested_at), uuid.UUID(hex=approval_id)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidCursor(NOT_OURS) from exc


def by_ids(session: Session, approval_ids: list[uuid.UUID]) -> Sequence[Approval]:
    return session.exec(select(Approval).where(col(Approval.id).in_(approval_ids))).all()
