"""Which case rows a caller may read: decided here, once, for every read and every list.

A case is visible to the ministry leading its current state, to every ministry that referred
or led it earlier (`case_ministry`), and to the ministries supporting its current state
(read-only), and to each Task Force unit (district, province, national) its current step was
escalated to, while it stays escalated in that step (read-only, `case_escalation`), or that a
service request still waiting to start was escalated to (`service_request.escalated_unit_id`);
and to the ministries that own one of its service requests (`case_ministry`). Auditors see
every case (never its identity); admins see none.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, false, literal, or_, true
from sqlmodel import col

from schemas.auth import Role
from service.kit.principal import Principal
from service.models import CaseEscalation, CaseFile, CaseMinistry, ServiceRequest
from workflows import SlaLevel
from workflows.registry import Registry


def visibility(
    principal: Principal, registry: Registry, *, by_id: bool = False
) -> ColumnElement[bool]:
    """The one predicate that says which case rows `principal` may read.

    With `by_id`, for reading one case whose id is the bound parameter `case_id`: the check of
    the ministries that handled it becomes one primary-key probe, instead of a subplan that
    PostgreSQL may hash over every case the ministry ever handled.

    Built once per kind of caller and kept on the registry: the published definitions it
    depends on never change while the process runs, and building it costs more than running it.
    """
    key = ("visibility", by_id, *caller_kind(principal))
    predicate: ColumnElement[bool] | None = registry.memo.get(key)
    if predicate is None:
        predicate = registry.memo[key] = _visibility(principal, registry, by_id)
    return predicate


def caller_kind(principal: Principal) -> tuple[bool, bool, str | None, int | None]:
    """What visibility depends on: two callers with the same key see the same cases.

    The unit counts for a Task Force (it sees what reached its own unit); for other ministries
    the unit decides identity and acting, not which cases are visible, but keying on it always
    keeps a Task Force's predicate from ever serving another of its units."""
    return (
        principal.role == Role.AUDITOR,
        principal.works_cases,
        principal.ministry,
        principal.unit_id,
    )


def _visibility(principal: Principal, registry: Registry, by_id: bool) -> ColumnElement[bool]:
    if principal.role == Role.AUDITOR:
        return true()
    if not principal.works_cases or principal.ministry is None:
        return false()
    ministry = principal.ministry
    case_id: Any = bindparam("case_id") if by_id else CaseFile.id
    handled = exists().where(
        col(CaseMinistry.case_id) == case_id, col(CaseMinistry.ministry) == ministry
    )
    return or_(
        col(CaseFile.ministry) == ministry,
        handled,
        supported_by(registry, ministry, fixed=by_id),
        escalated_to(registry, ministry, principal.unit_id, fixed=by_id),
    )


def _constant(value: Any, fixed: bool) -> Any:
    """A constant of the predicate. In a list (`fixed=False`) it is written into the SQL at
    each execution, so that PostgreSQL plans with it (partial indexes); for one case by id the
    plan is the primary key's whatever the constant, and a plain bound parameter lets the
    statement compile once (rendering them on every request cost a tenth of a transition's
    CPU: bench/RESULTS.md, issue 17)."""
    return literal(value) if fixed else literal(value, literal_execute=True)


def supported_by(registry: Registry, ministry: str, *, fixed: bool = False) -> ColumnElement[bool]:
    """Cases whose current state lists `ministry` among its supporting ministries."""
    clauses = [
        and_(
            col(CaseFile.workflow_name) == definition.name,
            col(CaseFile.workflow_version) == definition.version,
            col(CaseFile.state).in_(
                [literal(state) for state in sorted(states)] if fixed else sorted(states)
            ),
        )
        for definition in registry.definitions()
        if (states := definition.supporting_states(ministry))
    ]
    return or_(false(), *clauses)


def escalated_to(
    registry: Registry, ministry: str, unit_id: int | None, *, fixed: bool = False
) -> ColumnElement[bool]:
    """Cases whose current step was escalated to the caller's Task Force unit."""
    if unit_id is None or not any(d.escalate_to == ministry for d in registry.definitions()):
        return false()
    reached = exists().where(
        col(CaseEscalation.case_id) == CaseFile.id,
        col(CaseEscalation.unit_id) == _constant(unit_id, fixed),
        col(CaseEscalation.reached_at) >= CaseFile.state_entered_at,
    )
    escalated = col(CaseFile.sla_level) >= _constant(int(SlaLevel.ESCALATED), fixed)
    late_service = exists().where(
        col(ServiceRequest.case_id) == CaseFile.id,
        col(ServiceRequest.escalated_unit_id) == _constant(unit_id, fixed),
        col(ServiceRequest.status) == "requested",
    )
    return or_(and_(escalated, reached), late_service)
