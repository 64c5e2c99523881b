"""Service requests: the services a victim receives at the same time, beside the pathway.

Each request belongs to one case and one kind of service of the case's definition (`services:`),
is owned by a ministry's unit (cases/routing.py picks it) and runs the small machine of
workflows/services.py. Only its start has a clock (UU 21/2007 Art. 52(1)); the SLA sweep
warns, breaches and escalates a late start (sla/sweep.py). Every change writes one event on
the case's chain in the same transaction (the case row's compare-and-set), and the request's
own `version` keeps two writers from both moving it.

Who acts: a case worker or supervisor of the case's lead ministry, or of the service's
ministry, asks for a service and may withdraw it (the victim's choice, or no longer needed);
only the owning ministry's unit (or one above it) starts, completes or declines it.

Every change appends an event to the case, so the case row's compare-and-set (`event_count`)
also decides between two writers of one request; `expected_version` catches a stale client.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from schemas.common import WIB, LabelRead
from schemas.service_request import (
    ServiceAction,
    ServiceRequestChange,
    ServiceRequestCreate,
    ServiceRequestList,
    ServiceRequestRead,
)
from service.audit.log import append_case_event
from service.cases import erasable, routing
from service.cases.aggregate import LoadedCase
from service.cases.service import readable
from service.kit.context import AppContext
from service.kit.db import flush_or_conflict
from service.kit.errors import (
    CaseClosed,
    Forbidden,
    Invalid,
    InvalidTransition,
    LawfulBasisRequired,
    NotFound,
    ServiceAlreadyOpen,
    ServiceNotOffered,
    VersionConflict,
)
from service.kit.paging import Paging, scope_of
from service.kit.principal import Principal
from service.models import CaseFile, ServiceRequest
from service.service_requests import repository as repo
from service.units import service as units
from workflows import Definition, SlaLevel, label_of
from workflows import InvalidTransition as MachineRefused
from workflows.model import ServiceSpec
from workflows.services import PROVIDER_ACTIONS, next_status
from workflows.sla import start_checkpoints

EVENT_KINDS: dict[str, str] = {
    "started": "service_started",
    "completed": "service_completed",
    "declined": "service_declined",
    "withdrawn": "service_withdrawn",
}
# Before identification nobody knows yet whether the person is a victim to serve.
_NOT_YET = frozenset(
    {"referred", "screening", "screening_abroad", "not_identified", "reconsideration"}
)


def list_services(
    session: Session, context: AppContext, principal: Principal, case_id: str
) -> ServiceRequestList:
    """A case's service requests, oldest first, as far as the caller may see the case."""
    loaded = readable(session, context, principal, case_id)
    definition = _definition(context, loaded.case)
    now = context.clock()
    rows = repo.of_case(session, loaded.case.id)
    return ServiceRequestList(
        items=[_read(row, code, loaded.case.reference, definition, now) for row, code in rows]
    )


