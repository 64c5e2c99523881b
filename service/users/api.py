from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from schemas.auth import (
    AccountDecision,
    AccountRequestPage,
    AccountRequestRead,
    PasswordChange,
    PasswordReset,
    Role,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from schemas.common import ErrorRead
from service.auth.dependencies import Run, RunDep, run_as
from service.users import service as users_service

router = APIRouter(prefix="/api/v1/users", tags=["users"])
RunAsAdmin = Annotated[Run, Depends(run_as(Role.ADMIN))]
# Row ids are 32-bit integers on PostgreSQL (and at most 64-bit on SQLite): a larger one is no id.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}
_PENDING: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    202: {"model": AccountRequestRead, "description": "waits for a second admin"},
}


def _answer(result: UserRead | AccountRequestRead, status_code: int = 200) -> JSONResponse:
    if isinstance(result, AccountRequestRead):
        return JSONResponse(result.model_dump(mode="json"), status_code=202)
    return JSONResponse(result.model_dump(mode="json"), status_code=status_code)


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


@router.post("", status_code=201, response_model=UserRead, responses=_PENDING)
async def create_user(body: UserCreate, run: RunAsAdmin) -> JSONResponse:
    """Create an account with one role (and one ministry for case workers and supervisors);
    a supervisor or admin waits for a second admin (202)."""
    result = await run(
        lambda session, context, admin: users_service.create_user(session, context, admin, body)
    )
    return _answer(result, 201)


@router.patch("/{user_id}", response_model=UserRead, responses=_PENDING)
async def update_user(user_id: RowId, body: UserUpdate, run: RunAsAdmin) -> JSONResponse:
    """Change a role or ministry, or (de)activate; the user's sessions end at once. Making a
    supervisor or admin, moving or reactivating one, or changing an admin waits (202)."""
    result = await run(
        lambda session, context, admin: users_service.update_user(
            session, context, admin, user_id, body
        )
    )
    return _answer(result)


@router.post("/{user_id}/password-reset", response_model=UserRead, responses=_PENDING)
async def reset_password(user_id: RowId, body: PasswordReset, run: RunAsAdmin) -> JSONResponse:
    """Set a temporary password that the user must change at the next login (their sessions
    end); a supervisor's or admin's waits for a second admin (202)."""
    result = await run(
        lambda session, context, admin: users_service.reset_password(
            session, context, admin, user_id, body
        )
    )
    return _answer(result)


@router.post("/me/password", status_code=204, responses=_ERRORS)
async def change_password(body: PasswordChange, run: RunDep) -> Response:
    """Change your own password with the old one; every session of yours ends: log in again."""
    await run(
        lambda session, context, me: users_service.change_password(session, context, me, body)
    )
    return Response(status_code=204)


@router.get("/requests", responses=_ERRORS)
async def list_account_requests(
    run: RunAsAdmin,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, description="capped by the server")] = 100,
) -> AccountRequestPage:
    """Account changes waiting for a second admin, oldest first."""
    return await run.read(
        lambda session, context, _admin: users_service.list_requests(
            session, context, cursor, limit
        )
    )


@router.post("/requests/{request_id}/approve", responses=_ERRORS)
async def approve_account_request(request_id: RowId, run: RunAsAdmin) -> AccountRequestRead:
    """Apply the change as a second admin (not the one who asked, nor the account's user)."""
    return await run(
        lambda session, context, admin: users_service.approve_request(
            session, context, admin, request_id
        )
    )


@router.post("/requests/{request_id}/reject", responses=_ERRORS)
async def reject_account_request(
    request_id: RowId, body: AccountDecision, run: RunAsAdmin
) -> AccountRequestRead:
    """Refuse the change, with a reason; nothing of it applies."""
    return await run(
        lambda session, context, admin: users_service.reject_request(
            session, context, admin, request_id, body.reason
        )
    )
