"""Liveness and readiness (no authentication, no case data); `/health` is the contract's.
And `/metrics`, for the Prometheus scraper that holds its token."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from service.auth.dependencies import ContextDep
from service.health import service as health_checks
from service.kit.errors import RETRY_AFTER_SECONDS, NotAuthenticated, NotFound
from service.kit.metrics import exposition

router = APIRouter(tags=["health"])
_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"description": "the database does not answer, or its schema is not at head"}
}


@router.get("/health/live")
async def live() -> dict[str, str]:
    """Whether the process answers; touches no database."""
    return {"status": "ok"}


@router.get("/health/ready", responses=_NOT_READY)
async def ready(context: ContextDep) -> Any:
    """Whether the database answers (on a connection of its own, within a short timeout) and
    its schema is at the migrations' head."""
    return await _readiness(context)


@router.get("/health", responses=_NOT_READY)
async def health(context: ContextDep) -> Any:
    """Whether the service and its database answer: the same check as `/health/ready`."""
    return await _readiness(context)


async def _readiness(context: ContextDep) -> Any:
    found = await health_checks.readiness(context)
    body = {"database": found.database, "migrations": found.migrations}
    if not found.ready:
        return JSONResponse(
            {
                "status": "unavailable",
                **body,
                "detail": "the database does not answer or is not migrated to head",
                "code": "not_ready",
            },
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return {"status": "ok", **body}


@router.get("/metrics", include_in_schema=False)
async def metrics(context: ContextDep, request: Request) -> Response:
    """Prometheus' scrape, for the bearer of NRM_METRICS_TOKEN only (404 when unset: the
    endpoint does not exist, and says nothing to whoever probes for it)."""
    token = context.settings.metrics_token
    if token is None:
        raise NotFound("not found")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise NotAuthenticated("the metrics need the scraper's bearer token")
    body, content_type = exposition()
    return Response(body, media_type=content_type)
