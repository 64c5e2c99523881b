"""Queries of assignment: who may be given a case, and who holds one."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from schemas.auth import Role
from service.models import CaseFile, Unit, UserAccount


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


def case_workers_of(session: Session, unit_path: str, limit: int) -> list[str]:
    """Active case workers of the unit at `unit_path` or of a unit above it."""
    above = [unit_path.rsplit(".", depth)[0] for depth in range(unit_path.count(".") + 1)]
    statement = (
        select(UserAccount.username)
        .join(Unit, col(Unit.id) == col(UserAccount.unit_id))
        .where(
            col(UserAccount.role) == Role.CASE_WORKER,
            col(UserAccount.is_active).is_(True),
            col(Unit.path).in_(above),
            col(Unit.is_active).is_(True),
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


def unit_path(session: Session, user: UserAccount) -> str | None:
    unit = session.get(Unit, user.unit_id) if user.unit_id is not None else None
    return unit.path if unit is not None and unit.is_active else None