def request_service(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    data: ServiceRequestCreate,
) -> ServiceRequestRead:
    """Open a request; its start is due `start_within` from now (the emergency's if urgent)."""
    loaded = readable(session, context, principal, case_id)
    case, now = loaded.case, context.clock()
    definition = _definition(context, case)
    if not principal.works_cases:
        raise Forbidden("services are asked for by case workers and supervisors")
    spec = _offered(definition, case, data)
    if principal.ministry not in (case.ministry, spec.ministry):
        raise Forbidden(
            f"a service is asked for by the case's lead ministry ({case.ministry}) or by its "
            f"provider ({spec.ministry})"
        )
    if data.kind in repo.open_kinds(session, case.id):
        raise ServiceAlreadyOpen(f"kind: the case already has an open {data.kind} request")
    basis = _lawful_basis(loaded, spec, data)
    assert principal.user_id is not None  # works_cases: a user of a unit
    lead = units.by_id(session, case.unit_id)
    assert lead is not None
    owner = routing.unit_for_service(session, case, lead, spec.ministry, data.to_unit)
    assert owner.id is not None
    routing.join_service_owner(session, loaded, owner, now)
    within = spec.emergency.start_within if data.emergency and spec.emergency else spec.start_within
    start_due = context.calendar.due_at(now, within)
    points = start_checkpoints(definition, now, start_due, context.calendar)
    row = ServiceRequest(
        case_id=case.id, kind=spec.kind, ministry=spec.ministry, unit_id=owner.id,
        status="requested", emergency=data.emergency, lawful_basis=basis,
        requested_by_id=principal.user_id, requested_at=now, start_due_at=start_due,
        sla_next_at=points.next_after(SlaLevel.ON_TRACK),
    )  # fmt: skip
    session.add(row)
    payload: dict[str, Any] = {
        "service_request": row.id.hex, "kind": spec.kind, "ministry": spec.ministry,
        "unit": owner.code, "emergency": data.emergency, "_lawful_basis": basis,
        "start_due_at": start_due.isoformat(),
        "legal_basis": spec.emergency.legal_basis if data.emergency and spec.emergency
        else spec.legal_basis,
    }  # fmt: skip
    _event(session, context, principal, loaded, "service_requested", payload, data.note, now)
    return _read(row, owner.code, case.reference, definition, now)


def change_service(
    session: Session,
    context: AppContext,
    principal: Principal,
    case_id: str,
    request_id: str,
    action: ServiceAction,
    data: ServiceRequestChange,
) -> ServiceRequestRead:
    """Start, complete, decline or withdraw a request at `expected_version`."""
    loaded = readable(session, context, principal, case_id)
    case, now = loaded.case, context.clock()
    row = _request(session, case, request_id)
    owner = units.by_id(session, row.unit_id)
    assert owner is not None
    provider = principal.works_cases and principal.ministry == row.ministry
    if not (provider and principal.serves(owner.path)) and not (
        action not in PROVIDER_ACTIONS and _speaks_for_case(principal, loaded)
    ):
        raise Forbidden(
            f"only {owner.code} (or a unit above it) may {action} this {row.kind} request"
            + ("" if action in PROVIDER_ACTIONS else "; or the case's lead unit")
        )
    if data.expected_version != row.version:
        raise VersionConflict(
            f"expected_version: the request is at version {row.version}, "
            f"not {data.expected_version}"
        )
    try:
        status = next_status(row.status, action)
    except MachineRefused as exc:
        raise InvalidTransition(f"action: a {row.status} request cannot {action}") from exc
    late = row.status == "requested" and now > row.start_due_at
    row.status = status
    row.version += 1
    if status == "started":
        row.started_at = now
    else:
        row.ended_at = now
    row.sla_next_at = None  # only the start has a clock
    payload: dict[str, Any] = {
        "service_request": row.id.hex, "kind": row.kind, "ministry": row.ministry,
        "unit": owner.code, "status": status, "late_start": late and status == "started",
    }  # fmt: skip
    _event(session, context, principal, loaded, EVENT_KINDS[status], payload, data.note, now)
    return _read(row, owner.code, case.reference, _definition(context, case), now)


