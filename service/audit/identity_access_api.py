from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from schemas.common import ErrorRead
from service.audit import identity_access as identity_log
from service.auth.dependencies import Run, run_as

router = APIRouter(prefix="/api/v1/audit/identity-access", tags=["audit"])
RunAsAuditor = Annotated[Run, Depends(run_as("auditor"))]


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
async def search_identity_access(
    run: RunAsAuditor,
    case_id: uuid.UUID | None = None,
    username: str | None = None,
    ministry: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=identity_log.MAX_PAGE)] = 100,
) -> IdentityAccessPage:
    """Who saw a victim's identity, when, on which case and through which endpoint."""
    rows = await run(
        lambda session, _context, _auditor: identity_log.search(
            session,
            case_id=case_id,
            username=username,
            ministry=ministry,
            since=since,
            until=until,
            after_id=after_id,
            limit=limit,
        )
    )
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
