"""Request dependencies: the unit of work, the process context, and who is calling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from service.context import AppContext
from service.db import get_session
from service.errors import Forbidden, NotAuthenticated
from service.models import UserAccount
from service.principal import Principal
from service.security import read_token

SessionDep = Annotated[Session, Depends(get_session, scope="function")]
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def current_principal(
    session: SessionDep, context: ContextDep, token: Annotated[str | None, Depends(_bearer)]
) -> Principal:
    """A valid token of an active user; deactivation takes effect on the next request."""
    if not token:
        raise NotAuthenticated()
    claims = read_token(context.settings.keys.secret_key, token)
    if claims is None:
        raise NotAuthenticated("the token is invalid or has expired")
    user = session.get(UserAccount, claims.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("the token is invalid or has expired")
    return Principal(
        user_id=user.id, username=user.username, role=user.role, ministry=user.ministry
    )


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str) -> Callable[[Principal], Principal]:
    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}")
        return principal

    return check
