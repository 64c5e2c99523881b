"""Request dependencies: who is calling, and one unit of work per request.

A route is `async` and hands its use case to `run` (a use case that writes) or `run.read` (one
that only reads), which does everything that touches the database in ONE trip to the thread
pool: open the session, load the caller from their token's session, check their role, run the
use case, commit (or roll back on any exception). The response is built after the commit, so a
failed commit can never follow a 200. A read runs in a read-only snapshot and never takes the
write lock: a long verify does not hold writers back. (With the
session, the principal and the endpoint as separate sync dependencies, a request took four
trips to the pool and most of a worker's time went to the hand-overs: see bench/RESULTS.md.)
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from service.auth import service as accounts
from service.auth.security import TokenClaims, read_token
from service.kit.capacity import in_thread, write_turn
from service.kit.context import AppContext
from service.kit.errors import Forbidden, NotAuthenticated, PasswordChangeRequired
from service.kit.principal import Principal
from service.models import utcnow

T = TypeVar("T")
UseCase = Callable[[Session, AppContext, Principal], T]
_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
# All that a user whose password an admin reset may do until they choose their own.
PASSWORD_CHANGE_ENDPOINTS = frozenset(
    {"POST /api/v1/users/me/password", "POST /api/v1/auth/logout"}
)


async def get_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


ContextDep = Annotated[AppContext, Depends(get_context)]


def claims_of(context: AppContext, token: str | None) -> TokenClaims:
    if not token:
        raise NotAuthenticated()
    claims = read_token(context.settings.keys.secret_key, token)
    if claims is None:
        raise NotAuthenticated("the token is invalid or has expired")
    return claims


async def token_claims(
    context: ContextDep, token: Annotated[str | None, Depends(_bearer)]
) -> TokenClaims:
    return claims_of(context, token)


ClaimsDep = Annotated[TokenClaims, Depends(token_claims)]


@dataclass(frozen=True)
class Run:
    """Runs a use case for the caller in one unit of work, on one pool thread."""

    context: AppContext
    claims: TokenClaims
    endpoint: str
    roles: tuple[str, ...] = ()
    case_id: str | None = None  # the route's `{case_id}`, if it has one

    async def __call__(self, use_case: UseCase[T]) -> T:
        """A use case that writes: one transaction, committed once after it returns. Writes to
        one case (on SQLite: all writes) take their turn in this worker (`kit/capacity.py`)."""
        serial = write_turn(self.context, self.case_id)
        return await in_thread(self.context, self.now, use_case, serial=serial)

    async def read(self, use_case: UseCase[T]) -> T:
        """A use case that only reads: one read-only snapshot, never a write lock (on SQLite
        a deferred transaction, so a long read never holds writers back)."""
        return await in_thread(self.context, self.now, use_case, True)

    def now(self, use_case: UseCase[T], read_only: bool = False) -> T:
        unit = self.context.database.snapshot if read_only else self.context.database.transaction
        with unit() as session:
            return use_case(session, self.context, self.principal(session))

    def principal(self, session: Session) -> Principal:
        """An active user in an open session: logout and deactivation act at once."""
        claims = self.claims
        principal = accounts.principal_for(session, claims.user_id, claims.session_id, utcnow())
        if principal is None:
            raise NotAuthenticated("the token is invalid or has expired")
        if principal.must_change_password and self.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
            raise PasswordChangeRequired(
                "an admin reset your password: choose your own first "
                "(POST /api/v1/users/me/password)"
            )
        if self.roles and principal.role not in self.roles:
            raise Forbidden(f"this needs the role {' or '.join(self.roles)}")
        return principal


def run_as(*roles: str) -> Callable[[Request, str | None], Coroutine[Any, Any, Run]]:
    """A `Run` for the caller, refusing (403) one without one of `roles` if any are given.

    One dependency reads all it needs from the request (each one FastAPI solves costs time on
    every request); the bearer scheme stays a dependency so that /docs can log in.
    """

    async def dependency(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Run:
        context: AppContext = request.app.state.context
        case_id = request.path_params.get("case_id")
        return Run(context, claims_of(context, token), endpoint_of(request), roles, case_id)

    return dependency


RunDep = Annotated[Run, Depends(run_as())]


@dataclass(frozen=True)
class RunPublic:
    """One unit of work for a route without a caller (health, logging in)."""

    context: AppContext

    async def __call__(self, use_case: Callable[[Session, AppContext], T]) -> T:
        return await in_thread(self.context, self.now, use_case)

    async def read(self, use_case: Callable[[Session, AppContext], T]) -> T:
        return await in_thread(self.context, self.now, use_case, True)

    def now(self, use_case: Callable[[Session, AppContext], T], read_only: bool = False) -> T:
        unit = self.context.database.snapshot if read_only else self.context.database.transaction
        with unit() as session:
            return use_case(session, self.context)


async def run_public(context: ContextDep) -> RunPublic:
    return RunPublic(context)


RunPublicDep = Annotated[RunPublic, Depends(run_public)]


def endpoint_of(request: Request) -> str:
    """The route as a template ("GET /api/v1/cases/{case_id}"): never the ids themselves."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"
