"""Who works a case, from its page: claim it, hand it back, or (a supervisor) assign it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import Response

from schemas.queue import AssignRequest
from service.assignments import service as assignments
from service.cases import service as cases
from service.kit.context import AppContext
from service.kit.errors import Invalid
from service.kit.principal import Principal
from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
WorkerPage = Annotated[Page, Depends(page_as("case_worker", "supervisor"))]


@router.get("/cases/{case_id}/assignee")
async def assign_form(case_id: str, page: WorkerPage) -> Response:
    """A supervisor of the lead ministry picks one of its case workers."""

    def load(session: Session, context: AppContext, me: Principal) -> tuple[Any, list[str]]:
        case = cases.view_case(session, context, me, case_id).case
        return case, assignments.candidates(session, context, me, case_id)

    case, candidates = await page.read(load)
    return page.render(templates, "assign.html", case=case, candidates=candidates)


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
