"""Figures per ministry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from schemas.common import Day, ErrorRead
from schemas.stats import MinistryStats
from service.auth.dependencies import RunDep
from service.sla import service as stats

router = APIRouter(prefix="/api/v1/ministries", tags=["ministries"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorRead} for code in (403, 404, 422)}


@router.get("/{code}/stats", responses=_ERRORS)
async def read_stats(
    code: str,
    run: RunDep,
    period_from: Annotated[
        Day | None, Query(alias="from", description="first day (WIB); default 30 days back")
    ] = None,
    period_to: Annotated[
        Day | None, Query(alias="to", description="last day (WIB), inclusive; default today")
    ] = None,
) -> MinistryStats:
    """Open and overdue cases, on-time rate, median and p90 time per state, from the history."""
    return await run.read(
        lambda session, context, principal: stats.ministry_stats(
            session, context, principal, code, period_from, period_to
        )
    )
