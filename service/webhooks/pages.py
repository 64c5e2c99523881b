"""Webhooks in the browser (admins): the receivers, what waits for each, the dead letters, and
sending a dead letter again. Receivers are registered through the API (the secret is shown in
that answer once); the same use cases as the API's (`webhooks.service`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends
from fastapi import Path as PathParam
from starlette.responses import Response

from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates
from service.webhooks import service as webhooks

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
AdminPage = Annotated[Page, Depends(page_as("admin"))]
PAGE_SIZE = 100


@router.get("/admin/webhooks")
async def list_webhooks(page: AdminPage) -> Response:
    subscriptions, dead = await page.read(
        lambda session, context, _me: (
            webhooks.list_subscriptions(session, context, None, PAGE_SIZE),
            webhooks.list_dead_letters(session, context, None, None, PAGE_SIZE),
        )
    )
    requeued = page.request.query_params.get("requeued")
    return page.render(
        templates, "webhooks.html", subscriptions=subscriptions, dead=dead, requeued=requeued
    )


@router.post("/admin/webhooks/dead-letters/{delivery_id}/requeue")
async def requeue_dead_letter(
    delivery_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)], page: AdminPage
) -> Response:
    """Send one dead letter again (the case's later events follow it in order)."""
    await page(
        lambda session, context, me: webhooks.requeue(
            session, context, me, subscription_id=None, delivery_id=delivery_id
        )
    )
    return page.redirect(f"/admin/webhooks?requeued={delivery_id}")
