"""Request dependencies: the unit of work, the process context, and who is calling."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from service import accounts
from service.context import AppContext
from service.db import get_session
from service.errors import Forbidden, NotAuthenticated
from service.models import utcnow
from service.principal import Principal
from service.security import TokenClaims, read_token

SessionDep = Annotated[Session, Depends(get_session, scope="function")]
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_context(request: Request) -> AppContext:
    """`async`, like every dependency that does no I/O: no thread-pool hop for nothing."""
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


async def token_claims(
    context: ContextDep, token: Annotated[str | None, Depends(_bearer)]
) -> TokenClaims:
    if not token:
        raise NotAuthenticated()
    claims = read_token(context.settings.keys.secret_key, token)
    if claims is None:
        raise NotAuthenticated("the token is invalid or has expired")
    return claims


ClaimsDep = Annotated[TokenClaims, Depends(token_claims)]


def current_principal(session: SessionDep, claims: ClaimsDep) -> Principal:
    """A valid token of an active user in an open session: logout and deactivation act at once."""
    principal = accounts.principal_for(session, claims.user_id, claims.session_id, utcnow())
    if principal is None:
        raise NotAuthenticated("the token is invalid or has expired")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_role(*roles: str) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    async def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}")
        return principal

    return check


async def endpoint(request: Request) -> str:
    """The route as a template ("GET /api/v1/cases/{case_id}"): never the ids themselves."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


EndpointDep = Annotated[str, Depends(endpoint)]
