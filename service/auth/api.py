from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from schemas.auth import RefreshRequest, TokenRead
from schemas.common import ErrorRead
from service.auth import service as accounts
from service.auth.dependencies import ClaimsDep, RunPublicDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
_ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorRead}, 429: {"model": ErrorRead}}


def _refused(outcome: accounts.LoginRefused) -> JSONResponse:
    return JSONResponse(
        {"detail": outcome.detail, "code": "not_authenticated"},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


_LOGIN_EXAMPLE = {"username": "kemlu.worker", "password": "nrm-demo-2026"}  # `nrm demo`'s


@router.post(
    "/token",
    response_model=TokenRead,
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "examples": {"demo": {"summary": "a demo user", "value": _LOGIN_EXAMPLE}}
                }
            }
        }
    },
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, run: RunPublicDep
) -> Any:
    """Exchange a username and password for a short-lived access token and a refresh token."""
    client = request.client.host if request.client else "unknown"
    outcome = await run(
        lambda session, context: accounts.log_in(
            session, context, form.username, form.password, client
        )
    )
    return _refused(outcome) if isinstance(outcome, accounts.LoginRefused) else outcome


@router.post("/refresh", response_model=TokenRead, responses=_ERRORS)
async def refresh_token(body: RefreshRequest, run: RunPublicDep) -> Any:
    """Renew the access token; the refresh token is single-use and rotates."""
    outcome = await run(
        lambda session, context: accounts.refresh(session, context, body.refresh_token)
    )
    return _refused(outcome) if isinstance(outcome, accounts.LoginRefused) else outcome


@router.post("/logout", status_code=204, responses=_ERRORS)
async def log_out(run: RunPublicDep, claims: ClaimsDep) -> Response:
    """End this session: its access and refresh tokens stop working at once."""
    await run(lambda session, context: accounts.log_out(session, context, claims.session_id))
    return Response(status_code=204)
