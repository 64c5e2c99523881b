"""Who looked: every time a victim's identity is shown, one row, in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from service.audit.filters import IdentityAccessFilter
from service.kit.principal import Principal
from service.models import IdentityAccess


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
    where: IdentityAccessFilter,
    after_id: int,
    limit: int,
) -> Sequence[IdentityAccess]:
    """Oldest first, after the row `after_id` (the last row of the previous page)."""
    statement = (
        select(IdentityAccess)
        .where(col(IdentityAccess.id) > after_id)
        .order_by(col(IdentityAccess.id))
        .limit(limit)
    )
    filters = {
        IdentityAccess.case_id: where.case_id,
        IdentityAccess.username: where.username,
        IdentityAccess.ministry: where.ministry,
    }
    for column, value in filters.items():
        if value is not None:
            statement = statement.where(col(column) == value)
    if where.since is not None:
        statement = statement.where(col(IdentityAccess.at) >= where.since)
    if where.until is not None:
        statement = statement.where(col(IdentityAccess.at) < where.until)
    return session.exec(statement).all()
