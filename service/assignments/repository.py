"""Queries of assignment: who may be given a case, and who holds one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from schemas.auth import Role
from service.models import CaseFile, UserAccount


def active_case_worker(session: Session, username: str, ministry: str) -> UserAccount | None:
    statement = select(UserAccount).where(
        col(UserAccount.username) == username,
        col(UserAccount.role) == Role.CASE_WORKER,
        col(UserAccount.ministry) == ministry,
        col(UserAccount.is_active).is_(True),
    )
    return session.exec(statement).first()


def username_of(session: Session, user_id: int | None) -> str | None:
    """Never flushes: inside a transition the case row must reach its compare-and-set intact."""
    if user_id is None:
        return None
    with session.no_autoflush:
        user = session.get(UserAccount, user_id)
    return user.username if user else None


def case_workers_of(session: Session, ministry: str, limit: int) -> list[str]:
    statement = (
        select(UserAccount.username)
        .where(
            col(UserAccount.role) == "case_worker",
            col(UserAccount.ministry) == ministry,
            col(UserAccount.is_active).is_(True),
        )
        .order_by(col(UserAccount.username))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def assigned_to(session: Session, user_id: int) -> Sequence[CaseFile]:
    """The open cases assigned to the user, locked for the change."""
    statement = (
        select(CaseFile)
        .where(col(CaseFile.assigned_to_id) == user_id, col(CaseFile.due_at).is_not(None))
        .with_for_update()
    )
    return session.exec(statement).all()
