"""Figures per ministry, per unit (with the units below it) and per region."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.common import Day, ErrorRead
from schemas.stats import MinistryStats, RegionStats, UnitStats
from service.auth.dependencies import RunDep
from service.sla import service as stats
from service.sla import unit_figures

router = APIRouter(prefix="/api/v1", tags=["figures"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorRead} for code in (403, 404, 422)}


From = Annotated[
    Day | None, Query(alias="from", description="first day (WIB); default 30 days back")
]
To = Annotated[
    Day | None, Query(alias="to", description="last day (WIB), inclusive; default today")
]


@router.get("/ministries/{code}/stats", responses=_ERRORS, tags=["ministries"])
async def read_stats(
    code: str, run: RunDep, period_from: From = None, period_to: To = None
) -> MinistryStats:
    """Open and overdue cases, on-time rate, median and p90 time per state, from the history."""
    return await run.read(
        lambda session, context, principal: stats.ministry_stats(
            session, context, principal, code, period_from, period_to
        )
    )


@router.get("/units/{code}/stats", responses=_ERRORS, tags=["units"])
async def read_unit_stats(
    code: str, run: RunDep, period_from: From = None, period_to: To = None
) -> UnitStats:
    """A unit's figures with the units below it rolled up, and one line per unit just below:
    open and overdue cases, steps on time, time per state, hand-overs accepted and waiting."""
    return await run.read(
        lambda session, context, principal: unit_figures.unit_stats(
            session, context, principal, code, period_from, period_to
        )
    )


@router.get("/regions/{code}/stats", responses=_ERRORS, tags=["units"])
async def read_region_stats(
    code: str, run: RunDep, period_from: From = None, period_to: To = None
) -> RegionStats:
    """Every ministry's units in a province (with its districts and cities) or a district."""
    return await run.read(
        lambda session, context, principal: unit_figures.region_stats(
            session, context, principal, code, period_from, period_to
        )
    )
