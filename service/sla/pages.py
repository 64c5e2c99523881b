"""Figures in the browser: a ministry's, a unit's (rolled up over the units below it, each
line below linking to that unit) and a region's; open and overdue cases, on-time rate, time
per step, as charts (server-drawn SVG, no script) and the same numbers as a table."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Query
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from schemas.unit import UnitRead
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.sla import service as stats
from service.sla import unit_figures
from service.units import service as units
from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
FiguresPage = Annotated[Page, Depends(page_as("case_worker", "supervisor", "auditor"))]
From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]


@router.get("/figures")
async def figures_home(page: FiguresPage) -> Response:
    """A supervisor's own ministry and unit; the Task Force (with its unit and region) and
    auditors choose a ministry."""
    me, own = await page.read(_me_and_unit)
    targets = {d.escalate_to for d in page.context.registry.definitions()}
    if me.role == "case_worker" and me.ministry not in targets:
        return RedirectResponse(f"/figures/{me.ministry}", status_code=303)  # refused there
    task_force = me.ministry in targets
    ministries = sorted(page.context.registry.ministries())
    return page.render(
        templates, "choose.html", ministries=ministries if me.role == "auditor" or task_force
        else [me.ministry], own=own, region=own if task_force and own and own.region_code
        else None,
    )  # fmt: skip


def _me_and_unit(
    session: Session, _context: AppContext, me: Principal
) -> tuple[Principal, UnitRead | None]:
    own = units.by_id(session, me.unit_id) if me.unit_id is not None else None
    return me, units.present_units(session, [own])[0] if own is not None else None


@router.get("/figures/units/{code}")
async def unit_figures_page(
    code: str, page: FiguresPage, period_from: From = None, period_to: To = None
) -> Response:
    """A unit with the units below it; each line below links to that unit's own figures."""
    figures = await page.read(
        lambda s, c, me: unit_figures.unit_stats(s, c, me, code, period_from, period_to)
    )
    longest = max((state.p90_hours for state in figures.states), default=0.0) or 1.0
    return page.render(templates, "unit_figures.html", figures=figures, longest=longest)


@router.get("/figures/regions/{code}")
async def region_figures_page(
    code: str, page: FiguresPage, period_from: From = None, period_to: To = None
) -> Response:
    """Every ministry's units in a province (with its districts and cities) or a district."""
    figures = await page.read(
        lambda s, c, me: unit_figures.region_stats(s, c, me, code, period_from, period_to)
    )
    return page.render(templates, "region_figures.html", figures=figures)


@router.get("/figures/{code}")
async def figures(
    code: str, page: FiguresPage, period_from: From = None, period_to: To = None
) -> Response:
    figures = await page.read(
        lambda s, c, me: stats.ministry_stats(s, c, me, code, period_from, period_to)
    )
    longest = max((state.p90_hours for state in figures.states), default=0.0) or 1.0
    return page.render(
        templates, "figures.html", figures=figures, longest=longest,
        ministries=sorted(page.context.registry.ministries()),
    )  # fmt: skip
