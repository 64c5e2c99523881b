"""Queries of user administration."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from service.models import UserAccount


def users_after(session: Session, after_id: int, limit: int) -> Sequence[UserAccount]:
    statement = (
        select(UserAccount)
        .where(col(UserAccount.id) > after_id)
        .order_by(col(UserAccount.id))
        .limit(limit)
    )
    return session.exec(statement).all()
