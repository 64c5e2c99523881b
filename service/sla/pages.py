"""A ministry's figures in the browser: open and overdue cases, on-time rate, time per step,
as charts (server-drawn SVG, no script) and the same numbers as a table."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Query
from starlette.responses import RedirectResponse, Response

from service.sla import service as stats
from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
FiguresPage = Annotated[Page, Depends(page_as("case_worker", "supervisor", "auditor"))]


@router.get("/figures")
async def figures_home(page: FiguresPage) -> Response:
    """A supervisor's own ministry; the Task Force and auditors choose one."""
    me = await page.read(lambda _s, _c, me: me)
    targets = {d.escalate_to for d in page.context.registry.definitions()}
    if me.role == "supervisor" and me.ministry not in targets:
        return RedirectResponse(f"/figures/{me.ministry}", status_code=303)
    if me.role == "case_worker" and me.ministry not in targets:
        return RedirectResponse(f"/figures/{me.ministry}", status_code=303)  # refused there
    return page.render(
        templates, "choose.html", ministries=sorted(page.context.registry.ministries())
    )


@router.get("/figures/{code}")
async def figures(
    code: str,
    page: FiguresPage,
    period_from: Annotated[date | None, Query(alias="from")] = None,
    period_to: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    figures = await page.read(
        lambda s, c, me: stats.ministry_stats(s, c, me, code, period_from, period_to)
    )
    longest = max((state.p90_hours for state in figures.states), default=0.0) or 1.0
    return page.render(
        templates, "figures.html", figures=figures, longest=longest,
        ministries=sorted(page.context.registry.ministries()),
    )  # fmt: skip
