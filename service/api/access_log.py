from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from schemas.common import ErrorRead
from service import identity_log
from service.api.deps import SessionDep, require_role
from service.principal import Principal
from service.repositories.cases import parse_case_id

router = APIRouter(prefix="/api/v1/audit/identity-access", tags=["audit"])
AuditorDep = Annotated[Principal, Depends(require_role("auditor"))]


class IdentityAccessRead(BaseModel):
    id: int
    case_id: str
    username: str
    ministry: str | None
    role: str
    endpoint: str
    at: datetime


class IdentityAccessPage(BaseModel):
    items: list[IdentityAccessRead]
    next_after_id: int | None


_ERRORS: dict[int | str, dict[str, Any]] = {403: {"model": ErrorRead}}


@router.get("", responses=_ERRORS)
def search_identity_access(
    session: SessionDep,
    _auditor: AuditorDep,
    case_id: str | None = None,
    username: str | None = None,
    ministry: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=identity_log.MAX_PAGE)] = 100,
) -> IdentityAccessPage:
    """Who saw a victim's identity, when, on which case and through which endpoint."""
    case_uuid = parse_case_id(case_id) if case_id else None
    if case_id and case_uuid is None:
        return IdentityAccessPage(items=[], next_after_id=None)
    rows = identity_log.search(
        session, case_id=case_uuid, username=username, ministry=ministry, since=since,
        until=until, after_id=after_id, limit=limit,
    )  # fmt: skip
    items = [
        IdentityAccessRead(
            id=row.id or 0,
            case_id=str(row.case_id),
            username=row.username,
            ministry=row.ministry,
            role=row.role,
            endpoint=row.endpoint,
            at=row.at,
        )
        for row in rows
    ]
    return IdentityAccessPage(
        items=items, next_after_id=items[-1].id if len(items) == limit else None
    )
