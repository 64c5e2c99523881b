from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from schemas.auth import Role, UserCreate, UserPage, UserRead, UserUpdate
from schemas.common import ErrorRead
from service.auth.dependencies import Run, run_as
from service.users import service as users_service

router = APIRouter(prefix="/api/v1/users", tags=["users"])
RunAsAdmin = Annotated[Run, Depends(run_as(Role.ADMIN))]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


@router.get("", responses=_ERRORS)
async def list_users(
    run: RunAsAdmin,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, description="capped by the server")] = 100,
) -> UserPage:
    """The accounts, oldest first, without password material."""
    return await run.read(
        lambda session, context, _admin: users_service.list_users(session, context, cursor, limit)
    )


@router.post("", status_code=201, responses=_ERRORS)
async def create_user(body: UserCreate, run: RunAsAdmin) -> UserRead:
    """Create an account with one role (and one ministry for case workers and supervisors)."""
    return await run(
        lambda session, context, admin: users_service.create_user(session, context, admin, body)
    )


@router.patch("/{user_id}", responses=_ERRORS)
async def update_user(user_id: int, body: UserUpdate, run: RunAsAdmin) -> UserRead:
    """Change a role or ministry, or (de)activate; the user's sessions end at once."""
    return await run(
        lambda session, context, admin: users_service.update_user(
            session, context, admin, user_id, body
        )
    )
