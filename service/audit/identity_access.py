"""Who looked: every time a victim's identity is shown, one row, in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from service.kit.principal import Principal
from service.models import IdentityAccess

MAX_PAGE = 500


def record(
    session: Session, principal: Principal, case_id: uuid.UUID, endpoint: str, at: datetime
) -> None:
    assert principal.user_id is not None, "only people see identities"
    session.add(
        IdentityAccess(
            case_id=case_id,
            user_id=principal.user_id,
            username=principal.username,
            ministry=principal.ministry,
            role=principal.role,
            endpoint=endpoint[:120],
            at=at,
        )
    )


def search(
    session: Session,
    *,
    case_id: uuid.UUID | None = None,
    username: str | None = None,
    ministry: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> Sequence[IdentityAccess]:
    """Oldest first; page with `after_id` (the last id of the previous page)."""
    statement = select(IdentityAccess).order_by(col(IdentityAccess.id)).limit(min(limit, MAX_PAGE))
    filters = {
        IdentityAccess.case_id: case_id,
        IdentityAccess.username: username,
        IdentityAccess.ministry: ministry,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(col(column) == value)
    if since is not None:
        statement = statement.where(col(IdentityAccess.at) >= since)
    if until is not None:
        statement = statement.where(col(IdentityAccess.at) < until)
    if after_id is not None:
        statement = statement.where(col(IdentityAccess.id) > after_id)
    return session.exec(statement).all()
