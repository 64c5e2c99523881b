"""Work lists in the browser: my cases, my ministry's queue and watch list, and escalations;
most urgent first (the lists' own order: earliest due first), a page at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, Query
from pydantic import ValidationError
from starlette.responses import Response

from schemas.queue import CasePage, EscalationQuery, PageQuery, QueueQuery
from service.web.errors import page_router
from service.web.forms import translated_errors
from service.web.session import Page, page_as
from service.web.templating import Templates
from service.worklists import service as worklists
from workflows import PHASES

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
WorkerPage = Annotated[Page, Depends(page_as("case_worker", "supervisor"))]
OverseerPage = Annotated[Page, Depends(page_as("case_worker", "supervisor", "auditor"))]
PAGE_SIZE = 25
Tab = Literal["mine", "queue", "watching"]
_QUEUE_FILTERS = ("state", "phase", "overdue", "assigned", "child")


@router.get("/work")
async def work(
    page: WorkerPage,
    tab: Annotated[Tab, Query()] = "queue",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    state: Annotated[str | None, Query(max_length=64)] = None,
    phase: Annotated[str | None, Query(max_length=20)] = None,
    overdue: Annotated[str | None, Query(max_length=5)] = None,
    assigned: Annotated[str | None, Query(max_length=10)] = None,
    child: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    """One page for a case worker's day: my cases, the queue (with filters), the watch list."""
    raw = {"state": state, "phase": phase, "overdue": overdue, "assigned": assigned, "child": child}
    filters = {k: v for k, v in raw.items() if v}
    try:
        query = QueueQuery.model_validate({**filters, "cursor": cursor, "limit": PAGE_SIZE})
    except ValidationError as exc:
        errors = translated_errors(page.t, exc.errors())
        query, filters = QueueQuery(limit=PAGE_SIZE), {}
    else:
        errors = {}

    def lists(session: Any, context: Any, me: Any) -> CasePage:
        assert me.ministry is not None
        if tab == "mine":
            return worklists.list_my_cases(session, context, me, _paging(query))
        if tab == "watching":
            return worklists.list_watching(session, context, me, me.ministry, _paging(query))
        return worklists.list_queue(session, context, me, me.ministry, query)

    cases = await page.read(lists)
    more = _more_url("/work", {"tab": tab, **filters}, cases.next_cursor)
    definition = page.context.registry.definitions()
    states = sorted({s for d in definition for s in d.states})
    return page.render(
        templates, "work.html", block="items" if cursor else None,
        tab=tab, cases=cases, more=more, filters=filters, errors=errors,
        states=states, phases=PHASES,
    )  # fmt: skip


@router.get("/escalations")
async def escalations(
    page: OverseerPage,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    ministry: Annotated[str | None, Query(max_length=20)] = None,
    level: Annotated[str | None, Query(max_length=10)] = None,
) -> Response:
    """Breached and escalated steps: a supervisor's ministry, the Task Force's, or all."""
    filters = {k: v for k, v in {"ministry": ministry, "level": level}.items() if v}
    try:
        query = EscalationQuery.model_validate({**filters, "cursor": cursor, "limit": PAGE_SIZE})
    except ValidationError as exc:
        errors = translated_errors(page.t, exc.errors())
        query, filters = EscalationQuery(limit=PAGE_SIZE), {}
    else:
        errors = {}
    cases = await page.read(
        lambda session, context, me: worklists.list_escalations(session, context, me, query)
    )
    more = _more_url("/escalations", filters, cases.next_cursor)
    return page.render(
        templates, "escalations.html", block="items" if cursor else None,
        cases=cases, more=more, filters=filters, errors=errors,
        ministries=sorted(page.context.registry.ministries()),
    )  # fmt: skip


def _paging(query: QueueQuery) -> PageQuery:
    return PageQuery(limit=query.limit, cursor=query.cursor)


def _more_url(path: str, params: dict[str, str], cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return f"{path}?{urlencode({**params, 'cursor': cursor})}"