def open_migrated(
    session: Session,
    context: AppContext,
    actor: Principal,
    loaded: LoadedCase,
    kinds: Sequence[str],
    now: datetime,
) -> None:
    """A case moved by a workflow migration whose old step was a service (a shelter stay, a
    treatment): the mapping names the services it was receiving, and they open as already
    started, so that their start clocks do not breach on the day of the migration: each is
    asked for and started at the move's instant, two events (the grants replay reads the
    first). The basis is the consent that let the old step reach the provider, else the first
    basis the definition admits for that service without consent. Runs in the migration's
    transaction."""
    case = loaded.case
    definition = _definition(context, case)
    lead = units.by_id(session, case.unit_id)
    assert lead is not None
    already = repo.open_kinds(session, case.id)
    for kind in kinds:
        spec = definition.services.get(kind)
        if spec is None or kind in already:
            continue
        owner = routing.unit_for_service(session, case, lead, spec.ministry, None)
        assert owner.id is not None
        routing.join_service_owner(session, loaded, owner, now)
        basis = (
            "consent"
            if spec.ministry in loaded.consent_recipients or not spec.lawful_bases
            else spec.lawful_bases[0]
        )
        row = ServiceRequest(
            case_id=case.id, kind=spec.kind, ministry=spec.ministry, unit_id=owner.id,
            status="started", emergency=False, lawful_basis=basis, requested_by_id=actor.user_id,
            requested_at=now, start_due_at=now, started_at=now, sla_next_at=None,
        )  # fmt: skip
        session.add(row)
        asked: dict[str, Any] = {
            "service_request": row.id.hex, "kind": spec.kind, "ministry": spec.ministry,
            "unit": owner.code, "emergency": False, "_lawful_basis": basis,
            "start_due_at": now.isoformat(), "legal_basis": spec.legal_basis, "migrated": True,
        }  # fmt: skip
        _event(session, context, actor, loaded, "service_requested", asked, None, now)
        started: dict[str, Any] = {
            "service_request": row.id.hex, "kind": spec.kind, "ministry": spec.ministry,
            "unit": owner.code, "status": "started", "late_start": False, "migrated": True,
        }  # fmt: skip
        _event(session, context, actor, loaded, "service_started", started, None, now)


def unit_queue(
    session: Session,
    context: AppContext,
    principal: Principal,
    cursor: str | None,
    limit: int | None,
) -> ServiceRequestList:
    """The open requests owned by the caller's unit and the units below it, the earliest
    start deadline first."""
    if not principal.works_cases or principal.unit_path is None:
        raise Forbidden("a unit's service queue is for its case workers and supervisors")
    cap = context.settings.queue_page_max
    scope = scope_of(list="services", unit=principal.unit_path)
    paging = Paging.of(context.settings.keys.secret_key, scope, cursor, limit or cap, cap)
    rows = repo.open_for_unit(session, principal.unit_path, _position(paging), paging.fetch)
    page, next_cursor = paging.page(rows, lambda r: [r[0].start_due_at.isoformat(), r[0].id.hex])
    now = context.clock()
    items = []
    for row, code, reference in page:
        case = session.get(CaseFile, row.case_id)
        assert case is not None
        items.append(_read(row, code, reference, _definition(context, case), now))
    return ServiceRequestList(items=items, next_cursor=next_cursor)


def _offered(definition: Definition, case: CaseFile, data: ServiceRequestCreate) -> ServiceSpec:
    if not definition.services:
        raise ServiceNotOffered(
            f"the case runs {definition.name} version {definition.version}, which has no "
            "service requests; its services are steps of the pathway"
        )
    if case.due_at is None:
        raise CaseClosed("the case is closed")
    if case.state in _NOT_YET:
        raise ServiceNotOffered(
            f"services are asked for once the victim is identified, not in {case.state}"
        )
    spec = definition.services.get(data.kind)
    if spec is None:
        raise Invalid(f"kind: {definition.name} v{definition.version} offers no {data.kind}")
    if data.emergency and spec.emergency is None:
        raise Invalid(f"emergency: {data.kind} has no emergency start")
    return spec


def _lawful_basis(loaded: LoadedCase, spec: ServiceSpec, data: ServiceRequestCreate) -> str:
    """Consent, when the victim agreed to share the case with the provider; else the basis
    named, which the definition must admit for this service (UU 27/2022 Art. 20(2))."""
    if spec.ministry in loaded.consent_recipients:
        return "consent"
    allowed = list(spec.lawful_bases)
    if data.emergency and spec.emergency is not None:
        allowed.append(spec.emergency.lawful_basis)
    if data.lawful_basis is None:
        raise LawfulBasisRequired(
            f"lawful_basis: no consent covers sharing the case with {spec.ministry}; "
            + (
                f"name the basis ({', '.join(allowed)})"
                if allowed
                else f"{spec.kind} needs consent"
            )
        )
    if data.lawful_basis not in allowed:
        raise Invalid(
            f"lawful_basis: without consent, {spec.kind} may rest on "
            f"{', '.join(allowed) or 'nothing else'}, not {data.lawful_basis}"
        )
    return data.lawful_basis


