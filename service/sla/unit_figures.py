"""Figures per unit (rolled up over the units below it) and per region, from the history.

The events say which unit led each stretch of a case: the creation names the first lead unit;
a transition that hands over (`_handover`) leaves the sender leading while the case waits for
the receiver; an acceptance (`transfer_accepted`, or a transition carrying
`_accepted_handover`) makes the receiver lead and starts the step's clock again; a refusal
(`transfer_declined`) starts it again for the sender; a re-routing makes the case wait for
another unit. So a step counts for the unit that led it, from entering the state or accepting
the hand-over to leaving the state or handing it on, due by the state's deadline from then (the
case's own definition version); a wait counts for the unit it waited for, due within the
hand-over's deadline. Like the ministry figures, nothing here reads a mutable case column.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session

from schemas.auth import Role
from schemas.stats import HandoverStats, RegionStats, Totals, UnitStats
from service.kit.context import AppContext
from service.kit.errors import Forbidden, NotFound
from service.kit.principal import Principal
from service.models import Unit
from service.sla import repository as repo
from service.sla.clock import TRANSFER_DEADLINE
from service.sla.repository import UnitEvent
from service.sla.service import StepTally, percentile, period
from service.units import service as units
from workflows import Definition
from workflows.regions import load_regions

_HOUR = timedelta(hours=1)


@dataclass
class Tally(StepTally):
    """What happened in one unit over the range: its steps, and the hand-overs it received."""

    accepted_hours: list[float] = field(default_factory=list)
    accepted_on_time: int = 0
    declined: int = 0
    waiting: int = 0
    waiting_overdue: int = 0

    def add(self, other: Tally) -> None:
        self.open_cases += other.open_cases
        self.overdue += other.overdue
        for state, hours in other.hours.items():
            self.hours[state].extend(hours)
            self.on_time[state] += other.on_time[state]
        self.accepted_hours.extend(other.accepted_hours)
        self.accepted_on_time += other.accepted_on_time
        self.declined += other.declined
        self.waiting += other.waiting
        self.waiting_overdue += other.waiting_overdue


@dataclass
class _Stretch:
    """A stretch of one case: a unit leading a step, or a hand-over waiting for a unit."""

    state: str
    unit: str
    start: datetime
    waiting: bool


class _Fold:
    def __init__(self, context: AppContext, start: datetime, as_of: datetime) -> None:
        self.context, self.start, self.as_of = context, start, as_of
        self.tallies: dict[str, Tally] = defaultdict(Tally)

    def case(self, events: list[UnitEvent]) -> None:
        first = events[0]
        definition = self.context.registry.engine(
            first.workflow_name, first.workflow_version
        ).definition
        lead = ""
        stretch: _Stretch | None = None
        for event in events:
            payload = event.payload or {}
            if event.kind == "created":
                lead = str(payload.get("unit", ""))
                stretch = _Stretch(event.to_state or "", lead, event.at, waiting=False)
                continue
            if stretch is None:
                continue
            if event.kind == "transition":
                if event.to_state is None or event.from_state == event.to_state:
                    continue  # a record in place (the legal track): nothing moves
                accepted = payload.get("_accepted_handover")
                if isinstance(accepted, dict) and stretch.waiting:  # accepted by acting:
                    self._close(definition, stretch, event.at, "accepted")  # the receiver
                    lead = str(accepted.get("to_unit", lead))  # did the step while it waited
                    stretch = _Stretch(stretch.state, lead, stretch.start, waiting=False)
                self._close(definition, stretch, event.at, "left")
                handover = payload.get("_handover")
                stretch = _Stretch(event.to_state, lead, event.at, waiting=False)
                if isinstance(handover, dict):  # the sender keeps the step while this waits
                    stretch = _Stretch(event.to_state, str(handover["to_unit"]), event.at, True)
            elif event.kind == "transfer_accepted" and stretch.waiting:
                self._close(definition, stretch, event.at, "accepted")
                lead = str(payload.get("to_unit", stretch.unit))
                stretch = _Stretch(stretch.state, lead, event.at, waiting=False)
            elif event.kind == "transfer_declined" and stretch.waiting:
                self._close(definition, stretch, event.at, "declined")
                stretch = _Stretch(stretch.state, lead, event.at, waiting=False)
            elif event.kind == "transfer_rerouted":
                to_unit = str(payload.get("to_unit", ""))
                stretch = _Stretch(stretch.state, to_unit, event.at, waiting=True)
        if stretch is not None:
            self._open(definition, stretch, lead)

    def _close(self, definition: Definition, stretch: _Stretch, end: datetime, how: str) -> None:
        if not self.start <= end < self.as_of:
            return
        tally = self.tallies[stretch.unit]
        hours = (end - stretch.start) / _HOUR
        if stretch.waiting:
            if how == "accepted":
                tally.accepted_hours.append(hours)
                tally.accepted_on_time += end <= self._transfer_due(stretch)
            elif how == "declined":
                tally.declined += 1
            return
        spec = definition.states.get(stretch.state)
        if spec is None or spec.deadline is None:
            return
        tally.hours[stretch.state].append(hours)
        tally.on_time[stretch.state] += end <= self.context.calendar.due_at(
            stretch.start, spec.deadline
        )

    def _open(self, definition: Definition, stretch: _Stretch, lead: str) -> None:
        spec = definition.states.get(stretch.state)
        if spec is None or spec.deadline is None:
            return  # closed: a terminal state
        if stretch.waiting:
            receiver = self.tallies[stretch.unit]
            receiver.waiting += 1
            receiver.waiting_overdue += self._transfer_due(stretch) <= self.as_of
        led = self.tallies[lead]
        led.open_cases += 1
        led.overdue += self.context.calendar.due_at(stretch.start, spec.deadline) <= self.as_of

    def _transfer_due(self, stretch: _Stretch) -> datetime:
        return self.context.calendar.due_at(stretch.start, TRANSFER_DEADLINE)


def tallies(
    session: Session, context: AppContext, scope: list[Unit], start: datetime, as_of: datetime
) -> dict[str, Tally]:
    """One tally per unit code, over the cases any unit of `scope` referred, led or received."""
    fold = _Fold(context, start, as_of)
    ids = [unit.id for unit in scope if unit.id is not None]
    events = repo.unit_events(session, ids, as_of)
    for _case_id, group in itertools.groupby(events, key=lambda event: event.case_id):
        fold.case(list(group))
    return fold.tallies


def unit_stats(
    session: Session,
    context: AppContext,
    principal: Principal,
    code: str,
    period_from: date | None,
    period_to: date | None,
) -> UnitStats:
    unit = units.find(session, code.strip().upper())
    if unit is None:
        raise NotFound(f"no unit has the code {code!r}")
    _may_read_unit(session, context, principal, unit)
    from_date, to_date, start, as_of = period(context, period_from, period_to)
    scope = units.within(session, unit)
    counted = tallies(session, context, scope, start, as_of)
    total = _sum(counted, [u.code for u in scope])
    below = [
        _totals(child.code, child.name, _sum(counted, _codes_within(scope, child)))
        for child in scope
        if child.parent_id == unit.id
    ]
    return UnitStats(
        unit=unit.code, name=unit.name, ministry=unit.ministry, level=unit.level,
        region_code=unit.region_code, from_date=from_date, to_date=to_date, as_of=as_of,
        open_cases=total.open_cases, overdue=total.overdue, completed_steps=total.completed,
        on_time_steps=total.on_time_steps, on_time_rate=total.on_time_rate,
        states=total.state_stats(), handovers=_handovers(total), below=below,
    )  # fmt: skip


def region_stats(
    session: Session,
    context: AppContext,
    principal: Principal,
    code: str,
    period_from: date | None,
    period_to: date | None,
) -> RegionStats:
    region = load_regions().get(code.strip())
    if region is None:
        raise NotFound(f"no province or regency has the code {code!r}")
    _may_read_region(session, context, principal, region.code)
    from_date, to_date, start, as_of = period(context, period_from, period_to)
    scope = units.in_region(session, region.code)
    counted = tallies(session, context, scope, start, as_of)
    total = _sum(counted, [u.code for u in scope])
    by_ministry: dict[str, list[str]] = defaultdict(list)
    for unit in scope:
        by_ministry[unit.ministry].append(unit.code)
    return RegionStats(
        region_code=region.code, region_name=region.name, from_date=from_date,
        to_date=to_date, as_of=as_of, open_cases=total.open_cases, overdue=total.overdue,
        completed_steps=total.completed, on_time_steps=total.on_time_steps,
        on_time_rate=total.on_time_rate, handovers=_handovers(total),
        ministries=[
            _totals(ministry, ministry, _sum(counted, codes))
            for ministry, codes in sorted(by_ministry.items())
        ],
    )  # fmt: skip


def _codes_within(scope: list[Unit], top: Unit) -> list[str]:
    return [u.code for u in scope if u.id == top.id or u.path.startswith(top.path + ".")]


def _sum(counted: dict[str, Tally], codes: Iterable[str]) -> Tally:
    total = Tally()
    for code in codes:
        if code in counted:
            total.add(counted[code])
    return total


def _totals(code: str, name: str, tally: Tally) -> Totals:
    return Totals(
        code=code, name=name, open_cases=tally.open_cases, overdue=tally.overdue,
        completed_steps=tally.completed, on_time_steps=tally.on_time_steps,
        on_time_rate=tally.on_time_rate, handovers_waiting=tally.waiting,
    )  # fmt: skip


def _handovers(tally: Tally) -> HandoverStats:
    hours = sorted(tally.accepted_hours)
    return HandoverStats(
        accepted=len(hours), accepted_on_time=tally.accepted_on_time,
        median_hours_to_accept=round(percentile(hours, 0.5), 2) if hours else None,
        declined=tally.declined, waiting=tally.waiting, waiting_overdue=tally.waiting_overdue,
    )  # fmt: skip


def _task_force_covers(
    session: Session, context: AppContext, principal: Principal, region_code: str | None
) -> bool:
    """A Task Force member whose unit's region holds `region_code` (the national one: all)."""
    targets = {d.escalate_to for d in context.registry.definitions()}
    if not (principal.works_cases and principal.ministry in targets and principal.unit_id):
        return False
    own = units.by_id(session, principal.unit_id)
    if own is None:
        return False
    if own.region_code is None:
        return own.level == "national"
    return region_code is not None and (
        region_code == own.region_code or region_code.startswith(own.region_code + ".")
    )


def _may_read_unit(session: Session, context: AppContext, principal: Principal, unit: Unit) -> None:
    if principal.role == Role.AUDITOR:
        return
    if principal.role == Role.SUPERVISOR and principal.serves(unit.path):
        return
    if _task_force_covers(session, context, principal, unit.region_code):
        return
    raise Forbidden(
        f"figures of {unit.code} are for the supervisors of that unit or one above it, the "
        "Task Force of its region and auditors"
    )


def _may_read_region(
    session: Session, context: AppContext, principal: Principal, region_code: str
) -> None:
    if principal.role == Role.AUDITOR:
        return
    if _task_force_covers(session, context, principal, region_code):
        return
    raise Forbidden(
        f"figures of region {region_code} are for the Task Force of that region or above it, "
        "and auditors"
    )
