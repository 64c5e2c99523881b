from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.common import ErrorRead
from schemas.service_request import (
    ServiceAction,
    ServiceRequestChange,
    ServiceRequestCreate,
    ServiceRequestList,
    ServiceRequestRead,
)
from service.auth.dependencies import RunDep
from service.service_requests import service as services

router = APIRouter(prefix="/api/v1", tags=["services"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


@router.get("/cases/{case_id}/services", responses=_ERRORS)
async def list_services(case_id: str, run: RunDep) -> ServiceRequestList:
    """The case's service requests, oldest first, each with its start clock."""
    return await run.read(
        lambda session, context, principal: services.list_services(
            session, context, principal, case_id
        )
    )


@router.post("/cases/{case_id}/services", status_code=201, responses=_ERRORS)
async def request_service(
    case_id: str, body: ServiceRequestCreate, run: RunDep
) -> ServiceRequestRead:
    """Ask the owning ministry for a service; it must start within the definition's time."""
    return await run(
        lambda session, context, principal: services.request_service(
            session, context, principal, case_id, body
        )
    )


async def _change(
    run: RunDep, case_id: str, request_id: str, action: ServiceAction, body: ServiceRequestChange
) -> ServiceRequestRead:
    return await run(
        lambda session, context, principal: services.change_service(
            session, context, principal, case_id, request_id, action, body
        )
    )


@router.post("/cases/{case_id}/services/{request_id}/start", responses=_ERRORS)
async def start_service(
    case_id: str, request_id: str, body: ServiceRequestChange, run: RunDep
) -> ServiceRequestRead:
    """The owning unit starts the service (its start clock stops)."""
    return await _change(run, case_id, request_id, "start", body)


@router.post("/cases/{case_id}/services/{request_id}/complete", responses=_ERRORS)
async def complete_service(
    case_id: str, request_id: str, body: ServiceRequestChange, run: RunDep
) -> ServiceRequestRead:
    """The owning unit records the service as delivered."""
    return await _change(run, case_id, request_id, "complete", body)


@router.post("/cases/{case_id}/services/{request_id}/decline", responses=_ERRORS)
async def decline_service(
    case_id: str, request_id: str, body: ServiceRequestChange, run: RunDep
) -> ServiceRequestRead:
    """The owning unit declines a request it has not started (say why in `note`)."""
    return await _change(run, case_id, request_id, "decline", body)


@router.post("/cases/{case_id}/services/{request_id}/withdraw", responses=_ERRORS)
async def withdraw_service(
    case_id: str, request_id: str, body: ServiceRequestChange, run: RunDep
) -> ServiceRequestRead:
    """The victim no longer wants it, or it is no longer needed: the owner or the lead unit."""
    return await _change(run, case_id, request_id, "withdraw", body)


@router.get("/services/queue", responses={403: {"model": ErrorRead}, 422: {"model": ErrorRead}})
async def service_queue(
    run: RunDep,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int | None, Query(ge=1, description="capped by the server")] = None,
) -> ServiceRequestList:
    """Open service requests owned by the caller's unit or a unit below it, earliest start due
    first."""
    return await run.read(
        lambda session, context, principal: services.unit_queue(
            session, context, principal, cursor, limit
        )
    )
