from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from schemas.arrival import GroupDecide, GroupDecisionRead, GroupTransitionRequest
from schemas.common import ErrorRead
from service.auth.dependencies import RunDep
from service.cases.api import IdempotencyKey
from service.groups import service as groups
from service.kit.capacity import in_thread

router = APIRouter(prefix="/api/v1", tags=["group decisions"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorRead} for code in (403, 404, 409, 422)
}


@router.post("/group-transitions", responses=_ERRORS)
async def fire_group_transition(
    body: GroupTransitionRequest, run: RunDep, idempotency_key: IdempotencyKey = None
) -> GroupDecisionRead:
    """Fire one trigger with one payload at many cases (ids, or an arrival's cases): per case,
    moved, waiting in one group approval (a sensitive trigger), or refused and why."""
    return await in_thread(
        run.context, lambda: groups.fire_group(run.now, body, run.endpoint, idempotency_key)
    )


@router.get("/group-approvals/{group_id}", responses=_ERRORS)
async def read_group_decision(group_id: str, run: RunDep) -> GroupDecisionRead:
    """A group decision and its cases that the caller may see."""
    return await run.read(
        lambda session, context, principal: groups.read_group(session, context, principal, group_id)
    )


@router.post("/group-approvals/{group_id}/approve", responses=_ERRORS)
async def approve_group(
    group_id: str, body: GroupDecide, run: RunDep, idempotency_key: IdempotencyKey = None
) -> GroupDecisionRead:
    """Approve every waiting case of the group at once (a supervisor of its ministry who did
    not ask); each case is re-checked as it is now and moves, or is listed as refused."""
    return await in_thread(
        run.context,
        lambda: groups.decide_group(
            run.now, group_id, True, body.reason, run.endpoint, idempotency_key
        ),
    )


@router.post("/group-approvals/{group_id}/reject", responses=_ERRORS)
async def reject_group(
    group_id: str, body: GroupDecide, run: RunDep, idempotency_key: IdempotencyKey = None
) -> GroupDecisionRead:
    """Reject every waiting case of the group at once, with one reason."""
    return await in_thread(
        run.context,
        lambda: groups.decide_group(
            run.now, group_id, False, body.reason, run.endpoint, idempotency_key
        ),
    )
