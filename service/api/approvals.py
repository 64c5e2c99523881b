from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from schemas.approval import ApprovalDecision, ApprovalPage, ApprovalRead, ApprovalStatus
from schemas.case import CaseRead
from schemas.common import ErrorRead
from service import approvals
from service.api.deps import ContextDep, EndpointDep, PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


@router.get("", responses=_ERRORS)
def list_approvals(
    session: SessionDep,
    context: ContextDep,
    principal: PrincipalDep,
    status: ApprovalStatus | None = "pending",
) -> ApprovalPage:
    """Requests waiting for four eyes: a supervisor's ministry, a case worker's own, or all."""
    return ApprovalPage(items=approvals.list_approvals(session, context, principal, status))


@router.post("/{approval_id}/approve", responses=_ERRORS)
def approve(
    approval_id: str,
    body: ApprovalDecision,
    session: SessionDep,
    context: ContextDep,
    principal: PrincipalDep,
    endpoint: EndpointDep,
) -> CaseRead:
    """Approve and fire the transition (a supervisor of the ministry, not the requester)."""
    return approvals.approve(session, context, principal, approval_id, body.reason, endpoint)


@router.post("/{approval_id}/reject", responses=_ERRORS)
def reject(
    approval_id: str,
    body: ApprovalDecision,
    session: SessionDep,
    context: ContextDep,
    principal: PrincipalDep,
) -> ApprovalRead:
    """Refuse the request, with a reason; the case stays where it is."""
    return approvals.reject(session, context, principal, approval_id, body.reason)


@router.post("/{approval_id}/cancel", responses=_ERRORS)
def cancel(
    approval_id: str, session: SessionDep, context: ContextDep, principal: PrincipalDep
) -> ApprovalRead:
    """The requester withdraws their own pending request."""
    return approvals.cancel(session, context, principal, approval_id)
