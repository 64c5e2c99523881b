"""Webhook subscriptions and dead letters: admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from schemas.auth import Role
from schemas.common import ErrorRead
from schemas.webhook import (
    DeadLetterPage,
    Requeued,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPage,
    SubscriptionRead,
    SubscriptionUpdate,
)
from service.auth.dependencies import Run, run_as
from service.webhooks import service as webhooks

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
RunAsAdmin = Annotated[Run, Depends(run_as(Role.ADMIN))]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
BigRowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Cursor = Annotated[str | None, Query(description="the previous page's next_cursor")]
Limit = Annotated[int, Query(ge=1, description="capped by the server")]
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorRead} for code in (404,)}


@router.get("/subscriptions")
async def list_webhook_subscriptions(
    run: RunAsAdmin, cursor: Cursor = None, limit: Limit = 100
) -> SubscriptionPage:
    """The receivers of case events, oldest first, with what waits for each (no secrets)."""
    return await run.read(
        lambda session, context, _admin: webhooks.list_subscriptions(
            session, context, cursor, limit
        )
    )


@router.post("/subscriptions", status_code=201)
async def create_webhook_subscription(
    body: SubscriptionCreate, run: RunAsAdmin
) -> SubscriptionCreated:
    """Register a receiver (http or https); its signing secret is in this answer only."""
    return await run(
        lambda session, context, admin: webhooks.create_subscription(session, context, admin, body)
    )


@router.get("/subscriptions/{subscription_id}", responses=_ERRORS)
async def get_webhook_subscription(subscription_id: RowId, run: RunAsAdmin) -> SubscriptionRead:
    """One receiver and what waits for it."""
    return await run.read(
        lambda session, _context, _admin: webhooks.get_subscription(session, subscription_id)
    )


@router.patch("/subscriptions/{subscription_id}", responses=_ERRORS)
async def update_webhook_subscription(
    subscription_id: RowId, body: SubscriptionUpdate, run: RunAsAdmin
) -> SubscriptionRead:
    """Change a receiver's URL, kinds or description, or pause it (events keep queueing)."""
    return await run(
        lambda session, context, admin: webhooks.update_subscription(
            session, context, admin, subscription_id, body
        )
    )


@router.delete("/subscriptions/{subscription_id}", status_code=204, responses=_ERRORS)
async def delete_webhook_subscription(subscription_id: RowId, run: RunAsAdmin) -> Response:
    """Remove a receiver and drop what still waits for it."""
    await run(
        lambda session, context, admin: webhooks.delete_subscription(
            session, context, admin, subscription_id
        )
    )
    return Response(status_code=204)


@router.post("/subscriptions/{subscription_id}/requeue", responses=_ERRORS)
async def requeue_webhook_subscription(subscription_id: RowId, run: RunAsAdmin) -> Requeued:
    """Send a receiver's dead letters again, at once, each case's in order."""
    return await run(
        lambda session, context, admin: webhooks.requeue(
            session, context, admin, subscription_id=subscription_id, delivery_id=None
        )
    )


@router.get("/dead-letters")
async def list_webhook_dead_letters(
    run: RunAsAdmin,
    subscription_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> DeadLetterPage:
    """Deliveries whose attempts ran out; each holds back its case's later events."""
    return await run.read(
        lambda session, context, _admin: webhooks.list_dead_letters(
            session, context, subscription_id, cursor, limit
        )
    )


@router.post("/dead-letters/{delivery_id}/requeue", responses=_ERRORS)
async def requeue_webhook_dead_letter(delivery_id: BigRowId, run: RunAsAdmin) -> Requeued:
    """Send one dead letter again, at once."""
    return await run(
        lambda session, context, admin: webhooks.requeue(
            session, context, admin, subscription_id=None, delivery_id=delivery_id
        )
    )
