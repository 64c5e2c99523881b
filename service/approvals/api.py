from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.approval import ApprovalDecision, ApprovalPage, ApprovalRead, ApprovalStatus
from schemas.case import CaseRead
from schemas.common import ErrorRead
from service.approvals import service as approvals
from service.auth.dependencies import RunDep

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


@router.get("", responses=_ERRORS)
async def list_approvals(
    run: RunDep,
    status: ApprovalStatus | None = ApprovalStatus.PENDING,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, description="capped by the server")] = 100,
) -> ApprovalPage:
    """Requests waiting for four eyes: a supervisor's ministry, a case worker's own, or all."""
    return await run.read(
        lambda session, context, principal: approvals.list_approvals(
            session, context, principal, status, cursor, limit
        )
    )


@router.post("/{approval_id}/approve", responses=_ERRORS)
async def approve(approval_id: str, body: ApprovalDecision, run: RunDep) -> CaseRead:
    """Approve and fire the transition (a supervisor of the ministry, not the requester)."""
    return await run(
        lambda session, context, principal: approvals.approve(
            session, context, principal, approval_id, body.reason, run.endpoint
        )
    )


@router.post("/{approval_id}/reject", responses=_ERRORS)
async def reject(approval_id: str, body: ApprovalDecision, run: RunDep) -> ApprovalRead:
    """Refuse the request, with a reason; the case stays where it is."""
    return await run(
        lambda session, context, principal: approvals.reject(
            session, context, principal, approval_id, body.reason
        )
    )


@router.post("/{approval_id}/cancel", responses=_ERRORS)
async def cancel(approval_id: str, run: RunDep) -> ApprovalRead:
    """The requester withdraws their own pending request."""
    return await run(
        lambda session, context, principal: approvals.cancel(
            session, context, principal, approval_id
        )
    )