def _speaks_for_case(principal: Principal, loaded: LoadedCase) -> bool:
    return (
        principal.works_cases
        and principal.ministry == loaded.case.ministry
        and principal.serves(loaded.units.responsible_path)
    )


def _request(session: Session, case: CaseFile, request_id: str) -> ServiceRequest:
    try:
        parsed = uuid.UUID(request_id)
    except ValueError:
        parsed = None
    row = repo.one(session, case.id, parsed) if parsed is not None else None
    if row is None:
        raise NotFound("service request not found")
    return row


def _event(
    session: Session,
    context: AppContext,
    principal: Principal,
    loaded: LoadedCase,
    kind: str,
    payload: dict[str, Any],
    note: str | None,
    now: datetime,
) -> None:
    case = loaded.case
    sealed = erasable.seal(context, case, loaded.victim, payload, note=note)
    append_case_event(session, case, actor=principal, at=now, kind=kind, payload=sealed)
    case.updated_at = now
    flush_or_conflict(session)


def _definition(context: AppContext, case: CaseFile) -> Definition:
    return context.registry.engine(case.workflow_name, case.workflow_version).definition


def _position(paging: Paging) -> repo.Position | None:
    after = paging.after_instant_and_id()
    return repo.Position(*after) if after else None


def _read(
    row: ServiceRequest, unit: str, reference: str, definition: Definition, now: datetime
) -> ServiceRequestRead:
    spec = definition.services.get(row.kind)
    label = (
        LabelRead(id=spec.label.id, en=spec.label.en)
        if spec
        else LabelRead(id=row.kind, en=row.kind)
    )
    legal = spec.legal_basis if spec else ""
    if spec and row.emergency and spec.emergency:
        legal = spec.emergency.legal_basis
    started_late = row.started_at is not None and row.started_at > row.start_due_at
    waiting_late = row.status == "requested" and now > row.start_due_at
    return ServiceRequestRead(
        id=str(row.id), case_id=str(row.case_id), case_reference=reference, kind=row.kind,
        label=label, ministry=row.ministry, unit=unit, status=row.status,
        emergency=row.emergency, lawful_basis=row.lawful_basis, legal_basis=legal,
        requested_at=row.requested_at, start_due_at=row.start_due_at,
        started_at=row.started_at, ended_at=row.ended_at, sla=label_of(row.sla_level),
        late_start=started_late or waiting_late, version=row.version,
    )  # fmt: skip


# --- monthly figures for the reports (service/reports: MONTHLY_FIGURES) ---------------------


def _starts(
    session: Session, scope: str | None, start: datetime, until: datetime, on_time: bool
) -> dict[str, int]:
    counts: dict[str, int] = {}
    for started_at, due in repo.starts_between(session, start, until, scope):
        if (started_at <= due) == on_time:
            month = started_at.astimezone(WIB).strftime("%Y-%m")
            counts[month] = counts.get(month, 0) + 1
    return counts


def started_in_time_per_month(
    session: Session, _context: AppContext, scope: str | None, start: datetime, until: datetime
) -> dict[str, int]:
    """Services started within their legal window (UU 21/2007 Art. 52(1): `start_within` of
    the request), by the month they started; for a ministry, the services it provides."""
    return _starts(session, scope, start, until, on_time=True)


def started_late_per_month(
    session: Session, _context: AppContext, scope: str | None, start: datetime, until: datetime
) -> dict[str, int]:
    """Services started after their window, by the month they started."""
    return _starts(session, scope, start, until, on_time=False)
