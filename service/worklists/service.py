"""Work lists: a ministry's queue and watch list, the escalation list, and "my cases".

Each list is one keyset page of open cases, earliest `due_at` first (ties by id), read through
the visibility predicate and shown as pseudonymous summaries. Its cursor is signed and bound
to the list, the ministry and the filters (`service.kit.paging`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session

from schemas.auth import Role
from schemas.queue import CasePage, EscalationQuery, PageQuery, QueueQuery
from service.cases.presenters import present_summary
from service.cases.visibility import escalated_to, supported_by
from service.kit import metrics
from service.kit.context import AppContext
from service.kit.errors import Forbidden, Invalid, NotFound
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import CaseFile, Unit
from service.units import service as units
from service.worklists import repository as repo
from workflows import SlaLevel

_LEVELS = {"breached": SlaLevel.BREACHED, "escalated": SlaLevel.ESCALATED}


def list_queue(
    session: Session, context: AppContext, principal: Principal, ministry: str, query: QueueQuery
) -> CasePage:
    """The open cases whose current state `ministry` leads."""
    ministry = _known_ministry(context, ministry)
    _may_read_lists_of(principal, ministry)
    if query.state is not None and not any(
        query.state in d.states for d in context.registry.definitions()
    ):
        raise Invalid(f"state: no published workflow has a state called {query.state!r}")
    now = context.clock()
    filters = query.model_dump(mode="json", exclude={"limit", "cursor"})
    me = principal.user_id if query.assigned == "me" else None
    scope = scope_of(list="queue", ministry=ministry, filters=filters, me=me)
    criteria = [repo.led_by(ministry), *repo.queue_filters(query, principal, now)]
    return _page(session, context, principal, criteria, scope, query, now)


def list_watching(
    session: Session, context: AppContext, principal: Principal, ministry: str, query: PageQuery
) -> CasePage:
    """The open cases whose current state `ministry` supports: read-only, to follow them."""
    ministry = _known_ministry(context, ministry)
    _may_read_lists_of(principal, ministry)
    scope = scope_of(list="watching", ministry=ministry)
    criteria = [supported_by(context.registry, ministry)]
    return _page(session, context, principal, criteria, scope, query, context.clock())


def list_my_cases(
    session: Session, context: AppContext, principal: Principal, query: PageQuery
) -> CasePage:
    if not principal.works_cases:
        raise Forbidden("only case workers and supervisors have cases assigned to them")
    scope = scope_of(list="mine", user=principal.user_id)
    criteria = [repo.assigned_to(principal.user_id)]
    return _page(session, context, principal, criteria, scope, query, context.clock())


def list_escalations(
    session: Session, context: AppContext, principal: Principal, query: EscalationQuery
) -> CasePage:
    """Breached and escalated steps, as far as the caller oversees them.

    The national Task Force sees what was escalated to it; a supervisor sees the breaches and
    escalations of their own ministry's steps; an auditor sees all of them.
    """
    criteria = _escalation_scope(context, principal, query)
    if query.ministry is not None:
        criteria.append(repo.led_by(_known_ministry(context, query.ministry, field="ministry")))
    if query.level is not None:
        criteria.append(repo.at_level(_LEVELS[query.level]))
    scope = scope_of(
        list="escalations",
        who=principal.ministry or principal.role,
        unit=principal.unit_id,
        role=principal.role,
        ministry=query.ministry,
        level=query.level,
    )
    return _page(session, context, principal, criteria, scope, query, context.clock())


def _escalation_scope(
    context: AppContext, principal: Principal, query: EscalationQuery
) -> list[ColumnElement[bool]]:
    if principal.role == Role.AUDITOR:
        return [repo.at_least(SlaLevel.BREACHED)]
    targets = {d.escalate_to for d in context.registry.definitions()}
    if principal.works_cases and principal.ministry in targets:
        return [escalated_to(context.registry, principal.ministry, principal.unit_id)]
    if principal.role == Role.SUPERVISOR and principal.ministry is not None:
        if query.ministry is not None and query.ministry.upper() != principal.ministry:
            raise Forbidden("a supervisor sees the escalations of their own ministry only")
        return [repo.led_by(principal.ministry), repo.at_least(SlaLevel.BREACHED)]
    raise Forbidden("escalations are for supervisors, the Task Forces (Gugus Tugas) and auditors")


def escalations_reached(session: Session, page: CasePage) -> dict[str, tuple[str, str]]:
    """For each listed case escalated in its current step: the highest rung it reached and
    the Task Force unit there (the sweep climbs the ladder, so the latest is the highest)."""
    ids = [uuid.UUID(case.id) for case in page.items if case.sla == "escalated"]
    return {
        str(case_id): (rung, unit) for case_id, rung, unit in repo.escalations_reached(session, ids)
    }


def list_unit_queue(
    session: Session, context: AppContext, principal: Principal, code: str, query: PageQuery
) -> CasePage:
    """The open cases whose step belongs to the unit, earliest due first: its case workers
    and supervisors and those of the units above it see it, and auditors."""
    unit = _unit_readable_by(session, principal, code)
    scope = scope_of(list="unit_queue", unit=unit.code)
    assert unit.id is not None
    criteria = [repo.led_by_unit(unit.id)]
    return _page(session, context, principal, criteria, scope, query, context.clock())


def list_incoming(
    session: Session, context: AppContext, principal: Principal, code: str, query: PageQuery
) -> CasePage:
    """Hand-overs waiting for the unit to accept or decline them."""
    unit = _unit_readable_by(session, principal, code)
    scope = scope_of(list="incoming", unit=unit.code)
    assert unit.id is not None
    criteria = [repo.waiting_for_unit(unit.id)]
    return _page(session, context, principal, criteria, scope, query, context.clock())


def _unit_readable_by(session: Session, principal: Principal, code: str) -> Unit:
    unit = units.find(session, code)
    if unit is None or unit.id is None:
        raise NotFound(f"no unit has the code {code!r}")
    if not (principal.role == Role.AUDITOR or principal.serves(unit.path)):
        raise Forbidden(
            f"the lists of {unit.code} are for its case workers and supervisors, those of the "
            "units above it, and auditors"
        )
    return unit


def _page(
    session: Session,
    context: AppContext,
    principal: Principal,
    criteria: Sequence[ColumnElement[bool]],
    scope: str,
    query: PageQuery,
    now: datetime,
) -> CasePage:
    paging = Paging.of(
        context.settings.keys.secret_key, scope, query.cursor, query.limit,
        context.settings.queue_page_max,
    )  # fmt: skip
    rows = repo.page(session, criteria, _position(paging), paging.fetch)
    page, next_cursor = paging.page(rows, lambda row: _sort_key(row[0]))
    ids = {c.unit_id for c, _ in page} | {c.transfer_to_unit_id for c, _ in page} - {None}
    codes = units.codes(session, {unit_id for unit_id in ids if unit_id is not None})
    return CasePage(
        items=[present_summary(case, assignee, now, codes) for case, assignee in page],
        next_cursor=next_cursor,
    )


def _position(paging: Paging) -> repo.Position | None:
    after = paging.after_instant_and_id()
    return repo.Position(*after) if after else None


def _sort_key(case: CaseFile) -> list[str]:
    assert case.due_at is not None  # the lists hold open cases only
    return [case.due_at.isoformat(), case.id.hex]


def _known_ministry(context: AppContext, code: str, field: str | None = None) -> str:
    normalised = code.strip().upper()
    known = context.registry.ministries()
    if normalised not in known:
        message = f"no ministry has the code {code!r}; known codes: {', '.join(sorted(known))}"
        if field is not None:
            raise Invalid(f"{field}: {message}")
        raise NotFound(message)
    return normalised


def _may_read_lists_of(principal: Principal, ministry: str) -> None:
    if principal.role == Role.AUDITOR:
        return
    if principal.works_cases and principal.ministry == ministry:
        return
    raise Forbidden(f"only {ministry}'s case workers and supervisors, and auditors, see this list")


def refresh_queue_metrics(context: AppContext) -> None:
    """The periodic job behind `nrm_queue_open_cases`: one grouped count, never per scrape.
    A ministry whose queue emptied since the last refresh is set to zero."""
    with context.database.snapshot() as session:
        counts = repo.open_case_counts(session, context.clock())
    fresh = {(ministry, late): n for ministry, late, n in counts}
    for ministry in {m for m, _ in fresh} | _QUEUES_SEEN:
        for late in (False, True):
            metrics.QUEUE_CASES.labels(ministry, str(late).lower()).set(
                fresh.get((ministry, late), 0)
            )
    _QUEUES_SEEN.update(m for m, _ in fresh)


_QUEUES_SEEN: set[str] = set()
