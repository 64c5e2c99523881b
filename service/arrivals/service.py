"""Arrival use cases: record an arrival, list and read arrivals, list an arrival's cases.

An arrival holds no identity, so every case worker, supervisor and auditor may read it; its
cases are listed through `cases/visibility.py` like any list of cases, so nobody learns of a
case they may not see (and the count of imported rows is all they learn of the others).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlmodel import Session

from schemas.arrival import (
    ArrivalCasePage,
    ArrivalCaseRead,
    ArrivalCreate,
    ArrivalPage,
    ArrivalRead,
)
from schemas.auth import Role
from service.arrivals import repository as repo
from service.cases.visibility import visibility
from service.kit.context import AppContext
from service.kit.errors import Forbidden, InvalidCursor, NotFound
from service.kit.paging import NOT_OURS, Paging, scope_of
from service.kit.principal import Principal
from service.models import Arrival, CaseFile
from service.units import service as units


def create_arrival(
    session: Session, context: AppContext, principal: Principal, data: ArrivalCreate
) -> ArrivalRead:
    if not principal.works_cases or principal.ministry is None or principal.user_id is None:
        raise Forbidden("only case workers and supervisors of a ministry record arrivals")
    unit = (
        units.unit_for_user(session, principal.ministry, data.unit)
        if data.unit
        else units.by_id(session, principal.unit_id)
        if principal.unit_id
        else None
    )
    if unit is None or unit.id is None:
        raise Forbidden("you are in no open unit; an admin must place you in one")
    arrival = Arrival(
        arrival_date=data.arrival_date, place=data.place.strip(),
        source_country=data.source_country, operation_name=data.operation_name.strip(),
        unit_id=unit.id, ministry=principal.ministry, created_by_id=principal.user_id,
        created_at=context.clock(),
    )  # fmt: skip
    session.add(arrival)
    session.flush()
    return read_arrival(session, context, principal, str(arrival.id))


def list_arrivals(
    session: Session,
    context: AppContext,
    principal: Principal,
    cursor: str | None,
    limit: int | None,
) -> ArrivalPage:
    """Newest arrival first."""
    _may_read(principal)
    cap = context.settings.queue_page_max
    paging = Paging.of(
        context.settings.keys.secret_key, scope_of(list="arrivals"), cursor, limit or cap, cap
    )
    rows = repo.page(session, _position(paging.after), paging.fetch)
    page, next_cursor = paging.page(
        rows, lambda row: [row[0].arrival_date.isoformat(), str(row[0].id)]
    )
    return ArrivalPage(items=[_present(*row) for row in page], next_cursor=next_cursor)


def read_arrival(
    session: Session, context: AppContext, principal: Principal, arrival_id: str
) -> ArrivalRead:
    _may_read(principal)
    row = repo.described(session, _arrival_id(arrival_id))
    if row is None:
        raise NotFound("arrival not found")
    return _present(*row)


def arrival_cases(
    session: Session,
    context: AppContext,
    principal: Principal,
    arrival_id: str,
    cursor: str | None,
    limit: int | None,
) -> ArrivalCasePage:
    """The arrival's cases the caller may see, by id; no identity."""
    arrival = existing(session, principal, arrival_id)
    cap = context.settings.queue_page_max
    scope = scope_of(list="arrival-cases", arrival=str(arrival.id), who=principal.user_id)
    paging = Paging.of(context.settings.keys.secret_key, scope, cursor, limit or cap, cap)
    after = paging.after[0] if paging.after else None
    if after is not None and not isinstance(after, str):
        raise InvalidCursor(NOT_OURS)
    rows = repo.cases(
        session, arrival.id, visibility(principal, context.registry), after, paging.fetch
    )
    page, next_cursor = paging.page(rows, lambda case: [str(case.id)])
    return ArrivalCasePage(items=[_case_read(c) for c in page], next_cursor=next_cursor)


def _case_read(c: CaseFile) -> ArrivalCaseRead:
    return ArrivalCaseRead(
        id=str(c.id), reference=c.reference, state=c.state, phase=c.phase, ministry=c.ministry,
        version=c.version, due_at=c.due_at, is_child=c.is_child,
    )  # fmt: skip


def states_of_cases(
    session: Session, context: AppContext, principal: Principal, arrival_id: str
) -> list[tuple[str, int]]:
    """(state, count) of the arrival's cases the caller may see: what a group action picks."""
    arrival = existing(session, principal, arrival_id)
    return repo.state_counts(session, arrival.id, visibility(principal, context.registry))


def cases_in_state(
    session: Session,
    context: AppContext,
    principal: Principal,
    arrival_id: str,
    state: str,
    limit: int,
) -> list[tuple[ArrivalCaseRead, str, int]]:
    """The arrival's cases in `state` the caller may see, each with its workflow and version
    (the definition that says which triggers leave the state); no identity."""
    arrival = existing(session, principal, arrival_id)
    rows = repo.cases_in_state(
        session, arrival.id, visibility(principal, context.registry), state, limit
    )
    return [(_case_read(c), c.workflow_name, c.workflow_version) for c in rows]


def visible_case_ids(
    session: Session, context: AppContext, principal: Principal, arrival_id: str, limit: int
) -> list[str]:
    """The ids of the arrival's cases the caller may see (a group decision's selection)."""
    arrival = existing(session, principal, arrival_id)
    rows = repo.cases(session, arrival.id, visibility(principal, context.registry), None, limit)
    return [str(case.id) for case in rows]


def existing(session: Session, principal: Principal, arrival_id: str) -> Arrival:
    _may_read(principal)
    arrival = repo.get(session, _arrival_id(arrival_id))
    if arrival is None:
        raise NotFound("arrival not found")
    return arrival


def _may_read(principal: Principal) -> None:
    if not (principal.works_cases or principal.role == Role.AUDITOR):
        raise Forbidden("arrivals are for case workers, supervisors and auditors")


def _arrival_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("arrival not found") from None


def _position(after: list[object] | None) -> tuple[date, uuid.UUID] | None:
    if after is None:
        return None
    try:
        day, arrival_id = after
        return date.fromisoformat(str(day)), uuid.UUID(str(arrival_id))
    except (ValueError, TypeError):
        raise InvalidCursor(NOT_OURS) from None


def _present(arrival: Arrival, unit: str, created_by: str, imported: int) -> ArrivalRead:
    return ArrivalRead(
        id=str(arrival.id), arrival_date=arrival.arrival_date, place=arrival.place,
        source_country=arrival.source_country, operation_name=arrival.operation_name,
        unit=unit, ministry=arrival.ministry, created_by=created_by,
        created_at=arrival.created_at, cases_imported=imported,
    )  # fmt: skip


def forget_case(session: Session, case_id: uuid.UUID) -> None:
    """A case was erased (cases/erasure.py, through `AppContext.on_erase`)."""
    repo.forget_row_keys(session, case_id)
