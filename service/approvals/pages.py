"""The approvals inbox: a supervisor approves or rejects, with a reason, what a colleague of
their ministry asked for (four eyes); a case worker follows and may cancel their own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import ValidationError
from starlette.responses import Response

from schemas.approval import ApprovalDecision, ApprovalPage
from service.approvals import service as approvals
from service.kit.errors import DomainError, Forbidden, NotFound
from service.web.errors import page_router
from service.web.forms import domain_message, translated_errors
from service.web.session import CsrfRefused, Page, page_as, safe_next
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
InboxPage = Annotated[Page, Depends(page_as("case_worker", "supervisor", "auditor"))]
WorkerPage = Annotated[Page, Depends(page_as("case_worker", "supervisor"))]
PAGE_SIZE = 25
STATUSES = ("pending", "approved", "rejected", "cancelled", "superseded")


@router.get("/approvals")
async def inbox(
    page: InboxPage,
    status: Annotated[str, Query(max_length=12)] = "pending",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    return await _inbox(page, status if status in STATUSES else "pending", cursor)


@router.post("/approvals/{approval_id}/approve")
async def approve(approval_id: str, page: WorkerPage) -> Response:
    return await _decide(page, approval_id, "approve")


@router.post("/approvals/{approval_id}/reject")
async def reject(approval_id: str, page: WorkerPage) -> Response:
    return await _decide(page, approval_id, "reject")


@router.post("/approvals/{approval_id}/cancel")
async def cancel(approval_id: str, page: WorkerPage) -> Response:
    await page(lambda session, context, me: approvals.cancel(session, context, me, approval_id))
    return page.redirect(safe_next(page.field("next"), "/approvals") + "?notice=cancelled")


async def _decide(page: Page, approval_id: str, verb: str) -> Response:
    errors: dict[str, str] = {}
    try:
        decision = ApprovalDecision(reason=page.field("reason"))
    except ValidationError as exc:
        await page.ensure()
        errors = translated_errors(page.t, exc.errors())
    else:
        try:
            if verb == "approve":
                await page(
                    lambda s, c, me: (
                        approvals.approve(
                            s, c, me, approval_id, decision.reason, page.endpoint, reveal=False
                        ).id
                    )
                )
            else:
                await page(
                    lambda s, c, me: approvals.reject(s, c, me, approval_id, decision.reason)
                )
        except (NotFound, Forbidden, CsrfRefused):
            raise
        except DomainError as exc:
            errors = {"_": domain_message(page.t, exc)}
    if errors:
        return await _inbox(page, "pending", None, approval_id, errors, 422)
    return page.redirect(f"/approvals?done={verb}")


async def _inbox(
    page: Page,
    status: str,
    cursor: str | None,
    failed: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    listing: ApprovalPage = await page.read(
        lambda s, c, me: approvals.list_approvals(s, c, me, status, cursor, PAGE_SIZE)
    )
    done = page.request.query_params.get("done")
    values: dict[str, Any] = {
        "listing": listing, "status": status, "statuses": STATUSES, "failed": failed,
        "errors": errors or {}, "done": done if done in ("approve", "reject") else None,
        "cancelled": page.request.query_params.get("notice") == "cancelled",
    }  # fmt: skip
    return page.render(templates, "inbox.html", status_code, **values)
