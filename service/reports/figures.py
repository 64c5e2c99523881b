"""One function per figure, over rows the repository read from the history: the breakdowns,
the monthly milestones, and the time spent in each state and phase with the deadlines met.

The figures are pure: the same rows give the same numbers, wherever they are shown (API,
downloads, the reports page, the published tables).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from schemas.common import WIB
from schemas.report import BreakdownRow, TimeStats
from service.reports.dimensions import DIMENSIONS, CaseView
from service.reports.repository import EventGroup, StateEntry
from service.sla.service import percentile
from workflows import Definition

MILESTONES = ("referrals", "identifications", "repatriations", "reintegrations", "closures")
# The victim is identified when the case moves by `identify` (from screening, at home or abroad).
IDENTIFICATION_TRIGGERS = frozenset({"identify"})
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class StateMap:
    """Each state name's phase, lead ministry and whether it ends a case, over every published
    definition (a later version wins; tests/test_reports.py holds that versions agree)."""

    phase: dict[str, str]
    ministry: dict[str, str]
    terminal: frozenset[str]

    def milestone_states(self) -> frozenset[str]:
        """The states whose entry may mark a milestone (beyond identification's trigger)."""
        phases = {"repatriation", "reintegration"}
        return self.terminal | {name for name, phase in self.phase.items() if phase in phases}

    @classmethod
    def of(cls, definitions: Iterable[Definition]) -> StateMap:
        phase: dict[str, str] = {}
        ministry: dict[str, str] = {}
        terminal: set[str] = set()
        for definition in sorted(definitions, key=lambda d: (d.name, d.version)):
            for spec in definition.states.values():
                phase[spec.name], ministry[spec.name] = spec.phase, spec.ministry
                (terminal.add if spec.terminal else terminal.discard)(spec.name)
        return cls(phase, ministry, frozenset(terminal))


def milestone(group: EventGroup, states: StateMap) -> str | None:
    """Which milestone an event marks: a referral (the case's creation), an identification, the
    start of a repatriation or a reintegration (entering that phase from another), a closure."""
    if group.kind == "created":
        return "referrals"
    if group.trigger in IDENTIFICATION_TRIGGERS:
        return "identifications"
    if group.to_state in states.terminal:
        return "closures"
    entered = states.phase.get(group.to_state or "")
    if entered == states.phase.get(group.from_state or ""):
        return None
    return {"repatriation": "repatriations", "reintegration": "reintegrations"}.get(entered or "")


def months_between(first: date, last: date) -> list[tuple[str, datetime]]:
    """Each month from `first`'s to `last`'s: YYYY-MM and the instant it starts (WIB)."""
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        starts = datetime.combine(date(year, month, 1), time(0), WIB).astimezone(UTC)
        months.append((f"{year:04d}-{month:02d}", starts))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly(groups: Iterable[EventGroup], states: StateMap) -> dict[str, dict[str, int]]:
    """Milestones per month: {month: {milestone: count}}; months without any are absent."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MILESTONES, 0))
    for group in groups:
        if (name := milestone(group, states)) is not None:
            counts[group.month][name] += group.events
    return counts


def breakdown(
    views: Iterable[CaseView], dimensions: list[str], start: datetime
) -> tuple[list[BreakdownRow], BreakdownRow]:
    """Referrals and identifications within the range, and cases open at its end, per
    combination of the dimensions' values."""
    values = [DIMENSIONS[name] for name in dimensions]
    counts: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for view in views:
        line = (
            view.fact.registered_at >= start,
            view.identified_at is not None and view.identified_at >= start,
            not view.terminal,
        )
        if any(line):
            cell = counts[tuple(value(view) for value in values)]
            for i, counted in enumerate(line):
                cell[i] += counted
    rows = [_row(dict(zip(dimensions, key, strict=True)), cell)
            for key, cell in sorted(counts.items())]  # fmt: skip
    totals = [sum(cell[i] for cell in counts.values()) for i in range(3)]
    return rows, _row({}, totals)


def _row(key: dict[str, str], cell: list[int]) -> BreakdownRow:
    return BreakdownRow(key=key, referrals=cell[0], victims=cell[1], open=cell[2])


@dataclass
class _Stays:
    hours: list[float] = field(default_factory=list)
    with_deadline: int = 0
    on_time: int = 0

    def stats(self, name: str) -> TimeStats:
        ordered = sorted(self.hours)
        return TimeStats(
            name=name,
            completed=len(ordered),
            median_hours=round(percentile(ordered, 0.5), 2) if ordered else None,
            p90_hours=round(percentile(ordered, 0.9), 2) if ordered else None,
            with_deadline=self.with_deadline,
            on_time=self.on_time,
        )


@dataclass
class Durations:
    states: dict[str, _Stays] = field(default_factory=lambda: defaultdict(_Stays))
    phases: dict[str, _Stays] = field(default_factory=lambda: defaultdict(_Stays))
    ministries: dict[str, _Stays] = field(default_factory=lambda: defaultdict(_Stays))

    def lines(self, of: dict[str, _Stays]) -> list[TimeStats]:
        return [stays.stats(name) for name, stays in sorted(of.items())]

    @property
    def deadlines(self) -> tuple[int, int]:
        stays = self.states.values()
        return sum(s.on_time for s in stays), sum(s.with_deadline for s in stays)


DueAt = Callable[[datetime, object], datetime]


def durations(
    entries: Iterable[StateEntry],
    definition_of: Callable[[str, int], Definition],
    due_at: DueAt,
    start: datetime,
    as_of: datetime,
) -> Durations:
    """Stays in a state (a step) and in a phase that ended within the range, each due by the
    state's deadline in the case's own definition version, counted from the step's entry (the
    same rule as the ministry figures of sla/service.py)."""
    result = Durations()
    for _case, group in itertools.groupby(entries, key=lambda entry: entry.case_id):
        steps = list(group)
        definition = definition_of(steps[0].workflow_name, steps[0].workflow_version)
        phase_start: StateEntry | None = None
        for entry, following in itertools.zip_longest(steps, steps[1:]):
            spec = definition.state(entry.state)
            phase_start = phase_start or entry
            if following is None or not start <= following.at < as_of:
                if following is not None and definition.state(following.state).phase != spec.phase:
                    phase_start = None
                continue
            hours = (following.at - entry.at) / _HOUR
            for stays in (result.states[spec.name], result.ministries[spec.ministry]):
                stays.hours.append(hours)
                if spec.deadline is not None:
                    stays.with_deadline += 1
                    stays.on_time += following.at <= due_at(entry.at, spec.deadline)
            if definition.state(following.state).phase != spec.phase:
                result.phases[spec.phase].hours.append((following.at - phase_start.at) / _HOUR)
                phase_start = None
    return result
