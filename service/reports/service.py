"""Reports for supervisors, the Task Force and auditors, and what the nation may publish.

Every figure comes from the history: where a case stood on a day is its last state event
before then, so a report for a past range gives what the history said then, whatever happened
since. Who sees what: a supervisor, the cases their ministry referred or led (as for the
ministry figures); the national Task Force and auditors, every case. No report shows or needs
an identity: its dimensions are the coarse intake facts kept in clear (sex, age at intake,
nationality, province, country of exploitation) and the referral's codes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import product

from sqlmodel import Session

from schemas.auth import Role
from schemas.report import (
    BreakdownReport,
    DurationReport,
    MonthlyReport,
    MonthRow,
    PublishedCell,
    PublishedDataset,
    PublishedTable,
)
from service.kit.context import AppContext
from service.kit.errors import AllSuppressed, Forbidden, RangeTooLong, UnknownDimension
from service.kit.principal import Principal
from service.legal import service as legal
from service.reports import figures, htcds
from service.reports import repository as repo
from service.reports.dimensions import DIMENSIONS, MAX_DIMENSIONS, PUBLISHABLE, CaseView
from service.reports.disclosure import K, k_anonymise, suppress_table
from service.service_requests import service as service_requests
from service.sla.service import period

MAX_YEARS = 10
NATIONAL = "national"

# A figure per month that another feature computes from its own history (criminal cases,
# victims and suspects; services started within their legal window once workflow v3 exists):
# (name, function of (session, context, scope, start, until) -> {"YYYY-MM": count}).
MonthlyFigure = Callable[[Session, AppContext, str | None, datetime, datetime], dict[str, int]]
MONTHLY_FIGURES: tuple[tuple[str, MonthlyFigure], ...] = (
    ("services_started_in_time", service_requests.started_in_time_per_month),
    ("services_started_late", service_requests.started_late_per_month),
    ("criminal_cases", legal.criminal_cases_per_month),
    ("criminal_case_victims", legal.criminal_case_victims_per_month),
    ("suspects", legal.suspects_per_month),
)


@dataclass(frozen=True)
class Window:
    from_date: date
    to_date: date
    start: datetime
    as_of: datetime


def window(context: AppContext, period_from: date | None, period_to: date | None) -> Window:
    """The range asked for (WIB days, inclusive; the last 30 days by default), at most ten
    years long."""
    from_date, to_date, start, as_of = period(context, period_from, period_to)
    try:
        limit = from_date.replace(year=from_date.year + MAX_YEARS)
    except ValueError:  # 29 February
        limit = from_date.replace(year=from_date.year + MAX_YEARS, day=28)
    if to_date >= limit:
        raise RangeTooLong(f"to: a report covers at most {MAX_YEARS} years (from {from_date})")
    return Window(from_date, to_date, start, as_of)


def scope_of(context: AppContext, principal: Principal) -> str | None:
    """The ministry whose cases the caller's reports cover, or None: every case."""
    if principal.role == Role.AUDITOR or _task_force(context, principal):
        return None
    if principal.role == Role.SUPERVISOR and principal.works_cases and principal.ministry:
        return principal.ministry
    raise Forbidden("reports are for supervisors, the national Task Force and auditors")


def _national(context: AppContext, principal: Principal) -> None:
    if principal.role != Role.AUDITOR and not _task_force(context, principal):
        raise Forbidden("published figures and the HTCDS export are for the national Task "
                        "Force and auditors")  # fmt: skip


def _task_force(context: AppContext, principal: Principal) -> bool:
    targets = {d.escalate_to for d in context.registry.definitions()}
    return principal.works_cases and principal.ministry in targets


