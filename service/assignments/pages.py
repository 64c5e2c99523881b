"""Who works a case, from its page: claim it, hand it back, or (a supervisor) assign it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from pydantic import ValidationError
from starlette.responses import Response

from schemas.queue import AssignRequest
from service.assignments import service as assignments
from service.kit.errors import Invalid
from service.web.errors import page_router
from service.web.session import Page, page_as

router = page_router()
WorkerPage = Annotated[Page, Depends(page_as("case_worker", "supervisor"))]


@router.post("/cases/{case_id}/claim")
async def claim_case(case_id: str, page: WorkerPage) -> Response:
    await page(lambda session, context, me: assignments.claim(session, context, me, case_id))
    return page.redirect(f"/cases/{case_id}?notice=claimed")


@router.post("/cases/{case_id}/release")
async def hand_back_case(case_id: str, page: WorkerPage) -> Response:
    await page(lambda session, context, me: assignments.release(session, context, me, case_id))
    return page.redirect(f"/cases/{case_id}?notice=released")


@router.post("/cases/{case_id}/assign")
async def assign_case(case_id: str, page: WorkerPage) -> Response:
    try:
        request = AssignRequest(assignee=page.field("assignee"), note=page.field("note") or None)
    except ValidationError as exc:
        raise Invalid("assignee: choose a case worker") from exc
    await page(
        lambda session, context, me: assignments.assign(session, context, me, case_id, request)
    )
    return page.redirect(f"/cases/{case_id}?notice=assigned")
