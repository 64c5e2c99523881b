from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from schemas.auth import TokenRead
from schemas.common import ErrorRead
from service import accounts
from service.api.deps import ContextDep, SessionDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", responses={401: {"model": ErrorRead}})
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    context: ContextDep,
) -> TokenRead:
    """Exchange a username and password for a short-lived bearer token."""
    return accounts.log_in(session, context, form.username, form.password)
