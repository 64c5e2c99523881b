"""Figures per ministry, computed from the history (events), never from mutable case columns.

A *step* is a stay in one state: from the event that entered it to the next event that entered
another. Its due time is recomputed from its entry and the state's deadline in the case's own
definition version, so a figure for last year means what it meant then. Who may read them:
the ministry's supervisors, the national Task Force (its escalation target) and auditors; they
are aggregates with no victim data (not for publication: published statistics need k-anonymity).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from schemas.auth import Role
from schemas.common import WIB
from schemas.stats import MinistryStats, StateStats
from service.kit.context import AppContext
from service.kit.errors import Forbidden, Invalid, NotFound
from service.kit.principal import Principal
from service.sla import repository as repo
from service.sla.repository import StateEntry

DEFAULT_DAYS = 30
_HOUR = timedelta(hours=1)


@dataclass
class StepTally:
    """Open and overdue cases, and the hours of each completed step by state (and how many of
    those were on time): what the ministry figures count, and the unit figures too."""

    open_cases: int = 0
    overdue: int = 0
    on_time: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    hours: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    @property
    def completed(self) -> int:
        return sum(len(hours) for hours in self.hours.values())

    @property
    def on_time_steps(self) -> int:
        return sum(self.on_time.values())

    @property
    def on_time_rate(self) -> float | None:
        return round(self.on_time_steps / self.completed, 4) if self.completed else None

    def state_stats(self) -> list[StateStats]:
        return [
            StateStats(
                state=state,
                completed=len(hours),
                on_time=self.on_time[state],
                median_hours=round(percentile(sorted(hours), 0.5), 2),
                p90_hours=round(percentile(sorted(hours), 0.9), 2),
            )
            for state, hours in sorted(self.hours.items())
            if hours
        ]


# The days figures may cover: the NRM's law dates from 2007, and a day past the last one has
# no WIB midnight after it that a datetime can hold.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)


def ministry_stats(
    session: Session,
    context: AppContext,
    principal: Principal,
    code: str,
    period_from: date | None,
    period_to: date | None,
) -> MinistryStats:
    ministry = code.strip().upper()
    if ministry not in context.registry.ministries():
        raise NotFound(f"no ministry has the code {code!r}")
    _may_read(context, principal, ministry)
    from_date, to_date, start, as_of = period(context, period_from, period_to)
    tally = _fold(context, ministry, repo.state_entries(session, ministry, as_of), start, as_of)
    return MinistryStats(
        ministry=ministry,
        from_date=from_date,
        to_date=to_date,
        as_of=as_of,
        open_cases=tally.open_cases,
        overdue=tally.overdue,
        completed_steps=tally.completed,
        on_time_steps=tally.on_time_steps,
        on_time_rate=tally.on_time_rate,
        states=tally.state_stats(),
    )


def _fold(
    context: AppContext,
    ministry: str,
    entries: Iterable[StateEntry],
    start: datetime,
    as_of: datetime,
) -> StepTally:
    tally = StepTally()
    for _case_id, group in itertools.groupby(entries, key=lambda entry: entry.case_id):
        steps = list(group)
        first = steps[0]
        definition = context.registry.engine(first.workflow_name, first.workflow_version).definition
        for entry, following in itertools.zip_longest(steps, steps[1:]):
            # a case migrated to another version is read on that version: a step in a state
            # it renamed or dropped is not counted
            spec = definition.states.get(entry.state)
            if spec is None or spec.ministry != ministry or spec.deadline is None:
                continue
            due = context.calendar.due_at(entry.at, spec.deadline)
            if following is None:
                tally.open_cases += 1
                tally.overdue += due <= as_of
            elif start <= following.at < as_of:
                tally.hours[spec.name].append((following.at - entry.at) / _HOUR)
                tally.on_time[spec.name] += following.at <= due
    return tally


def period(
    context: AppContext, period_from: date | None, period_to: date | None
) -> tuple[date, date, datetime, datetime]:
    """The range asked for (WIB days, inclusive; the last 30 days by default): its first and
    last day, the instant it starts, and the instant its open figures describe."""
    now = context.clock()
    to_date = period_to or now.astimezone(WIB).date()
    from_date = period_from or to_date - timedelta(days=DEFAULT_DAYS - 1)
    for name, day in (("from", from_date), ("to", to_date)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise Invalid(f"{name}: give a day from {FIRST_DAY} to {LAST_DAY}")
    if from_date > to_date:
        raise Invalid("from: must not be after to")
    start = _wib_midnight(from_date)
    as_of = min(_wib_midnight(to_date + timedelta(days=1)), now)
    return from_date, to_date, start, as_of


def percentile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); `ordered` is sorted."""
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _may_read(context: AppContext, principal: Principal, ministry: str) -> None:
    if principal.role == Role.AUDITOR:
        return
    targets = {d.escalate_to for d in context.registry.definitions()}
    if principal.works_cases and principal.ministry in targets:
        return
    if principal.role == Role.SUPERVISOR and principal.ministry == ministry:
        return
    raise Forbidden(
        f"figures of {ministry} are for its supervisors, the national Task Force and auditors"
    )


def _wib_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), WIB).astimezone(UTC)
