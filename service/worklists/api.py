"""Work lists: ministry queues and watch lists, "my cases", and escalations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.common import ErrorRead
from schemas.queue import CasePage, EscalationQuery, PageQuery, QueueQuery
from service.auth.dependencies import RunDep
from service.worklists import service as queues

router = APIRouter(prefix="/api/v1", tags=["queues"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorRead} for code in (403, 404, 422)}


@router.get("/queues/{ministry}", responses=_ERRORS)
async def read_queue(ministry: str, query: Annotated[QueueQuery, Query()], run: RunDep) -> CasePage:
    """Open cases whose current step `ministry` leads, earliest due first; keyset-paged."""
    return await run.read(
        lambda session, context, principal: queues.list_queue(
            session, context, principal, ministry, query
        )
    )


@router.get("/queues/{ministry}/watching", responses=_ERRORS)
async def read_watch_list(
    ministry: str, query: Annotated[PageQuery, Query()], run: RunDep
) -> CasePage:
    """Open cases whose current step `ministry` supports (read-only), earliest due first."""
    return await run.read(
        lambda session, context, principal: queues.list_watching(
            session, context, principal, ministry, query
        )
    )


@router.get("/me/cases", responses=_ERRORS)
async def read_my_cases(query: Annotated[PageQuery, Query()], run: RunDep) -> CasePage:
    """The open cases assigned to the caller, earliest due first."""
    return await run.read(
        lambda session, context, principal: queues.list_my_cases(session, context, principal, query)
    )


@router.get("/escalations", responses=_ERRORS)
async def read_escalations(query: Annotated[EscalationQuery, Query()], run: RunDep) -> CasePage:
    """Overdue steps escalated to the caller: the Task Force, a supervisor's ministry, auditors."""
    return await run.read(
        lambda session, context, principal: queues.list_escalations(
            session, context, principal, query
        )
    )


@router.get("/units/{code}/queue", responses=_ERRORS)
async def read_unit_queue(code: str, query: Annotated[PageQuery, Query()], run: RunDep) -> CasePage:
    """Open cases whose step belongs to the unit (with the hand-overs it sent that wait)."""
    return await run.read(
        lambda session, context, principal: queues.list_unit_queue(
            session, context, principal, code, query
        )
    )


@router.get("/units/{code}/incoming", responses=_ERRORS)
async def read_incoming(code: str, query: Annotated[PageQuery, Query()], run: RunDep) -> CasePage:
    """Hand-overs waiting for the unit to accept or decline them, earliest due first."""
    return await run.read(
        lambda session, context, principal: queues.list_incoming(
            session, context, principal, code, query
        )
    )
