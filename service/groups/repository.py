"""Queries of group decisions: the group, and its member approvals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, update
from sqlmodel import Session, col, select

from schemas.approval import ApprovalStatus
from service.models import Approval, CaseFile, GroupDecision, UserAccount


def get(session: Session, group_id: uuid.UUID) -> GroupDecision | None:
    return session.get(GroupDecision, group_id)


def member_ids(session: Session, group_id: uuid.UUID, status: str) -> list[tuple[str, str]]:
    """(approval id, case id) of the group's requests in `status`."""
    statement = (
        select(Approval.id, Approval.case_id)
        .where(col(Approval.group_id) == group_id, col(Approval.status) == status)
        .order_by(col(Approval.requested_at), col(Approval.id))
    )
    return [(str(a), str(c)) for a, c in session.exec(statement).all()]


def visible_members(
    session: Session, group_id: uuid.UUID, visible: ColumnElement[bool]
) -> Sequence[tuple[Approval, int, str, str]]:
    """The group's requests on cases that `visible` admits, with the case's version, state and
    reference."""
    statement = (
        select(Approval, CaseFile.version, CaseFile.state, CaseFile.reference)
        .join(CaseFile, col(CaseFile.id) == col(Approval.case_id))
        .where(col(Approval.group_id) == group_id, visible)
        .order_by(col(Approval.requested_at), col(Approval.id))
    )
    return session.exec(statement).all()


def close_if_nothing_waits(session: Session, group_id: uuid.UUID) -> None:
    """A group none of whose cases waits for a decision is done (no approval to give)."""
    waiting = select(Approval.id).where(
        col(Approval.group_id) == group_id, col(Approval.status) == ApprovalStatus.PENDING
    )
    session.execute(
        update(GroupDecision)
        .where(col(GroupDecision.id) == group_id, ~waiting.exists())
        .values(status="done")
    )


def username(session: Session, user_id: int | None) -> str | None:
    user = session.get(UserAccount, user_id) if user_id is not None else None
    return user.username if user else None


def of_ministry(
    session: Session, ministry: str | None, status: str, limit: int
) -> Sequence[GroupDecision]:
    """A ministry's groups in `status`, newest first (all ministries' when `ministry` is None)."""
    statement = select(GroupDecision).where(col(GroupDecision.status) == status)
    if ministry is not None:
        statement = statement.where(col(GroupDecision.ministry) == ministry)
    order = (col(GroupDecision.requested_at).desc(), col(GroupDecision.id).desc())
    return session.exec(statement.order_by(*order).limit(limit)).all()