def parse_dimensions(text: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = allowed or tuple(DIMENSIONS)
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise UnknownDimension(
            f"dimension: {', '.join(unknown) or 'none given'}; choose from {', '.join(known)}"
        )
    if len(names) > MAX_DIMENSIONS or len(set(names)) != len(names):
        raise UnknownDimension(f"dimension: give one or {MAX_DIMENSIONS} different dimensions")
    return names


def case_views(
    session: Session, context: AppContext, scope: str | None, span: Window, units: bool = False
) -> list[CaseView]:
    """Every case registered before the range's end, as the history had it then."""
    states = repo.states_as_of(session, scope, span.as_of)
    identified = repo.first_moves(
        session, scope, figures.IDENTIFICATION_TRIGGERS, span.start, span.as_of
    )
    leads = repo.lead_units(session, scope, span.as_of) if units else {}
    views = []
    for fact in repo.case_facts(session, scope, span.as_of):
        definition = context.registry.engine(fact.workflow_name, fact.workflow_version).definition
        spec = definition.state(states[fact.case_id])
        views.append(CaseView(
            fact, spec.name, spec.phase, spec.ministry, spec.terminal,
            leads.get(fact.case_id, ""), identified.get(fact.case_id),
        ))  # fmt: skip
    return views


def breakdown_report(
    session: Session,
    context: AppContext,
    principal: Principal,
    dimension: str,
    period_from: date | None,
    period_to: date | None,
) -> BreakdownReport:
    scope = scope_of(context, principal)
    dimensions = parse_dimensions(dimension)
    span = window(context, period_from, period_to)
    views = case_views(session, context, scope, span, units="unit" in dimensions)
    rows, totals = figures.breakdown(views, dimensions, span.start)
    return BreakdownReport(**_range(scope, span), dimensions=dimensions, rows=rows, totals=totals)


def monthly_report(
    session: Session,
    context: AppContext,
    principal: Principal,
    period_from: date | None,
    period_to: date | None,
) -> MonthlyReport:
    scope = scope_of(context, principal)
    span = window(context, period_from, period_to)
    states = figures.StateMap.of(context.registry.definitions())
    months = figures.months_between(span.from_date, span.to_date)
    groups = repo.monthly_moves(
        session, scope, [(m, max(at, span.start)) for m, at in months], span.as_of,
        figures.IDENTIFICATION_TRIGGERS, states.milestone_states(),
    )  # fmt: skip
    counts = figures.monthly(groups, states)
    names = [*figures.MILESTONES, *(name for name, _ in MONTHLY_FIGURES)]
    for name, figure in MONTHLY_FIGURES:
        for month, count in figure(session, context, scope, span.start, span.as_of).items():
            counts[month][name] = count
    lines = [
        MonthRow(month=month, figures={name: counts.get(month, {}).get(name, 0) for name in names})
        for month, _ in months
    ]
    totals = {name: sum(row.figures[name] for row in lines) for name in names}
    return MonthlyReport(**_range(scope, span), figures=names, months=lines, totals=totals)


def rebuild_ministry_moves(session: Session) -> tuple[int, int]:
    """Recompute the index a ministry's monthly report counts from (`ministry_move`) from the
    events: its rows, and how many were missing or extra before (0 when the triggers kept it
    right)."""
    repo.lock_ministry_moves(session)
    differed = repo.ministry_moves_differing(session)
    return repo.rebuild_ministry_moves(session), differed


def duration_report(
    session: Session,
    context: AppContext,
    principal: Principal,
    period_from: date | None,
    period_to: date | None,
) -> DurationReport:
    scope = scope_of(context, principal)
    span = window(context, period_from, period_to)
    result = figures.durations(
        repo.state_entries(session, scope, span.as_of),
        lambda name, version: context.registry.engine(name, version).definition,
        context.calendar.due_at,  # type: ignore[arg-type]
        span.start,
        span.as_of,
    )
    met, total = result.deadlines
    return DurationReport(
        **_range(scope, span),
        states=result.lines(result.states),
        phases=result.lines(result.phases),
        ministries=result.lines(result.ministries),
        deadlines_met=met,
        deadlines_total=total,
    )


def _victims(session: Session, context: AppContext, span: Window) -> list[CaseView]:
    """The victims identified within the range: what is published, and the HTCDS export."""
    views = case_views(session, context, None, span)
    return [view for view in views if view.identified_at is not None]


def published_table(
    session: Session,
    context: AppContext,
    principal: Principal,
    dimension: str,
    period_from: date | None,
    period_to: date | None,
) -> PublishedTable:
    """Victims identified within the range by one or two dimensions, small cells suppressed."""
    _national(context, principal)
    dimensions = parse_dimensions(dimension, PUBLISHABLE)
    span = window(context, period_from, period_to)
    values = [DIMENSIONS[name] for name in dimensions]
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    for view in _victims(session, context, span):
        counts[tuple(value(view) for value in values)] += 1
    if len(dimensions) == 2:  # every line complete, zeros included: the equations hold
        rows, columns = sorted({k[0] for k in counts}), sorted({k[1] for k in counts})
        counts = defaultdict(int, {key: counts.get(key, 0) for key in product(rows, columns)})
    table = suppress_table(dict(counts))
    if counts and not any(table.cells.values()):
        raise AllSuppressed(f"dimension: every cell of {' x '.join(dimensions)} would have to "
                            f"be suppressed (fewer than {K} victims each); choose a coarser "
                            "dimension or a longer range")  # fmt: skip
    return PublishedTable(
        from_date=span.from_date, to_date=span.to_date, k=K, dimensions=dimensions,
        cells=[PublishedCell(key=dict(zip(dimensions, key, strict=True)), victims=n)
               for key, n in sorted(table.cells.items())],
        margins=[PublishedCell(key=_margin_key(dimensions, key), victims=n)
                 for key, n in sorted(table.margins.items())],
    )  # fmt: skip


def _margin_key(dimensions: list[str], key: tuple[str, ...]) -> dict[str, str]:
    if len(key) == 2:  # a column's total
        return {dimensions[1]: key[1]}
    return dict(zip(dimensions, key, strict=False))


def published_dataset(
    session: Session,
    context: AppContext,
    principal: Principal,
    period_from: date | None,
    period_to: date | None,
) -> PublishedDataset:
    """The victims identified within the range in HTCDS, k-anonymous over the quasi-identifiers,
    sorted by their values (the order says nothing of when a victim was registered)."""
    _national(context, principal)
    span = window(context, period_from, period_to)
    records = [htcds.working(view) for view in _victims(session, context, span)]
    kept, left_out = k_anonymise(records, htcds.QUASI, htcds.LADDERS)
    rows = sorted((htcds.to_htcds(record) for record in kept), key=_sort_key)
    return PublishedDataset(
        from_date=span.from_date, to_date=span.to_date, k=K,
        quasi_identifiers=htcds.QUASI_HTCDS, records=rows, suppressed_records=left_out,
    )  # fmt: skip


def htcds_export(
    session: Session,
    context: AppContext,
    principal: Principal,
    period_from: date | None,
    period_to: date | None,
) -> list[dict[str, str | int | None]]:
    """Every victim identified within the range in HTCDS, before disclosure control: for the
    Task Force and auditors, never published (no name, reference or date finer than a year)."""
    _national(context, principal)
    span = window(context, period_from, period_to)
    records = [htcds.to_htcds(htcds.working(view)) for view in _victims(session, context, span)]
    return sorted(records, key=_sort_key)


def _sort_key(row: dict[str, str | int | None]) -> tuple[str, ...]:
    return tuple("" if row[column] is None else str(row[column]) for column in htcds.COLUMNS)


def _range(scope: str | None, span: Window) -> dict[str, object]:
    return {"scope": scope or NATIONAL, "from_date": span.from_date, "to_date": span.to_date,
            "as_of": span.as_of}  # fmt: skip
