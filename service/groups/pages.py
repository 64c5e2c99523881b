"""The group approvals pages: the groups waiting for a decision, and one group decided once,
with one reason, by a supervisor of its ministry who did not ask (the same use cases as the
API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends
from pydantic import ValidationError
from starlette.responses import Response

from schemas.arrival import GroupDecide, GroupDecisionRead
from service.groups import service as groups
from service.kit.capacity import in_thread
from service.kit.errors import DomainError, Forbidden, NotFound
from service.web.errors import page_router
from service.web.forms import domain_message, translated_errors
from service.web.session import CsrfRefused, Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
ReaderPage = Annotated[Page, Depends(page_as("case_worker", "supervisor", "auditor"))]
SupervisorPage = Annotated[Page, Depends(page_as("supervisor"))]
LISTED = 50


@router.get("/group-approvals")
async def waiting_groups(page: ReaderPage) -> Response:
    waiting = await page.read(lambda s, c, me: groups.waiting_groups(s, c, me, LISTED))
    return page.render(templates, "groups.html", waiting=waiting)


@router.get("/group-approvals/{group_id}")
async def group_page(group_id: str, page: ReaderPage) -> Response:
    group = await page.read(lambda s, c, me: groups.read_group(s, c, me, group_id))
    return page.render(templates, "group.html", group=group, errors={}, decided=None)


@router.post("/group-approvals/{group_id}/approve")
async def approve_group(group_id: str, page: SupervisorPage) -> Response:
    return await _decide(page, group_id, True)


@router.post("/group-approvals/{group_id}/reject")
async def reject_group(group_id: str, page: SupervisorPage) -> Response:
    return await _decide(page, group_id, False)


async def _decide(page: Page, group_id: str, approve: bool) -> Response:
    errors: dict[str, str] = {}
    decided: GroupDecisionRead | None = None
    try:
        decision = GroupDecide(reason=page.field("reason"))
    except ValidationError as exc:
        await page.ensure()
        errors = translated_errors(page.t, exc.errors())
    else:
        try:
            decided = await in_thread(
                page.context,
                lambda: groups.decide_group(
                    page.writer(), group_id, approve, decision.reason, page.endpoint
                ),
            )
        except (NotFound, Forbidden, CsrfRefused):
            raise
        except DomainError as exc:
            errors = {"_": domain_message(page.t, exc)}
    group = await page.read(lambda s, c, me: groups.read_group(s, c, me, group_id))
    status = 422 if errors else 200
    return page.render(templates, "group.html", status, group=group, errors=errors, decided=decided)
