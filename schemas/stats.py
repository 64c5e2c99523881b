"""Figures per ministry, per unit and per region, computed from the case history over a date
range."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class StateStats(BaseModel):
    state: str
    completed: int = Field(description="steps in this state that ended within the range")
    on_time: int = Field(description="of those, the steps that ended by their due time")
    median_hours: float = Field(description="median time spent in the state, in hours")
    p90_hours: float = Field(description="90th percentile of the time spent, in hours")


class MinistryStats(BaseModel):
    ministry: str
    from_date: date = Field(description="first day of the range (WIB), inclusive")
    to_date: date = Field(description="last day of the range (WIB), inclusive")
    as_of: datetime = Field(description="the instant the open and overdue figures describe")
    open_cases: int = Field(description="cases in a step the ministry leads, as of `as_of`")
    overdue: int = Field(description="of those, the ones past their step's due time")
    completed_steps: int = Field(description="steps the ministry led that ended within the range")
    on_time_steps: int
    on_time_rate: float | None = Field(description="on_time_steps / completed_steps; null if none")
    states: list[StateStats]


class HandoverStats(BaseModel):
    """Hand-overs that waited for the unit (or the units below it) to accept them."""

    accepted: int = Field(description="accepted within the range")
    accepted_on_time: int = Field(description="of those, accepted within one business day")
    median_hours_to_accept: float | None
    declined: int = Field(description="declined within the range")
    waiting: int = Field(description="waiting for acceptance as of `as_of`")
    waiting_overdue: int = Field(description="of those, past their due time")


class Totals(BaseModel):
    """The headline figures of one unit with the units below it, or of one ministry."""

    code: str = Field(description="the unit's code, or the ministry's")
    name: str
    open_cases: int
    overdue: int
    completed_steps: int
    on_time_steps: int
    on_time_rate: float | None
    handovers_waiting: int


class UnitStats(BaseModel):
    """A unit's figures rolled up over the units below it, with one line per unit just below.

    A step counts for the unit that led it: from entering the state, or from accepting the
    hand-over (the step's clock starts again then), to leaving it. A hand-over's wait counts
    for the unit it waited for."""

    unit: str
    name: str
    ministry: str
    level: str
    region_code: str | None
    from_date: date
    to_date: date
    as_of: datetime
    open_cases: int
    overdue: int
    completed_steps: int
    on_time_steps: int
    on_time_rate: float | None
    states: list[StateStats]
    handovers: HandoverStats
    below: list[Totals] = Field(description="each unit just below, with the units below it")


class RegionStats(BaseModel):
    """Every ministry's units in a province (with its districts and cities) or in a district."""

    region_code: str
    region_name: str
    from_date: date
    to_date: date
    as_of: datetime
    open_cases: int
    overdue: int
    completed_steps: int
    on_time_steps: int
    on_time_rate: float | None
    handovers: HandoverStats
    ministries: list[Totals]
