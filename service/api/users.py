from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from schemas.auth import UserCreate, UserRead
from schemas.common import ErrorRead
from service import accounts
from service.api.deps import ContextDep, SessionDep, require_role
from service.models import UserAccount
from service.principal import Principal

router = APIRouter(prefix="/api/v1/users", tags=["users"])
AdminDep = Annotated[Principal, Depends(require_role("admin"))]


def _read(user: UserAccount) -> UserRead:
    return UserRead.model_validate(user, from_attributes=True)


@router.get("", responses={403: {"model": ErrorRead}})
def list_users(session: SessionDep, _admin: AdminDep) -> list[UserRead]:
    """Every account, without password material."""
    return [_read(user) for user in accounts.list_users(session)]


@router.post("", status_code=201, responses={403: {"model": ErrorRead}, 409: {"model": ErrorRead}})
def create_user(
    body: UserCreate, session: SessionDep, context: ContextDep, _admin: AdminDep
) -> UserRead:
    """Create an account with one role (and one ministry for case workers and supervisors)."""
    return _read(accounts.create_user(session, context, body))
