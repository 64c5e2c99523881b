"""Assignment of a case to a case worker of the ministry leading it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from schemas.common import ErrorRead
from schemas.queue import AssignRequest, CaseSummary
from service.assignments import service as assignments
from service.auth.dependencies import RunDep

router = APIRouter(prefix="/api/v1/cases", tags=["assignment"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


@router.put("/{case_id}/assignee", responses=_ERRORS)
async def assign_case(case_id: str, body: AssignRequest, run: RunDep) -> CaseSummary:
    """A supervisor of the lead ministry assigns (or reassigns) the case to a case worker."""
    return await run(
        lambda session, context, principal: assignments.assign(
            session, context, principal, case_id, body
        )
    )


@router.delete("/{case_id}/assignee", responses=_ERRORS)
async def hand_back_case(case_id: str, run: RunDep) -> CaseSummary:
    """Hand the case back to its ministry's queue (the assignee or a supervisor)."""
    return await run(
        lambda session, context, principal: assignments.release(
            session, context, principal, case_id
        )
    )


@router.post("/{case_id}/claim", responses=_ERRORS)
async def claim_case(case_id: str, run: RunDep) -> CaseSummary:
    """A case worker of the lead ministry takes an unassigned case (409 if someone has it)."""
    return await run(
        lambda session, context, principal: assignments.claim(session, context, principal, case_id)
    )
