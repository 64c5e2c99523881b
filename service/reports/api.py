"""Reports (JSON, CSV, XLSX), published tables and the HTCDS dataset."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from schemas.common import Day, ErrorRead
from schemas.report import (
    BreakdownReport,
    DurationReport,
    MonthlyReport,
    PublishedDataset,
    PublishedTable,
)
from service.auth.dependencies import RunDep
from service.reports import downloads
from service.reports import service as reports
from service.reports.dimensions import DIMENSIONS, PUBLISHABLE

router = APIRouter(prefix="/api/v1", tags=["reports"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorRead} for code in (403, 422)}
_FILES: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    200: {"content": {downloads.CSV: {}, downloads.XLSX: {}}},
}

From = Annotated[
    Day | None, Query(alias="from", description="first day (WIB); default 30 days back")
]
To = Annotated[
    Day | None, Query(alias="to", description="last day (WIB), inclusive; default today")
]
Format = Annotated[Literal["json", "csv", "xlsx"], Query(alias="format")]
RecordFormat = Annotated[Literal["json", "csv"], Query(alias="format")]
Dimension = Annotated[str, Query(
    max_length=80, description=f"one or two of {', '.join(DIMENSIONS)}, comma-separated",
)]  # fmt: skip
PublicDimension = Annotated[str, Query(
    max_length=80, description=f"one or two of {', '.join(PUBLISHABLE)}, comma-separated",
)]  # fmt: skip


@router.get("/reports/breakdown", responses=_FILES, response_model=BreakdownReport)
async def read_breakdown(
    run: RunDep,
    dimension: Dimension,
    period_from: From = None,
    period_to: To = None,
    fmt: Format = "json",
) -> Any:
    """Referrals, identified victims and open cases by one or two dimensions, from the history."""
    report = await run.read(
        lambda session, context, principal: reports.breakdown_report(
            session, context, principal, dimension, period_from, period_to
        )
    )
    return (
        report
        if fmt == "json"
        else downloads.file_response("breakdown", fmt, downloads.breakdown_rows(report))
    )


@router.get("/reports/monthly", responses=_FILES, response_model=MonthlyReport)
async def read_monthly(
    run: RunDep, period_from: From = None, period_to: To = None, fmt: Format = "json"
) -> Any:
    """Referrals, identifications, repatriations, reintegrations and closures per month."""
    report = await run.read(
        lambda session, context, principal: reports.monthly_report(
            session, context, principal, period_from, period_to
        )
    )
    return (
        report
        if fmt == "json"
        else downloads.file_response("monthly", fmt, downloads.monthly_rows(report))
    )


@router.get("/reports/durations", responses=_FILES, response_model=DurationReport)
async def read_durations(
    run: RunDep, period_from: From = None, period_to: To = None, fmt: Format = "json"
) -> Any:
    """Time in each state, phase and lead ministry (median, p90) and the deadlines met."""
    report = await run.read(
        lambda session, context, principal: reports.duration_report(
            session, context, principal, period_from, period_to
        )
    )
    return (
        report
        if fmt == "json"
        else downloads.file_response("durations", fmt, downloads.duration_rows(report))
    )


@router.get(
    "/reports/htcds",
    responses={**_ERRORS, 200: {"content": {downloads.CSV: {}}}},
    response_model=list[dict[str, str | int | None]],
)
async def export_htcds(
    run: RunDep, period_from: From = None, period_to: To = None, fmt: RecordFormat = "json"
) -> Any:
    """Every victim identified within the range in HTCDS, before disclosure control (never
    published): no name, reference or date finer than the year."""
    records = await run.read(
        lambda session, context, principal: reports.htcds_export(
            session, context, principal, period_from, period_to
        )
    )
    return (
        records
        if fmt == "json"
        else downloads.file_response("htcds", fmt, downloads.record_rows(records))
    )


@router.get("/publication/tables", responses=_FILES, response_model=PublishedTable)
async def read_published_table(
    run: RunDep,
    dimension: PublicDimension,
    period_from: From = None,
    period_to: To = None,
    fmt: Format = "json",
) -> Any:
    """Victims by one or two dimensions, cells under k = 11 suppressed with their complements."""
    table = await run.read(
        lambda session, context, principal: reports.published_table(
            session, context, principal, dimension, period_from, period_to
        )
    )
    return (
        table
        if fmt == "json"
        else downloads.file_response("table", fmt, downloads.table_rows(table))
    )


@router.get(
    "/publication/dataset",
    responses={**_ERRORS, 200: {"content": {downloads.CSV: {}}}},
    response_model=PublishedDataset,
)
async def read_published_dataset(
    run: RunDep, period_from: From = None, period_to: To = None, fmt: RecordFormat = "json"
) -> Any:
    """The victims in HTCDS, k-anonymous (k = 11) over sex, age, nationality, province,
    country of exploitation, exploitation type and year."""
    dataset = await run.read(
        lambda session, context, principal: reports.published_dataset(
            session, context, principal, period_from, period_to
        )
    )
    if fmt == "json":
        return dataset
    return downloads.file_response("published", fmt, downloads.record_rows(dataset.records))
