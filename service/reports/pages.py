"""Reports in the browser: a breakdown and the milestones per month as charts (server-drawn
SVG, no script) with the same numbers as tables, and their CSV and XLSX downloads."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Query
from sqlmodel import Session
from starlette.responses import Response

from schemas.report import BreakdownReport, MonthlyReport
from service.kit.context import AppContext
from service.kit.principal import Principal
from service.reports import downloads
from service.reports import service as reports
from service.reports.dimensions import DIMENSIONS
from service.web.errors import page_router
from service.web.session import Page, page_as
from service.web.templating import Templates

router = page_router()
templates = Templates(Path(__file__).parent / "templates")
ReportsPage = Annotated[Page, Depends(page_as("case_worker", "supervisor", "auditor"))]
From = Annotated[date | None, Query(alias="from")]
To = Annotated[date | None, Query(alias="to")]
Dimension = Annotated[str, Query(max_length=80)]


@router.get("/reports")
async def reports_page(
    page: ReportsPage,
    dimension: Dimension = "phase",
    period_from: From = None,
    period_to: To = None,
) -> Response:
    """A breakdown (one dimension or two) and the milestones per month, for the caller's scope."""
    breakdown, monthly = await page.read(
        lambda s, c, me: _both(s, c, me, dimension, period_from, period_to)
    )
    widest = max((row.referrals for row in breakdown.rows), default=0) or 1
    busiest = max((max(m.figures.values(), default=0) for m in monthly.months), default=0) or 1
    return page.render(
        templates, "reports.html", breakdown=breakdown, monthly=monthly, widest=widest,
        busiest=busiest, dimensions=list(DIMENSIONS), dimension=",".join(breakdown.dimensions),
    )  # fmt: skip


def _both(
    session: Session,
    context: AppContext,
    me: Principal,
    dimension: str,
    period_from: date | None,
    period_to: date | None,
) -> tuple[BreakdownReport, MonthlyReport]:
    """One snapshot for both: the same history behind every number on the page."""
    return (
        reports.breakdown_report(session, context, me, dimension, period_from, period_to),
        reports.monthly_report(session, context, me, period_from, period_to),
    )  # fmt: skip


@router.get("/reports/download")
async def download_report(
    page: ReportsPage,
    kind: Literal["breakdown", "monthly", "durations"],
    fmt: Annotated[Literal["csv", "xlsx"], Query(alias="format")],
    dimension: Dimension = "phase",
    period_from: From = None,
    period_to: To = None,
) -> Response:
    """The page's figures (or the durations) as a file, the same rows as the API's."""
    if kind == "breakdown":
        rows = downloads.breakdown_rows(
            await page.read(
                lambda s, c, me: reports.breakdown_report(
                    s, c, me, dimension, period_from, period_to
                )
            )
        )
    elif kind == "monthly":
        rows = downloads.monthly_rows(
            await page.read(
                lambda s, c, me: reports.monthly_report(s, c, me, period_from, period_to)
            )
        )
    else:
        rows = downloads.duration_rows(
            await page.read(
                lambda s, c, me: reports.duration_report(s, c, me, period_from, period_to)
            )
        )
    return downloads.file_response(kind, fmt, rows)
