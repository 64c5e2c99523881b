from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from schemas.auth import UserCreate, UserRead, UserUpdate
from schemas.common import ErrorRead
from service import accounts
from service.api.deps import ContextDep, SessionDep, require_role
from service.models import UserAccount
from service.principal import Principal

router = APIRouter(prefix="/api/v1/users", tags=["users"])
AdminDep = Annotated[Principal, Depends(require_role("admin"))]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


def _read(user: UserAccount) -> UserRead:
    return UserRead.model_validate(user, from_attributes=True)


@router.get("", responses=_ERRORS)
def list_users(session: SessionDep, _admin: AdminDep) -> list[UserRead]:
    """Every account, without password material."""
    return [_read(user) for user in accounts.list_users(session)]


@router.post("", status_code=201, responses=_ERRORS)
def create_user(
    body: UserCreate, session: SessionDep, context: ContextDep, admin: AdminDep
) -> UserRead:
    """Create an account with one role (and one ministry for case workers and supervisors)."""
    return _read(accounts.create_user(session, context, admin, body))


@router.patch("/{user_id}", responses=_ERRORS)
def update_user(
    user_id: int, body: UserUpdate, session: SessionDep, context: ContextDep, admin: AdminDep
) -> UserRead:
    """Change a role or ministry, or (de)activate; the user's sessions end at once."""
    return _read(accounts.update_user(session, context, admin, user_id, body))
