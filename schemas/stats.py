"""Figures per ministry, computed from the case history over a date range."""

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
