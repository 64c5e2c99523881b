"""Work lists in the browser: my unit's queue and the hand-overs waiting for it, my cases, my
ministry's queue and watch list, and escalations; most urgent first (the lists' own order:
earliest due first), a page at a time. A supervisor may open the lists of a unit below theirs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Depends, Query
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import Response

from schemas.queue import CasePage, EscalationQuery, PageQuery, QueueQuery
from schemas.unit import UnitRead
from service.kit.context import AppContext
from service.kit.errors import Forbidden
from service.kit.principal import Principal
from service.units import service as units
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
Tab = Literal["unit", "incoming", "mine", "queue", "watching"]
TABS: tuple[Tab, ...] = ("unit", "incoming", "mine", "queue", "watching")
UNIT_TABS = ("unit", "incoming")


@dataclass(frozen=True)
class WorkLists:
    cases: CasePage
    unit: UnitRead | None = None  # the unit whose lists are shown (the unit and incoming tabs)
    own: UnitRead | None = None  # the caller's unit
    below: list[UnitRead] = field(default_factory=list)  # units a supervisor may look into


@router.get("/work")
async def work(
    page: WorkerPage,
    tab: Annotated[Tab, Query()] = "unit",
    unit: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    state: Annotated[str | None, Query(max_length=64)] = None,
    phase: Annotated[str | None, Query(max_length=20)] = None,
    overdue: Annotated[str | None, Query(max_length=5)] = None,
    assigned: Annotated[str | None, Query(max_length=10)] = None,
    child: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    """One page for a case worker's day: the unit's queue and incoming hand-overs, my cases,
    the ministry's queue (with filters), the watch list."""
    raw = {"state": state, "phase": phase, "overdue": overdue, "assigned": assigned, "child": child}
    filters = {k: v for k, v in raw.items() if v}
    try:
        query = QueueQuery.model_validate({**filters, "cursor": cursor, "limit": PAGE_SIZE})
    except ValidationError as exc:
        errors = translated_errors(page.t, exc.errors())
        query, filters = QueueQuery(limit=PAGE_SIZE), {}
    else:
        errors = {}

    def lists(session: Session, context: AppContext, me: Principal) -> WorkLists:
        assert me.ministry is not None
        if tab in UNIT_TABS:
            return _unit_lists(session, context, me, tab, unit, _paging(query))
        if tab == "mine":
            return WorkLists(worklists.list_my_cases(session, context, me, _paging(query)))
        if tab == "watching":
            paging = _paging(query)
            return WorkLists(worklists.list_watching(session, context, me, me.ministry, paging))
        return WorkLists(worklists.list_queue(session, context, me, me.ministry, query))

    shown = await page.read(lists)
    params = {"tab": tab, **filters}
    if tab in UNIT_TABS and unit:
        params["unit"] = unit
    more = _more_url("/work", params, shown.cases.next_cursor)
    definition = page.context.registry.definitions()
    states = sorted({s for d in definition for s in d.states})
    return page.render(
        templates, "work.html", block="items" if cursor else None,
        tab=tab, tabs=TABS, cases=shown.cases, more=more, filters=filters, errors=errors,
        states=states, phases=PHASES, unit=shown.unit, own=shown.own, below=shown.below,
    )  # fmt: skip


def _unit_lists(
    session: Session,
    context: AppContext,
    me: Principal,
    tab: Tab,
    code: str | None,
    query: PageQuery,
) -> WorkLists:
    """The queue or the incoming hand-overs of the caller's unit, or of a unit below it."""
    own = units.by_id(session, me.unit_id) if me.unit_id is not None else None
    if own is None:
        raise Forbidden("a case worker or supervisor without a unit works no cases")
    target = code.strip().upper() if code else own.code
    list_of = worklists.list_incoming if tab == "incoming" else worklists.list_unit_queue
    cases = list_of(session, context, me, target, query)  # refuses a unit not below the caller
    shown = own if target == own.code else units.find(session, target)
    below = [u for u in units.within(session, own) if u.id != own.id and u.is_active]
    if me.role != "supervisor":
        below = []
    assert shown is not None  # the list above found it
    found = units.present_units(session, [own, shown, *below])
    return WorkLists(cases, found[1], found[0], found[2:])


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

    def escalations_with_rungs(
        session: Session, context: AppContext, me: Principal
    ) -> tuple[CasePage, dict[str, tuple[str, str]]]:
        cases = worklists.list_escalations(session, context, me, query)
        return cases, worklists.escalations_reached(session, cases)

    cases, reached = await page.read(escalations_with_rungs)
    more = _more_url("/escalations", filters, cases.next_cursor)
    return page.render(
        templates, "escalations.html", block="items" if cursor else None,
        cases=cases, reached=reached, more=more, filters=filters, errors=errors,
        ministries=sorted(page.context.registry.ministries()),
    )  # fmt: skip


def _paging(query: QueueQuery) -> PageQuery:
    return PageQuery(limit=query.limit, cursor=query.cursor)


def _more_url(path: str, params: dict[str, str], cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return f"{path}?{urlencode({**params, 'cursor': cursor})}"
