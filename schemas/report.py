"""Reports (internal figures from the history) and published figures (disclosure-controlled)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class ReportRange(BaseModel):
    scope: str = Field(description="`national`, or the ministry whose cases a supervisor sees")
    from_date: date = Field(description="first day of the range (WIB), inclusive")
    to_date: date = Field(description="last day of the range (WIB), inclusive")
    as_of: datetime = Field(description="the instant the stock figures (open cases) describe")


class BreakdownRow(BaseModel):
    key: dict[str, str] = Field(description="the value of each dimension; {} for the totals")
    referrals: int = Field(description="cases registered within the range")
    victims: int = Field(description="cases identified as victims within the range")
    open: int = Field(description="cases open as of `as_of` (not in a terminal state)")


class BreakdownReport(ReportRange):
    dimensions: list[str]
    rows: list[BreakdownRow] = Field(description="one row per combination with any figure > 0")
    totals: BreakdownRow


class MonthRow(BaseModel):
    month: str = Field(description="YYYY-MM (WIB)")
    figures: dict[str, int] = Field(
        description="referrals, identifications, repatriations, reintegrations, closures, and "
        "any figure a later feature adds"
    )


class MonthlyReport(ReportRange):
    figures: list[str] = Field(description="the figures each month carries, in order")
    months: list[MonthRow]
    totals: dict[str, int]


class TimeStats(BaseModel):
    name: str = Field(description="a state, a phase or a ministry")
    completed: int = Field(description="stays that ended within the range")
    median_hours: float | None
    p90_hours: float | None
    with_deadline: int = Field(description="of those, the stays that had a deadline")
    on_time: int = Field(description="of those, the stays that ended by their due time")


class DurationReport(ReportRange):
    states: list[TimeStats]
    phases: list[TimeStats] = Field(description="a phase's stay: from entering it to leaving it")
    ministries: list[TimeStats] = Field(description="the steps each lead ministry led")
    deadlines_met: int
    deadlines_total: int


class PublishedCell(BaseModel):
    key: dict[str, str]
    victims: int | None = Field(description="null: suppressed (fewer than k, or complementary)")


class PublishedTable(BaseModel):
    from_date: date
    to_date: date
    k: int = Field(description="cells below k victims are suppressed, and enough others that no "
                   "margin reveals them")  # fmt: skip
    dimensions: list[str]
    cells: list[PublishedCell]
    margins: list[PublishedCell] = Field(description="the totals of each line; key {} is all")


class PublishedDataset(BaseModel):
    from_date: date
    to_date: date
    k: int
    quasi_identifiers: list[str] = Field(description="the HTCDS columns k-anonymity covers")
    records: list[dict[str, str | int | None]] = Field(description="HTCDS (CTDC) records")
    suppressed_records: int = Field(description="records left out: no generalisation reached k")
